"""The daily check of official channels (000 Appendix 1: checked daily, weekends included)."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, time

import msgspec

from smduty.core.clock import COUNCIL_TZ, now_utc, parse_stamp, utc_text
from smduty.core.errors import InvalidInput, Refused
from smduty.core.records import audit
from smduty.core.register.channels import get_channel
from smduty.core.store import transaction
from smduty.core.text import clean_block

OUTCOMES = {
    "nothing_to_action": "Nothing to action",
    "queued": "Items queued for triage",
    "escalated": "Escalated",
}


class ChannelCheck(msgspec.Struct, frozen=True):
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
                utc_text(moment),
                actor,
                outcome,
                clean_block(note, 2000),
            ),
        )
        check = ChannelCheck(
            cur.lastrowid, target.id, duty_date, moment, actor, outcome, clean_block(note, 2000)
        )
        # A check after the deadline: the recorded miss becomes late, it is never removed.
        db.execute(
            "UPDATE missed_checks SET checked_late_at = ? WHERE channel_id = ? AND duty_date = ?"
            " AND checked_late_at IS NULL",
            (utc_text(moment), target.id, duty_date.isoformat()),
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


class ChannelCheckState(msgspec.Struct, frozen=True):
    """One active channel on one duty date: checked or not, and the latest check."""

    channel_id: int
    channel: str
    platform: str
    handle: str
    url: str
    checked: bool
    by: str | None
    at: datetime | None
    outcome: str | None
    last_checked: datetime | None

    def as_dict(self) -> dict:
        return {
            "channel": self.channel,
            "checked": self.checked,
            "by": self.by,
            "at": self.at.isoformat() if self.at else None,
            "outcome": self.outcome,
        }


def _utc(text: str | None) -> datetime | None:
    return parse_stamp(text) if text else None


def check_states(db: sqlite3.Connection, duty_date: date) -> list[ChannelCheckState]:
    """Every channel checked daily (active, dormant or closing: until it is closed) with the
    day's latest check (one query, not one per channel)."""
    rows = db.execute(
        """
        SELECT c.id, c.name, c.platform, c.handle, c.url,
               d.officer, d.checked_at, d.outcome,
               (SELECT max(checked_at) FROM channel_checks WHERE channel_id = c.id) AS last
        FROM channels c
        LEFT JOIN channel_checks d ON d.id = (
            SELECT id FROM channel_checks WHERE channel_id = c.id AND duty_date = ?
            ORDER BY checked_at DESC, id DESC LIMIT 1)
        WHERE c.status IN ('active', 'dormant', 'closing')  -- checked until closed
        ORDER BY c.name
        """,
        (duty_date.isoformat(),),
    )
    return [
        ChannelCheckState(
            r["id"],
            r["name"],
            r["platform"],
            r["handle"],
            r["url"],
            r["checked_at"] is not None,
            r["officer"],
            _utc(r["checked_at"]),
            r["outcome"],
            _utc(r["last"]),
        )
        for r in rows
    ]


def deadline_for(duty_date: date, working_day: bool, working: time, duty: time) -> datetime:
    """When the day's checks are due, in council time (10:00 working days, 11:00 duty blocks)."""
    return datetime.combine(duty_date, working if working_day else duty, COUNCIL_TZ)
