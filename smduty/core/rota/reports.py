"""What the rota tells the team: gaps and cover risks, fairness, and calendar/payroll exports."""

from __future__ import annotations

import csv
import io
import sqlite3
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from smduty.core.files import write_output
from smduty.core.register.channels import list_channels
from smduty.core.rota.duty_calendar import DutyCalendar
from smduty.core.rota.people import leave_between, officers, on_leave
from smduty.core.rota.roster import _assignments, _units, days_view, tally_between
from smduty.core.staff import list_staff


@dataclass(frozen=True)
class RotaGap:
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
    rows = _assignments(db, start, end)
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


@dataclass(frozen=True)
class FairnessRow:
    officer: str
    weekday_checks: int
    weekend_blocks: int
    weekend_days: int
    bank_holiday_days: int

    def as_dict(self) -> dict:
        return self.__dict__.copy()


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


def _duties(db: sqlite3.Connection, cal: DutyCalendar, start: date, end: date):
    """(kind, first, last, officer) per weekday duty and per block, in date order."""
    rows = _assignments(db, start, end)
    for kind, unit in _units(cal, start, end):
        row = rows.get(unit[0])
        if row is not None and row["officer_id"] is not None:
            yield kind, unit[0], unit[-1], row["name"]


def export_ics(
    db: sqlite3.Connection,
    cal: DutyCalendar,
    path: Path,
    start: date,
    end: date,
    officer: str | None = None,
    council: str = "smduty",
) -> int:
    """RFC 5545 all-day events; the UID names the duty slot, so re-importing updates it."""
    from icalendar import Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", "-//smduty//duty rota//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"{council} social media duty")
    count = 0
    now = datetime.now(UTC).replace(microsecond=0)
    for kind, first, last, name in _duties(db, cal, start, end):
        if officer and name.lower() != officer.lower():
            continue
        event = Event()
        slot = "check" if kind == "weekday" else "weekend"
        event.add("uid", f"smduty-{slot}-{first.isoformat()}@smduty")
        event.add("dtstamp", now)
        event.add("dtstart", first)
        event.add("dtend", last + timedelta(days=1))
        event.add("transp", "TRANSPARENT")
        what = "Social media check" if kind == "weekday" else "Weekend social media duty"
        event.add("summary", f"{what}: {name}")
        event.add("description", f"smduty rota, {first} to {last}; officer {name}")
        calendar.add_component(event)
        count += 1
    write_output(path, calendar.to_ical())
    return count


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
