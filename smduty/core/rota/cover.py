"""Cover for planned duties that can no longer be done: leave added after the rota was made, or
an officer who has left. Each need names the days, who is rostered, why they cannot do it and
the officers free to cover, fairest first; applying one is a swap of those days only (a block
is split when only some of its days need cover), recorded with the reason.

Generating never moves a planned duty, so this is how the rota answers leave: visibly, one
proposal at a time, never by reshuffling later weeks.
"""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta

import msgspec

from smduty.core.errors import NotFound, Refused
from smduty.core.rota.duty_calendar import DutyCalendar
from smduty.core.rota.people import leave_between, officers, on_leave
from smduty.core.rota.roster import assignments, swap, tally_between
from smduty.core.store import transaction


class CoverNeed(msgspec.Struct, frozen=True):
    kind: str  # "weekday" or "block"
    days: tuple[date, ...]  # the days to cover (only those the officer cannot do)
    officer: str  # who is rostered
    why: str  # "on leave (reason)", "left on 2026-12-01"
    candidates: tuple[str, ...]  # free to cover every one of the days, fairest first

    @property
    def proposal(self) -> str | None:
        return self.candidates[0] if self.candidates else None

    def span(self) -> str:
        first, last = self.days[0], self.days[-1]
        return f"{first:%a %-d %b}" + (f" to {last:%a %-d %b}" if last != first else "")

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "days": [d.isoformat() for d in self.days],
            "officer": self.officer,
            "why": self.why,
            "candidates": list(self.candidates),
            "proposal": self.proposal,
        }


def cover_needs(
    db: sqlite3.Connection, cal: DutyCalendar, start: date, end: date
) -> list[CoverNeed]:
    """Planned duties from `start` to `end` whose officer is away or gone, with cover."""
    rows = assignments(db, start, end)
    leave = leave_between(db, start - timedelta(days=14), end + timedelta(days=14))
    roster = officers(db)
    by_id = {o.staff_id: o for o in roster}
    # Fairness over the year either side, whatever window is asked about: the same proposal
    # from the CLI and the screen.
    tally = tally_between(db, cal, start - timedelta(days=365), start + timedelta(days=365))
    needs: list[tuple[str, list[date], int, str]] = []
    for day in sorted(rows):
        row = rows[day]
        officer = by_id.get(row["officer_id"]) if row["officer_id"] else None
        if officer is None:
            continue
        why = _why_not(officer, on_leave(leave, officer.staff_id, day), day)
        if why is None:
            continue
        kind = "block" if cal.block_of(day) else "weekday"
        last = needs[-1] if needs else None
        if (
            last is not None
            and kind == "block"
            and last[0] == "block"
            and last[2] == officer.staff_id
            and last[3] == why
            and last[1][-1] == day - timedelta(days=1)
            and cal.block_of(day) == cal.block_of(last[1][-1])
        ):
            last[1].append(day)  # the same block, the same absence: one need
        else:
            needs.append((kind, [day], officer.staff_id, why))
    found = []
    for kind, need_days, staff_id, why in needs:

        def free(o, kind=kind, need_days=need_days, staff_id=staff_id) -> bool:
            allowed = o.weekend if kind == "block" else o.weekday
            return (
                allowed
                and o.staff_id != staff_id
                and all(o.active_on(d) and not on_leave(leave, o.staff_id, d) for d in need_days)
            )

        def fairness(o, kind=kind):
            t = tally.get(o.staff_id)
            if t is None:
                return (0, 0, o.name)
            if kind == "weekday":
                return (t.weekday, 0, o.name)
            return (t.blocks, t.weekend_days, o.name)

        candidates = sorted((o for o in roster if free(o)), key=fairness)
        found.append(
            CoverNeed(
                kind,
                tuple(need_days),
                by_id[staff_id].name,
                why,
                tuple(o.name for o in candidates),
            )
        )
    return found


def _why_not(officer, away, day: date) -> str | None:
    """Why the rostered officer cannot do the day, or None when they can."""
    if away is not None:
        return f"on leave ({away.reason})" if away.reason else "on leave"
    if not officer.active_on(day):
        return f"left on {officer.left_on}"
    return None


def apply_cover(
    db: sqlite3.Connection,
    actor: str,
    cal: DutyCalendar,
    day: date,
    to_name: str | None = None,
    *,
    today: date,
) -> tuple[CoverNeed, str]:
    """Give the need that includes `day` to `to_name` (default: the proposal): a swap of just
    those days, with the reason recorded. Returns the need and who now has it."""
    needs = [n for n in cover_needs(db, cal, today, day + timedelta(days=14)) if day in n.days]
    if not needs:
        raise NotFound(f"no duty on {day} needs cover (its officer is neither away nor gone)")
    need = needs[0]
    chosen = to_name or need.proposal
    if chosen is None:
        raise Refused(
            f"nobody on the rota is free to cover {need.span()}: swap it to someone with"
            " --force, and say why"
        )
    reason = f"cover for {need.officer}, {need.why}"
    with transaction(db):  # every day of the need, or none
        for each in need.days:
            swap(db, actor, cal, each, chosen, reason, whole_block=False)
    return need, chosen
