"""Pilot tests for the rota screen, handover keys and the duty reminders."""

from __future__ import annotations

import asyncio
from datetime import date

from textual.widgets import Checkbox, DataTable, Input, Select, TextArea
from tui_helpers import make_demo, settle

from smduty.core.store import connect
from smduty.tui.app import SmdutyApp
from smduty.tui.screens.form import FormModal
from smduty.tui.screens.rota import RotaScreen

GAP_DAY = date(2026, 12, 3)  # the demo's planted gap: every weekday officer is away


COLUMNS = ("date", "block", "officer", "note", "day", "away")


def cells(table: DataTable, key: str) -> dict[str, str]:
    return dict(zip(COLUMNS, (str(c) for c in table.get_row(key)), strict=True))


async def open_rota(pilot) -> RotaScreen:
    await settle(pilot)
    await pilot.press("o")
    await settle(pilot)
    assert isinstance(pilot.app.screen, RotaScreen)
    return pilot.app.screen


async def test_rota_screen_marks_blocks_holidays_leave_and_gaps(db_path):
    make_demo(db_path)
    app = SmdutyApp(db_path, "Tester")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_rota(pilot)
        table = screen.query_one("#rota-days", DataTable)
        assert table.row_count == 56
        # The cursor starts on today, a Saturday opening a block.
        assert screen._cursor_date() == date(2026, 11, 21)
        today_row = cells(table, "2026-11-21")
        assert today_row["day"] == "weekend" and today_row["block"] == "╭ block"
        gap = cells(table, GAP_DAY.isoformat())
        assert gap["officer"] == "nobody: gap" and gap["note"] == "GAP"
        assert "Priya Raman" in gap["away"] and "Tom Whitfield" in gap["away"]
        # The gap is drawn in the theme's error colour.
        error = app.theme_variables["error"].lower()
        assert error in str(table.get_row(GAP_DAY.isoformat())[2].style).lower()
        christmas = cells(table, "2026-12-25")
        assert christmas["day"] == "Christmas Day" and christmas["block"] == "╭ block"
        assert cells(table, "2026-12-28")["day"].startswith("Boxing Day")
        assert cells(table, "2026-12-28")["block"] == "╰"
        fairness = screen.query_one("#rota-fairness", DataTable)
        assert fairness.row_count == 4
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert screen.snapshot.start == date(2026, 12, 14)
        await pilot.press("t")
        await settle(pilot)
        assert screen.snapshot.start == date(2026, 11, 16)


async def test_swap_from_the_screen_refuses_then_records_an_override(db_path):
    make_demo(db_path)
    app = SmdutyApp(db_path, "Rota Keeper")
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        screen = await open_rota(pilot)
        table = screen.query_one("#rota-days", DataTable)
        table.move_cursor(row=table.get_row_index(GAP_DAY.isoformat()))
        await pilot.press("o")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormModal)
        form.query_one("#f-to", Select).value = "Helen Marsh"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert "say why" in str(form.query_one("#e-reason").render())
        form.query_one("#f-reason", Input).value = "Helen covers [b]the[/b] gap"
        await pilot.press("ctrl+s")
        await settle(pilot)
        # Helen does weekend duty only: refused until the override is ticked.
        assert app.screen is form
        assert "not on the rota for weekday checks" in str(form.query_one("#form-error").render())
        form.query_one("#f-force", Checkbox).value = True
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        assert cells(table, GAP_DAY.isoformat())["officer"] == "Helen Marsh"
        assert cells(table, GAP_DAY.isoformat())["note"] == "swapped"
        toasts = [str(t.render()) for t in app.screen.query("Toast")]
        assert any("Helen Marsh now has the weekday check" in t for t in toasts), toasts
    db = connect(db_path)
    row = db.execute(
        "SELECT s.name, d.source FROM duty_days d JOIN staff s ON s.id = d.officer_id"
        " WHERE duty_date = ?",
        (GAP_DAY.isoformat(),),
    ).fetchone()
    assert tuple(row) == ("Helen Marsh", "swap")
    change = db.execute("SELECT * FROM duty_changes WHERE duty_date = ?", (GAP_DAY.isoformat(),))
    change = change.fetchone()
    assert change["forced"] == 1 and change["actor"] == "Rota Keeper"
    assert change["reason"].startswith("Helen covers [b]the[/b] gap")
    db.close()


def planned(db_path, start: str, end: str) -> dict[str, str | None]:
    db = connect(db_path)
    try:
        rows = db.execute(
            "SELECT d.duty_date, s.name FROM duty_days d LEFT JOIN staff s ON s.id = d.officer_id"
            " WHERE duty_date BETWEEN ? AND ? ORDER BY duty_date",
            (start, end),
        )
        return {r[0]: r[1] for r in rows}
    finally:
        db.close()


