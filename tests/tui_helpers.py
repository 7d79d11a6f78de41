"""Helpers shared by the Pilot tests."""

from __future__ import annotations

from smduty.core.demo import load_demo
from smduty.core.store import connect


async def settle(pilot) -> None:
    """Let workers finish and the screen catch up (twice: a worker may start another)."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def make_demo(path) -> None:
    db = connect(path)
    load_demo(db)
    db.close()
