"""Helpers shared by the Pilot tests."""

from __future__ import annotations

from demo_copy import make_demo  # noqa: F401 (the Pilot tests take it from here)


async def settle(pilot) -> None:
    """Let workers finish and the screen catch up (twice: a worker may start another)."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def wait_for(pilot, condition, timeout: float = 10.0) -> None:
    """Pause until condition() holds (for screens with long-lived workers, like DirectoryTree)."""
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the screen")
        await pilot.pause(0.05)


async def steady(pilot, timeout: float = 5.0) -> None:
    """Pause until three frames in a row, 50 ms apart, look the same (tables size their
    columns, and lazy widgets mount, on later refreshes; on a busy machine that takes longer)."""
    import time

    deadline = time.monotonic() + timeout
    last, same = None, 0
    while same < 2 and time.monotonic() < deadline:
        await settle(pilot)
        await pilot.pause(0.05)
        frame = pilot.app.export_screenshot()
        same = same + 1 if frame == last else 0
        last = frame
