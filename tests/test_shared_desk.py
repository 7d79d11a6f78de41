"""A desk the whole team shares (issue 20): an open TUI sees other processes' changes within
2 s; many processes writing at once all land, and none is told the database is locked."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from tui_helpers import make_demo, settle

from smduty.core.incidents import posts
from smduty.core.register.channels import add_channel
from smduty.core.store import connect
from smduty.tui.app import SmdutyApp
from smduty.tui.widgets.posts_banner import PostsBanner


async def test_another_desks_changes_reach_an_open_tui_within_two_seconds(db_path):
    make_demo(db_path)
    app = SmdutyApp(db_path, "Desk One", background_poll=False)
    async with app.run_test(size=(130, 45)) as pilot:
        await settle(pilot)
        screen = app.screen
        banner = screen.query_one(PostsBanner)
        assert not banner.has_class("-stopped")
        other = connect(db_path)  # another officer's process
        posts.stop_posts(other, "Desk Two", "crisis: flooding")
        add_channel(other, "Desk Two", {"name": "Flood Updates [b]", "platform": "x",
                                        "status": "active"})  # fmt: skip
        other.close()
        changed = time.monotonic()
        while not banner.has_class("-stopped"):
            assert time.monotonic() - changed < 2.0, "the posts banner did not follow"
            await pilot.pause(0.05)
        register = screen.query_one("#register-table")
        while "Flood Updates [b]" not in str(
            [register.get_row_at(i) for i in range(register.row_count)]
        ):
            assert time.monotonic() - changed < 2.0, "the register panel did not follow"
            await pilot.pause(0.05)


WRITER = """
import sys
from smduty.core.store import connect
from smduty.core.rota.duty_calendar import DutyCalendar
from smduty.core.rota.handover import leave_handover
from datetime import date
db = connect(sys.argv[1])
db.write_wait_seconds = 60
cal = DutyCalendar()
for n in range(int(sys.argv[3])):
    leave_handover(db, sys.argv[2], cal, date(2026, 11, 20), f"note {n} from {sys.argv[2]}")
