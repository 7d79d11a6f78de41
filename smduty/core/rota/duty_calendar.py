"""Working days, UK bank holidays and duty blocks.

A duty block is a maximal run of consecutive non-working days (a weekend, Good Friday to Easter
Monday, Christmas to the weekend after); one weekend duty officer covers each block.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from smduty.core.config import NATIONS, Config

ONE_DAY = timedelta(days=1)


@lru_cache(maxsize=32)
def _bank_holidays(nation: str, year: int) -> dict[date, str]:
    import holidays  # 40 ms to import: only when a date is first asked about

    found = holidays.country_holidays("GB", subdiv=NATIONS[nation], years=[year])
    return dict(found.items())


@dataclass(frozen=True)
class DutyCalendar:
    nation: str = "england_wales"
    closure_days: tuple[date, ...] = ()

    @classmethod
    def from_config(cls, config: Config) -> DutyCalendar:
        return cls(config.nation, tuple(config.closure_days))

    def bank_holiday(self, day: date) -> str | None:
        name = _bank_holidays(self.nation, day.year).get(day)
        if name is None and day in self.closure_days:
            return "Council closure day"
        return name

    def holiday_off(self, day: date) -> str | None:
        """The holiday's name when it gives a weekday off (a Saturday Boxing Day does not)."""
        return self.bank_holiday(day) if day.weekday() < 5 else None

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and self.bank_holiday(day) is None

    def block_of(self, day: date) -> tuple[date, date] | None:
        """The duty block containing `day`, or None on a working day."""
        if self.is_working_day(day):
            return None
        start = end = day
        while not self.is_working_day(start - ONE_DAY):
            start -= ONE_DAY
        while not self.is_working_day(end + ONE_DAY):
            end += ONE_DAY
        return start, end

    def next_block(self, day: date) -> tuple[date, date]:
        """The block containing `day`, else the next one to start."""
        cursor = day
        while self.is_working_day(cursor):
            cursor += ONE_DAY
        block = self.block_of(cursor)
        assert block is not None
        return block

    def next_bank_holiday(self, day: date) -> tuple[date, str]:
        cursor = day
        for _ in range(800):
            name = self.holiday_off(cursor)
            if name:
                return cursor, name
            cursor += ONE_DAY
        raise LookupError("no bank holiday in the next two years")


def days(start: date, end: date):
    """Every date from start to end inclusive."""
    cursor = start
    while cursor <= end:
        yield cursor
        cursor += ONE_DAY
