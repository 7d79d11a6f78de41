"""Memory over a day of navigation (issue 23). Results, with the machine, go in bench/RESULTS.md.

    python bench/bench_memory.py [--trips 200]

Opens the app on the demo council (headless, Textual's Pilot), then goes dashboard -> queue ->
dashboard `--trips` times, then visits every other main screen `--trips` times. Prints the
resident memory (VmRSS) after the first trip and at the end, and how many widgets are still in
memory though no screen shows them (detached): a closed screen must leave nothing behind.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
os.environ.setdefault("SMDUTY_NOW", "2026-11-21T08:30Z")


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return 0.0


def detached() -> int:
    from textual.widget import Widget

    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, Widget) and not o.is_attached)


async def run(trips: int, folder: Path) -> None:
    from tui_helpers import make_demo, settle

    from smduty.tui.app import SmdutyApp

    path = folder / "memory.db"
    make_demo(path)
    app = SmdutyApp(path, "Bench", background_poll=False)
    async with app.run_test(size=(130, 40)) as pilot:
        await settle(pilot)

        async def trip(open_screen) -> None:
            open_screen()
            await settle(pilot)
            app.action_open_dashboard()
            await settle(pilot)

        await trip(app.action_open_queue)
        first, first_detached = rss_mb(), detached()
        for _ in range(trips - 1):
            await trip(app.action_open_queue)
        after_queue, queue_detached = rss_mb(), detached()
        others = (app.action_open_channels, app.action_open_rota, app.action_open_sources,
                  app.action_open_incidents)  # fmt: skip
        for _ in range(trips):
            for open_screen in others:
                await trip(open_screen)
        last, last_detached = rss_mb(), detached()
    print(f"after 1 queue trip: {first:.1f} MB, {first_detached} detached widgets")
    print(f"after {trips} queue trips: {after_queue:.1f} MB (+{after_queue - first:.1f}), "
          f"{queue_detached} detached")  # fmt: skip
    print(f"after {trips} visits of each other screen: {last:.1f} MB (+{last - first:.1f}), "
          f"{last_detached} detached (target: within 15 MB of the first)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trips", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        os.environ["SMDUTY_HOME"] = home
        asyncio.run(run(args.trips, Path(home)))


if __name__ == "__main__":
    main()
