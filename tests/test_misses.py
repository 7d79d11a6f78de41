"""Missed checks are facts (issue 18): written when the deadline passes, with the officer on
duty; a late check marks the miss late and never erases it; closing or reactivating a channel
later changes no past miss; misses wait on the record until acknowledged."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from click.testing import CliRunner

from smduty.cli import main
from smduty.core.config import Config
from smduty.core.register.channels import add_channel, close_channel, edit_channel
from smduty.core.rota.checks import record_check
from smduty.core.rota.duty_calendar import DutyCalendar
from smduty.core.rota.misses import acknowledge, misses, record_misses, unacknowledged
from smduty.core.store import transaction

CONFIG = Config()
CAL = DutyCalendar.from_config(CONFIG)
FRIDAY = date(2026, 11, 20)  # a working day: checks due by 10:00


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)  # November: GMT = UTC


def setup_channels(db):
    for name in ("Leisure X", "Libraries FB"):
        add_channel(db, "t", {"name": name, "platform": "x", "status": "active"})
    # Made before the days in question.
    with transaction(db):
        db.execute("UPDATE channels SET created_at = '2026-11-01T09:00:00Z'")
        db.execute(
            "INSERT INTO meta (key, value) VALUES ('misses_recorded_through', '2026-11-19'),"
            " ('misses_live_from', '2026-11-20')"
        )


def names(found) -> list[str]:
    return [m.channel for m in found]


def test_a_miss_is_written_at_the_deadline_and_a_late_check_keeps_it(db):
    setup_channels(db)
    record_check(db, "Ana", "Leisure X", at=at(20, 9, 30))
    assert record_misses(db, CAL, CONFIG, at(20, 9, 59)) == []  # not yet due
    written = record_misses(db, CAL, CONFIG, at(20, 10, 1))
    assert names(written) == ["Libraries FB"]
    record_check(db, "Ana", "Libraries FB", at=at(20, 15))  # 15:00, late
    found = misses(db, FRIDAY, FRIDAY)
    assert names(found) == ["Libraries FB"] and found[0].checked_late_at == "2026-11-20T15:00:00Z"
    assert record_misses(db, CAL, CONFIG, at(20, 16)) == []  # nothing twice


def test_a_check_after_the_deadline_but_before_anyone_recorded_is_still_a_miss(db):
    setup_channels(db)
    record_check(db, "Ana", "Leisure X", at=at(20, 9))
    record_check(db, "Ana", "Libraries FB", at=at(20, 15))  # nobody had smduty open at 10:00
    found = record_misses(db, CAL, CONFIG, at(20, 16))
    assert names(found) == ["Libraries FB"] and found[0].checked_late_at == "2026-11-20T15:00:00Z"


def test_closing_or_reactivating_a_channel_changes_no_past_miss(db):
    setup_channels(db)
    record_misses(db, CAL, CONFIG, at(20, 11))
    before = [m.as_dict() for m in misses(db, FRIDAY, FRIDAY)]
    assert len(before) == 2
    close_channel(db, "t", "Libraries FB", "merged")
    edit_channel(db, "t", "Leisure X", {"status": "proposed"})
    edit_channel(db, "t", "Leisure X", {"status": "active"})
    assert [m.as_dict() for m in misses(db, FRIDAY, FRIDAY)] == before


def test_the_weekends_misses_wait_until_acknowledged(db, db_path):
    setup_channels(db)
    record_misses(db, CAL, CONFIG, at(23, 9))  # Monday 09:00: Friday, Saturday, Sunday due
    waiting = unacknowledged(db)
    assert sorted({m.duty_date for m in waiting}) == ["2026-11-20", "2026-11-21", "2026-11-22"]
    assert acknowledge(db, "Priya", at(23, 9, 5)) == 6
    assert unacknowledged(db) == []
    assert len(misses(db, FRIDAY, date(2026, 11, 22))) == 6  # acknowledged, still on record
    result = CliRunner().invoke(main, ["--db", str(db_path), "checks", "missed", "--json",
                                       "--from", "2026-11-20", "--to", "2026-11-22"])  # fmt: skip
    assert result.exit_code == 0 and result.output.count('"acknowledged_by": "Priya"') == 6


def test_an_upgrade_reconstructs_two_weeks_once_acknowledged_even_when_interrupted(db, monkeypatch):
    from smduty.core.rota import misses as module

    for name in ("Leisure X", "Libraries FB"):
        add_channel(db, "t", {"name": name, "platform": "x", "status": "active"})
    with transaction(db):
        db.execute("UPDATE channels SET created_at = '2026-10-01T09:00:00Z'")
    real = module._record_day
    calls = []

    def stop_after_two(*args):
        calls.append(args)
        if len(calls) > 2:
            raise KeyboardInterrupt  # the app closed part way through
        return real(*args)

    monkeypatch.setattr(module, "_record_day", stop_after_two)
    with pytest.raises(KeyboardInterrupt):
        record_misses(db, CAL, CONFIG, at(23, 12))
    monkeypatch.setattr(module, "_record_day", real)
    record_misses(db, CAL, CONFIG, at(23, 12))
    found = misses(db, date(2026, 11, 9), date(2026, 11, 23))
    assert len(found) == 30  # 15 days x 2 channels
    assert all(m.reconstructed and m.acknowledged_at for m in found if m.duty_date < "2026-11-23")
    assert [m.channel for m in unacknowledged(db)] == ["Leisure X", "Libraries FB"]  # today's
