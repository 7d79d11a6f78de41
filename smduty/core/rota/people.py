"""Who may do duty (weekday checks, weekend duty) and who is away (leave and absence)."""

from __future__ import annotations

import sqlite3
from datetime import date

import msgspec

from smduty.core.clock import stamp
from smduty.core.errors import InvalidInput, Refused
from smduty.core.records import audit
from smduty.core.staff import get_staff
from smduty.core.store import transaction
from smduty.core.text import clean_line
from smduty.core.values import parse_date


class RotaOfficer(msgspec.Struct, frozen=True):
    staff_id: int
    name: str
    weekday: bool
    weekend: bool
    left_on: date | None

    def active_on(self, day: date) -> bool:
        return self.left_on is None or day < self.left_on


class Leave(msgspec.Struct, frozen=True):
    id: int
    staff_id: int
    name: str
    start: date
    end: date
    reason: str

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "reason": self.reason,
        }


def officers(db: sqlite3.Connection) -> list[RotaOfficer]:
    rows = db.execute(
        "SELECT r.staff_id, s.name, r.weekday, r.weekend, s.left_on FROM rota_officers r"
        " JOIN staff s ON s.id = r.staff_id ORDER BY s.name"
    )
    return [
        RotaOfficer(
            r["staff_id"],
            r["name"],
            bool(r["weekday"]),
            bool(r["weekend"]),
            date.fromisoformat(r["left_on"]) if r["left_on"] else None,
        )
        for r in rows
    ]


def set_officer(
    db: sqlite3.Connection, actor: str, name: str, weekday: bool = True, weekend: bool = True
) -> RotaOfficer:
    """Put someone on the rota (or change which duties they may do)."""
    with transaction(db):
        member = get_staff(db, name)
        if not member.active:
            raise Refused(f"{member.name} left on {member.left_on}")
        before = next((o for o in officers(db) if o.staff_id == member.id), None)
        db.execute(
            "INSERT INTO rota_officers (staff_id, weekday, weekend) VALUES (?, ?, ?)"
            " ON CONFLICT(staff_id) DO UPDATE SET weekday = excluded.weekday,"
            " weekend = excluded.weekend",
            (member.id, int(weekday), int(weekend)),
        )
        after = next(o for o in officers(db) if o.staff_id == member.id)
        audit.record(
            db,
            actor,
            "rota.officer",
            "staff",
            member.id,
            before and {"weekday": before.weekday, "weekend": before.weekend},
            {"weekday": after.weekday, "weekend": after.weekend},
        )
    return after


def add_leave(
    db: sqlite3.Connection, actor: str, name: str, start: object, end: object, reason: str = ""
) -> Leave:
    problems: dict[str, str] = {}
    first = parse_date(start, "from", problems)
    last = parse_date(end, "to", problems)
    if not problems and (first is None or last is None):
        problems["dates"] = "both --from and --to are needed"
    if not problems and last < first:
        problems["to"] = f"{last} is before {first}"
    if problems:
        raise InvalidInput(problems)
    with transaction(db):
        member = get_staff(db, name)
        cur = db.execute(
            "INSERT INTO leave (staff_id, start_date, end_date, reason, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (member.id, first.isoformat(), last.isoformat(), clean_line(reason, 200), stamp()),
        )
        leave = Leave(cur.lastrowid, member.id, member.name, first, last, clean_line(reason, 200))
        audit.record(db, actor, "leave.add", "leave", leave.id, None, leave.as_dict())
    return leave


def leave_between(db: sqlite3.Connection, start: date, end: date) -> list[Leave]:
    rows = db.execute(
        "SELECT l.*, s.name FROM leave l JOIN staff s ON s.id = l.staff_id"
        " WHERE l.end_date >= ? AND l.start_date <= ? ORDER BY l.start_date, s.name",
        (start.isoformat(), end.isoformat()),
    )
    return [
        Leave(
            r["id"],
            r["staff_id"],
            r["name"],
            date.fromisoformat(r["start_date"]),
            date.fromisoformat(r["end_date"]),
            r["reason"],
        )
        for r in rows
    ]


def on_leave(leave: list[Leave], staff_id: int, day: date) -> Leave | None:
    return next((x for x in leave if x.staff_id == staff_id and x.covers(day)), None)
