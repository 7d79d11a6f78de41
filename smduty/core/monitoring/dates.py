"""When a post was published, as export tools write it: a UTC moment, or None if unreadable.

Naive times are UK local time. A time already in UTC to the second is kept as written.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from smduty.core.clock import COUNCIL_TZ

_DATE_FORMATS = (
    "%d-%b-%Y %I:%M %p",
    "%d-%b-%Y %I:%M%p",
    "%d-%b-%Y %H:%M",
    "%d-%b-%Y",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%b %d, %Y %I:%M %p",
    "%b %d, %Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%Y-%m-%d %I:%M %p",
)


# A time already in UTC to the second, as many tools write it: stored as written, which skips
# two datetime conversions per post. Fractions of a second go the long way (they are dropped on
# storing, but a hashed key keeps them).
_UTC_STAMP = re.compile(r"(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(?:Z|\+00:?00)")


def published_value(text: str) -> datetime | str | None:
    """An export's date as `RawMention.published`: a UTC stamp ("...Z") when it already is one."""
    if not text:
        return None
    found = _UTC_STAMP.fullmatch(text)
    if found:
        return f"{found[1]}T{found[2]}Z"
    return parse_when(text)


def parse_when(value: object) -> datetime | None:
    """A date as export tools write it; naive times are UK local time."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if value > 1e11 else value
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    text = str(value).strip()
    if not text:
        return None
    moment: datetime | None = None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        if text.isdigit():
            return parse_when(int(text))
        for fmt in _DATE_FORMATS:
            try:
                moment = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        else:
            try:
                moment = parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError):
                return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=COUNCIL_TZ)
    return moment.astimezone(UTC)
