"""The register of official channels (002 §3.1.1: the council must oversee every one)."""

from __future__ import annotations

import sqlite3
from datetime import date
from typing import Any

import msgspec

from smduty.core.clock import stamp, today
from smduty.core.errors import InvalidInput, NotFound, Refused
from smduty.core.records import audit
from smduty.core.register.fields import FIELDS, PROPOSAL_STEPS, validate_fields
from smduty.core.staff import get_staff
from smduty.core.store import transaction
from smduty.core.text import clean_line
from smduty.core.values import iso, parse_date


class ChannelManager(msgspec.Struct, frozen=True):
    """A designated member of staff on one channel, with when they were trained."""

    staff_id: int
    name: str
    trained_on: date | None
    added_on: date
    removed_on: date | None
    staff_left_on: date | None
    standing: bool = False  # a candidate in an election

    @property
    def current(self) -> bool:
        return self.removed_on is None and self.staff_left_on is None


class Channel(msgspec.Struct, frozen=True):
    id: int
    name: str
    platform: str
    handle: str
    url: str
    service: str
    purpose: str
    status: str
    proposal_step: str | None
    comms_admin_access: bool
    admin_verified_on: date | None
    authorised_by: str
    authorised_on: date | None
    checklist_done: bool
    business_case: str
    im_notified_on: date | None
    last_reviewed_on: date | None
    review_interval_months: int
    passwords_changed_on: date | None
    notes: str
    created_at: str
    updated_at: str
    # Everyone who has been a manager, current or not: the password rule needs the former ones.
    all_managers: tuple[ChannelManager, ...] = ()
    line_manager: str = ""  # who agreed the proposal as the managers' line manager (000 A.3.5)

    @property
    def managers(self) -> tuple[ChannelManager, ...]:
        """Managers who still hold the role (not removed, not left the council)."""
        return tuple(m for m in self.all_managers if m.current)

    @property
    def proposal_progress(self) -> tuple[int, int]:
        done = PROPOSAL_STEPS.index(self.proposal_step) + 1 if self.proposal_step else 0
        return done, len(PROPOSAL_STEPS)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            name: iso(v) if isinstance(v := getattr(self, name), date) else v
            for name in ("id", *FIELDS, "proposal_step", "created_at", "updated_at")
        }
        data["managers"] = [m.name for m in self.managers]
        data["manager_details"] = [
            {"name": m.name, "trained_on": iso(m.trained_on), "added_on": iso(m.added_on)}
            for m in self.managers
        ]
        return data


_DATE_COLUMNS = (
    "admin_verified_on",
    "authorised_on",
    "im_notified_on",
    "last_reviewed_on",
    "passwords_changed_on",
)


def _channel_from_row(row: sqlite3.Row, managers: tuple[ChannelManager, ...]) -> Channel:
    values = dict(row)
    for column in _DATE_COLUMNS:
        values[column] = date.fromisoformat(values[column]) if values[column] else None
    values["comms_admin_access"] = bool(values["comms_admin_access"])
    values["checklist_done"] = bool(values["checklist_done"])
    return Channel(**values, all_managers=managers)


