"""Pilot tests for the History view (issue 18): each channel, mention and incident shows its
changes from the audit trail, hostile names as text, a page at a time."""

from __future__ import annotations

from textual.widgets import DataTable, Static
from tui_helpers import make_demo, settle

from smduty.core.incidents import lifecycle as incidents
from smduty.core.records import audit
from smduty.core.register.channels import add_channel
from smduty.core.store import connect, transaction
from smduty.tui.app import SmdutyApp
from smduty.tui.screens import history
from smduty.tui.screens.channels import ChannelsScreen
from smduty.tui.screens.history import HistoryScreen
from smduty.tui.screens.incident import IncidentScreen
from smduty.tui.screens.queue import QueueScreen

NASTY = "[bold red]Mallory[/] [@click=app.quit]x[/]"


def rows(screen) -> list[list[str]]:
    table = screen.query_one("#history-table", DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_a_channels_history_pages_and_shows_names_as_written(db_path, monkeypatch):
    monkeypatch.setattr(history, "PAGE", 10)
    db = connect(db_path)
    channel = add_channel(db, NASTY, {"name": "Leisure [Archived]", "platform": "x"})
    for n in range(24):
        with transaction(db):
            audit.record(db, NASTY, "channel.edit", "channel", channel.id, {"n": n}, {"n": n + 1})
    db.close()
    app = SmdutyApp(db_path, "Tester", background_poll=False)
    async with app.run_test(size=(130, 40)) as pilot:
        await settle(pilot)
        app.action_open_channels()
        await settle(pilot)
        assert isinstance(app.screen, ChannelsScreen)
        await pilot.press("h")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, HistoryScreen)
        shown = rows(screen)
        assert len(shown) == 10 and shown[0][1] == NASTY and shown[0][4] == "n: 23 → 24"
        for _ in range(12):  # down past the page's end loads the next
            await pilot.press("down")
            await settle(pilot)
        assert len(rows(screen)) == 20
        for _ in range(10):
            await pilot.press("down")
            await settle(pilot)
        assert len(rows(screen)) == 25  # 24 edits and the channel's creation
        assert rows(screen)[-1][3] == "channel.add"
        detail = str(screen.query_one("#history-detail", Static).render())
        assert f"channel.edit by {NASTY}" in detail and '{"n": 2}' in detail
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ChannelsScreen) and app.is_running


async def test_a_mentions_and_an_incidents_history(db_path):
    make_demo(db_path)
    db = connect(db_path)
    found = incidents.start(db, "Test Officer", "Flood line down")
    db.close()
    app = SmdutyApp(db_path, "Test Officer", background_poll=False)
    async with app.run_test(size=(130, 40)) as pilot:
        await settle(pilot)
        app.action_open_queue()
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        current = app.screen._current()
        await pilot.press("h")
        await settle(pilot)
        assert isinstance(app.screen, HistoryScreen) and app.screen.entity == "mention"
        assert app.screen.entity_id == str(current.id)
        await pilot.press("escape")
        await settle(pilot)
        app.action_open_incident(found.id)
        await settle(pilot)
        assert isinstance(app.screen, IncidentScreen)
        app.screen.action_history()
        await settle(pilot)
        assert isinstance(app.screen, HistoryScreen)
        assert [r[3] for r in rows(app.screen)][-1] == "incident.start"
