"""When a post was published, as export tools write it: a UTC moment, or unknown.

Each file's date column gets a `DateReader`. Day and month order is decided for the whole file:
a first number above 12 anywhere means day first, a second number above 12 means month first,
and UK order (day first) when nothing says otherwise. A time zone named in the column's header
("Date (Europe/London)", "Created at (UTC)") applies to times written without one; otherwise
naive times are UK local time. A date that cannot be read, or is impossible (30 February,
month 13, the year 1), is never replaced by another: the post is kept with its date unknown,
and the reader counts it, with the first lines, for the import's warning.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, tzinfo
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from smduty.core.clock import COUNCIL_TZ, now_utc, utc_text

# A time already in UTC to the second, as many tools write it: stored as written (after a
# check that it is a real moment), which skips two datetime conversions per post.
# The time of day is checked by the pattern, the day once per file (`DateReader._days`).
_UTC_STAMP = re.compile(r"\d{4}-\d\d-\d\d[T ](?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:Z|\+00:?00)")
# 03/12/2026, 3-12-26, 03.12.2026, with an optional time (09:15, 9:15:30, 09:15 PM, 9.15pm).
_NUMERIC = re.compile(
    r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})"
    r"(?:[ T,]+(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?\s*([AaPp]\.?[Mm]\.?)?)?"
)
# RFC 2822 as feeds and e-mails write it ("Fri, 20 Nov 2026 10:00:00 +0000"); the e-mail
# parser is lenient (it drops the "PM" of "20-Nov-2026 09:03 PM"), so only this shape goes to it.
_RFC2822 = re.compile(
    r"(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{2,4}\s+\d{1,2}:\d\d(?::\d\d)?"
    r"(?:\s+(?:[+\-]\d{4}|[A-Za-z]{1,5}))?"
)
_FIRST_TWO = re.compile(r"\s*(\d{1,2})[/.\-](\d{1,2})[/.\-]\d{2,4}")
# "Date (Europe/London)", "Created at (UTC)", "Time [GMT]".
_HEADER_ZONE = re.compile(r"^(.*?)\s*[(\[]\s*([A-Za-z_+\-/0-9]+)\s*[)\]]\s*$")
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
_EARLIEST_STAMP = "1990-01-01T00:00:00Z"
FUTURE_SLACK = timedelta(days=2)


def header_zone(header: str) -> tuple[str, tzinfo | None]:
    """A column header without its time zone, and the zone it names (if it names one)."""
    found = _HEADER_ZONE.match(header.strip())
    if not found:
        return header, None
    name = found.group(2)
    if name.upper() in ("UTC", "GMT", "Z"):
        return found.group(1), UTC
    if name.upper() == "BST":
        return found.group(1), COUNCIL_TZ
    try:
        return found.group(1), ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return header, None


def day_first(samples: Iterable[str]) -> bool:
    """Whether dates like 03/12/2026 put the day first: a first number above 12 says yes, a
    second number above 12 says no, and UK order stands when nothing decides it."""
    for value in samples:
        found = _FIRST_TWO.match(value or "")
        if found:
            first, second = int(found.group(1)), int(found.group(2))
            if first > 12 >= second:
                return True
            if second > 12 >= first:
                return False
    return True


class DateReader:
    """One file's date column: read each value, count those that cannot be read."""

    def __init__(self, zone: tzinfo | None = None, dayfirst: bool = True) -> None:
        self.zone = zone or COUNCIL_TZ
        self.dayfirst = dayfirst
        self.unreadable = 0
        self.first_bad: list[int] = []  # line (or item) numbers of the first few
        self.line = 0  # where the reader is: set by it before each post
        self.latest = now_utc() + FUTURE_SLACK
        self._latest_stamp = utc_text(self.latest)
        self._days: dict[str, bool] = {}  # "2026-11-21": whether it is a real day

    def __call__(self, value: object) -> datetime | str | None:
        """A UTC stamp ("...Z") or datetime; None for no date or an unreadable one."""
        if value is None or value == "":
            return None
        moment = self._read(value)
        if moment is None:
            self.unreadable += 1
            if len(self.first_bad) < 5:
                self.first_bad.append(self.line)
        return moment

    def warning(self, what: str = "line") -> str | None:
        if not self.unreadable:
            return None
        where = ", ".join(str(n) for n in self.first_bad)
        more = "…" if self.unreadable > len(self.first_bad) else ""
        return (
            f"{self.unreadable} post(s) have a date that cannot be read ({what} {where}{more}): "
            "kept, with the date unknown"
        )

    def _read(self, value: object) -> datetime | str | None:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return self._epoch(value)
        if isinstance(value, datetime):  # a spreadsheet's date cell
            moment = value if value.tzinfo else _localise(value, self.zone)
            return self._check(moment.astimezone(UTC))
        text = str(value).strip()
        if not text:
            return None
        if _UTC_STAMP.fullmatch(text):
            day = text[:10]
            real = self._days.get(day)
            if real is None:
                real = self._days[day] = _real_day(day)
            stamp = f"{day}T{text[11:19]}Z"  # compares as the moments do
            return stamp if real and _EARLIEST_STAMP <= stamp <= self._latest_stamp else None
        if text.isdigit() and len(text) >= 9:
            return self._epoch(int(text))
        moment = self._parse(text)
        if moment is None:
            return None
        if moment.tzinfo is None:
            moment = _localise(moment, self.zone)
        return self._check(moment.astimezone(UTC))

    def _parse(self, text: str) -> datetime | None:
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            pass
        found = _NUMERIC.fullmatch(text)
        if found:
            return self._numeric(found)
        if _RFC2822.fullmatch(text):
            try:
                return parsedate_to_datetime(text)  # RFC 2822, as feeds and e-mails write it
            except (TypeError, ValueError, IndexError):
                pass
        from dateutil import parser as date_parser  # the rest: "03-Dec-2026 07:52AM" and kin

        try:
            return date_parser.parse(text, dayfirst=self.dayfirst)
        except (ValueError, OverflowError, TypeError):
            return None

    def _numeric(self, found: re.Match) -> datetime | None:
        first, second, year, hour, minute, sec, half = found.groups()
        day, month = (int(first), int(second)) if self.dayfirst else (int(second), int(first))
        if day <= 12 < month:  # this one date says the other order
            day, month = month, day
        year_n = int(year) + (2000 if len(year) == 2 else 0)
        hours = int(hour or 0)
        if half:
            if hours > 12 or hours == 0:
                return None
            hours = hours % 12 + (12 if half[0] in "Pp" else 0)
        try:
            return datetime(year_n, month, day, hours, int(minute or 0), int(sec or 0))
        except ValueError:
            return None

    def _epoch(self, number: float) -> datetime | None:
        seconds = number / 1000 if number > 1e11 else number
        try:
            return self._check(datetime.fromtimestamp(seconds, UTC))
        except (OverflowError, OSError, ValueError):
            return None

    def _check(self, moment: datetime) -> datetime | None:
        """A moment a post could have been published at: not before 1990, not in the future."""
        return moment if EARLIEST <= moment <= self.latest else None


def _real_day(day: str) -> bool:
    try:
        datetime.strptime(day, "%Y-%m-%d")
    except ValueError:
        return False
    return True


def _localise(moment: datetime, zone: tzinfo) -> datetime:
    """A wall-clock time in `zone`. In the repeated autumn hour the earlier moment is taken;
    a time in the skipped spring hour is read as the moment after the change."""
    local = moment.replace(tzinfo=zone)
    round_trip = local.astimezone(UTC).astimezone(zone)
    if round_trip.replace(tzinfo=None) != moment:  # the skipped hour: clocks went forward
        return (local + timedelta(hours=1)).replace(fold=0)
    return local


def published_value(text: str) -> datetime | str | None:
    """One date read on its own (UK order, council time): for a value outside a file."""
    return DateReader()(text)


def parse_when(value: object) -> datetime | None:
    """One date read on its own, as a datetime in UTC (None if unreadable)."""
    found = DateReader()(value)
    if isinstance(found, str):
        return datetime.fromisoformat(found.replace("Z", "+00:00"))
    return found
