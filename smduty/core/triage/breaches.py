"""Response-target breaches as facts: written when a mention passes its target while open, kept
after it is handled (with when, and how), never worked out again from today's state.

`record_breaches` runs with the dashboard's and the queue's refresh (and any command's end), so
a breach is on the record within a minute of happening while smduty is open. A mention handled
late before anyone recorded its breach gets it recorded by the handling itself.
"""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta

import msgspec

from smduty.core.clock import COUNCIL_TZ, parse_stamp, utc_text
from smduty.core.monitoring.flag_verdict import RATING_RANK
from smduty.core.monitoring.imports import not_pending
from smduty.core.records import audit
from smduty.core.store import transaction
from smduty.core.triage.targets import Targets

OPEN = ("new", "in_progress")
FLAGGED = ("critical", "high", "medium", "low")


class Breach(msgspec.Struct, frozen=True):
    mention_id: int
    rating: str
    target: str
    due_at: str
    recorded_at: str
    handled_at: str | None
    handled_as: str | None

    def as_dict(self) -> dict:
        return msgspec.structs.asdict(self)


def record_breaches(db: sqlite3.Connection, targets: Targets, now: datetime) -> list[int]:
    """Open mentions past their target with no breach on record yet: written now, in one
    transaction with one audit row. Returns their ids."""
    found: list[tuple] = []
    hidden, hidden_args = not_pending(db)  # an import still being written is not shown yet
    for name in FLAGGED:
        cut = targets.cutoff(name, now)
        target = targets.by_rating.get(name)
        if cut is None or target is None:
            continue
        rows = db.execute(
            "SELECT id, max(published, ingested_at) FROM mentions"
            " WHERE status IN ('new', 'in_progress') AND rating_rank = ?"
            " AND max(published, ingested_at) <= ?"
            f" AND id NOT IN (SELECT mention_id FROM response_breaches){hidden} LIMIT 10000",
            (RATING_RANK[name], utc_text(cut), *hidden_args),
        ).fetchall()
        for mention_id, since in rows:
            due = targets.due(name, parse_stamp(since))
            found.append((mention_id, name, target.text, utc_text(due) if due else utc_text(now)))
    if not found:
        return []
    stamp = utc_text(now)
    with transaction(db):
        written = []
        for mention_id, rating, text, due in found:
            cur = db.execute(
                "INSERT OR IGNORE INTO response_breaches (mention_id, rating, target, due_at,"
                " recorded_at) VALUES (?, ?, ?, ?, ?)",
                (mention_id, rating, text, due, stamp),
            )
            if cur.rowcount:
                written.append(mention_id)
        if written:
            audit.record(db, "smduty", "mentions.breached", "response_breaches", None, None,
                         {"mentions": written[:1000], "count": len(written)})  # fmt: skip
    return written


def on_handled(
    db: sqlite3.Connection,
    mention_id: int,
    rating: str,
    waiting_since: datetime,
    status: str,
    when: datetime,
    targets: Targets | None,
) -> None:
    """Inside the outcome's transaction, as an open mention is handled: its breach (recorded
    now if it was late and nobody had recorded it) says when and how it was handled."""
    if (
        targets is not None
        and not db.execute(
            "SELECT 1 FROM response_breaches WHERE mention_id = ?", (mention_id,)
        ).fetchone()
    ):
        due = targets.due(rating, waiting_since)
        target = targets.by_rating.get(rating)
        if due is not None and target is not None and due < when:
            db.execute(
                "INSERT INTO response_breaches (mention_id, rating, target, due_at, recorded_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (mention_id, rating, target.text, utc_text(due), utc_text(when)),
            )
    db.execute(
        "UPDATE response_breaches SET handled_at = ?, handled_as = ?"
        " WHERE mention_id = ? AND handled_at IS NULL",
        (utc_text(when), status, mention_id),
    )


def breach_of(db: sqlite3.Connection, mention_id: int) -> Breach | None:
    row = db.execute(
        "SELECT * FROM response_breaches WHERE mention_id = ?", (mention_id,)
    ).fetchone()
    return _breach(row) if row else None


def breaches_for(db: sqlite3.Connection, mention_ids: list[int]) -> dict[int, Breach]:
    """The breaches of these mentions (a page of the queue), by mention id."""
    found: dict[int, Breach] = {}
    for start in range(0, len(mention_ids), 500):
        part = mention_ids[start : start + 500]
        marks = ",".join("?" * len(part))
        for r in db.execute(f"SELECT * FROM response_breaches WHERE mention_id IN ({marks})", part):
            found[r["mention_id"]] = _breach(r)
    return found


def _breach(r: sqlite3.Row) -> Breach:
    return Breach(r["mention_id"], r["rating"], r["target"], r["due_at"], r["recorded_at"],
                  r["handled_at"], r["handled_as"])  # fmt: skip


def breaches(db: sqlite3.Connection, start: date, end: date, limit: int = 10_000) -> list[Breach]:
    """Breaches whose target fell on these council days, oldest first."""
    first = utc_text(datetime.combine(start, datetime.min.time(), COUNCIL_TZ))
    last = utc_text(datetime.combine(end + timedelta(days=1), datetime.min.time(), COUNCIL_TZ))
    rows = db.execute(
        "SELECT * FROM response_breaches WHERE due_at >= ? AND due_at < ?"
        " ORDER BY due_at, mention_id LIMIT ?",
        (first, last, limit),
    )
    return [_breach(r) for r in rows]