def _d(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _managers(db: sqlite3.Connection, channel_id: int | None) -> dict[int, list[ChannelManager]]:
    sql = (
        "SELECT m.channel_id, m.staff_id, s.name, m.trained_on, m.added_on, m.removed_on,"
        " s.left_on, s.standing FROM channel_managers m JOIN staff s ON s.id = m.staff_id"
    )
    args: tuple = ()
    if channel_id is not None:
        sql += " WHERE m.channel_id = ?"
        args = (channel_id,)
    found: dict[int, list[ChannelManager]] = {}
    for r in db.execute(sql + " ORDER BY s.name", args):
        found.setdefault(r["channel_id"], []).append(
            ChannelManager(
                r["staff_id"],
                r["name"],
                _d(r["trained_on"]),
                _d(r["added_on"]),
                _d(r["removed_on"]),
                _d(r["left_on"]),
                bool(r["standing"]),
            )
        )
    return found


def list_channels(db: sqlite3.Connection, statuses: tuple[str, ...] | None = None) -> list[Channel]:
    sql = "SELECT * FROM channels"
    args: tuple = ()
    if statuses:
        sql += f" WHERE status IN ({','.join('?' * len(statuses))})"
        args = tuple(statuses)
    managers = _managers(db, None)
    return [
        _channel_from_row(r, tuple(managers.get(r["id"], ())))
        for r in db.execute(sql + " ORDER BY name", args)
    ]


def channel_names(db: sqlite3.Connection) -> list[str]:
    """Every channel's name, closed ones included, A to Z (for pickers)."""
    return [r[0] for r in db.execute("SELECT name FROM channels ORDER BY name")]


def register_is_empty(db: sqlite3.Connection) -> bool:
    return db.execute("SELECT 1 FROM channels LIMIT 1").fetchone() is None


def get_channel(db: sqlite3.Connection, key: str | int) -> Channel:
    if isinstance(key, int):
        row = db.execute("SELECT * FROM channels WHERE id = ?", (key,)).fetchone()
    else:
        row = db.execute("SELECT * FROM channels WHERE name = ?", (key.strip(),)).fetchone()
    if row is None:
        raise NotFound(f"no channel called {key!r}")
    return _channel_from_row(row, tuple(_managers(db, row["id"]).get(row["id"], ())))


def _staff_ids(db: sqlite3.Connection, names: list[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    missing = []
    for name in names:
        try:
            member = get_staff(db, name)
        except NotFound:
            missing.append(name)
            continue
        if not member.active:
            raise InvalidInput({"managers": f"{member.name} left on {member.left_on}"})
        ids[member.name] = member.id
    if missing:
        raise InvalidInput({"managers": f"not on the staff list: {', '.join(missing)}"})
    return ids


def _apply_managers(db: sqlite3.Connection, channel_id: int, names: list[str]) -> None:
    """Make `names` the current managers; former ones keep their row with a removal date."""
    wanted = _staff_ids(db, [n for n in (x.strip() for x in names) if n])
    on = today().isoformat()
    existing = {
        r["staff_id"]: r
        for r in db.execute("SELECT * FROM channel_managers WHERE channel_id = ?", (channel_id,))
    }
    for staff_id in wanted.values():
        if staff_id not in existing:
            db.execute(
                "INSERT INTO channel_managers (channel_id, staff_id, added_on) VALUES (?, ?, ?)",
                (channel_id, staff_id, on),
            )
        elif existing[staff_id]["removed_on"] is not None:
            db.execute(
                "UPDATE channel_managers SET removed_on = NULL, added_on = ?"
                " WHERE channel_id = ? AND staff_id = ?",
                (on, channel_id, staff_id),
            )
    for staff_id, row in existing.items():
        if staff_id not in wanted.values() and row["removed_on"] is None:
            db.execute(
                "UPDATE channel_managers SET removed_on = ? WHERE channel_id = ? AND staff_id = ?",
                (on, channel_id, staff_id),
            )


def _name_taken(name: str) -> InvalidInput:
    return InvalidInput({"name": f"a channel called {name!r} is already registered"})


def add_channel(
    db: sqlite3.Connection, actor: str, fields: dict[str, Any], managers: list[str] | None = None
) -> Channel:
    values = validate_fields(fields, require_all=True)
    now = stamp()
    with transaction(db):
        if db.execute("SELECT 1 FROM channels WHERE name = ?", (values["name"],)).fetchone():
            raise _name_taken(values["name"])
        columns = list(values)
        cur = db.execute(
            f"INSERT INTO channels ({', '.join(columns)}, created_at, updated_at)"
            f" VALUES ({', '.join('?' * len(columns))}, ?, ?)",
            [*values.values(), now, now],
        )
        if managers:
            _apply_managers(db, cur.lastrowid, managers)
        channel = get_channel(db, cur.lastrowid)
        audit.record(db, actor, "channel.add", "channel", channel.id, None, channel.as_dict())
    return channel


def edit_channel(
    db: sqlite3.Connection,
    actor: str,
    key: str | int,
    fields: dict[str, Any],
    managers: list[str] | None = None,
) -> Channel:
    """Change some fields (and, when given, the whole manager list) of one channel."""
    values = validate_fields(fields, require_all=False)
    with transaction(db):
        before = get_channel(db, key)
        if (
            "name" in values
            and values["name"].lower() != before.name.lower()
            and db.execute("SELECT 1 FROM channels WHERE name = ?", (values["name"],)).fetchone()
        ):
            raise _name_taken(values["name"])
        if values:
            assignments = ", ".join(f"{column} = ?" for column in values)
            db.execute(
                f"UPDATE channels SET {assignments}, updated_at = ? WHERE id = ?",
                [*values.values(), stamp(), before.id],
            )
        if managers is not None:
            _apply_managers(db, before.id, managers)
        after = get_channel(db, before.id)
        if after.as_dict() != before.as_dict():
            audit.record(
                db, actor, "channel.edit", "channel", before.id, before.as_dict(), after.as_dict()
            )
    return after


def record_training(
    db: sqlite3.Connection, actor: str, key: str | int, staff_name: str, on: date | str
) -> Channel:
    problems: dict[str, str] = {}
    trained_on = parse_date(on, "trained_on", problems)
    if trained_on is None:
        raise InvalidInput(problems or {"trained_on": "a training date is needed"})
    with transaction(db):
        before = get_channel(db, key)
        member = get_staff(db, staff_name)
        if not any(m.staff_id == member.id for m in before.managers):
            raise Refused(f"{member.name} is not a manager of {before.name}")
        db.execute(
            "UPDATE channel_managers SET trained_on = ? WHERE channel_id = ? AND staff_id = ?",
            (trained_on.isoformat(), before.id, member.id),
        )
        after = get_channel(db, before.id)
        audit.record(
            db, actor, "channel.training", "channel", before.id, before.as_dict(), after.as_dict()
        )
    return after


def reject_proposal(db: sqlite3.Connection, actor: str, key: str | int, reason: str) -> Channel:
    """Turn a proposal down, saying why: it is closed, the reason kept in its notes and the
    audit log (as a rejection, which reports count apart from closures)."""
    reason = clean_line(reason, 500)
    if not reason:
        raise InvalidInput({"reason": "say why the proposal is turned down"})
    with transaction(db):
        before = get_channel(db, key)
        if before.status != "proposed":
            raise Refused(f"{before.name} is {before.status}, not a proposal")
        note = (before.notes + "\n" if before.notes else "") + f"Rejected {today()}: {reason}"
        after = edit_channel(db, actor, before.id, {"status": "closed", "notes": note})
        audit.record(
            db,
            actor,
            "channel.reject",
            "channel",
            before.id,
            {"status": "proposed", "proposal_step": before.proposal_step},
            {"status": "closed", "reason": reason},
        )
    return after


def close_channel(db: sqlite3.Connection, actor: str, key: str | int, reason: str) -> Channel:
    """Close a channel, saying why (kept in its notes and the audit log)."""
    reason = clean_line(reason, 500)
    if not reason:
        raise InvalidInput({"reason": "say why the channel is closing"})
    with transaction(db):
        before = get_channel(db, key)
        if before.status == "closed":
            raise Refused(f"{before.name} is already closed")
        note = (before.notes + "\n" if before.notes else "") + f"Closed {today()}: {reason}"
        return edit_channel(db, actor, before.id, {"status": "closed", "notes": note})


def advance_proposal(
    db: sqlite3.Connection,
    actor: str,
    key: str | int,
    authorised_by: str = "",
    line_manager: str = "",
) -> Channel:
    """Complete the next set-up step of a proposed channel (000 Appendix 3, 004 §4.2.2): its
    purpose recorded, the line manager who agreed named, managers trained, admin rights for
    the comms team, authorisation by name, and two managers at least before it goes live."""
    with transaction(db):
        channel = get_channel(db, key)
        if channel.status != "proposed":
            raise Refused(f"{channel.name} is {channel.status}, not a proposal")
        done, _ = channel.proposal_progress
        step = PROPOSAL_STEPS[done]
        changes: dict[str, Any] = {"proposal_step": step}
        if step == "purpose_agreed" and not channel.purpose.strip():
            raise Refused("record what the channel is for first (000 A.3.4): edit its purpose")
        if step == "line_manager_agreed":
            who = line_manager.strip() or channel.line_manager
            if not who:
                raise Refused("name the line manager who agreed (000 A.3.5)")
            changes["line_manager"] = who
        if step == "active" and len(channel.managers) < 2:
            raise Refused(
                f"{channel.name} has {len(channel.managers)} manager(s): at least two are needed "
                "before it goes live, for cover at weekends and holidays (000 A.3.5)"
            )
        if step == "trained" and not any(m.trained_on for m in channel.managers):
            raise Refused("record the training of at least one designated manager first")
        if step == "admin_granted":
            changes.update(comms_admin_access=True, admin_verified_on=today())
        if step == "authorised":
            who = authorised_by.strip() or channel.authorised_by
            if not who:
                raise Refused("say who authorised the channel (004 §4.2.2: the Assistant Director)")
            if not channel.checklist_done:
                raise Refused("the project checklist must be completed before authorisation")
            if channel.business_case == "pending":
                raise Refused("the business case is still pending")
            changes.update(authorised_by=who, authorised_on=channel.authorised_on or today())
        if step == "active":
            changes["status"] = "active"
        proposal_step = changes.pop("proposal_step")
        updated = edit_channel(db, actor, channel.id, changes) if changes else channel
        db.execute(
            "UPDATE channels SET proposal_step = ? WHERE id = ?", (proposal_step, channel.id)
        )
        after = get_channel(db, updated.id)
        audit.record(
            db,
            actor,
            "channel.proposal_step",
            "channel",
            channel.id,
            {"proposal_step": channel.proposal_step},
            {"proposal_step": proposal_step},
        )
    return after
