"""The daily check of official channels (000 Appendix 1: checked daily, weekends included)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, datetime

from smduty.core import audit
from smduty.core.channels import get_channel
from smduty.core.clock import COUNCIL_TZ, now_utc
from smduty.core.errors import InvalidInput, Refused
from smduty.core.store import transaction
from smduty.core.text import clean_block

OUTCOMES = {
    "nothing_to_action": "Nothing to action",
    "queued": "Items queued for triage",
    "escalated": "Escalated",
}


@dataclass(frozen=True)
class ChannelCheck:
    id: int
    channel_id: int
    duty_date: date
    checked_at: datetime
    officer: str
    outcome: str
    note: str


def record_check(
    db: sqlite3.Connection,
    actor: str,
    channel: str | int,
    outcome: str = "nothing_to_action",
    note: str = "",
    at: datetime | None = None,
) -> ChannelCheck:
    """Record that `actor` checked a channel; every check is kept, several a day are fine."""
    if outcome not in OUTCOMES:
        raise InvalidInput({"outcome": f"{outcome!r} is not one of {', '.join(OUTCOMES)}"})
    moment = (at or now_utc()).replace(microsecond=0)
    duty_date = moment.astimezone(COUNCIL_TZ).date()
    with transaction(db):
        target = get_channel(db, channel)
        if target.status in ("closed", "proposed"):
            raise Refused(f"{target.name} is {target.status}: it is not checked")
        cur = db.execute(
            "INSERT INTO channel_checks (channel_id, duty_date, checked_at, officer, outcome, note)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                target.id,
                duty_date.isoformat(),
                moment.isoformat().replace("+00:00", "Z"),
                actor,
                outcome,
                clean_block(note, 2000),
            ),
        )
        check = ChannelCheck(
            cur.lastrowid, target.id, duty_date, moment, actor, outcome, clean_block(note, 2000)
        )
        audit.record(
            db,
            actor,
            "check.record",
            "channel_check",
            check.id,
            None,
            {
                "channel": target.name,
                "duty_date": duty_date.isoformat(),
                "outcome": outcome,
                "note": check.note,
            },
        )
    return check
