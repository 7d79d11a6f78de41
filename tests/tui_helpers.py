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


async def wait_for(pilot, condition, timeout: float = 10.0) -> None:
    """Pause until condition() holds (for screens with long-lived workers, like DirectoryTree)."""
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the screen")
        await pilot.pause(0.05)
