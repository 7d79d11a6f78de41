"""What the rota tells the team: gaps and cover risks, fairness, and calendar/payroll exports."""

from __future__ import annotations

import csv
import io
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import msgspec

from smduty.core.clock import parse_stamp
from smduty.core.files import write_output
from smduty.core.register.channels import list_channels
from smduty.core.rota.duty_calendar import DutyCalendar
from smduty.core.rota.people import leave_between, officers, on_leave
from smduty.core.rota.roster import _units, assignments, days_view, tally_between
from smduty.core.staff import list_staff


class RotaGap(msgspec.Struct, frozen=True):
    kind: str  # uncovered, on_leave, left, cover_risk
    date: date | None
    subject: str
    message: str

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "date": self.date.isoformat() if self.date else None,
            "subject": self.subject,
            "message": self.message,
        }


def gaps(db: sqlite3.Connection, cal: DutyCalendar, start: date, end: date) -> list[RotaGap]:
    found: list[RotaGap] = []
    rows = assignments(db, start, end)
    leave = leave_between(db, start, end)
    left = {s.id: s.left_on for s in list_staff(db) if s.left_on}
    for duty in days_view(db, cal, start, end):
        row = rows.get(duty.date)
        if row is None or row["officer_id"] is None:
            found.append(
                RotaGap("uncovered", duty.date, "", "nobody is rostered to check the channels")
            )
            continue
        away = on_leave(leave, row["officer_id"], duty.date)
        if away:
            found.append(
                RotaGap(
                    "on_leave",
                    duty.date,
                    row["name"],
                    f"{row['name']} is rostered but on leave"
                    + (f" ({away.reason})" if away.reason else ""),
                )
            )
        gone = left.get(row["officer_id"])
        if gone and duty.date >= gone:
            found.append(
                RotaGap(
                    "left", duty.date, row["name"], f"{row['name']} is rostered but left on {gone}"
                )
            )
    for channel in list_channels(db, ("active",)):
        if len(channel.managers) < 2:
            found.append(
                RotaGap(
                    "cover_risk",
                    None,
                    channel.name,
                    f"{channel.name} has {len(channel.managers)} manager(s): "
                    "no cover for weekends and holidays (000 A.3.5)",
                )
            )
    return found


class FairnessRow(msgspec.Struct, frozen=True):
    officer: str
    weekday_checks: int
    weekend_blocks: int
    weekend_days: int
    bank_holiday_days: int

    def as_dict(self) -> dict:
        return msgspec.structs.asdict(self)


def fairness(
    db: sqlite3.Connection, cal: DutyCalendar, start: date, end: date
) -> list[FairnessRow]:
    tally = tally_between(db, cal, start, end)
    names = {o.staff_id: o.name for o in officers(db)}
    names.update({s.id: s.name for s in list_staff(db) if s.id in tally and s.id not in names})
    return [
        FairnessRow(
            names[sid],
            tally[sid].weekday if sid in tally else 0,
            tally[sid].blocks if sid in tally else 0,
            tally[sid].weekend_days if sid in tally else 0,
            tally[sid].bank_holiday_days if sid in tally else 0,
        )
        for sid in sorted(names, key=lambda i: names[i])
    ]


EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # a day written before changes were stamped


class _Run(msgspec.Struct, frozen=True):
    """Consecutive days of one duty unit (a weekday, or a block or part of a split one) held by
    one officer: one calendar event."""

    kind: str
    first: date
    last: date
    officer: str
    sequence: int  # changes to the unit so far: the event's SEQUENCE
    modified: str  # the latest change to the unit: LAST-MODIFIED and DTSTAMP
    cancelled: bool = False  # in an officer's own feed: a duty swapped away from them

    @property
    def uid(self) -> str:
        slot = "check" if self.kind == "weekday" else "weekend"
        return f"smduty-{slot}-{self.first.isoformat()}@smduty"


def _changes(rows: dict, unit: list[date]) -> tuple[int, str]:
    """How often a duty unit's days changed hands, and when one last did: every event of the
    unit carries both, so any change to a block moves on each of its events."""
    held = [rows[d] for d in unit if d in rows]
    return sum(r["revision"] for r in held), max((r["updated_at"] for r in held), default="")


