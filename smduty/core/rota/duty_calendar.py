"""Working days, UK bank holidays and duty blocks.

A duty block is a maximal run of consecutive non-working days (a weekend, Good Friday to Easter
Monday, Christmas to the weekend after); one weekend duty officer covers each block.
"""

from __future__ import annotations

import contextlib
import json
import os
from datetime import date, timedelta
from functools import lru_cache
from importlib.util import find_spec

import msgspec

from smduty.core.config import NATIONS, Config, data_dir

ONE_DAY = timedelta(days=1)


@lru_cache(maxsize=32)
def _bank_holidays(nation: str, year: int) -> dict[date, str]:
    """The year's bank holidays, from a file cache in the data folder when the `holidays`
    library that made it is the one installed: building them costs 150 ms a process (most of
    a headless command's time), reading them back under 1 ms."""
    key = f"{_library_stamp()}:{nation}:{year}"
    cache = data_dir() / "cache" / "bank-holidays.json"
    stored = _read_cache(cache)
    if key in stored:
        return {date.fromisoformat(day): name for day, name in stored[key].items()}
    import holidays  # only when the cache does not have the year

    found = dict(holidays.country_holidays("GB", subdiv=NATIONS[nation], years=[year]).items())
    stored[key] = {day.isoformat(): name for day, name in found.items()}
    with contextlib.suppress(OSError):  # a read-only folder only costs the time again
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial = cache.with_name(f".{cache.name}.{os.getpid()}")
        partial.write_text(json.dumps(stored, ensure_ascii=False), encoding="utf-8")
        os.replace(partial, cache)
    return found


@lru_cache(maxsize=1)
def _library_stamp() -> str:
    """Which `holidays` is installed (its file's size and time): a new release may add days."""
    spec = find_spec("holidays")
    origin = spec.origin if spec else None
    if not origin:
        return "none"
    info = os.stat(origin)
    return f"{info.st_mtime_ns}-{info.st_size}"


def _read_cache(path) -> dict:
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


class DutyCalendar(msgspec.Struct, frozen=True):
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
