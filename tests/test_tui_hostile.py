"""Pilot tests with a database full of hostile names and texts (issue 15): every screen, every
form and every dropdown opened; names shown literally; a tick while a screen opens; a save that
waits for another process's write.

Names hold markup (`Oops [/] here` stopped the app when a dropdown opened; `Parks [Archived]`
showed as "Parks "), click actions and links. None may change the screen or run an action.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta

from textual.screen import ModalScreen
from textual.widgets import Select, SelectionList
from tui_helpers import make_demo, settle

from smduty.core.incidents import lifecycle as incidents
from smduty.core.monitoring.flag_load import ruleset_for
from smduty.core.monitoring.mentions import MentionWriter, RawMention
from smduty.core.monitoring.sources import add_source
from smduty.core.register.channels import edit_channel, get_channel
from smduty.core.rota.duty_calendar import DutyCalendar
from smduty.core.rota.handover import leave_handover
from smduty.core.rota.people import set_officer
from smduty.core.staff import add_staff
from smduty.core.store import connect, transaction
from smduty.tui.app import SmdutyApp
from smduty.tui.screens.check_session import CheckSessionScreen
from smduty.tui.screens.queue import QueueScreen

NOW = datetime(2026, 11, 21, 8, 30, tzinfo=UTC)
CHANNEL_NAMES = ["Oops [/] here", "Parks [Archived]", "[bold red]alarm[/]"]
PERSON = "[@click=app.quit]Quitter[/]"
SOURCE = "[link=file:///etc/passwd]Feed[/link]"
TITLE = "[@click=app.pop_screen]Pop[/] incident [/]"
TEXT = "Council [b]leader[/b] [/] should be shot [@click=app.quit]now[/]"


def hostile_demo(path) -> None:
    make_demo(path)
    db = connect(path)
    actor = "[red]Mallory[/]"
    for old, new in zip(
        ["Castlemere Council", "@CastlemereBC", "Castlemere Libraries"], CHANNEL_NAMES, strict=True
    ):
        edit_channel(db, actor, get_channel(db, old).id, {"name": new})
    add_staff(db, actor, PERSON, ["comms_officer", "line_manager", "head_of_comms"])
    set_officer(db, actor, PERSON, True, True)
    add_source(db, actor, SOURCE, "https://feeds.example.invalid/[x].xml")
    with transaction(db):
        writer = MentionWriter(db, ruleset_for(db), SOURCE, NOW)
        for n in range(3):
            writer.add(
                RawMention(
                    source_item_id=f"hostile:{n}",
                    title=f"[/] {n}",
                    text=TEXT,
                    author=f"[@click=app.quit]x{n}[/]",
                    url=f"https://example.invalid/[{n}]",
                    published=NOW - timedelta(minutes=5 + n),
                )
            )
        writer.close()
    incidents.start(db, actor, TITLE, description=TEXT, channel=CHANNEL_NAMES[0])
    leave_handover(db, actor, DutyCalendar(), NOW.date() - timedelta(days=1), TEXT)
    db.close()


def screenshot(app) -> str:
    return app.export_screenshot().replace("&#160;", " ")


async def open_every_dropdown(pilot) -> None:
    """Every Select and SelectionList on the modal on top: focused, opened, closed."""
    modal = pilot.app.screen
    for widget in list(modal.query(Select)) + list(modal.query(SelectionList)):
        widget.focus()
        await pilot.pause()
        if isinstance(widget, Select):
            widget.expanded = True
            await pilot.pause()
            screenshot(pilot.app)
            widget.expanded = False
            await pilot.pause()
    screenshot(pilot.app)


async def try_form(pilot, key: str) -> None:
    screen = pilot.app.screen
    await pilot.press(key)
    await settle(pilot)
    if isinstance(pilot.app.screen, ModalScreen):
        await open_every_dropdown(pilot)
        await pilot.press("escape")
        await settle(pilot)
    # Back where we were: no hostile text moved the screen or quit the app.
    while pilot.app.screen is not screen and isinstance(pilot.app.screen, ModalScreen):
        await pilot.press("escape")
        await settle(pilot)
    assert pilot.app.is_running


WALK = [
    ("ctrl+d", ["n"]),
    ("ctrl+r", ["a", "e", "x", "p", "slash"]),
    ("ctrl+o", ["o", "a"]),
    ("ctrl+t", ["a", "r", "f", "n", "z", "m", "g", "e"]),
    ("ctrl+e", []),
]


async def test_every_screen_form_and_dropdown_with_hostile_names(db_path):
    hostile_demo(db_path)
    app = SmdutyApp(db_path, "[b]Officer[/b] [/]", background_poll=False)
    async with app.run_test(size=(140, 45), notifications=True) as pilot:
        await settle(pilot)
        shown = screenshot(app)
        assert "[/]" in shown or "[@click" in shown  # the register panel shows names literally
        for opener, keys in WALK:
            await pilot.press(opener)
            await settle(pilot)
            screenshot(app)
            for key in keys:
                await try_form(pilot, key)
        # The start form's channel dropdown lists every name as written.
        app.action_start_incident()
        await settle(pilot)
        channel = app.screen.query_one("#f-channel", Select)
        channel.focus()
        channel.expanded = True
        await pilot.pause()
        listed = screenshot(app)
        for _ in range(len(channel._options)):  # walk down the list: it shows eight at a time
            await pilot.press("down")
            listed += screenshot(app)
        for name in CHANNEL_NAMES:
            assert name in listed, name
        channel.expanded = False
        await pilot.press("escape")
        await settle(pilot)
        # The incident walkthrough with a hostile title, and its forms.
        await pilot.press("ctrl+e")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert "Pop" in screenshot(app)
        for key in ["t", "s", "ctrl+n", "v"]:
            await try_form(pilot, key)
        # The sources screen and the check session.
        await pilot.press("ctrl+d")
        await settle(pilot)
        for opener, keys in [("s", ["a", "e"]), ("k", ["n"])]:
            await pilot.press("ctrl+d")
            await settle(pilot)
            await pilot.press(opener)
            await settle(pilot)
            assert SOURCE in screenshot(app) or opener == "k"
            for key in keys:
                await try_form(pilot, key)
        assert app.is_running


async def test_a_minute_tick_while_a_screen_opens_is_harmless(db_path):
    make_demo(db_path)
    app = SmdutyApp(db_path, "Tester", background_poll=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        for _ in range(5):
            app.push_screen(QueueScreen())
            app._every_minute()  # the tick lands before the screen has mounted
            app.refresh_screens()
            await pilot.pause()
            app._every_minute()
            await settle(pilot)
            app.pop_screen()
            await settle(pilot)
        assert app.is_running


async def test_a_check_waits_for_another_write_then_saves(db_path):
    make_demo(db_path)
    app = SmdutyApp(db_path, "Tester", background_poll=False)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("k")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CheckSessionScreen)
        first = screen.states[0]
        ready = threading.Event()

        def hold() -> None:
            other = sqlite3.connect(db_path, isolation_level=None)
            other.execute("BEGIN IMMEDIATE")
            ready.set()
            time.sleep(1.5)
            other.execute("COMMIT")
            other.close()

        holder = threading.Thread(target=hold)
        holder.start()
        ready.wait()
        await pilot.press("space")
        await pilot.pause(0.6)
        waiting = [n.message for n in app._notifications]
        assert any("Waiting for another officer" in m for m in waiting), waiting
        holder.join()
        await settle(pilot)
        assert next(s for s in screen.states if s.channel_id == first.channel_id).checked
