"""Ingest benchmarks (issue 4). Results, with the machine, go in bench/RESULTS.md.

    python bench/bench_ingest.py [--folder /tmp/smduty-bench] [--repeat 3]

1. A 10,000-entry RSS file through `smduty ingest` as a whole process, against a bare
   `feedparser.parse` of the same bytes in its own process, in the same run.
2. A 200,000-row CSV export through `smduty ingest`: rows per second and peak memory.
3. Flagging alone: texts per second with 200 rules (the shipped ones plus generated words).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from make_data import posts, write_csv, write_rss  # noqa: E402


def run(cmd: list[str], env: dict) -> tuple[float, int, int]:
    """Wall time, peak resident memory (KB) of the largest process, and the peaks of the process
    and its children (a big export is read by a second process) added up."""
    started = time.perf_counter()
    child = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peaks: dict[int, int] = {}
    watcher = threading.Thread(target=_watch_peaks, args=(child, peaks), daemon=True)
    watcher.start()
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - started
    watcher.join()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{child.stderr.read().decode()}")
    return elapsed, usage.ru_maxrss, max(sum(peaks.values()), usage.ru_maxrss)


def _watch_peaks(child: subprocess.Popen, peaks: dict[int, int]) -> None:
    """Each process's high-water mark (VmHWM, KB) from /proc, every 20 ms (Linux only)."""
    while child.returncode is None and Path(f"/proc/{child.pid}").exists():
        pids = [child.pid]
        for pid in list(pids):
            with contextlib.suppress(OSError):
                pids += map(int, Path(f"/proc/{pid}/task/{pid}/children").read_text().split())
        for pid in pids:
            with contextlib.suppress(OSError, ValueError, IndexError):  # IndexError: a zombie
                status = Path(f"/proc/{pid}/status").read_text()
                hwm = int(status.split("VmHWM:")[1].split()[0])
                peaks[pid] = max(peaks.get(pid, 0), hwm)
        time.sleep(0.02)


def fresh_env(folder: Path) -> dict:
    home = folder / "home"
    shutil.rmtree(home, ignore_errors=True)
    return os.environ | {"SMDUTY_HOME": str(home), "SMDUTY_USER": "bench"}


# With --cold, every import is a new desk's first ever: the rules' automata are built in the
# import (0.2 s). By default they were built before, as on any desk that has polled once.
COLD = False


def new_desk(folder: Path) -> dict:
    """A fresh data folder with an empty database, as `smduty init` leaves it."""
    env = fresh_env(folder)
    run(smduty("init"), env)
    if not COLD:
        run(smduty("rules", "test", "warm the rules' cache"), env)
    return env


def smduty(*args: str) -> list[str]:
    return [sys.executable, "-m", "smduty", *args]


def bench_rss(folder: Path, repeat: int) -> None:
    feed = folder / "feed-10k.rss"
    bare, ours = [], []
    for _ in range(repeat):
        bare.append(
            run(
                [
                    sys.executable,
                    "-c",
                    "import sys, feedparser; "
                    "d = feedparser.parse(open(sys.argv[1], 'rb').read()); "
                    "assert len(d.entries) == 10000",
                    str(feed),
                ],
                os.environ.copy(),
            )[0]
        )
        env = new_desk(folder)
        ours.append(run(smduty("ingest", str(feed)), env)[0])
    b, o = statistics.median(bare), statistics.median(ours)
    print(
        f"RSS 10,000 entries: feedparser.parse {b:.2f} s, smduty ingest {o:.2f} s, "
        f"ratio {o / b:.2f} (target <= 1.25)"
    )


def bench_csv(folder: Path, repeat: int) -> None:
    export = folder / "export-200k.csv"
    times, peaks, together = [], [], []
    for _ in range(repeat):
        env = new_desk(folder)
        elapsed, peak, both = run(smduty("ingest", str(export)), env)
        times.append(elapsed)
        peaks.append(peak)
        together.append(both)
    t = statistics.median(times)
    print(
        f"CSV 200,000 rows: {t:.2f} s as a whole process (runs: "
        f"{', '.join(f'{x:.2f}' for x in times)}), {200_000 / t:,.0f} rows/s (target >= 50,000), "
        f"peak memory {max(peaks) / 1024:.0f} MB in the largest process, "
        f"{max(together) / 1024:.0f} MB for both processes together (target <= 150 MB)"
    )


def bench_flagging(repeat: int) -> None:
    from smduty.core.config import shipped_data_dir
    from smduty.core.monitoring.flag_load import load_rules

    shipped = (shipped_data_dir() / "rules.toml").read_text(encoding="utf-8")
    count = len(tomllib.loads(shipped)["rule"])
    extra = "".join(
        f'\n[[rule]]\nid = "extra-{i}"\ncategory = "complaint"\n'
        f'words = ["extraword{i}", "another phrase {i}", "third{i} term"]\n'
        for i in range(200 - count)
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rules.toml"
        path.write_text(shipped + extra, encoding="utf-8")
        rules = load_rules(path).compile(["Castlemere", "@CastlemereBC"])
    assert len(rules.rules) == 200
    rules.scan({"title": "", "text": "warm up"})  # the automata are built on the first scan
    texts = [p["text"] for p in posts(200_000)]
    rates = []
    for _ in range(repeat):
        started = time.perf_counter()
        for text in texts:
            rules.scan({"title": "", "text": text})
        rates.append(len(texts) / (time.perf_counter() - started))
    print(f"Flagging, 200 rules: {statistics.median(rates):,.0f} texts/s (target >= 150,000)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folder", type=Path, default=Path(tempfile.gettempdir()) / "smduty-bench")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=["rss", "csv", "flagging"], help="run one benchmark")
    parser.add_argument("--cold", action="store_true", help="no rules built before an import")
    args = parser.parse_args()
    global COLD
    COLD = args.cold
    args.folder.mkdir(parents=True, exist_ok=True)
    if not (args.folder / "export-200k.csv").exists():
        write_csv(args.folder / "export-200k.csv", 200_000)
        write_rss(args.folder / "feed-10k.rss", 10_000)
    print(f"{platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs")
    if args.only in (None, "rss"):
        bench_rss(args.folder, args.repeat)
    if args.only in (None, "csv"):
        bench_csv(args.folder, args.repeat)
    if args.only in (None, "flagging"):
        bench_flagging(args.repeat)


if __name__ == "__main__":
    main()
