"""Pilot tests on the real app over a temporary database."""

from __future__ import annotations

from textual.widgets import DataTable, Input, Label, Select
from tui_helpers import make_demo, settle

from smduty.core.records import audit
from smduty.core.register.channels import add_channel, get_channel
from smduty.core.store import connect
from smduty.tui.app import SmdutyApp
from smduty.tui.screens.channel_form import ChannelFormScreen
from smduty.tui.screens.channels import ChannelsScreen
from smduty.tui.screens.dashboard import DashboardScreen
from smduty.tui.screens.first_run import FirstRunScreen
from smduty.tui.screens.form import FormModal
from smduty.tui.screens.help import HelpScreen
from smduty.tui.screens.modals import TextPromptModal
from smduty.tui.widgets.channel_detail import ChannelDetail


async def test_empty_database_shows_first_run(db_path):
    app = SmdutyApp(db_path, "Tester")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, FirstRunScreen)
        assert "register is empty" in str(app.screen.query_one("#first-run-text").render())


async def test_dashboard_lists_live_channels_with_state(db_path):
    make_demo(db_path)
    app = SmdutyApp(db_path, "Tester")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        table = app.screen.query_one("#register-table", DataTable)
        assert table.row_count == 12
        first_state = str(table.get_row_at(0)[3])
        assert first_state == "red"


async def test_add_channel_through_the_form(db_path):
    make_demo(db_path)
    app = SmdutyApp(db_path, "Form Tester")
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, ChannelsScreen)
        await pilot.press("a")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ChannelFormScreen)
        # Saving empty shows what is missing and keeps the form open.
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert "name is needed" in str(form.query_one("#e-name").render())
        form.query_one("#f-name", Input).value = "Castlemere Parks [b]"
        form.query_one("#f-platform", Select).value = "instagram"
        form.query_one("#f-service", Input).value = "Parks"
        form.query_one("#f-status", Select).value = "active"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ChannelsScreen)
        # The "Saved" toast names the channel literally (its name holds markup).
        toasts = [str(t.render()) for t in app.screen.query("Toast")]
        assert any("Saved Castlemere Parks [b]" in t for t in toasts), toasts
        assert app.is_running
    db = connect(db_path)
    channel = get_channel(db, "Castlemere Parks [b]")
    assert (channel.platform, channel.service, channel.status) == ("instagram", "Parks", "active")
    actor = db.execute(
        "SELECT actor FROM audit_log WHERE action = 'channel.add' ORDER BY id DESC"
    ).fetchone()[0]
    assert actor == "Form Tester"
    db.close()


async def test_markup_in_a_channel_name_shows_literally(db_path):
    db = connect(db_path)
    nasty = "[bold red]Pwned[/] [@click=app.quit]x[/] \x1b[31m"
    add_channel(
        db,
        "t",
        {
            "name": nasty,
            "platform": "x",
            "status": "active",
            "notes": "[link=http://evil]click[/link]",
        },
    )
    stored = get_channel(db, nasty.replace(" \x1b[31m", "")).name
    db.close()
    app = SmdutyApp(db_path, "Tester")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#register-table", DataTable)
        assert str(table.get_row_at(0)[0]) == stored
        await pilot.press("c")
        await settle(pilot)
        detail = app.screen.query_one(ChannelDetail)
        rendered = str(detail.render())
        assert stored in rendered
        assert "[link=http://evil]click[/link]" in rendered
        await pilot.press("enter")  # open the edit form on it
        await settle(pilot)
        assert isinstance(app.screen, ChannelFormScreen)
        assert app.screen.query_one("#f-name", Input).value == stored
        await pilot.press("escape")
        await settle(pilot)
        assert app.is_running


async def test_filter_and_sort(db_path):
    make_demo(db_path)
    app = SmdutyApp(db_path, "Tester")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        table = app.screen.query_one("#register", DataTable)
        assert table.row_count == 14
        await pilot.press("slash", *"youth")
        await settle(pilot)
        assert table.row_count == 1
        assert str(table.get_row_at(0)[0]) == "Castlemere Youth"
        await pilot.press("escape")
        await settle(pilot)
        assert table.row_count == 14
        await pilot.press("s")  # state -> name
        await settle(pilot)
        names = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert names == sorted(names, key=str.lower)