def _runs(db: sqlite3.Connection, cal: DutyCalendar, start: date, end: date) -> list[_Run]:
    """Every duty run from start to end, in date order."""
    rows = assignments(db, start, end)
    found = []
    for kind, unit in _units(cal, start, end):
        sequence, modified = _changes(rows, unit)
        run: list[date] = []
        for day in unit:
            row = rows.get(day)
            if run and (row is None or row["name"] != rows[run[0]]["name"]):
                found.append(_Run(kind, run[0], run[-1], rows[run[0]]["name"], sequence, modified))
                run = []
            if row is not None and row["officer_id"] is not None:
                run.append(day)
        if run:
            found.append(_Run(kind, run[0], run[-1], rows[run[0]]["name"], sequence, modified))
    return found


def _given_away(
    db: sqlite3.Connection, cal: DutyCalendar, start: date, end: date, officer: str
) -> list[_Run]:
    """Runs of days that were `officer`'s and were swapped to someone else: their own feed keeps
    them as cancelled events, so their calendar says the duty went rather than losing it."""
    rows = assignments(db, start, end)
    lost = {
        date.fromisoformat(r[0])
        for r in db.execute(
            "SELECT c.duty_date FROM duty_changes c JOIN staff f ON f.id = c.from_officer_id"
            " WHERE f.name = ? COLLATE NOCASE AND c.duty_date BETWEEN ? AND ?",
            (officer, start.isoformat(), end.isoformat()),
        )
    }
    lost = {d for d in lost if d in rows and (rows[d]["name"] or "").lower() != officer.lower()}
    found = []
    for kind, unit in _units(cal, start, end):
        sequence, modified = _changes(rows, unit)
        run: list[date] = []
        for day in [*unit, None]:
            if day in lost:
                run.append(day)
            elif run:
                found.append(_Run(kind, run[0], run[-1], officer, sequence, modified, True))
                run = []
    return found


def export_ics(
    db: sqlite3.Connection,
    cal: DutyCalendar,
    path: Path,
    start: date,
    end: date,
    officer: str | None = None,
    council: str = "smduty",
) -> int:
    """RFC 5545 all-day events, published (METHOD:PUBLISH) for Outlook and Google to subscribe
    to. The UID names the duty slot, so re-importing updates the event; SEQUENCE and
    LAST-MODIFIED move on whenever the slot changes hands, and an officer's own feed keeps a
    duty swapped away from them as cancelled. Nothing depends on the time of export: two
    exports of an unchanged rota are byte for byte the same. Returns the number of events."""
    from icalendar import Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", "-//smduty//duty rota//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"{council} social media duty")
    runs = _runs(db, cal, start, end)
    if officer:
        runs = [r for r in runs if r.officer.lower() == officer.lower()]
        runs += _given_away(db, cal, start, end, officer)
        runs.sort(key=lambda r: (r.first, r.cancelled))
    for run in runs:
        event = Event()
        event.add("uid", run.uid)
        stamped = parse_stamp(run.modified) if run.modified else EPOCH
        event.add("dtstamp", stamped)
        event.add("last-modified", stamped)
        event.add("sequence", run.sequence)
        event.add("dtstart", run.first)
        event.add("dtend", run.last + timedelta(days=1))
        event.add("transp", "TRANSPARENT")
        event.add("x-microsoft-cdo-busystatus", "FREE")
        what = "Social media check" if run.kind == "weekday" else "Weekend social media duty"
        if run.cancelled:
            event.add("status", "CANCELLED")
            event.add("summary", f"{what}: no longer yours (swapped)")
        else:
            event.add("status", "CONFIRMED")
            event.add("summary", f"{what}: {run.officer}")
        event.add("description", f"smduty rota, {run.first} to {run.last}; officer {run.officer}")
        calendar.add_component(event)
    write_output(path, calendar.to_ical())
    return len(runs)


def export_csv(
    db: sqlite3.Connection,
    cal: DutyCalendar,
    path: Path,
    start: date,
    end: date,
    officer: str | None = None,
) -> int:
    """One row a date, for overtime and payroll: weekend and bank-holiday days marked."""
    count = 0
    handle = io.StringIO(newline="")
    writer = csv.writer(handle)
    writer.writerow(
        ["date", "weekday", "duty", "officer", "bank_holiday", "block_start", "block_end"]
    )
    for duty in days_view(db, cal, start, end):
        if duty.check_officer is None:
            continue
        if officer and duty.check_officer.lower() != officer.lower():
            continue
        block = cal.block_of(duty.date)
        writer.writerow(
            [
                duty.date.isoformat(),
                f"{duty.date:%A}",
                "weekday check" if duty.working_day else "weekend duty",
                duty.check_officer,
                duty.bank_holiday or "",
                block[0].isoformat() if block else "",
                block[1].isoformat() if block else "",
            ]
        )
        count += 1
    write_output(path, handle.getvalue())
    return count