"""


def test_eight_processes_writing_at_once_all_land_and_none_is_told_locked(db_path):
    connect(db_path).close()
    env = os.environ.copy()
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(db_path), f"officer {i}", "200"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for i in range(8)
    ]
    for writer in writers:
        out, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err.decode()
        assert b"locked" not in out + err
    db = connect(db_path)
    assert db.execute("SELECT count(*) FROM handover_notes").fetchone()[0] == 1600
    # Each one audited, the chain unbroken.
    from smduty.core.records.chain import verify

    assert (
        db.execute("SELECT count(*) FROM audit_log WHERE action = 'handover.add'").fetchone()[0]
        == 1600
    )
    assert verify(db).ok
    db.close()


async def test_a_save_over_another_officers_change_is_refused_not_silent(db_path):
    from textual.widgets import Input

    from smduty.core.triage import outcomes
    from smduty.core.triage import queue as triage
    from smduty.tui.screens.form import FormModal
    from smduty.tui.screens.queue import QueueScreen

    make_demo(db_path)
    app = SmdutyApp(db_path, "Desk One", background_poll=False)
    async with app.run_test(size=(130, 45)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, QueueScreen)
        mention = screen.items[0]
        await pilot.press("d")  # dismiss as not relevant: a form
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormModal)
        form.query_one("#f-note", Input).value = "spam"
        # Meanwhile, at another desk, an officer takes it on.
        other = connect(db_path)
        outcomes.assign(other, "Desk Two", mention.id, "Priya Raman")
        other.close()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form  # refused, the form still open
        said = str(form.query_one("#form-error").render())
        assert "changed while this form was open" in said and "Priya Raman" in said
    db = connect(db_path)
    item = triage.get_item(db, mention.id)
    assert (item.status, item.assigned_to) == ("in_progress", "Priya Raman")  # theirs stands
    db.close()


async def test_a_channel_edited_elsewhere_is_not_overwritten_by_an_open_form(db_path):
    from textual.widgets import Input

    from smduty.core.register.channels import edit_channel, get_channel
    from smduty.tui.screens.channel_form import ChannelFormScreen

    make_demo(db_path)
    app = SmdutyApp(db_path, "Desk One", background_poll=False)
    async with app.run_test(size=(130, 45)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("slash", *"castlemere libraries", "enter")
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ChannelFormScreen), form
        assert form.channel.name == "Castlemere Libraries", form.channel.name
        form.query_one("#f-handle", Input).value = "@mine"
        other = connect(db_path)
        edit_channel(other, "Desk Two", "Castlemere Libraries", {"handle": "@theirs"})
        other.close()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert "changed by someone else" in str(form.query_one("#form-error").render())
    db = connect(db_path)
    assert get_channel(db, "Castlemere Libraries").handle == "@theirs"
    db.close()


async def test_an_incident_step_saved_at_another_desk_keeps_what_you_typed(db_path):
    from textual.widgets import TextArea

    from smduty.core.incidents import lifecycle as incidents
    from smduty.core.incidents import log as incident_log
    from smduty.core.incidents import steps as incident_steps
    from smduty.tui.screens.incident import IncidentScreen

    make_demo(db_path)
    db = connect(db_path)
    found = incidents.start(db, "Desk One", "Two desks, one step")
    incident_log.record_notification(db, "Desk One", found.id, "Helen Marsh", "phone")
    db.close()
    app = SmdutyApp(db_path, "Desk One", background_poll=False)
    async with app.run_test(size=(130, 45)) as pilot:
        await settle(pilot)
        app.action_open_incident(found.id)
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, IncidentScreen) and screen.shown_step == "tell"
        screen.query_one("#f-what_happened", TextArea).text = "Mine: a threat under a bins post"
        await pilot.pause(0.7)
        other = connect(db_path)
        incident_steps.complete_step(other, "Desk Two", found.id, "tell",
                                     {"what_happened": "Theirs: a threat"})  # fmt: skip
        other.close()
        changed = time.monotonic()
        error = screen.query_one("#step-error")
        while "saved this step" not in str(error.render()):
            assert time.monotonic() - changed < 2.0, "the other desk's save was not shown"
            await pilot.pause(0.05)
        assert "Desk Two" in str(error.render())
        typed = screen.query_one("#f-what_happened", TextArea).text
        assert typed == "Mine: a threat under a bins post"  # kept, not replaced
        await pilot.press("ctrl+s")  # now knowingly over theirs
        await settle(pilot)
    db = connect(db_path)
    record = incidents.get_incident(db, found.id).record("tell")
    assert record.facts["what_happened"] == "Mine: a threat under a bins post"
    from smduty.core.records import audit

    entries = audit.entries(db, "incident", found.id)
    saved = [e.after["facts"]["what_happened"] for e in entries if e.action == "incident.step.done"]
    assert set(saved) == {"Theirs: a threat", "Mine: a threat under a bins post"}  # both kept
    db.close()


async def test_staff_source_and_rota_forms_are_not_saved_over_another_desks_change(db_path):
    """The optimistic check of the channel form, on the Staff, Sources and Rota forms."""
    from datetime import date

    from textual.widgets import DataTable, Input, Select

    from smduty.core.monitoring import sources as sources_core
    from smduty.core.rota import roster
    from smduty.core.rota.duty_calendar import DutyCalendar
    from smduty.core.staff import edit_staff, get_staff
    from smduty.tui.screens.form import FormModal

    make_demo(db_path)
    app = SmdutyApp(db_path, "Desk One", background_poll=False)

    async def refused(pilot, form) -> None:
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert "changed by someone else" in str(form.query_one("#form-error").render())
        await pilot.press("escape")
        await settle(pilot)

    def elsewhere(change) -> None:
        other = connect(db_path)
        change(other)
        other.close()

    async with app.run_test(size=(130, 45)) as pilot:
        await settle(pilot)
        await pilot.press("p")  # Staff: Grace's phone, changed at another desk meanwhile
        await settle(pilot)
        staff = app.screen
        names = [p.name for p in staff.snapshot.people]
        staff.query_one("#staff-people", DataTable).move_cursor(row=names.index("Grace Okafor"))
        await pilot.press("e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormModal)
        form.query_one("#f-phone", Input).value = "01632 000001"
        elsewhere(lambda db: edit_staff(db, "Desk Two", "Grace Okafor", phone="01632 000002"))
        await refused(pilot, form)
        await pilot.press("escape")
        await settle(pilot)

        await pilot.press("s")  # Sources: a source's location, changed meanwhile
        await settle(pilot)
        sources = app.screen
        first = sources.query_one(DataTable)
        first.move_cursor(row=0)
        await settle(pilot)
        name = sources._current().name
        await pilot.press("e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormModal)
        form.query_one("#f-every", Input).value = "15"
        elsewhere(lambda db: sources_core.edit_source(db, "Desk Two", name, interval_minutes=90))
        await refused(pilot, form)
        await pilot.press("escape")
        await settle(pilot)

        await pilot.press("o")  # Rota: today's duty block, swapped at another desk meanwhile
        await settle(pilot)
        rota = app.screen
        table = rota.query_one("#rota-days", DataTable)
        table.move_cursor(row=table.get_row_index("2026-11-21"))
        await pilot.press("o")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormModal)
        form.query_one("#f-to", Select).value = "Helen Marsh"
        form.query_one("#f-reason", Input).value = "Helen offered"
        elsewhere(lambda db: roster.swap(db, "Desk Two", DutyCalendar(), date(2026, 11, 21),
                                         "Tom Whitfield", "Tom offered", force=True))  # fmt: skip
        await refused(pilot, form)
    db = connect(db_path)
    assert get_staff(db, "Grace Okafor").phone == "01632 000002"
    assert sources_core.get_source(db, name).interval_minutes == 90
    assert roster.day_view(db, DutyCalendar(), date(2026, 11, 21)).weekend_duty == "Tom Whitfield"
    db.close()
