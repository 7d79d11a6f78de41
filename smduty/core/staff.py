"""Council staff who manage channels, do duty and get told when something goes wrong."""

from __future__ import annotations

import re
import sqlite3
from datetime import date

import msgspec

from smduty.core.clock import stamp
from smduty.core.errors import InvalidInput, NotFound, Refused
from smduty.core.records import audit
from smduty.core.store import transaction
from smduty.core.text import clean_block, clean_line
from smduty.core.values import iso, parse_date

# Roles later features look people up by (the rota, escalation contacts).
ROLES: dict[str, str] = {
    "comms_officer": "Comms officer",
    "channel_manager": "Channel manager",
    "line_manager": "Line manager",
    "head_of_comms": "Head of Communications",
    "assistant_director": "Assistant Director, Strategy and Communications",
    "chief_executive": "Chief Executive",
    "leader": "Leader of the Council",
    "council_officer": "Council Officer",
    "safeguarding_lead": "Safeguarding lead",
    "dpo": "Data protection officer",
    "information_manager": "Information Manager",
}


class StaffMember(msgspec.Struct, frozen=True):
    id: int
    name: str
    email: str
    phone: str
    out_of_hours_phone: str
    team: str
    roles: tuple[str, ...]
    left_on: date | None
    notes: str
    deputy: str | None = None
    standing: bool = False  # a candidate in an election (004 §4.2.6)

    @property
    def active(self) -> bool:
        return self.left_on is None

    def as_dict(self) -> dict:
        data = msgspec.structs.asdict(self)
        data["roles"] = list(self.roles)
        data["left_on"] = iso(self.left_on)
        data["active"] = self.active
        return data


_FIELDS = ("email", "phone", "out_of_hours_phone", "team", "notes")
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")


def _from_row(
    row: sqlite3.Row, roles: tuple[str, ...], names: dict[int, str] | None = None
) -> StaffMember:
    # (Before migration 7 there is no deputy column: old-schema tests still read staff.)
    deputy_id = row["deputy_id"] if "deputy_id" in row.keys() else None  # noqa: SIM118 (a Row tests values)
    return StaffMember(
        id=row["id"],
        name=row["name"],
        email=row["email"],
        phone=row["phone"],
        out_of_hours_phone=row["out_of_hours_phone"],
        team=row["team"],
        roles=roles,
        left_on=date.fromisoformat(row["left_on"]) if row["left_on"] else None,
        notes=row["notes"],
        deputy=(names or {}).get(deputy_id) if deputy_id else None,
        standing=bool(row["standing"]) if "standing" in row.keys() else False,  # noqa: SIM118
    )


def _roles_by_staff(db: sqlite3.Connection) -> dict[int, tuple[str, ...]]:
    roles: dict[int, list[str]] = {}
    for row in db.execute("SELECT staff_id, role FROM staff_roles ORDER BY role"):
        roles.setdefault(row["staff_id"], []).append(row["role"])
    return {k: tuple(v) for k, v in roles.items()}


def list_staff(db: sqlite3.Connection, include_left: bool = True) -> list[StaffMember]:
    roles = _roles_by_staff(db)
    sql = "SELECT * FROM staff"
    if not include_left:
        sql += " WHERE left_on IS NULL"
    sql += " ORDER BY name"
    names = {r[0]: r[1] for r in db.execute("SELECT id, name FROM staff")}
    return [_from_row(r, roles.get(r["id"], ()), names) for r in db.execute(sql)]


def get_staff(db: sqlite3.Connection, name: str) -> StaffMember:
    row = db.execute("SELECT * FROM staff WHERE name = ?", (name.strip(),)).fetchone()
    if row is None:
        raise NotFound(f"no staff member called {name!r}")
    roles = tuple(
        r["role"]
        for r in db.execute(
            "SELECT role FROM staff_roles WHERE staff_id = ? ORDER BY role", (row["id"],)
        )
    )
    names = {}
    if "deputy_id" in row.keys() and row["deputy_id"]:  # noqa: SIM118
        names = {
            r[0]: r[1]
            for r in db.execute("SELECT id, name FROM staff WHERE id = ?", (row["deputy_id"],))
        }
    return _from_row(row, roles, names)


def with_role(db: sqlite3.Connection, role: str) -> list[StaffMember]:
    """Active staff holding `role`, by name."""
    return [s for s in list_staff(db, include_left=False) if role in s.roles]


def _check_roles(roles: list[str] | tuple[str, ...], problems: dict[str, str]) -> tuple[str, ...]:
    cleaned = tuple(sorted({r.strip() for r in roles if r.strip()}))
    unknown = [r for r in cleaned if r not in ROLES]
    if unknown:
        problems["roles"] = f"unknown role {', '.join(unknown)} (known: {', '.join(ROLES)})"
    return cleaned


def _check_email(value: str, problems: dict[str, str]) -> None:
    if value and not _EMAIL.fullmatch(value):
        problems["email"] = f"{value!r} is not an e-mail address (name@example.gov.uk)"


