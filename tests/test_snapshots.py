"""The look of the main screens, pinned (pytest-textual-snapshot) at 80x24 and 160x50.

The demo council on the pinned Saturday morning of conftest. A change that alters a screen shows
here as a failed comparison; when the change is meant, update the pictures with
`pytest tests/test_snapshots.py --snapshot-update` and look at them before committing.
"""

from __future__ import annotations

import pytest
from tui_helpers import make_demo, settle, steady

from smduty.tui.app import SmdutyApp
from smduty.tui.scheduler import DutyScheduler

SCREENS = {
    "dashboard": [],
    "channels": ["c"],
    "check-session": ["k"],
    "rota": ["o"],
    "queue": ["t"],
    "incidents": ["e"],
}


@pytest.mark.parametrize("size", [(80, 24), (160, 50)], ids=["80x24", "160x50"])
@pytest.mark.parametrize("screen", list(SCREENS))
def test_main_screen_looks_as_pinned(snap_compare, db_path, monkeypatch, screen, size):
    make_demo(db_path)
    # No reminders: a toast two seconds after opening would land in some pictures, not others.
    monkeypatch.setattr(DutyScheduler, "start", lambda self: None)

    async def open_screen(pilot) -> None:
        await settle(pilot)
        for key in SCREENS[screen]:
            await pilot.press(key)
            await settle(pilot)
        await steady(pilot)

    app = SmdutyApp(db_path, "Test Officer", background_poll=False)
    assert snap_compare(app, terminal_size=size, run_before=open_screen)
