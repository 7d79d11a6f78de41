"""The council-wide "scheduled posts stopped" state (004 §4.2.5 (4)).

During a crisis every scheduled post on every channel is held. smduty cannot reach into the
scheduling tools, so it records the decision, shows it on every screen until someone lifts it,
and keeps who stopped and resumed posting, when and why.
"""

from __future__ import annotations

import sqlite3

import msgspec

from smduty.core.clock import stamp
from smduty.core.errors import InvalidInput, NotFound, Refused
from smduty.core.records import audit
from smduty.core.store import transaction
from smduty.core.text import clean_block


class PostingStop(msgspec.Struct, frozen=True):
    id: int
    stopped_at: str
    stopped_by: str
    reason: str
    incident_id: int | None
    resumed_at: str | None
    resumed_by: str | None
    resume_note: str

    @property
    def holding(self) -> bool:
        return self.resumed_at is None

    def as_json(self) -> dict:
        return {**msgspec.structs.asdict(self), "stopped": self.holding}


def _stop(row: sqlite3.Row) -> PostingStop:
    return PostingStop(**dict(row))


def current_stop(db: sqlite3.Connection) -> PostingStop | None:
    """The stop in force, or None while posting goes on as usual."""
    row = db.execute("SELECT * FROM posting_stops WHERE resumed_at IS NULL").fetchone()
    return _stop(row) if row else None


def history(db: sqlite3.Connection, incident_id: int | None = None) -> list[PostingStop]:
    sql, args = "SELECT * FROM posting_stops", []
    if incident_id is not None:
        sql += " WHERE incident_id = ?"
        args.append(incident_id)
    return [_stop(r) for r in db.execute(sql + " ORDER BY stopped_at, id", args)]


def stop_posts(
    db: sqlite3.Connection, actor: str, reason: str, incident_id: int | None = None
) -> PostingStop:
    reason = clean_block(reason, 1000)
    if not reason:
        raise InvalidInput({"reason": "say why posting is stopped"}, "posts stop")
    with transaction(db):
        if (
            incident_id is not None
            and not db.execute("SELECT 1 FROM incidents WHERE id = ?", (incident_id,)).fetchone()
        ):
            raise NotFound(f"no incident {incident_id}")
        held = current_stop(db)
        if held is not None:
            raise Refused(
                f"scheduled posts are already stopped (since {held.stopped_at}, by "
                f"{held.stopped_by})"
            )
        cursor = db.execute(
            "INSERT INTO posting_stops (stopped_at, stopped_by, reason, incident_id)"
            " VALUES (?, ?, ?, ?)",
            (stamp(), actor, reason, incident_id),
        )
        stop = _stop(
            db.execute("SELECT * FROM posting_stops WHERE id = ?", (cursor.lastrowid,)).fetchone()
        )
        audit.record(db, actor, "posts.stop", "posting", stop.id, None, stop.as_json())
        if incident_id is not None:
            _timeline(db, incident_id, actor, f"Scheduled posts stopped: {reason}")
    return stop


def resume_posts(db: sqlite3.Connection, actor: str, note: str = "") -> PostingStop:
    note = clean_block(note, 1000)
    with transaction(db):
        held = current_stop(db)
        if held is None:
            raise Refused("scheduled posts are not stopped")
        db.execute(
            "UPDATE posting_stops SET resumed_at = ?, resumed_by = ?, resume_note = ? WHERE id = ?",
            (stamp(), actor, note, held.id),
        )
        after = _stop(db.execute("SELECT * FROM posting_stops WHERE id = ?", (held.id,)).fetchone())
        audit.record(db, actor, "posts.resume", "posting", held.id, held.as_json(), after.as_json())
        if held.incident_id is not None:
            text = "Scheduled posts resumed" + (f": {note}" if note else "")
            _timeline(db, held.incident_id, actor, text)
    return after


def _timeline(db: sqlite3.Connection, incident_id: int, actor: str, text: str) -> None:
    db.execute(
        "INSERT INTO incident_timeline (incident_id, at, actor, kind, text)"
        " VALUES (?, ?, ?, 'posts', ?)",
        (incident_id, stamp(), actor, text),
    )