def add_staff(
    db: sqlite3.Connection,
    actor: str,
    name: str,
    roles: list[str] | tuple[str, ...] = (),
    deputy: str = "",
    **fields: str,
) -> StaffMember:
    """Add someone (and their deputy, if named): all of it, or nothing."""
    problems: dict[str, str] = {}
    clean_name = clean_line(name, 120)
    if not clean_name:
        problems["name"] = "a name is needed"
    role_set = _check_roles(roles, problems)
    unknown = set(fields) - set(_FIELDS)
    if unknown:
        problems["fields"] = f"unknown field {', '.join(sorted(unknown))}"
    if problems:
        raise InvalidInput(problems)
    values = {
        f: clean_block(fields.get(f, ""), 2000)
        if f == "notes"
        else clean_line(fields.get(f, ""), 200)
        for f in _FIELDS
    }
    _check_email(values["email"], problems)
    if problems:
        raise InvalidInput(problems)
    with transaction(db):
        if db.execute("SELECT 1 FROM staff WHERE name = ?", (clean_name,)).fetchone():
            raise InvalidInput({"name": f"{clean_name!r} is already on the staff list"})
        cur = db.execute(
            "INSERT INTO staff (name, email, phone, out_of_hours_phone, team, notes, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                clean_name,
                values["email"],
                values["phone"],
                values["out_of_hours_phone"],
                values["team"],
                values["notes"],
                stamp(),
            ),
        )
        db.executemany(
            "INSERT INTO staff_roles (staff_id, role) VALUES (?, ?)",
            [(cur.lastrowid, r) for r in role_set],
        )
        member = get_staff(db, clean_name)
        audit.record(db, actor, "staff.add", "staff", member.id, None, member.as_dict())
        if deputy.strip():
            member = set_deputy(db, actor, member.name, deputy)
    return member


def mark_left(db: sqlite3.Connection, actor: str, name: str, on: date | str) -> StaffMember:
    """Record that someone has left: their channels then need new passwords (004 §4.2.4)."""
    problems: dict[str, str] = {}
    left_on = parse_date(on, "on", problems)
    if problems or left_on is None:
        raise InvalidInput(problems or {"on": "a leaving date is needed"})
    with transaction(db):
        before = get_staff(db, name)
        if before.left_on is not None:
            raise Refused(f"{before.name} is already recorded as left on {before.left_on}")
        db.execute("UPDATE staff SET left_on = ? WHERE id = ?", (left_on.isoformat(), before.id))
        after = get_staff(db, before.name)
        audit.record(db, actor, "staff.left", "staff", before.id, before.as_dict(), after.as_dict())
    return after


def edit_staff(
    db: sqlite3.Connection,
    actor: str,
    name: str,
    *,
    new_name: str | None = None,
    roles: list[str] | tuple[str, ...] | None = None,
    standing: bool | None = None,
    **fields: str,
) -> StaffMember:
    """Change someone's details (a wrong phone number, a new team, their roles): what is given
    changes, the rest stays; all of it or nothing, with before and after in the audit log."""
    problems: dict[str, str] = {}
    unknown = set(fields) - set(_FIELDS)
    if unknown:
        problems["fields"] = f"unknown field {', '.join(sorted(unknown))}"
    role_set = _check_roles(roles, problems) if roles is not None else None
    values = {
        f: clean_block(v, 2000) if f == "notes" else clean_line(v, 200)
        for f, v in fields.items()
        if f in _FIELDS and v is not None
    }
    if "email" in values:
        _check_email(values["email"], problems)
    renamed = clean_line(new_name, 120) if new_name is not None else None
    if renamed == "":
        problems["name"] = "a name is needed"
    if problems:
        raise InvalidInput(problems, name)
    with transaction(db):
        before = get_staff(db, name)
        taken = renamed and db.execute("SELECT 1 FROM staff WHERE name = ?", (renamed,)).fetchone()
        if taken and renamed.casefold() != before.name.casefold():
            raise InvalidInput({"name": f"{renamed!r} is already on the staff list"}, name)
        if renamed:
            values["name"] = renamed
        if standing is not None:
            values["standing"] = int(standing)
        if values:
            columns = ", ".join(f"{f} = ?" for f in values)  # names from _FIELDS, never input
            db.execute(f"UPDATE staff SET {columns} WHERE id = ?", (*values.values(), before.id))
        if role_set is not None:
            db.execute("DELETE FROM staff_roles WHERE staff_id = ?", (before.id,))
            db.executemany(
                "INSERT INTO staff_roles (staff_id, role) VALUES (?, ?)",
                [(before.id, r) for r in role_set],
            )
        after = get_staff(db, renamed or before.name)
        if after != before:
            audit.record(
                db, actor, "staff.edit", "staff", before.id, before.as_dict(), after.as_dict()
            )
    return after


def deputy_chain(db: sqlite3.Connection, name: str, limit: int = 5) -> list[StaffMember]:
    """Who stands in for `name`, then who stands in for them, and so on (never round a loop)."""
    chain: list[StaffMember] = []
    seen = {get_staff(db, name).name}
    person = get_staff(db, name)
    while person.deputy and person.deputy not in seen and len(chain) < limit:
        person = get_staff(db, person.deputy)
        chain.append(person)
        seen.add(person.name)
    return chain


def set_deputy(db: sqlite3.Connection, actor: str, name: str, deputy: str | None) -> StaffMember:
    """Name who stands in for someone when they cannot be reached (None clears it)."""
    with transaction(db):
        before = get_staff(db, name)
        deputy_id = None
        if deputy:
            try:
                stand_in = get_staff(db, deputy)
            except NotFound as exc:
                raise InvalidInput({"deputy": str(exc)}) from None
            if stand_in.id == before.id:
                raise InvalidInput({"deputy": "a person cannot be their own deputy"})
            if not stand_in.active:
                raise InvalidInput({"deputy": f"{stand_in.name} has left"})
            deputy_id = stand_in.id
        db.execute("UPDATE staff SET deputy_id = ? WHERE id = ?", (deputy_id, before.id))
        after = get_staff(db, before.name)
        audit.record(
            db, actor, "staff.deputy", "staff", before.id, before.as_dict(), after.as_dict()
        )
    return after
