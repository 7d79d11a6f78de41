"""Incident timings on the demo council with 200 incidents: the core writes, the record, the
list, and opening the walkthrough screen (until its step form is on screen).

    python bench/bench_incident.py

No target is set by the issue; the figures are kept in RESULTS.md to notice a regression.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("SMDUTY_HOME", tempfile.mkdtemp())
os.environ.setdefault("SMDUTY_NOW", "2026-11-21T08:30:00+00:00")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from tui_helpers import make_demo  # noqa: E402

from smduty.core.incidents import lifecycle as incidents  # noqa: E402
from smduty.core.incidents import log as incident_log  # noqa: E402
from smduty.core.incidents import steps as incident_steps  # noqa: E402
from smduty.core.incidents.report import report_markdown  # noqa: E402
from smduty.core.store import connect  # noqa: E402
from smduty.tui.app import SmdutyApp  # noqa: E402
from smduty.tui.screens.incident import IncidentScreen  # noqa: E402

RUNS = 7


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def report(name: str, times: list[float]) -> None:
    print(f"{name:<44} median {statistics.median(times):6.1f} ms   worst {max(times):6.1f} ms")


async def main() -> None:
    path = Path(tempfile.mkdtemp()) / "bench.db"
    make_demo(path)
    db = connect(path)
    ids = [incidents.start(db, "Bench", f"Incident {n}").id for n in range(200)]
    steps = []
    for incident_id in ids[:RUNS]:

        def step(incident_id=incident_id) -> None:
            incident_log.record_notification(db, "Bench", incident_id, "Helen Marsh", "phone")
            incident_steps.complete_step(db, "Bench", incident_id, "tell", {"what_happened": "x"})

        steps.append(timed(step))
    report("notify + step done (two transactions)", steps)
    report("Markdown record of one incident", [timed(lambda: report_markdown(db, ids[0]))
                                                for _ in range(RUNS)])  # fmt: skip
    report("list 200 incidents", [timed(lambda: incidents.list_incidents(db)) for _ in range(RUNS)])
    db.close()
    app = SmdutyApp(path, "Bench", background_poll=False)
    async with app.run_test(size=(120, 40)):
        await app.workers.wait_for_complete()
        await asyncio.sleep(0.5)
        opened = []
        for _ in range(RUNS):
            start = time.perf_counter()
            app.action_open_incident(ids[0])
            while not (
                isinstance(app.screen, IncidentScreen) and app.screen.query("#step-form .form-row")
            ):
                await asyncio.sleep(0.001)
            opened.append((time.perf_counter() - start) * 1000)
            # Popping within a few ms of opening trips Textual 8.2.8's Header (NoMatches on
            # HeaderTitle from its delayed set_title), so let the screen finish first.
            await asyncio.sleep(0.3)
            app.pop_screen()
            await asyncio.sleep(0.1)
        report("open the walkthrough (form on screen)", opened)


if __name__ == "__main__":
    asyncio.run(main())
