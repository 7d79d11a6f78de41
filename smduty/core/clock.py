"""The council's clock: UTC for records, UK local time for what "today" means.

Every stamp written to the database comes from `utc_text` (or `stamp` for now), and every stamp
read back goes through `parse_stamp`: one writer, one reader. Times people type are council
time unless they say otherwise; `council_moment` refuses the hour the clocks skip in March and
asks which of the two is meant in the hour they repeat in October.

SMDUTY_NOW (an ISO date-time) pins the clock for demos and tests.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

COUNCIL_TZ = ZoneInfo("Europe/London")
# The years smduty takes dates in: wide enough for any record, narrow enough that arithmetic
# on them (a day after, a week before, a holiday calendar) never overflows.
FIRST_YEAR, LAST_YEAR = 1970, 2199
EARLIEST = date(FIRST_YEAR, 1, 1)
LATEST = date(LAST_YEAR, 12, 31)


def now_utc() -> datetime:
    pinned = os.environ.get("SMDUTY_NOW")
    if pinned:
        moment = datetime.fromisoformat(pinned)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=COUNCIL_TZ)
        return moment.astimezone(UTC)
    return datetime.now(UTC)


def now_local() -> datetime:
    return now_utc().astimezone(COUNCIL_TZ)


def today() -> date:
    return now_local().date()


def utc_text(moment: datetime) -> str:
    """A moment as the record keeps it: UTC to the second, `2026-11-21T08:30:00Z`.
    A naive moment is taken to be UTC already."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def stamp() -> str:
    """Now, for the record."""
    return utc_text(now_utc())


def parse_stamp(text: str) -> datetime:
    """A stamp from the record as an aware UTC datetime (ValueError if it is not one)."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def minutes_since(text: str, now: datetime | None = None) -> int:
    """Whole minutes from a recorded stamp to now (never negative)."""
    return max(0, int(((now or now_utc()) - parse_stamp(text)).total_seconds() // 60))


def local_text(moment: str | None) -> str:
    """A UTC stamp from the record as council time to the second, with its zone (GMT or BST)."""
    if not moment:
        return ""
    when = parse_stamp(moment).astimezone(COUNCIL_TZ)
    return f"{when:%a %d %b %Y %H:%M:%S %Z}"


def in_range(day: date) -> bool:
    return EARLIEST <= day <= LATEST


def check_range(day: date, what: str = "date") -> date:
    """`day` if smduty takes it, else ValueError saying which years it takes."""
    if not in_range(day):
        raise ValueError(f"{what} {day.isoformat()} is outside {FIRST_YEAR}-{LAST_YEAR}")
    return day


def council_moment(wall: datetime) -> datetime:
    """A wall-clock time as an aware datetime. An aware one is returned as it is; a naive one
    is council time. ValueError for a time that does not exist (the clocks go forward past it)
    or that happens twice (the clocks go back over it): say +00:00 or +01:00 for those."""
    if wall.tzinfo is not None:
        return wall
    first = wall.replace(tzinfo=COUNCIL_TZ, fold=0)
    second = wall.replace(tzinfo=COUNCIL_TZ, fold=1)
    back = first.astimezone(UTC).astimezone(COUNCIL_TZ).replace(tzinfo=None)
    when = f"{wall:%Y-%m-%d %H:%M}"
    if back != wall:
        raise ValueError(
            f"{when} does not exist in UK time (the clocks go forward an hour then): "
            f"give the time after the change, or add +00:00 for GMT"
        )
    if first.utcoffset() != second.utcoffset():
        early, late = (first, second) if first < second.astimezone(UTC) else (second, first)
        raise ValueError(
            f"{when} happens twice in UK time (the clocks go back an hour then): add "
            f"{_offset(early)} for the first ({early.tzname()}) or {_offset(late)} for the "
            f"second ({late.tzname()})"
        )
    return first


def _offset(moment: datetime) -> str:
    delta = moment.utcoffset() or timedelta(0)
    hours, rest = divmod(int(delta.total_seconds()), 3600)
    return f"{'+' if hours >= 0 else '-'}{abs(hours):02d}:{rest // 60:02d}"
