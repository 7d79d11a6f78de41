"""The handover note: the last weekday check officer before a duty block briefs the weekend officer.

The note shows on the dashboard through the block: waiting until the weekend officer acknowledges
it, then, acknowledged, for the rest of the block (what it said still matters on Sunday). Past
notes stay listed.
"""

from __future__ import annotations

import sqlite3
from datetime import date

import msgspec

from smduty.core.clock import stamp
from smduty.core.errors import InvalidInput, NotFound, Refused
from smduty.core.records import audit
from smduty.core.rota.duty_calendar import DutyCalendar
from smduty.core.store import transaction
from smduty.core.text import clean_block


class HandoverNote(msgspec.Struct, frozen=True):
    id: int
    block_start: date
    author: str
    text: str
    created_at: str
    acknowledged_by: str | None
    acknowledged_at: str | None

    def as_dict(self) -> dict:
        data = msgspec.structs.asdict(self)
        data["block_start"] = self.block_start.isoformat()
        return data


def _note(row: sqlite3.Row) -> HandoverNote:
    return HandoverNote(
        row["id"],
        date.fromisoformat(row["block_start"]),
        row["author"],
        row["text"],
        row["created_at"],
        row["acknowledged_by"],
        row["acknowledged_at"],
    )


def leave_handover(
    db: sqlite3.Connection, actor: str, cal: DutyCalendar, today: date, text: str
) -> HandoverNote:
    """A note for the coming duty block (or the one under way)."""
    body = clean_block(text, 4000)
    if not body:
        raise InvalidInput({"text": "the handover note is empty"})
    block_start, _ = cal.next_block(today)
    with transaction(db):
        cur = db.execute(
            "INSERT INTO handover_notes (block_start, author, text, created_at)"
            " VALUES (?, ?, ?, ?)",
            (block_start.isoformat(), actor, body, stamp()),
        )
        note = _note(
            db.execute("SELECT * FROM handover_notes WHERE id = ?", (cur.lastrowid,)).fetchone()
        )
        audit.record(db, actor, "handover.add", "handover", note.id, None, note.as_dict())
    return note


def current_handover(db: sqlite3.Connection, cal: DutyCalendar, today: date) -> HandoverNote | None:
    """The unacknowledged note for the block under way, or for the next one on a working day."""
    found = block_handover(db, cal, today)  # an unacknowledged note comes first
    return found if found is not None and found.acknowledged_at is None else None


def block_handover(db: sqlite3.Connection, cal: DutyCalendar, today: date) -> HandoverNote | None:
    """The latest note for the block under way (or the next one on a working day), acknowledged
    or not: it stays on the dashboard for the rest of the block."""
    block_start, _ = cal.next_block(today)
    row = db.execute(
        "SELECT * FROM handover_notes WHERE block_start = ?"
        " ORDER BY acknowledged_at IS NOT NULL, id DESC LIMIT 1",
        (block_start.isoformat(),),
    ).fetchone()
    return _note(row) if row else None


def past_handovers(db: sqlite3.Connection, limit: int = 50) -> list[HandoverNote]:
    """Handover notes, newest first."""
    rows = db.execute(
        "SELECT * FROM handover_notes ORDER BY block_start DESC, id DESC LIMIT ?", (limit,)
    )
    return [_note(r) for r in rows]


def acknowledge(db: sqlite3.Connection, actor: str, note_id: int) -> HandoverNote:
    with transaction(db):
        row = db.execute("SELECT * FROM handover_notes WHERE id = ?", (note_id,)).fetchone()
        if row is None:
            raise NotFound(f"no handover note {note_id}")
        before = _note(row)
        if before.acknowledged_at:
            raise Refused(f"already acknowledged by {before.acknowledged_by}")
        db.execute(
            "UPDATE handover_notes SET acknowledged_by = ?, acknowledged_at = ? WHERE id = ?",
            (actor, stamp(), note_id),
        )
        after = _note(
            db.execute("SELECT * FROM handover_notes WHERE id = ?", (note_id,)).fetchone()
        )
        audit.record(
            db,
            actor,
            "handover.acknowledge",
            "handover",
            note_id,
            before.as_dict(),
            after.as_dict(),
        )
    return after