async def test_leave_after_generation_is_covered_by_proposal_and_generate_moves_nothing(db_path):
    """Issue 19: the rota stays put. Leave added after the rota was made marks the officer's
    duties with proposed cover; v takes it, for those days only; generating again fills only
    days not yet planned."""
    make_demo(db_path)
    before = planned(db_path, "2026-11-21", "2027-01-10")
    toms = [
        d
        for d, name in before.items()
        if name == "Tom Whitfield" and "2027-01-04" <= d <= "2027-01-08"
    ]  # noqa: E501
    assert toms, "the demo rota gives Tom a day that week"
    app = SmdutyApp(db_path, "Rota Keeper")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_rota(pilot)
        await pilot.press("a")
        await settle(pilot)
        form = app.screen
        form.query_one("#f-name", Select).value = "Tom Whitfield"
        form.query_one("#f-from", Input).value = "2027-01-04"
        form.query_one("#f-to", Input).value = "2027-01-02"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "before" in str(form.query_one("#e-to").render())
        form.query_one("#f-to", Input).value = "2027-01-08"
        form.query_one("#f-reason", Input).value = "annual leave"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        table = screen.query_one("#rota-days", DataTable)
        for day in toms:
            table.move_cursor(row=[d.date.isoformat() for d in screen.snapshot.days].index(day))
            await settle(pilot)
            detail = str(screen.query_one("#rota-detail").render())
            assert "proposed cover" in detail and "v to apply" in detail
            await pilot.press("v")
            await settle(pilot)
            assert isinstance(app.screen, FormModal)
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert app.screen is screen
        await pilot.press("g")
        await settle(pilot)
        form = app.screen
        form.query_one("#f-start", Input).value = "2026-11-21"
        form.query_one("#f-weeks", Input).value = "8"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
    after = planned(db_path, "2026-11-21", "2027-01-10")
    changed = {d for d in before if before[d] != after[d]}
    assert changed == set(toms)  # the covered days, and nothing else moved
    assert all(after[d] not in (None, "Tom Whitfield") for d in toms)
    db = connect(db_path)
    leave = db.execute("SELECT * FROM leave WHERE reason = 'annual leave'").fetchone()
    assert (leave["start_date"], leave["end_date"]) == ("2027-01-04", "2027-01-08")
    reasons = [
        r[0] for r in db.execute("SELECT reason FROM duty_changes WHERE duty_date >= '2027'")
    ]
    assert reasons and all(r.startswith("cover for Tom Whitfield, on leave") for r in reasons)
    db.close()


async def test_handover_acknowledged_and_left_from_the_dashboard(db_path):
    make_demo(db_path)
    app = SmdutyApp(db_path, "Weekend Officer")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "Handover from" in str(app.screen.query_one("#duty-text").render())
        await pilot.press("h")
        await settle(pilot)
        shown = str(app.screen.query_one("#duty-text").render())
        # Acknowledged, it stays for the rest of the block, marked so (issue 19).
        assert "Handover from Grace Okafor" in shown and "acknowledged by Weekend Officer" in shown
        assert "h acknowledges" not in shown
        await pilot.press("n")
        await settle(pilot)
        app.screen.query_one("#f-text", TextArea).text = "Flood alert still amber.\nWatch @Mere"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Flood alert still amber" in str(app.screen.query_one("#duty-text").render())
        # Past notes are listed (from the rota screen), the full text of the highlighted one.
        await pilot.press("o")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        listed = app.screen.query_one("#handovers", DataTable)
        assert listed.row_count == 2
        assert "Weekend Officer" in str(listed.get_row_at(0)[1])
        assert "Flood alert still amber" in str(app.screen.query_one("#handover-text").render())
        await pilot.press("down")
        await settle(pilot)
        assert "Bin collections moved" in str(app.screen.query_one("#handover-text").render())
    db = connect(db_path)
    notes = db.execute("SELECT * FROM handover_notes ORDER BY id").fetchall()
    assert notes[0]["acknowledged_by"] == "Weekend Officer"
    assert notes[-1]["text"] == "Flood alert still amber.\nWatch @Mere"
    assert notes[-1]["author"] == "Weekend Officer"
    db.close()


async def test_scheduler_has_the_duty_jobs_and_notifies_overdue_checks(db_path, monkeypatch):
    make_demo(db_path)
    app = SmdutyApp(db_path, "Tester")
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        jobs = {job.id for job in app.duty_scheduler.scheduler.get_jobs()}
        assert {"deadline-1000", "deadline-1100", "handover-note", "handover-ack"} <= jobs
        # 11:30 on the Saturday: past the duty-block deadline with 7 channels unchecked.
        monkeypatch.setenv("SMDUTY_NOW", "2026-11-21T11:30:00+00:00")
        scheduler = app.duty_scheduler
        await asyncio.to_thread(scheduler._run, scheduler.remind_overdue)
        await pilot.pause()
        toasts = [str(t.render()) for t in app.screen.query("Toast")]
        assert any("7 channel(s) not checked by 11:00" in t for t in toasts), toasts
