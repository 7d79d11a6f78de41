"""Missed checks as facts: written when a deadline passes, never worked out again later.

At each duty date's check deadline, every active channel with no check by then is written to
`missed_checks` with the officer on duty. The scheduler does it at the deadlines, and so does any
command or the app when it starts after a deadline passed unrecorded (`record_misses` is cheap
when there is nothing to do). A check after the deadline is recorded as late on the miss; it
never deletes it. Closing or reactivating a channel later changes no past miss.

The dashboard shows the misses nobody has acknowledged yet (Monday shows the weekend's) until
someone acknowledges them.
"""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta

import msgspec

from smduty.core.clock import COUNCIL_TZ, utc_text
from smduty.core.config import Config
from smduty.core.records import audit
from smduty.core.rota.checks import deadline_for
from smduty.core.rota.duty_calendar import DutyCalendar
from smduty.core.rota.roster import day_view
from smduty.core.store import transaction

THROUGH_KEY = "misses_recorded_through"
LIVE_FROM_KEY = "misses_live_from"  # the first day misses were recorded as they happened
# A database that never recorded misses (made before they were facts) gets this many days
# reconstructed once, from the checks as stored; those rows say so (`reconstructed`) and are
# put on the record already acknowledged, so an upgrade does not flood the dashboard.
FIRST_LOOK_DAYS = 14
RECONSTRUCTED_BY = "smduty (reconstructed on upgrade)"


class Miss(msgspec.Struct, frozen=True):
    id: int
    duty_date: str
    channel_id: int
    channel: str
    deadline: str
    officer: str
    recorded_at: str
    checked_late_at: str | None
    reconstructed: bool
    acknowledged_at: str | None
    acknowledged_by: str | None

    def as_dict(self) -> dict:
        return msgspec.structs.asdict(self)


def _through(db: sqlite3.Connection) -> date | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", (THROUGH_KEY,)).fetchone()
    return date.fromisoformat(row[0]) if row else None


def _deadline(cal: DutyCalendar, config: Config, day: date) -> datetime:
    return deadline_for(
        day, cal.is_working_day(day), config.check_deadline_working, config.check_deadline_duty
    )


def record_misses(
    db: sqlite3.Connection, cal: DutyCalendar, config: Config, now: datetime
) -> list[Miss]:
    """Write the misses of every duty date whose deadline passed since the last recorded one;
    returns what it wrote. Each date is its own transaction (and audit row)."""
    today = now.astimezone(COUNCIL_TZ).date()
    through = _through(db)
    live_from = _live_from(db, today)
    day = (through + timedelta(days=1)) if through else today - timedelta(days=FIRST_LOOK_DAYS)
    written: list[Miss] = []
    while day <= today:
        deadline = _deadline(cal, config, day)
        if deadline > now:
            break
        written.extend(_record_day(db, cal, day, deadline, now, day < live_from))
        day += timedelta(days=1)
    return written


def _live_from(db: sqlite3.Connection, today: date) -> date:
    """The day misses began to be recorded as they happened (set once; days before it are
    reconstructed, however many runs the reconstruction takes)."""
    row = db.execute("SELECT value FROM meta WHERE key = ?", (LIVE_FROM_KEY,)).fetchone()
    if row is None:
        with transaction(db):
            db.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)",
                (LIVE_FROM_KEY, today.isoformat()),
            )
            row = db.execute("SELECT value FROM meta WHERE key = ?", (LIVE_FROM_KEY,)).fetchone()
    return date.fromisoformat(row[0])


def _record_day(db, cal, day: date, deadline: datetime, now: datetime, reconstructed: bool):
    with transaction(db):
        through = _through(db)
        if through is not None and through >= day:  # another process got there first
            return []
        officer = day_view(db, cal, day).check_officer or ""
        rows = db.execute(
            """
            SELECT c.id, c.name,
                   (SELECT min(checked_at) FROM channel_checks k
                     WHERE k.channel_id = c.id AND k.duty_date = :day) AS first_check
            FROM channels c
            WHERE c.status IN ('active', 'dormant', 'closing') AND c.created_at <= :deadline
              AND NOT EXISTS (SELECT 1 FROM channel_checks k WHERE k.channel_id = c.id
                              AND k.duty_date = :day AND k.checked_at <= :deadline)
            ORDER BY c.name
            """,
            {"day": day.isoformat(), "deadline": utc_text(deadline)},
        ).fetchall()
        stamp = utc_text(now)
        for r in rows:
            db.execute(
                "INSERT OR IGNORE INTO missed_checks (duty_date, channel_id, channel, deadline,"
                " officer, recorded_at, checked_late_at, reconstructed, acknowledged_at,"
                " acknowledged_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (day.isoformat(), r[0], r[1], utc_text(deadline), officer, stamp, r[2],
                 int(reconstructed), stamp if reconstructed else None,
                 RECONSTRUCTED_BY if reconstructed else None),
            )  # fmt: skip
        db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?)"
            " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (THROUGH_KEY, day.isoformat()),
        )
        if rows:
            audit.record(
                db, "smduty", "checks.missed", "duty_date", day.isoformat(), None,
                {"channels": [r[1] for r in rows], "officer": officer,
                 "deadline": utc_text(deadline), "reconstructed": reconstructed},
            )  # fmt: skip
    return misses(db, day, day)


def _miss(r: sqlite3.Row) -> Miss:
    return Miss(
        r["id"], r["duty_date"], r["channel_id"], r["channel"], r["deadline"], r["officer"],
        r["recorded_at"], r["checked_late_at"], bool(r["reconstructed"]), r["acknowledged_at"],
        r["acknowledged_by"],
    )  # fmt: skip


def misses(db: sqlite3.Connection, start: date, end: date) -> list[Miss]:
    rows = db.execute(
        "SELECT * FROM missed_checks WHERE duty_date BETWEEN ? AND ? ORDER BY duty_date, channel",
        (start.isoformat(), end.isoformat()),
    )
    return [_miss(r) for r in rows]


def unacknowledged(db: sqlite3.Connection, limit: int = 200) -> list[Miss]:
    rows = db.execute(
        "SELECT * FROM missed_checks WHERE acknowledged_at IS NULL"
        " ORDER BY duty_date, channel LIMIT ?",
        (limit,),
    )
    return [_miss(r) for r in rows]


def acknowledge(db: sqlite3.Connection, actor: str, now: datetime) -> int:
    """Every miss not yet acknowledged is acknowledged by `actor` (one audit row)."""
    with transaction(db):
        ids = [
            r[0] for r in db.execute("SELECT id FROM missed_checks WHERE acknowledged_at IS NULL")
        ]
        if not ids:
            return 0
        db.execute(
            "UPDATE missed_checks SET acknowledged_at = ?, acknowledged_by = ?"
            " WHERE acknowledged_at IS NULL",
            (utc_text(now), actor),
        )
        audit.record(db, actor, "checks.missed_acknowledged", "missed_checks", None, None,
                     {"ids": ids})  # fmt: skip
    return len(ids)
