"""The duty rota: exactly one check officer per date, one weekend duty officer per duty block.

Generation is fair (weekday checks, weekend blocks and bank-holiday days balanced separately,
counting past duty) and deterministic. It fills only days not yet planned: a planned duty moves
only by a swap (of a whole block or one day of it) or an explicit re-plan, and past days never.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from datetime import date, timedelta

import msgspec

from smduty.core.clock import stamp, today
from smduty.core.errors import InvalidInput, Refused
from smduty.core.records import audit
from smduty.core.rota.duty_calendar import DutyCalendar, days
from smduty.core.rota.people import RotaOfficer, leave_between, officers, on_leave
from smduty.core.staff import get_staff
from smduty.core.store import transaction
from smduty.core.text import clean_line


class DutyDay(msgspec.Struct, frozen=True):
    """One date of the rota as the duty desk sees it."""

    date: date
    working_day: bool
    bank_holiday: str | None
    check_officer: str | None
    weekend_duty: str | None
    weekend_start: date
    weekend_end: date
    source: str | None  # generated, swap, or None when not on the rota yet

    def as_dict(self) -> dict:
        return {
            "date": self.date.isoformat(),
            "working_day": self.working_day,
            "bank_holiday": self.bank_holiday,
            "check_officer": self.check_officer,
            "weekend_duty": self.weekend_duty,
            "weekend_start": self.weekend_start.isoformat(),
            "weekend_end": self.weekend_end.isoformat(),
        }


def assignments(db: sqlite3.Connection, start: date, end: date) -> dict[date, sqlite3.Row]:
    """The planned duty of each date from start to end (with the officer's name)."""
    rows = db.execute(
        "SELECT d.*, s.name FROM duty_days d LEFT JOIN staff s ON s.id = d.officer_id"
        " WHERE d.duty_date BETWEEN ? AND ?",
        (start.isoformat(), end.isoformat()),
    )
    return {date.fromisoformat(r["duty_date"]): r for r in rows}


def days_view(db: sqlite3.Connection, cal: DutyCalendar, start: date, end: date) -> list[DutyDay]:
    horizon = cal.next_block(end)[1]
    rows = assignments(db, start, horizon)
    found = []
    for day in days(start, end):
        block_start, block_end = cal.next_block(day)
        block_row = rows.get(block_start) or assignments(db, block_start, block_start).get(
            block_start
        )
        row = rows.get(day)
        # A day of a block swapped on its own: that day's duty officer is its own.
        own = row if row is not None and block_start <= day <= block_end else block_row
        found.append(
            DutyDay(
                date=day,
                working_day=cal.is_working_day(day),
                bank_holiday=cal.bank_holiday(day),
                check_officer=row["name"] if row else None,
                weekend_duty=own["name"] if own else None,
                weekend_start=block_start,
                weekend_end=block_end,
                source=row["source"] if row else None,
            )
        )
    return found


def day_view(db: sqlite3.Connection, cal: DutyCalendar, day: date) -> DutyDay:
    return days_view(db, cal, day, day)[0]


class _Tally(msgspec.Struct):
    """Duty done so far by one officer; the fairness keys read it."""

    weekday: int = 0
    blocks: int = 0
    weekend_days: int = 0
    bank_holiday_days: int = 0
    last_weekday: date = date.min
    last_block: date = date.min


class GenerateResult(msgspec.Struct):
    assigned: int = 0
    kept: int = 0
    gaps: list[date] = msgspec.field(default_factory=list)
    # Days whose officer this run changed (or would change): date -> (before, after).
    changed: dict[date, tuple[str | None, str | None]] = msgspec.field(default_factory=dict)
    actor: str = ""


class _DryRun(Exception):
    """Raised inside the transaction to undo a run that only says what it would change."""


def _units(cal: DutyCalendar, start: date, end: date):
    """Working days one at a time, and whole duty blocks, from start to end."""
    day = start
    while day <= end:
        block = cal.block_of(day)
        if block is None:
            yield "weekday", [day]
            day += timedelta(days=1)
        else:
            yield "block", list(days(*block))
            day = block[1] + timedelta(days=1)


def _count(
    tally: dict[int, _Tally], cal: DutyCalendar, kind: str, unit: list[date], officer_id: int | None
) -> None:
    if officer_id is None:
        return
    t = tally[officer_id]
    if kind == "weekday":
        t.weekday += 1
        t.last_weekday = unit[0]
    else:
        t.blocks += 1
        t.weekend_days += len(unit)
        t.last_block = unit[0]
    t.bank_holiday_days += sum(1 for d in unit if cal.holiday_off(d))


def tally_between(
    db: sqlite3.Connection, cal: DutyCalendar, start: date, end: date
) -> dict[int, _Tally]:
    tally: dict[int, _Tally] = defaultdict(_Tally)
    rows = assignments(db, start, end)
    for kind, unit in _units(cal, start, end):
        if unit[0] in rows:
            _count(tally, cal, kind, [d for d in unit if d in rows], rows[unit[0]]["officer_id"])
    return tally


def generate(
    db: sqlite3.Connection,
    actor: str,
    cal: DutyCalendar,
    start: date,
    weeks: int,
    today: date,
    *,
    replan_from: date | None = None,
    dry_run: bool = False,
) -> GenerateResult:
    """Fill the rota fairly, from `start` for `weeks`: only days not yet planned (and gaps no
    one could cover before). A planned day changes only by a swap, or when `replan_from` asks
    for generated days from that date on to be chosen again; past days never change.
    `dry_run` says what would change and writes nothing."""
    if weeks < 1 or weeks > 104:
        raise InvalidInput({"weeks": "between 1 and 104"})
    if replan_from is not None and replan_from < today:
        raise InvalidInput({"replan": f"{replan_from} is in the past: the record stands"})
    end = start + timedelta(days=7 * weeks - 1)
    first = max(start, today)
    result = GenerateResult(actor=actor)
    try:
        with transaction(db):
            _fill(db, actor, cal, first, end, today, replan_from, result)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return result


def _fill(db, actor, cal, first, end, today, replan_from, result: GenerateResult) -> None:
    history_start = first - timedelta(days=730)
    tally = tally_between(db, cal, history_start, first - timedelta(days=1))
    existing = assignments(db, first - timedelta(days=14), cal.next_block(end)[1])
    roster = officers(db)
    leave = leave_between(db, first - timedelta(days=14), cal.next_block(end)[1])
    previous_block_officer = None
    for kind, unit in _units(cal, cal.block_of(first)[0] if cal.block_of(first) else first, end):
        rows = [existing.get(d) for d in unit]
        planned = next((r["officer_id"] for r in rows if r is not None and r["officer_id"]), None)
        swapped = any(r is not None and r["source"] != "generated" for r in rows)
        replanning = replan_from is not None and unit[0] >= replan_from and not swapped
        if unit[0] < today or swapped or (planned is not None and not replanning):
            if unit[-1] >= today and planned is not None:
                # A block that grew (a bank holiday joined it): its new days go to its officer.
                for day, row in zip(unit, rows, strict=True):
                    if row is None and day >= today:
                        _put(db, day, unit, kind, planned, roster, None, result, "")
            _count(tally, cal, kind, unit, rows[0]["officer_id"] if rows[0] else planned)
            result.kept += sum(1 for r in rows if r is not None)
            if kind == "block":
                previous_block_officer = planned
            continue
        chosen = _choose(kind, unit, roster, leave, tally, cal, previous_block_officer)
        _count(tally, cal, kind, unit, chosen)
        if kind == "block":
            previous_block_officer = chosen
        why = f"re-planned from {replan_from}" if replan_from else "a gap filled"
        for day, row in zip(unit, rows, strict=True):
            _put(db, day, unit, kind, chosen, roster, row, result, why)
    audit.record(
        db,
        actor,
        "rota.generate",
        "rota",
        f"{first}..{end}",
        {d.isoformat(): old for d, (old, _) in result.changed.items()},
        {
            "changed": {d.isoformat(): new for d, (_, new) in result.changed.items()},
            "gaps": [d.isoformat() for d in result.gaps],
            "replan_from": replan_from.isoformat() if replan_from else None,
        },
    )


def _put(db, day, unit, kind, chosen, roster, old, result: GenerateResult, why: str) -> None:
    """One day given to `chosen` (None: nobody free). A day that already had an officer and
    gets another (only when re-planning) goes in the day's history with `why`."""
    result.assigned += 1
    if chosen is None:
        result.gaps.append(day)
    if old is not None and old["officer_id"] == chosen:
        return  # the same officer: nothing changes, not even the calendar's stamp
    result.changed[day] = (old["name"] if old else None, _name(roster, chosen))
    at = stamp()
    db.execute(
        "INSERT INTO duty_days (duty_date, block_start, officer_id, source, updated_at)"
        " VALUES (?, ?, ?, 'generated', ?) ON CONFLICT(duty_date) DO UPDATE SET"
        " block_start = excluded.block_start, officer_id = excluded.officer_id,"
        " updated_at = excluded.updated_at, revision = revision + 1",
        (day.isoformat(), unit[0].isoformat() if kind == "block" else None, chosen, at),
    )
    if old is not None and old["officer_id"] is not None:
        db.execute(
            "INSERT INTO duty_changes (duty_date, from_officer_id, to_officer_id, reason, forced,"
            " actor, at) VALUES (?, ?, ?, ?, 0, ?, ?)",
            (day.isoformat(), old["officer_id"], chosen, why, result.actor, at),
        )


def _name(roster: list[RotaOfficer], officer_id: int | None) -> str | None:
    return next((o.name for o in roster if o.staff_id == officer_id), None)


def _choose(kind, unit, roster, leave, tally, cal, previous_block_officer) -> int | None:
    def free(o: RotaOfficer) -> bool:
        allowed = o.weekday if kind == "weekday" else o.weekend
        return allowed and all(o.active_on(d) and not on_leave(leave, o.staff_id, d) for d in unit)

    candidates = [o for o in roster if free(o)]
    if not candidates:
        return None
    if kind == "weekday":

        def key(o: RotaOfficer):
            t = tally[o.staff_id]
            return (t.weekday, t.last_weekday, o.name)
    else:
        holiday_days = sum(1 for d in unit if cal.holiday_off(d))

        def key(o: RotaOfficer):
            t = tally[o.staff_id]
            # Bank-holiday blocks balance bank-holiday days first; ordinary weekends then
            # even out the block counts.
            return (
                o.staff_id == previous_block_officer,
                t.bank_holiday_days if holiday_days else 0,
                t.blocks,
                t.last_block,
                o.name,
            )

    return min(candidates, key=key).staff_id


def swap(
    db: sqlite3.Connection,
    actor: str,
    cal: DutyCalendar,
    day: date,
    to_name: str,
    reason: str,
    force: bool = False,
    *,
    whole_block: bool = True,
) -> list[date]:
    """Give a duty to someone else; a weekend date moves the whole block unless `whole_block`
    is False (one day of a long Christmas block, say). Returns the dates."""
    reason = clean_line(reason, 300)
    if not reason:
        raise InvalidInput({"reason": "say why the duty changes hands"})
    block = cal.block_of(day)
    unit = list(days(*block)) if block and whole_block else [day]
    with transaction(db):
        member = get_staff(db, to_name)
        problems = []
        if not all(member.left_on is None or d < member.left_on for d in unit):
            raise Refused(f"{member.name} left on {member.left_on}")
        away = [on_leave(leave_between(db, unit[0], unit[-1]), member.id, d) for d in unit]
        leave = next((a for a in away if a), None)
        if leave:
            problems.append(f"{member.name} is on leave ({leave.reason or 'no reason given'})")
        officer = next((o for o in officers(db) if o.staff_id == member.id), None)
        allowed = officer and (officer.weekend if block else officer.weekday)
        if not allowed:
            duty = "weekend duty" if block else "weekday checks"
            problems.append(f"{member.name} is not on the rota for {duty}")
        if unit[-1] < today():
            problems.append(f"{day} is in the past: the record of who was on duty then stands")
        if problems and not force:
            raise Refused("; ".join(problems) + " (use force, with the reason, to override)")
        rows = assignments(db, unit[0], unit[-1])
        for d in unit:
            old = rows.get(d)
            db.execute(
                "INSERT INTO duty_days (duty_date, block_start, officer_id, source, updated_at)"
                " VALUES (?, ?, ?, 'swap', ?) ON CONFLICT(duty_date) DO UPDATE SET"
                " officer_id = excluded.officer_id, source = 'swap',"
                " updated_at = excluded.updated_at, revision = revision + 1",
                (d.isoformat(), unit[0].isoformat() if block else None, member.id, stamp()),
            )
            db.execute(
                "INSERT INTO duty_changes (duty_date, from_officer_id, to_officer_id, reason,"
                " forced, actor, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    d.isoformat(),
                    old["officer_id"] if old else None,
                    member.id,
                    reason + (f" [forced: {'; '.join(problems)}]" if problems else ""),
                    int(bool(problems)),
                    actor,
                    stamp(),
                ),
            )
        audit.record(
            db,
            actor,
            "rota.swap",
            "rota",
            unit[0].isoformat(),
            {d.isoformat(): rows[d]["name"] if d in rows else None for d in unit},
            {"to": member.name, "reason": reason, "forced": bool(problems), "overridden": problems},
        )
    return unit


def changes_for(db: sqlite3.Connection, day: date) -> list[dict]:
    """The history of one date: every swap, with who had it before."""
    rows = db.execute(
        "SELECT c.*, f.name AS from_name, t.name AS to_name FROM duty_changes c"
        " LEFT JOIN staff f ON f.id = c.from_officer_id LEFT JOIN staff t ON t.id = c.to_officer_id"
        " WHERE c.duty_date = ? ORDER BY c.id",
        (day.isoformat(),),
    )
    return [
        {
            "from": r["from_name"],
            "to": r["to_name"],
            "reason": r["reason"],
            "forced": bool(r["forced"]),
            "by": r["actor"],
            "at": r["at"],
        }
        for r in rows
    ]
