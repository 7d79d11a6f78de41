"""The audit log: who changed what, when, with the record before and after.

Every core write calls `record` inside its own transaction, so a change and its audit row land
together or not at all. Each row carries a hash over its content and the previous row's hash (a
chain), so a row edited, removed or slipped in with SQL shows in `records.chain.verify`; anchors
kept outside the database catch rows removed from the end and a chain rewritten whole.
"""

from __future__ import annotations

import functools
import hashlib
import json
import sqlite3
from datetime import date, datetime
from typing import Any

import msgspec

from smduty.core.clock import stamp
from smduty.core.config import login_name

GENESIS = "0" * 64  # the "previous hash" of the first row


def _dump(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)


def digest(previous: str, row: tuple) -> str:
    """The hash of one row: `row` is (id, at, actor, login, action, entity, entity_id,
    before_json, after_json) as stored, chained to the previous row's hash."""
    content = json.dumps([previous, *row], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


@functools.cache
def _login() -> str:
    return login_name()


def record(
    db: sqlite3.Connection,
    actor: str,
    action: str,
    entity: str,
    entity_id: object,
    before: Any = None,
    after: Any = None,
) -> None:
    """One audit row, chained to the last. Callers hold the write lock (BEGIN IMMEDIATE), so the
    last row cannot change under us."""
    if not db.in_transaction:
        raise RuntimeError("audit.record must run inside the change's transaction")
    last = db.execute("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    row = (
        (last[0] + 1) if last else 1,
        stamp(),
        actor,
        _login(),
        action,
        entity,
        None if entity_id is None else str(entity_id),
        _dump(before),
        _dump(after),
    )
    previous = (last[1] or GENESIS) if last else GENESIS
    db.execute(
        "INSERT INTO audit_log (id, at, actor, login, action, entity, entity_id, before_json,"
        " after_json, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (*row, digest(previous, row)),
    )


class AuditEntry(msgspec.Struct, frozen=True):
    id: int
    at: str
    actor: str
    login: str
    action: str
    entity: str
    entity_id: str | None
    before: Any
    after: Any


def entries(
    db: sqlite3.Connection,
    entity: str | None = None,
    entity_id: object = None,
    limit: int = 200,
    since: date | datetime | None = None,
    before_id: int | None = None,
) -> list[AuditEntry]:
    """Newest first, optionally for one entity, from a day on, or older than a row (paging)."""
    where: list[str] = []
    args: list[object] = []
    if entity is not None:
        where.append("entity = ?")
        args.append(entity)
        if entity_id is not None:
            where.append("entity_id = ?")
            args.append(str(entity_id))
    if since is not None:
        where.append("at >= ?")
        args.append(since.isoformat())
    if before_id is not None:
        where.append("id < ?")
        args.append(before_id)
    sql = "SELECT * FROM audit_log"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY id DESC LIMIT ?"
    args.append(limit)
    return [
        AuditEntry(
            r["id"],
            r["at"],
            r["actor"],
            r["login"],
            r["action"],
            r["entity"],
            r["entity_id"],
            json.loads(r["before_json"]) if r["before_json"] else None,
            json.loads(r["after_json"]) if r["after_json"] else None,
        )
        for r in db.execute(sql, args)
    ]


def seal(db: sqlite3.Connection) -> None:
    """Migration 13: the rows written before the chain get their hashes, in order. What was
    changed before this ran cannot be detected; everything after can."""
    previous = GENESIS
    rows = db.execute(
        "SELECT id, at, actor, login, action, entity, entity_id, before_json, after_json"
        " FROM audit_log ORDER BY id"
    ).fetchall()
    for row in rows:
        previous = digest(previous, tuple(row))
        db.execute("UPDATE audit_log SET hash = ? WHERE id = ?", (previous, row[0]))
