"""The council's clock: UTC for records, UK local time for what "today" means.

SMDUTY_NOW (an ISO date-time) pins the clock for demos and tests.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

COUNCIL_TZ = ZoneInfo("Europe/London")


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


def stamp() -> str:
    """A UTC timestamp for the record, to the second."""
    return now_utc().replace(microsecond=0).isoformat().replace("+00:00", "Z")


def local_text(moment: str | None) -> str:
    """A UTC stamp from the record as council time to the second, with its zone (GMT or BST)."""
    if not moment:
        return ""
    when = datetime.fromisoformat(moment.replace("Z", "+00:00")).astimezone(COUNCIL_TZ)
    return f"{when:%a %d %b %Y %H:%M:%S %Z}"
