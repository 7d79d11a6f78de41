"""Bank holidays are read back from a file cache (issue 23: building them was most of a
headless command's time), and built again when another `holidays` release is installed."""

from __future__ import annotations

import sys
from datetime import date

import pytest

from smduty.core.config import data_dir
from smduty.core.rota import duty_calendar
from smduty.core.rota.duty_calendar import DutyCalendar


@pytest.fixture(autouse=True)
def fresh():
    duty_calendar._bank_holidays.cache_clear()
    yield
    duty_calendar._bank_holidays.cache_clear()


def test_the_second_process_reads_the_cache_not_the_library(monkeypatch):
    assert DutyCalendar().bank_holiday(date(2026, 12, 25)) == "Christmas Day"
    assert (data_dir() / "cache" / "bank-holidays.json").exists()
    duty_calendar._bank_holidays.cache_clear()  # a new process
    monkeypatch.setitem(sys.modules, "holidays", None)  # importing it would fail
    assert DutyCalendar().bank_holiday(date(2026, 12, 25)) == "Christmas Day"


def test_another_release_of_the_library_builds_them_again(monkeypatch):
    DutyCalendar().bank_holiday(date(2026, 12, 25))
    duty_calendar._bank_holidays.cache_clear()
    monkeypatch.setattr(duty_calendar, "_library_stamp", lambda: "a newer release")
    monkeypatch.setitem(sys.modules, "holidays", None)
    with pytest.raises(ImportError):  # not answered from the old release's days
        DutyCalendar().bank_holiday(date(2026, 12, 25))
