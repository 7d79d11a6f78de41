"""The pre-election period (004 §4.2.6, 000 Appendix 1): the strict rules on impartiality and
publicity while an election is called. One period at a time is in force; each set and each
clear is kept (and audited), so reports can mark the periods that fell within them.
"""

from __future__ import annotations

import sqlite3
from datetime import date

import msgspec

from smduty.core.clock import stamp
from smduty.core.errors import InvalidInput, Refused
from smduty.core.records import audit
from smduty.core.store import transaction
from smduty.core.text import clean_line
from smduty.core.values import parse_date

# What the period asks of every post and reply (said after "pre-election period" wherever shown).
GUIDANCE = (
    "004 §4.2.6, nothing that could be seen as favouring a party or a candidate; no new "
    "campaigns or announcements; refer anything political to the comms team"
)


class ElectionPeriod(msgspec.Struct, frozen=True):
    id: int
    name: str
    start: date
    end: date
    set_by: str
    set_at: str
    cleared_at: str | None

    def covers(self, day: date) -> bool:
        return self.cleared_at is None and self.start <= day <= self.end

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "set_by": self.set_by,
            "set_at": self.set_at,
            "cleared_at": self.cleared_at,
        }


def _period(row: sqlite3.Row) -> ElectionPeriod:
    return ElectionPeriod(
        row["id"],
        row["name"],
        date.fromisoformat(row["start_date"]),
        date.fromisoformat(row["end_date"]),
        row["set_by"],
        row["set_at"],
        row["cleared_at"],
    )


def set_period(
    db: sqlite3.Connection, actor: str, start: object, end: object, name: str = ""
) -> ElectionPeriod:
    """The period in force from now on (one that was set before is cleared first)."""
    problems: dict[str, str] = {}
    first = parse_date(start, "from", problems)
    last = parse_date(end, "to", problems)
    if first and last and last < first:
        problems["to"] = f"{last} is before {first}"
    if problems:
        raise InvalidInput(problems, "election")
    label = clean_line(name, 200) or "Pre-election period"
    with transaction(db):
        before = current_period(db)
        if before is not None:
            _clear(db, actor, before)
        cursor = db.execute(
            "INSERT INTO election_periods (name, start_date, end_date, set_by, set_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (label, first.isoformat(), last.isoformat(), actor, stamp()),
        )
        found = _period(
            db.execute(
                "SELECT * FROM election_periods WHERE id = ?", (cursor.lastrowid,)
            ).fetchone()
        )
        audit.record(db, actor, "election.set", "election", found.id, None, found.as_dict())
    return found


def clear_period(db: sqlite3.Connection, actor: str) -> ElectionPeriod:
    with transaction(db):
        found = current_period(db)
        if found is None:
            raise Refused("no pre-election period is set")
        return _clear(db, actor, found)


def _clear(db: sqlite3.Connection, actor: str, found: ElectionPeriod) -> ElectionPeriod:
    at = stamp()
    db.execute(
        "UPDATE election_periods SET cleared_at = ?, cleared_by = ? WHERE id = ?",
        (at, actor, found.id),
    )
    audit.record(db, actor, "election.clear", "election", found.id, found.as_dict(), None)
    return ElectionPeriod(found.id, found.name, found.start, found.end, found.set_by,
                          found.set_at, at)  # fmt: skip


def current_period(db: sqlite3.Connection) -> ElectionPeriod | None:
    """The period set and not cleared (it may not have begun yet, or have ended)."""
    row = db.execute(
        "SELECT * FROM election_periods WHERE cleared_at IS NULL ORDER BY id DESC LIMIT 1"
    ).fetchone()
    return _period(row) if row else None


def in_force(db: sqlite3.Connection, day: date) -> ElectionPeriod | None:
    """The period covering `day`, if one does."""
    found = current_period(db)
    return found if found is not None and found.covers(day) else None


def periods_between(db: sqlite3.Connection, start: date, end: date) -> list[ElectionPeriod]:
    """Periods (cleared or not, as set) overlapping start..end: for reports."""
    rows = db.execute(
        "SELECT * FROM election_periods WHERE start_date <= ? AND end_date >= ?"
        " ORDER BY start_date",
        (end.isoformat(), start.isoformat()),
    )
    return [_period(r) for r in rows]
