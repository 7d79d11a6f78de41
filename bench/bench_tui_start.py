"""The TUI's start against a bare Textual app (issue 23). Results go in bench/RESULTS.md.

    python bench/bench_tui_start.py [--db /tmp/queue-1m.db] [--repeat 7]

Each app runs as a whole process in a pseudo-terminal (120x40), as an officer starts it. Timed
from the start of the process to (1) the first frame: the first write that draws a screen, and
(2) the screen filled: for smduty, the dashboard with every panel's rows in (the register panel's
channels and the mentions panel's counts); for the bare app, its 50-row table on screen. The bare
app (header, footer, a 50-row DataTable) is the floor: Python and Textual themselves. Medians of
--repeat runs, bytecode cached as in an installed package; each is run once first.
"""

from __future__ import annotations

import argparse
import os
import pty
import re
import select
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BARE = """
from textual.app import App
from textual.widgets import DataTable, Footer, Header

class Bare(App):
    def compose(self):
        yield Header()
        yield DataTable()
        yield Footer()

    def on_mount(self):
        table = self.query_one(DataTable)
        table.add_columns("Id", "Rating", "Age", "Status", "Source", "Text")
        for n in range(50):
            table.add_row(n, "high", "2h", "new", "feed", f"row {n} BAREMARK")

Bare().run()
"""


_CSI = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]")  # escape sequences between the words drawn


def timed(args: list[str], env: dict, filled: bytes, limit: float = 30.0) -> tuple[float, float]:
    """Seconds to the first frame and to `filled` appearing on screen."""
    leader, follower = pty.openpty()
    os.set_blocking(leader, False)
    import fcntl
    import struct
    import termios

    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    started = time.perf_counter()
    child = subprocess.Popen(
        args, env=env, stdin=follower, stdout=follower, stderr=follower, close_fds=True
    )
    os.close(follower)
    seen, first, full = b"", None, None
    deadline = started + limit
    try:
        while full is None and time.perf_counter() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.005)
            if not ready:
                continue
            try:
                chunk = os.read(leader, 65536)
            except (BlockingIOError, OSError):
                continue
            now = time.perf_counter()
            seen += chunk
            # The first frame: the alternate screen entered and a screen's worth of words drawn.
            if first is None and b"\x1b[?1049h" in seen:
                drawn = _CSI.sub(b"", seen.split(b"\x1b[?1049h", 1)[1])
                if len(drawn.replace(b" ", b"").replace(b"\r\n", b"")) > 300:
                    first = now - started
            if filled in _CSI.sub(b"", seen):
                full = now - started
                first = first or full  # a small screen is filled by its first frame
    finally:
        child.kill()
        child.wait()
        os.close(leader)
    if first is None or full is None:
        shown = _CSI.sub(b"", seen)[-300:].decode(errors="replace")
        raise SystemExit(f"{args}: the screen never filled within {limit} s; last: {shown!r}")
    return first, full


def runs(cases: list[tuple[list[str], bytes]], env, repeat) -> list[list[float]]:
    """Medians of (first frame, screen filled) per case; the cases take turns, so a slow
    moment of this shared machine falls on each alike."""
    for args, filled in cases:
        timed(args, env, filled)  # warm: bytecode and the page cache
    found: list[list[tuple[float, float]]] = [[] for _ in cases]
    for _ in range(repeat):
        for number, (args, filled) in enumerate(cases):
            found[number].append(timed(args, env, filled))
    return [
        [statistics.median(f[0] for f in runs_), statistics.median(f[1] for f in runs_)]
        for runs_ in found
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="default: the demo council")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env |= {"SMDUTY_HOME": home, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
        bare_script = Path(home) / "bare.py"
        bare_script.write_text(BARE, encoding="utf-8")
        db = args.db
        if db is None:
            db = Path(home) / "data" / "demo.db"  # where `smduty demo` puts it
            subprocess.run(
                [sys.executable, "-m", "smduty", "demo", "--no-open"],
                env=env,
                check=True,
                capture_output=True,
            )
        bare, ours = runs(
            [
                ([sys.executable, str(bare_script)], b"BAREMARK"),
                # The register panel's rows: the last panel to fill.
                ([sys.executable, "-m", "smduty", "--db", str(db)], b"Castlemere Youth"),
            ],
            env,
            args.repeat,
        )
    print(f"database: {db}")
    print("| start | bare Textual app | smduty dashboard | ratio |")
    print("| --- | --- | --- | --- |")
    for name, b, o in (("first frame", bare[0], ours[0]), ("screen filled", bare[1], ours[1])):
        print(f"| {name} | {b * 1000:.0f} ms | {o * 1000:.0f} ms | {o / b:.2f} |")


if __name__ == "__main__":
    main()
