"""Queue speed at a million mentions (issue 5): the CLI as a whole process, and the queue screen.

    python bench/make_queue_db.py /tmp/queue-1m.db
    python bench/bench_queue.py /tmp/queue-1m.db [--repeat 5]

CLI: `smduty queue --limit 200 --json` run as a fresh process, median of --repeat runs, for the
default filter and some others. Screen: the real app under Textual's Pilot (headless), timed from
the moment the screen is asked for (or a filter changed, or the cursor moved past the last row)
until the table holds the new rows; medians of --repeat.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

CLI_CASES = [
    ("default (open, flagged)", []),
    ("--rating any", ["--rating", "any"]),
    ("--status all --rating critical", ["--status", "all", "--rating", "critical"]),
    ("--category complaint", ["--category", "complaint"]),
    ("--overdue", ["--overdue"]),
    ("--rating any --search useless (8k hits)", ["--rating", "any", "--search", "useless"]),
    ("--rating any --search festival (400k hits)", ["--rating", "any", "--search", "festival"]),
]


def cli(db: Path, repeat: int) -> list[tuple[str, float]]:
    env = dict(os.environ, SMDUTY_NOW="2026-11-21T08:30:00+00:00")
    results = []
    for label, args in CLI_CASES:
        times = []
        for _ in range(repeat):
            began = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "smduty", "--db", str(db), "queue", "--limit", "200",
                 "--json", *args],
                check=True, env=env, stdout=subprocess.DEVNULL,
            )  # fmt: skip
            times.append(time.perf_counter() - began)
        results.append((label, statistics.median(times)))
    return results


async def _until_loaded(pilot, screen, loads: int) -> None:
    # A plain sleep, not pilot.pause(): pausing busily holds the GIL, and the worker thread,
    # which gives the GIL up on every SQLite step, then waits 5 ms per row for it back.
    while screen.loads <= loads:
        await asyncio.sleep(0.001)


async def screen_timings(db: Path, repeat: int) -> dict[str, list[float]]:
    from textual.widgets import Select

    from smduty.tui.app import SmdutyApp
    from smduty.tui.screens.queue import QueueScreen, QueueTable
    from smduty.tui.widgets.queue_filters import QueueFilters

    timings: dict[str, list[float]] = {}

    def note(name: str, began: float) -> None:
        timings.setdefault(name, []).append(time.perf_counter() - began)

    app = SmdutyApp(db, "Bench", background_poll=False)
    # When a frame holding the queue's rows goes to the terminal. Headless, Textual composes
    # each frame but skips writing it out (a few ms on a real terminal). A private method,
    # spied on here only: the bench is pinned to the Textual it ran with.
    frames: list[float] = []
    display = app._display

    def spy(screen, renderable) -> None:
        display(screen, renderable)
        if renderable is not None and isinstance(screen, QueueScreen) and screen.loads:
            frames.append(time.perf_counter())

    app._display = spy
    async with app.run_test(size=(130, 40)) as pilot:
        await pilot.pause(3)  # the dashboard and the scheduler's start-up jobs settle first
        for _ in range(repeat):
            began = time.perf_counter()
            app.action_open_queue()
            while not isinstance(app.screen, QueueScreen) or app.screen.loads < 1:
                await asyncio.sleep(0.001)
            note("first page in the table", began)
            screen = app.screen
            note("  of which the query", time.perf_counter() - screen.last_load_seconds)
            while not frames or frames[-1] < began:
                await asyncio.sleep(0.001)
            first_frame = next(t for t in frames if t >= began)
            timings.setdefault("first page on screen", []).append(first_frame - began)
            # The filter bar follows the first frame; ready once its choices are in.
            while not any(bar.ready for bar in screen.query(QueueFilters)):
                await asyncio.sleep(0.001)
            note("filter bar ready", began)
            loads = screen.loads
            screen.query_one("#f-rating", Select).value = "any"  # pages to move through
            await _until_loaded(pilot, screen, loads)
            table = screen.query_one(QueueTable)
            for _page in range(3):
                table.move_cursor(row=table.row_count - 1)
                # As an officer gets there: the rows that move scrolls into view are drawn
                # (and the detail of the last row shown) before the next key press. Pressing
                # in the same tick counted that drawing as the next page's (30-90 ms, the
                # first time after a filter change).
                await pilot.pause(0.1)
                loads = screen.loads
                began = time.perf_counter()
                table.action_cursor_down()  # what the down key runs, without Pilot's overhead
                await _until_loaded(pilot, screen, loads)
                note("next page (down past the last row)", began)
                note("  of which the page query", time.perf_counter() - screen.last_load_seconds)
                while not frames or frames[-1] < began:
                    await asyncio.sleep(0.001)
                shown = next(t for t in frames if t >= began)
                timings.setdefault("  next page on screen", []).append(shown - began)
            for name, selector, value in [
                ("filter: rating flagged", "#f-rating", "flagged"),
                ("filter: rating critical", "#f-rating", "critical"),
                ("filter: status all", "#f-status", "all"),
                ("filter: category complaint", "#f-category", "complaint"),
                ("filter: category cleared", "#f-category", Select.NULL),
                ("filter: source Hootsuite inbox", "#f-source", "Hootsuite inbox"),
                ("filter: status open", "#f-status", "open"),
            ]:
                loads = screen.loads
                began = time.perf_counter()
                screen.query_one(selector, Select).value = value
                await _until_loaded(pilot, screen, loads)
                note(name, began)
                note("  of which the filter query", time.perf_counter() - screen.last_load_seconds)
            for word in ("useless", "festival"):
                loads = screen.loads
                began = time.perf_counter()
                screen._set_filters(search=word)  # what Enter in the search box runs
                await _until_loaded(pilot, screen, loads)
                note(f"filter: search {word}", began)
                note("  of which the filter query", time.perf_counter() - screen.last_load_seconds)
            loads = screen.loads
            screen._set_filters(search="")
            await _until_loaded(pilot, screen, loads)
            app.action_open_dashboard()
            await pilot.pause(0.2)
            await app.workers.wait_for_complete()  # the dashboard's own reads finish first
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("SMDUTY_NOW", "2026-11-21T08:30:00+00:00")
    print("| CLI: `smduty queue --limit 200 --json` (whole process) | median |")
    print("| --- | --- |")
    for label, seconds in cli(args.db, args.repeat):
        print(f"| {label} | {seconds:.2f} s |")
    print()
    print("| Queue screen | median | worst |")
    print("| --- | --- | --- |")
    for name, values in asyncio.run(screen_timings(args.db, args.repeat)).items():
        print(
            f"| {name} | {statistics.median(values) * 1000:.0f} ms | {max(values) * 1000:.0f} ms |"
        )


if __name__ == "__main__":
    main()
