"""Response targets: how long a mention of each rating may wait, in clock or working time.

A target reads like "1h", "4 working hours" or "1 working day". Working time runs inside the
council's working hours (default 09:00-17:00) on working days (weekdays that are not bank
holidays or closure days); a working day is one working-hours span. The clock starts when the
mention was published, or when smduty first saw it if that was later: the team cannot answer
what it has not seen.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

import msgspec

from smduty.core.clock import COUNCIL_TZ
from smduty.core.config import Config, ConfigError
from smduty.core.rota.duty_calendar import DutyCalendar

DEFAULT_TARGETS = {
    "critical": "1h",
    "high": "4 working hours",
    "medium": "1 working day",
    "low": "3 working days",
}
DEFAULT_WORKING_HOURS = (time(9, 0), time(17, 0))

_TARGET = re.compile(
    r"^\s*(\d+)\s*(working\s+)?(m|min|mins|minutes?|h|hrs?|hours?|d|days?)\s*$", re.IGNORECASE
)


class Target(msgspec.Struct, frozen=True):
    minutes: int
    working: bool
    text: str


def parse_target(text: str) -> Target:
    """ "1h", "90m", "4 working hours", "1 working day", "2d" -> Target; ValueError otherwise."""
    found = _TARGET.match(str(text))
    if not found or int(found.group(1)) < 1:
        raise ValueError(
            f"{text!r} is not a response target (write it like '1h', '4 working hours' or "
            "'1 working day')"
        )
    amount, working, unit = int(found.group(1)), bool(found.group(2)), found.group(3).lower()
    if unit.startswith("m"):
        minutes = amount
    elif unit.startswith("h"):
        minutes = amount * 60
    else:
        minutes = amount * (-1 if working else 24 * 60)  # working days: resolved by the hours
    return Target(minutes, working, " ".join(str(text).split()))


class Targets(msgspec.Struct, frozen=True):
    by_rating: dict[str, Target]
    calendar: DutyCalendar
    day_start: time = DEFAULT_WORKING_HOURS[0]
    day_end: time = DEFAULT_WORKING_HOURS[1]

    @property
    def day_minutes(self) -> int:
        return (self.day_end.hour * 60 + self.day_end.minute) - (
            self.day_start.hour * 60 + self.day_start.minute
        )

    def _minutes(self, target: Target) -> int:
        return -target.minutes * self.day_minutes if target.minutes < 0 else target.minutes

    def due(self, rating: str, start: datetime) -> datetime | None:
        """When a mention of this rating, waiting since `start`, must have an outcome."""
        target = self.by_rating.get(rating)
        if target is None:
            return None
        if not target.working:
            return start + timedelta(minutes=target.minutes)
        return self._walk(start, self._minutes(target), forward=True)

    def cutoff(self, rating: str, now: datetime) -> datetime | None:
        """The latest start that has already missed its target at `now` (None: no target)."""
        target = self.by_rating.get(rating)
        if target is None:
            return None
        if not target.working:
            return now - timedelta(minutes=target.minutes)
        return self._walk(now, self._minutes(target), forward=False)

    def _walk(self, moment: datetime, minutes: int, *, forward: bool) -> datetime:
        """Move `minutes` of working time forward or back from `moment` (UTC in and out)."""
        local = moment.astimezone(COUNCIL_TZ)
        left = timedelta(minutes=minutes)
        step = timedelta(days=1 if forward else -1)
        day = local.date()
        for _ in range(4000):  # about eleven years of days: ends any loop a bad config might make
            if self.calendar.is_working_day(day):
                opens = datetime.combine(day, self.day_start, COUNCIL_TZ)
                closes = datetime.combine(day, self.day_end, COUNCIL_TZ)
                if forward:
                    begin = max(opens, local) if day == local.date() else opens
                    span = max(closes - begin, timedelta(0))
                    if left <= span:
                        return (begin + left).astimezone(UTC)
                else:
                    end = min(closes, local) if day == local.date() else closes
                    span = max(end - opens, timedelta(0))
                    if left <= span:
                        return (end - left).astimezone(UTC)
                left -= span
            day += step
        raise ValueError("response target could not be placed in working time")


def load_targets(config: Config) -> Targets:
    """The targets from the config's [response_targets] and working_hours, else the defaults."""
    raw = config.response_targets
    if not isinstance(raw, dict):
        raise ConfigError("response_targets must be a table: [response_targets]")
    merged = {**DEFAULT_TARGETS, **raw}
    by_rating: dict[str, Target] = {}
    for rating, text in merged.items():
        if rating not in ("critical", "high", "medium", "low"):
            raise ConfigError(f"response_targets: unknown rating {rating!r}")
        if text in ("", "none", None):
            continue
        try:
            by_rating[rating] = parse_target(text)
        except ValueError as exc:
            raise ConfigError(f"response_targets.{rating}: {exc}") from None
    start, end = DEFAULT_WORKING_HOURS
    hours = config.working_hours
    if hours is not None:
        try:
            first, last = str(hours).split("-")
            start, end = time.fromisoformat(first.strip()), time.fromisoformat(last.strip())
        except ValueError:
            raise ConfigError(f"working_hours: {hours!r} should look like '09:00-17:00'") from None
        if end <= start:
            raise ConfigError("working_hours: the end must be after the start")
    return Targets(by_rating, DutyCalendar.from_config(config), start, end)
