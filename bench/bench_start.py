"""Start-up of headless commands (issue 23). Results, with the machine, go in bench/RESULTS.md.

    python bench/bench_start.py [--db FILE] [--repeat 11]

Medians of whole processes: `smduty --version` (the floor: Python, click, the CLI) against
`smduty queue --json` on the database given (default: the demo council, built in a temporary
home). Bytecode is written and reused, as in an installed package (PYTHONDONTWRITEBYTECODE is
cleared for the runs), and one run of each is made first so caches are warm.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def median_ms(args: list[str], env: dict, repeat: int) -> float:
    subprocess.run(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path)
    parser.add_argument("--repeat", type=int, default=11)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["SMDUTY_HOME"] = home
        db = args.db
        if db is None:
            db = Path(home) / "demo.db"
            subprocess.run([sys.executable, "-m", "smduty", "--db", str(db), "init", "--demo"],
                           env=env, check=True, stdout=subprocess.DEVNULL)  # fmt: skip
        smduty = [sys.executable, "-m", "smduty"]
        floor = median_ms([*smduty, "--version"], env, args.repeat)
        queue = median_ms([*smduty, "--db", str(db), "queue", "--json"], env, args.repeat)
    print(f"smduty --version: {floor:.0f} ms; queue --json: {queue:.0f} ms; "
          f"ratio {queue / floor:.2f} (target <= 1.5)")  # fmt: skip


if __name__ == "__main__":
    main()
