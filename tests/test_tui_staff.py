"""Pilot tests for the Staff screen (issue 19): a wrong phone number, roles and a deputy fixed
from the TUI; a leaver recorded; contacts by role with the deputy chain; and `staff edit`."""

from __future__ import annotations

from click.testing import CliRunner
from textual.widgets import DataTable, Input, Select, SelectionList
from tui_helpers import make_demo, settle

from smduty.cli import main
from smduty.core.records.audit import entries
from smduty.core.rota.people import add_leave
from smduty.core.staff import get_staff, set_deputy
from smduty.core.store import connect
from smduty.tui.app import SmdutyApp
from smduty.tui.screens.form import FormModal
from smduty.tui.screens.staff import StaffScreen


async def open_staff(pilot) -> StaffScreen:
    await settle(pilot)
    await pilot.press("p")
    await settle(pilot)
    assert isinstance(pilot.app.screen, StaffScreen)
    return pilot.app.screen


def row_of(screen: StaffScreen, name: str) -> int:
    return [p.name for p in screen.snapshot.people].index(name)


async def test_a_wrong_phone_number_roles_and_deputy_are_fixed_from_the_tui(db_path):
    make_demo(db_path)
    app = SmdutyApp(db_path, "Office Manager [b]")
    async with app.run_test(size=(130, 40)) as pilot:
        screen = await open_staff(pilot)
        table = screen.query_one("#staff-people", DataTable)
        table.move_cursor(row=row_of(screen, "Grace Okafor"))
        await settle(pilot)
        detail = str(screen.query_one("#staff-detail").render())
        assert "Manages: " in detail and "trained 20" in detail  # her channels and training
        await pilot.press("e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormModal)
        form.query_one("#f-phone", Input).value = "01632 960999"
        form.query_one("#f-email", Input).value = "not an address"
        roles = form.query_one("#f-roles", SelectionList)
        roles.select("safeguarding_lead")
        form.query_one("#f-deputy", Select).value = "Tom Whitfield"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form  # refused: the e-mail address, named beside its field
        assert "not an e-mail address" in str(form.query_one("#e-email").render())
        form.query_one("#f-email", Input).value = "grace.okafor@castlemere.example.gov.uk"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        assert "01632 960999" in str(table.get_row("Grace Okafor")[1])
    db = connect(db_path)
    grace = get_staff(db, "Grace Okafor")
    assert grace.phone == "01632 960999" and grace.deputy == "Tom Whitfield"
    assert "safeguarding_lead" in grace.roles
    edit = entries(db, entity="staff", entity_id=grace.id)
    assert {e.action for e in edit} >= {"staff.edit", "staff.deputy"}
    changed = next(e for e in edit if e.action == "staff.edit")
    assert changed.actor == "Office Manager [b]"
    assert changed.before["phone"] == "01632 960103" and changed.after["phone"] == "01632 960999"
    db.close()


async def test_a_leaver_is_recorded_and_contacts_follow_the_deputy_chain(db_path):
    make_demo(db_path)
    db = connect(db_path)
    # The safeguarding lead and their deputy are both away: the deputy's deputy is listed.
    set_deputy(db, "t", "Owen Price", "Helen Marsh")
    set_deputy(db, "t", "Helen Marsh", "David Kerr")
    add_leave(db, "t", "Owen Price", "2026-11-20", "2026-11-24", "leave")
    db.close()
    app = SmdutyApp(db_path, "Tester")
    async with app.run_test(size=(130, 50)) as pilot:
        screen = await open_staff(pilot)
        await pilot.press("c")
        await settle(pilot)
        contacts = screen.query_one("#staff-contacts", DataTable)
        assert contacts.display
        rows = [[str(c) for c in contacts.get_row_at(i)] for i in range(contacts.row_count)]
        start = next(i for i, r in enumerate(rows) if r[0] == "Safeguarding lead")
        lead = rows[start : start + 3]
        assert lead[0][1] == "Owen Price" and lead[0][4].startswith("on leave")
        assert lead[1][1] == "Helen Marsh (for Owen Price)" and lead[1][4].startswith("on leave")
        assert lead[2][1] == "David Kerr (for Helen Marsh)" and lead[2][4] == "can be reached"
        table = screen.query_one("#staff-people", DataTable)
        table.move_cursor(row=row_of(screen, "Tom Whitfield"))
        await pilot.press("l")
        await settle(pilot)
        app.screen.query_one("#f-on", Input).value = "2026-11-30"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "left 30 Nov 2026" in str(table.get_row("Tom Whitfield")[0])
    db = connect(db_path)
    assert str(get_staff(db, "Tom Whitfield").left_on) == "2026-11-30"
    db.close()


def test_staff_edit_cli_changes_only_what_is_given(demo_db, db_path):
    run = CliRunner().invoke(
        main, ["--db", str(db_path), "staff", "edit", "Priya Raman", "--phone", "01632 000000"]
    )
    assert run.exit_code == 0, run.output
    priya = get_staff(demo_db, "Priya Raman")
    assert priya.phone == "01632 000000" and priya.email.startswith("priya")
    assert set(priya.roles) == {"channel_manager", "comms_officer"}
    unknown = CliRunner().invoke(
        main, ["--db", str(db_path), "staff", "edit", "Nobody", "--team", "x"]
    )
    assert unknown.exit_code == 2 and "Nobody" in unknown.output
    nothing = CliRunner().invoke(main, ["--db", str(db_path), "staff", "edit", "Priya Raman"])
    assert nothing.exit_code == 2


async def test_a_new_officer_is_put_on_the_rota_from_the_staff_screen(db_path):
    make_demo(db_path)
    app = SmdutyApp(db_path, "Tester")
    async with app.run_test(size=(130, 45)) as pilot:
        screen = await open_staff(pilot)
        await pilot.press("a")
        await settle(pilot)
        form = app.screen
        form.query_one("#f-name", Input).value = "Nina Shah"
        form.query_one("#f-roles", SelectionList).select("comms_officer")
        form.query_one("#f-weekend").value = True
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        assert str(screen.query_one("#staff-people", DataTable).get_row("Nina Shah")[4]) == (
            "weekend"
        )
    from smduty.core.rota.people import officers

    db = connect(db_path)
    nina = next(o for o in officers(db) if o.name == "Nina Shah")
    assert (nina.weekday, nina.weekend) == (False, True)
    db.close()
