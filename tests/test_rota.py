"""The duty rota: blocks, fairness, leave, determinism, swaps, exports, and the daily check."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
from click.testing import CliRunner
from icalendar import Calendar

from smduty.cli import main
from smduty.core.clock import COUNCIL_TZ
from smduty.core.errors import InvalidInput, Refused
from smduty.core.register.channels import add_channel
from smduty.core.rota.checks import check_states, record_check
from smduty.core.rota.cover import apply_cover, cover_needs
from smduty.core.rota.duty_calendar import DutyCalendar, days
from smduty.core.rota.handover import acknowledge, current_handover, leave_handover
from smduty.core.rota.people import add_leave, set_officer
from smduty.core.rota.reports import export_ics, fairness, gaps
from smduty.core.rota.roster import changes_for, day_view, days_view, generate, swap
from smduty.core.staff import add_staff, mark_left

CAL = DutyCalendar()
NAMES = ("Ann Able", "Bob Baker", "Cat Cole")


@pytest.fixture
def team(db):
    for name in NAMES:
        add_staff(db, "setup", name, ["comms_officer"])
        set_officer(db, "setup", name)
    return db


def officers_by_date(db, start, end):
    return {d.date: d.check_officer for d in days_view(db, CAL, start, end)}


def test_calendar_blocks_for_easter_christmas_and_weekends():
    assert CAL.block_of(date(2027, 3, 27)) == (date(2027, 3, 26), date(2027, 3, 29))
    assert CAL.block_of(date(2026, 12, 26)) == (date(2026, 12, 25), date(2026, 12, 28))
    assert CAL.block_of(date(2026, 11, 21)) == (date(2026, 11, 21), date(2026, 11, 22))
    assert CAL.block_of(date(2026, 11, 23)) is None
    assert CAL.next_block(date(2026, 11, 23)) == (date(2026, 11, 28), date(2026, 11, 29))
    scotland = DutyCalendar("scotland")
    assert scotland.bank_holiday(date(2027, 1, 4)) is not None  # 2 January (substitute)
    assert CAL.bank_holiday(date(2027, 1, 4)) is None
    closure = DutyCalendar(closure_days=(date(2026, 12, 29),))
    assert closure.block_of(date(2026, 12, 29)) == (date(2026, 12, 25), date(2026, 12, 29))


def test_a_year_gives_every_date_one_officer_and_blocks_one_officer(team):
    start = date(2026, 11, 23)
    result = generate(team, "t", CAL, start, 52, today=start)
    assert result.gaps == []
    by_date = officers_by_date(team, start, start + timedelta(weeks=52) - timedelta(days=1))
    assert all(by_date.values())
    for block in (CAL.block_of(date(2027, 3, 27)), CAL.block_of(date(2026, 12, 26))):
        officers = {by_date[d] for d in days(*block)}
        assert len(officers) == 1, block


def test_fairness_within_one_and_no_back_to_back_weekends(team):
    start = date(2026, 11, 23)
    end = start + timedelta(weeks=52) - timedelta(days=1)
    generate(team, "t", CAL, start, 52, today=start)
    rows = fairness(team, CAL, start, end)
    assert max(r.weekday_checks for r in rows) - min(r.weekday_checks for r in rows) <= 1
    assert max(r.weekend_blocks for r in rows) - min(r.weekend_blocks for r in rows) <= 1
    assert max(r.bank_holiday_days for r in rows) - min(r.bank_holiday_days for r in rows) <= 2
    blocks = []
    day = start
    while day <= end:
        block = CAL.next_block(day)
        blocks.append(day_view(team, CAL, block[0]).check_officer)
        day = block[1] + timedelta(days=1)
    assert all(a != b for a, b in zip(blocks, blocks[1:], strict=False))


def test_generation_is_deterministic(db, tmp_path):
    from smduty.core.store import connect

    results = []
    for run in range(2):
        other = connect(tmp_path / f"r{run}.db")
        for name in NAMES:
            add_staff(other, "setup", name, ["comms_officer"])
            set_officer(other, "setup", name)
        add_leave(other, "t", "Bob Baker", "2026-12-01", "2026-12-10")
        generate(other, "t", CAL, date(2026, 11, 23), 12, today=date(2026, 11, 23))
        results.append(officers_by_date(other, date(2026, 11, 23), date(2027, 2, 14)))
        other.close()
    assert results[0] == results[1]


def test_leave_is_respected_and_an_impossible_day_is_a_gap(team):
    add_leave(team, "t", "Ann Able", "2026-11-30", "2026-12-04", "holiday")
    add_leave(team, "t", "Bob Baker", "2026-12-02", "2026-12-02")
    add_leave(team, "t", "Cat Cole", "2026-12-02", "2026-12-02")
    result = generate(team, "t", CAL, date(2026, 11, 23), 4, today=date(2026, 11, 23))
    by_date = officers_by_date(team, date(2026, 11, 30), date(2026, 12, 4))
    assert "Ann Able" not in by_date.values()
    assert result.gaps == [date(2026, 12, 2)]
    assert by_date[date(2026, 12, 2)] is None
    found = gaps(team, CAL, date(2026, 11, 23), date(2026, 12, 20))
    assert [(g.kind, g.date) for g in found if g.kind == "uncovered"] == [
        ("uncovered", date(2026, 12, 2))
    ]


def test_leavers_are_not_rostered_after_leaving(team):
    mark_left(team, "t", "Cat Cole", "2026-12-01")
    generate(team, "t", CAL, date(2026, 11, 23), 6, today=date(2026, 11, 23))
    after = officers_by_date(team, date(2026, 12, 1), date(2027, 1, 3))
    assert "Cat Cole" not in after.values()


def test_past_days_and_swaps_survive_regeneration(team):
    generate(team, "t", CAL, date(2026, 11, 2), 8, today=date(2026, 11, 2))
    before = officers_by_date(team, date(2026, 11, 2), date(2026, 11, 20))
    saturday = date(2026, 11, 28)
    original = day_view(team, CAL, saturday).check_officer
    other = next(n for n in NAMES if n != original)
    moved = swap(team, "t", CAL, saturday, other, "family wedding")
    assert moved == [date(2026, 11, 28), date(2026, 11, 29)]
    add_leave(team, "t", other, "2026-11-23", "2026-11-27")
    generate(team, "t", CAL, date(2026, 11, 2), 8, today=date(2026, 11, 21))
    assert officers_by_date(team, date(2026, 11, 2), date(2026, 11, 20)) == before
    assert day_view(team, CAL, date(2026, 11, 29)).check_officer == other
    history = changes_for(team, saturday)
    assert history[0]["from"] == original and history[0]["to"] == other
    assert history[0]["reason"] == "family wedding"


def test_swap_onto_someone_on_leave_needs_force_and_is_recorded(team):
    generate(team, "t", CAL, date(2026, 11, 23), 2, today=date(2026, 11, 23))
    add_leave(team, "t", "Cat Cole", "2026-11-25", "2026-11-25", "dentist")
    with pytest.raises(Refused, match="on leave"):
        swap(team, "t", CAL, date(2026, 11, 25), "Cat Cole", "cover")
    swap(team, "t", CAL, date(2026, 11, 25), "Cat Cole", "only one free", force=True)
    [change] = changes_for(team, date(2026, 11, 25))
    assert change["forced"] and "dentist" in change["reason"]
    found = gaps(team, CAL, date(2026, 11, 23), date(2026, 11, 30))
    assert ("on_leave", date(2026, 11, 25)) in [(g.kind, g.date) for g in found]


def test_ics_parses_and_keeps_uids_on_reexport(team, tmp_path):
    generate(team, "t", CAL, date(2026, 11, 23), 6, today=date(2026, 11, 23))
    first, second = tmp_path / "a.ics", tmp_path / "b.ics"
    export_ics(team, CAL, first, date(2026, 11, 23), date(2027, 1, 3))
    swap(team, "t", CAL, date(2026, 12, 1), "Cat Cole", "cover", force=True)
    export_ics(team, CAL, second, date(2026, 11, 23), date(2027, 1, 3))
    events = [Calendar.from_ical(p.read_bytes()).walk("VEVENT") for p in (first, second)]
    uids = [[str(e["uid"]) for e in batch] for batch in events]
    assert uids[0] == uids[1] and len(set(uids[0])) == len(uids[0])
    christmas = next(e for e in events[0] if e.decoded("dtstart") == date(2026, 12, 25))
    assert christmas.decoded("dtend") == date(2026, 12, 29)
    assert str(christmas["transp"]) == "TRANSPARENT"
    assert all(not isinstance(e.decoded("dtstart"), datetime) for e in events[0])


def test_daily_check_records_every_check(team):
    add_channel(team, "t", {"name": "Facebook", "platform": "facebook", "status": "active"})
    add_channel(team, "t", {"name": "X", "platform": "x", "status": "active"})
    morning = datetime(2026, 11, 21, 9, 0, tzinfo=COUNCIL_TZ)
    record_check(team, "Ann Able", "Facebook", at=morning)
    record_check(
        team, "Ann Able", "Facebook", "queued", "two complaints", at=morning + timedelta(hours=3)
    )
    states = {s.channel: s for s in check_states(team, date(2026, 11, 21))}
    assert states["Facebook"].checked and states["Facebook"].outcome == "queued"
    assert not states["X"].checked
    assert team.execute("SELECT count(*) FROM channel_checks").fetchone()[0] == 2


def test_handover_shows_until_acknowledged(team):
    friday = date(2026, 11, 20)
    note = leave_handover(team, "Ann Able", CAL, friday, "Watch the bins page [b]")
    assert current_handover(team, CAL, date(2026, 11, 21)).text == "Watch the bins page [b]"
    acknowledge(team, "Bob Baker", note.id)
    assert current_handover(team, CAL, date(2026, 11, 22)) is None


def test_rota_show_cli_for_working_weekend_and_bank_holiday(db_path):
    runner = CliRunner()

    def run(*args):
        result = runner.invoke(main, ["--db", str(db_path), *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    for name in NAMES:
        run("staff", "add", name, "--role", "comms_officer")
        run("rota", "officer", name)
    run("rota", "generate", "--from", "2026-11-23", "--weeks", "6")
    monday = json.loads(run("rota", "show", "--date", "2026-11-23", "--json"))
    assert monday["working_day"] is True and monday["bank_holiday"] is None
    assert monday["check_officer"] in NAMES
    assert (monday["weekend_start"], monday["weekend_end"]) == ("2026-11-28", "2026-11-29")
    christmas = json.loads(run("rota", "show", "--date", "2026-12-25", "--json"))
    assert christmas["working_day"] is False and christmas["bank_holiday"] == "Christmas Day"
    assert christmas["check_officer"] == christmas["weekend_duty"]
    assert (christmas["weekend_start"], christmas["weekend_end"]) == ("2026-12-25", "2026-12-28")
    listing = json.loads(
        run("rota", "list", "--from", "2026-12-24", "--to", "2026-12-29", "--json")
    )
    assert [d["date"] for d in listing][0] == "2026-12-24" and len(listing) == 6


def test_reminders_for_overdue_checks_and_handover(demo_db):
    from datetime import UTC, datetime

    from smduty.core.config import Config
    from smduty.core.rota.handover import acknowledge, current_handover, leave_handover
    from smduty.core.rota.reminders import handover_due, overdue_checks

    config = Config()
    saturday = datetime(2026, 11, 21, 8, 30, tzinfo=UTC)
    assert overdue_checks(demo_db, CAL, config, saturday) is None  # due at 11:00 in a block
    late = overdue_checks(demo_db, CAL, config, saturday.replace(hour=11, minute=30))
    assert late.startswith("7 channel(s) not checked by 11:00")
    # During the block, an unacknowledged note is waiting.
    assert "waiting" in handover_due(demo_db, CAL, config, saturday)
    note = current_handover(demo_db, CAL, saturday.date())
    acknowledge(demo_db, "Weekend", note.id)
    assert handover_due(demo_db, CAL, config, saturday) is None
    # Friday 27 Nov, before and after 15:30 (GMT): remind the last weekday officer.
    friday = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
    assert handover_due(demo_db, CAL, config, friday) is None
    reminder = handover_due(demo_db, CAL, config, friday.replace(hour=16))
    assert "Leave a handover note for Helen Marsh" in reminder
    leave_handover(demo_db, "Tom", CAL, friday.date(), "All quiet")
    assert handover_due(demo_db, CAL, config, friday.replace(hour=16)) is None
    # A Thursday is not the last working day before a block.
    assert handover_due(demo_db, CAL, config, datetime(2026, 11, 26, 16, tzinfo=UTC)) is None


# --- a rota that stays put (issue 19) ---------------------------------------------------------


def test_generating_again_after_a_swap_changes_nothing_planned(team):
    generate(team, "t", CAL, date(2026, 11, 23), 10, today=date(2026, 11, 23))
    before = officers_by_date(team, date(2026, 11, 23), date(2027, 1, 31))
    saturday = date(2026, 12, 5)
    other = next(n for n in NAMES if n != before[saturday])
    swap(team, "t", CAL, saturday, other, "family wedding")
    swapped = officers_by_date(team, date(2026, 11, 23), date(2027, 1, 31))
    # Three days later someone presses generate again, for longer.
    result = generate(team, "t", CAL, date(2026, 11, 26), 12, today=date(2026, 11, 26))
    after = officers_by_date(team, date(2026, 11, 23), date(2027, 1, 31))
    assert after == swapped  # nothing planned moved: not 19 Dec, not Christmas, not New Year
    assert all(old is None for old, _ in result.changed.values())  # only new days were filled
    assert officers_by_date(team, date(2027, 2, 1), date(2027, 2, 14))[date(2027, 2, 1)]


def test_replan_says_what_it_would_change_then_changes_only_from_that_date(team, db_path):
    generate(team, "t", CAL, date(2026, 11, 23), 8, today=date(2026, 11, 23))
    add_staff(team, "setup", "Dan Dale", ["comms_officer"])
    set_officer(team, "setup", "Dan Dale")
    before = officers_by_date(team, date(2026, 11, 23), date(2027, 1, 17))
    preview = generate(team, "t", CAL, date(2026, 11, 23), 8, today=date(2026, 11, 23),
                       replan_from=date(2026, 12, 14), dry_run=True)  # fmt: skip
    assert preview.changed and min(preview.changed) >= date(2026, 12, 14)
    assert officers_by_date(team, date(2026, 11, 23), date(2027, 1, 17)) == before  # dry run
    run = CliRunner().invoke(
        main, ["--db", str(db_path), "rota", "generate", "--from", "2026-11-23", "--weeks", "8",
               "--replan", "2026-12-14"], input="n\n",
    )  # fmt: skip
    assert run.exit_code == 1 and "changes" in run.output and "->" in run.output
    assert officers_by_date(team, date(2026, 11, 23), date(2027, 1, 17)) == before
    with pytest.raises(InvalidInput):
        generate(team, "t", CAL, date(2026, 11, 23), 8, today=date(2026, 11, 23),
                 replan_from=date(2026, 11, 1))  # fmt: skip


def test_leave_after_generation_proposes_cover_and_applying_it_moves_those_days_only(team):
    generate(team, "t", CAL, date(2026, 11, 23), 8, today=date(2026, 11, 23))
    before = officers_by_date(team, date(2026, 11, 23), date(2027, 1, 17))
    christmas = date(2026, 12, 25)  # the long block: Fri 25 Dec to Mon 28 Dec
    holder = before[christmas]
    add_leave(team, "t", holder, "2026-12-26", "2026-12-27", "wedding")
    needs = [n for n in cover_needs(team, CAL, date(2026, 11, 23), date(2027, 1, 17))
             if n.officer == holder and n.why == "on leave (wedding)"]  # fmt: skip
    [need] = needs
    assert need.days == (date(2026, 12, 26), date(2026, 12, 27)) and need.kind == "block"
    assert need.proposal in NAMES and holder not in need.candidates
    covered, chosen = apply_cover(team, "t", CAL, date(2026, 12, 26), today=date(2026, 11, 23))
    after = officers_by_date(team, date(2026, 11, 23), date(2027, 1, 17))
    assert {d for d in before if before[d] != after[d]} == set(need.days)
    assert after[christmas] == holder == after[date(2026, 12, 28)]  # the block is split
    assert day_view(team, CAL, date(2026, 12, 26)).weekend_duty == chosen
    assert (
        changes_for(team, date(2026, 12, 26))[0]["reason"]
        == f"cover for {holder}, on leave (wedding)"
    )  # noqa: E501
    assert not [n for n in cover_needs(team, CAL, date(2026, 11, 23), date(2027, 1, 17))
                if n.why == "on leave (wedding)"]  # fmt: skip


def test_one_day_of_a_block_can_be_swapped_on_its_own(team, db_path):
    generate(team, "t", CAL, date(2026, 11, 23), 8, today=date(2026, 11, 23))
    holder = day_view(team, CAL, date(2026, 12, 25)).check_officer
    other = next(n for n in NAMES if n != holder)
    run = CliRunner().invoke(
        main, ["--db", str(db_path), "rota", "swap", "2026-12-25", "--to", other, "--reason",
               "Christmas Day with family", "--day-only"],
    )  # fmt: skip
    assert run.exit_code == 0, run.output
    got = officers_by_date(team, date(2026, 12, 25), date(2026, 12, 28))
    assert got[date(2026, 12, 25)] == other
    assert [got[d] for d in (date(2026, 12, 26), date(2026, 12, 27), date(2026, 12, 28))] == [
        holder
    ] * 3


def test_an_unknown_officer_is_named_and_exits_2(team, db_path, tmp_path):
    run = CliRunner().invoke(
        main, ["--db", str(db_path), "rota", "export", "--ics", str(tmp_path / "x.ics"),
               "--officer", "Nobody"],
    )  # fmt: skip
    assert run.exit_code == 2 and "Nobody" in run.output
    assert not (tmp_path / "x.ics").exists()


def test_ics_tells_outlook_what_changed_and_is_identical_when_nothing_did(
    team, tmp_path, monkeypatch
):
    generate(team, "t", CAL, date(2026, 11, 23), 6, today=date(2026, 11, 23))
    span = (date(2026, 11, 23), date(2027, 1, 3))
    a, b, c = (tmp_path / f"{n}.ics" for n in "abc")
    export_ics(team, CAL, a, *span)
    export_ics(team, CAL, b, *span)
    assert a.read_bytes() == b.read_bytes()  # nothing changed: byte for byte the same
    parsed = Calendar.from_ical(a.read_bytes())
    assert str(parsed["method"]) == "PUBLISH"
    events = {str(e["uid"]): e for e in parsed.walk("VEVENT")}
    assert all(str(e["x-microsoft-cdo-busystatus"]) == "FREE" for e in events.values())
    saturday = date(2026, 12, 5)
    holder = day_view(team, CAL, saturday).check_officer
    other = next(n for n in NAMES if n != holder)
    uid = f"smduty-weekend-{saturday}@smduty"
    assert int(events[uid]["sequence"]) == 0
    monkeypatch.setenv("SMDUTY_NOW", "2026-11-21T09:45:00Z")  # later that morning
    swap(team, "t", CAL, saturday, other, "wedding")
    export_ics(team, CAL, c, *span)
    after = {str(e["uid"]): e for e in Calendar.from_ical(c.read_bytes()).walk("VEVENT")}
    assert int(after[uid]["sequence"]) > 0 and other in str(after[uid]["summary"])
    assert after[uid].decoded("last-modified") > events[uid].decoded("last-modified")
    untouched = f"smduty-weekend-{date(2026, 12, 12)}@smduty"
    assert after[untouched].to_ical() == events[untouched].to_ical()
    # The officer who gave it away sees it cancelled in their own feed, not vanished.
    own = tmp_path / "own.ics"
    export_ics(team, CAL, own, *span, officer=holder)
    mine = {str(e["uid"]): e for e in Calendar.from_ical(own.read_bytes()).walk("VEVENT")}
    assert str(mine[uid]["status"]) == "CANCELLED"
    assert int(mine[uid]["sequence"]) == int(after[uid]["sequence"])
    assert all(str(e["status"]) == "CONFIRMED" for k, e in mine.items() if k != uid)
