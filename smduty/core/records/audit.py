"""The audit log: who changed what, when, with the record before and after.

Every core write calls `record` inside its own transaction, so a change and its audit row land
together or not at all.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from smduty.core.clock import stamp


def _dump(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)


def record(
    db: sqlite3.Connection,
    actor: str,
    action: str,
    entity: str,
    entity_id: object,
    before: Any = None,
    after: Any = None,
) -> None:
    if not db.in_transaction:
        raise RuntimeError("audit.record must run inside the change's transaction")
    db.execute(
        "INSERT INTO audit_log (at, actor, action, entity, entity_id, before_json, after_json)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            stamp(),
            actor,
            action,
            entity,
            None if entity_id is None else str(entity_id),
            _dump(before),
            _dump(after),
        ),
    )


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: str
    actor: str
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
) -> list[AuditEntry]:
    """Newest first, optionally for one entity."""
    sql = "SELECT * FROM audit_log"
    args: list[object] = []
    if entity is not None:
        sql += " WHERE entity = ?"
        args.append(entity)
        if entity_id is not None:
            sql += " AND entity_id = ?"
            args.append(str(entity_id))
    sql += " ORDER BY id DESC LIMIT ?"
    args.append(limit)
    return [
        AuditEntry(
            r["id"],
            r["at"],
            r["actor"],
            r["action"],
            r["entity"],
            r["entity_id"],
            json.loads(r["before_json"]) if r["before_json"] else None,
            json.loads(r["after_json"]) if r["after_json"] else None,
        )
        for r in db.execute(sql, args)
    ]
