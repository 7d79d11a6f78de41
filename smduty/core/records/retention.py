"""Retention: what people posted is kept only as long as the team needs it.

A mention handled (closed) more than `retention_days` ago (config, default 90) has its words
and who wrote them redacted: title, text, author and link, the words its flags matched, and so
the search index too (a trigger keeps it in step). What the record needs stays: its key (so the
same post is not imported again as new), source, dates, rating, categories, outcome and
history, so counts and reports still add up. Incidents are kept whole. Each purge is in the
audit log; it works a chunk at a time so that others can write in between.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

import msgspec

from smduty.core.clock import utc_text
from smduty.core.records import audit
from smduty.core.store import transaction

CHUNK = 500
CLOSED = ("responded", "referred", "no_engagement", "escalated", "dismissed")
REDACTED = "(redacted under the retention policy)"


class Purged(msgspec.Struct, frozen=True):
    cutoff: str
    mentions: int
    dry_run: bool

    def as_dict(self) -> dict:
        return msgspec.structs.asdict(self)


def _due(db: sqlite3.Connection, cutoff: str, limit: int) -> list[int]:
    marks = ",".join("?" * len(CLOSED))
    return [
        r[0]
        for r in db.execute(
            f"SELECT id FROM mentions WHERE status IN ({marks}) AND updated_at < ?"
            " AND redacted_at IS NULL"
            " AND id NOT IN (SELECT mention_id FROM incident_mentions) ORDER BY id LIMIT ?",
            (*CLOSED, cutoff, limit),
        )
    ]


def purge(
    db: sqlite3.Connection, actor: str, now: datetime, retention_days: int, dry_run: bool = False
) -> Purged:
    """Redact every mention closed before `now - retention_days` (see the module)."""
    cutoff = utc_text(now - timedelta(days=retention_days))
    if dry_run:
        marks = ",".join("?" * len(CLOSED))
        count = db.execute(
            f"SELECT count(*) FROM mentions WHERE status IN ({marks}) AND updated_at < ?"
            " AND redacted_at IS NULL"
            " AND id NOT IN (SELECT mention_id FROM incident_mentions)",
            (*CLOSED, cutoff),
        ).fetchone()[0]
        return Purged(cutoff, count, True)
    done = 0
    stamp = utc_text(now)
    while True:
        with transaction(db):
            ids = _due(db, cutoff, CHUNK)
            if not ids:
                break
            marks = ",".join("?" * len(ids))
            db.execute(
                f"UPDATE mentions SET title = '', text = ?, author = '', url = '',"
                f" redacted_at = ? WHERE id IN ({marks})",
                (REDACTED, stamp, *ids),
            )
            db.execute(
                f"UPDATE mention_matches SET matched = '', why = '' WHERE mention_id IN ({marks})",
                ids,
            )
            done += len(ids)
    if done:
        with transaction(db):
            audit.record(db, actor, "records.purge", "retention", None, None,
                         {"redacted": done, "closed_before": cutoff,
                          "retention_days": retention_days})  # fmt: skip
    return Purged(cutoff, done, False)
