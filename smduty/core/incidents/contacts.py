"""Who to call for a role during an incident: its people, and their deputies when they are away.

A person is away on a day of recorded leave; their deputy (staff.deputy_id) is then listed
straight after them, and the deputy's deputy while the deputy is away too, so the operator
phones the next person who can be reached without looking anything up.
"""

from __future__ import annotations

import sqlite3
from datetime import date

import msgspec

from smduty.core.rota.people import leave_between, on_leave
from smduty.core.staff import ROLES, StaffMember, deputy_chain, with_role


class Contact(msgspec.Struct, frozen=True):
    role: str
    role_label: str
    name: str
    phone: str
    out_of_hours_phone: str
    email: str
    away: str = ""  # why they cannot be reached today, "" when they can
    deputy_for: str = ""  # whom they stand in for, "" when they hold the role themselves

    def as_json(self) -> dict:
        return msgspec.structs.asdict(self)


def _contact(role: str, person: StaffMember, away: str = "", deputy_for: str = "") -> Contact:
    return Contact(
        role,
        ROLES.get(role, role),
        person.name,
        person.phone,
        person.out_of_hours_phone,
        person.email,
        away,
        deputy_for,
    )


def contacts_for(db: sqlite3.Connection, roles: tuple[str, ...], day: date) -> list[Contact]:
    """The people for each role in order, each away person followed by their deputy."""
    leave = leave_between(db, day, day)
    found: list[Contact] = []
    for role in roles:
        listed: set[str] = set()
        for person in with_role(db, role):
            absence = on_leave(leave, person.id, day)
            away = f"on leave until {absence.end:%a %-d %b}" if absence else ""
            found.append(_contact(role, person, away))
            listed.add(person.name)
            # Away: their deputy, and while the deputy is away too, the deputy's deputy.
            standing_for = person.name
            for deputy in deputy_chain(db, person.name) if away else ():
                if deputy.name in listed or not deputy.active:
                    continue
                absence = on_leave(leave, deputy.id, day)
                deputy_away = f"on leave until {absence.end:%a %-d %b}" if absence else ""
                found.append(_contact(role, deputy, deputy_away, standing_for))
                listed.add(deputy.name)
                if not deputy_away:
                    break  # someone who can be reached
                standing_for = deputy.name
        if not listed:
            found.append(Contact(role, ROLES.get(role, role), "", "", "", "", "nobody holds it"))
    return found