async def test_advance_a_proposal_from_the_screen(db_path):
    make_demo(db_path)
    app = SmdutyApp(db_path, "Tester")
    notes: list[str] = []
    shown = app.notify

    def remember(message, **kwargs):
        notes.append(str(message))
        return shown(message, **kwargs)

    app.notify = remember
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("slash", *"markets", "enter")
        await settle(pilot)
        # The demo's Markets proposal has an untrained manager: the next step is refused.
        await pilot.press("p")
        await settle(pilot)
        db = connect(db_path)
        assert get_channel(db, "Castlemere Markets").proposal_step == "training_requested"
        db.close()
        # Training is recorded here too, so a TUI-only user can finish the proposal.
        await pilot.press("t")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormModal)
        assert form.query_one("#f-manager").value == "Helen Marsh"  # the untrained one first
        form.query_one("#f-on").value = "2026-11-20"
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
    assert any("Not advanced" in n and "training" in n for n in notes)
    db = connect(db_path)
    channel = get_channel(db, "Castlemere Markets")
    assert channel.proposal_step == "trained"
    assert str(channel.managers[0].trained_on) == "2026-11-20"
    db.close()


async def test_a_proposal_is_turned_down_from_the_screen_with_a_reason(db_path):
    make_demo(db_path)
    app = SmdutyApp(db_path, "Tester")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("slash", *"markets", "enter")
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, TextPromptModal)
        assert "Turn down the proposal" in str(app.screen.query_one(Label).render())
        await pilot.press(*"markets team has no capacity", "enter")
        await settle(pilot)
    db = connect(db_path)
    channel = get_channel(db, "Castlemere Markets")
    assert channel.status == "closed" and "no capacity" in channel.notes
    assert audit.entries(db, "channel", channel.id)[0].action == "channel.reject"
    db.close()


async def test_help_and_narrow_screen(db_path):
    make_demo(db_path)
    app = SmdutyApp(db_path, "Tester")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert app.screen.has_class("narrow")
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        keys = app.screen.query_one(DataTable)
        described = [str(keys.get_row_at(i)[1]) for i in range(keys.row_count)]
        assert any("new channel" in d for d in described)
        await pilot.press("escape")
        await pilot.press("q")
        await settle(pilot)
    assert not app.is_running


async def test_check_session_records_checks(db_path):
    from textual.widgets import ProgressBar

    from smduty.tui.screens.check_session import CheckSessionScreen

    make_demo(db_path)
    db = connect(db_path)
    before = db.execute("SELECT count(*) FROM channel_checks").fetchone()[0]
    db.close()
    app = SmdutyApp(db_path, "Check Officer")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        duty = str(app.screen.query_one("#duty-text").render())
        assert "Check officer" in duty and "5/12 channels checked" in duty
        assert "Handover from" in duty
        await pilot.press("k")
        await settle(pilot)
        assert isinstance(app.screen, CheckSessionScreen)
        table = app.screen.query_one(DataTable)
        assert table.row_count == 12
        first = str(table.get_row_at(0)[0])
        await pilot.press("space")
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        done = sum(state.checked for state in app.screen.states)
        assert app.screen.query_one(ProgressBar).progress == done >= 5
    db = connect(db_path)
    rows = db.execute(
        "SELECT c.name, k.outcome, k.officer FROM channel_checks k"
        " JOIN channels c ON c.id = k.channel_id ORDER BY k.id DESC LIMIT 2"
    ).fetchall()
    assert db.execute("SELECT count(*) FROM channel_checks").fetchone()[0] == before + 2
    assert [tuple(r) for r in rows][1] == (first, "nothing_to_action", "Check Officer")
    assert rows[0]["outcome"] == "queued"
    db.close()


async def test_leaving_screens_faster_than_they_open_never_stops_the_app(db_path):
    """A key held down, or two pressed at once: every screen is left within 0-20 ms of opening.
    Textual's own Header stopped the app here (a title watcher ran after its screen had gone)."""
    import asyncio

    from smduty.core.incidents import lifecycle as incidents

    make_demo(db_path)
    db = connect(db_path)
    incident = incidents.start(db, "Tester", "Hacked account", severity="high")
    db.close()
    app = SmdutyApp(db_path, "Tester", background_poll=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        opens = [
            app.action_open_channels,
            app.action_open_rota,
            app.action_open_sources,
            app.action_open_queue,
            app.action_open_incidents,
            app.action_open_checks,
            lambda: app.action_open_incident(incident.id),
        ]
        for open_screen in opens:
            for delay in (0, 0.005):
                open_screen()
                if delay:
                    await asyncio.sleep(delay)
                app.action_open_dashboard()
                await pilot.pause()
        await settle(pilot)
        assert app.is_running
        assert "smduty — Dashboard" in str(app.screen.query_one("TitleBar").render())
