"""One mention in full, for the detail pane: the item, where it came from, why it was flagged,
its history from the audit trail and its recorded breach."""

from __future__ import annotations

import sqlite3

import msgspec

from smduty.core.monitoring.mentions import mention_matches, mention_sources
from smduty.core.records import audit
from smduty.core.triage.breaches import Breach, breach_of
from smduty.core.triage.queue import QueueItem, get_item


class HistoryEntry(msgspec.Struct, frozen=True):
    at: str
    actor: str
    action: str
    status: str
    facts: dict = msgspec.field(default_factory=dict)


class Detail(msgspec.Struct, frozen=True):
    item: QueueItem
    sources: list[str]
    matches: list[dict]
    history: list[HistoryEntry]
    breach: Breach | None = None  # its response target, missed: on the record for good


def detail(db: sqlite3.Connection, mention_id: int) -> Detail:
    item = get_item(db, mention_id)
    history = []
    for entry in reversed(audit.entries(db, entity="mention", entity_id=str(mention_id))):
        after = dict(entry.after or {})
        status = after.pop("status", "")
        after.pop("assigned_to", None)
        history.append(HistoryEntry(entry.at, entry.actor, entry.action, status, after))
    return Detail(
        item,
        mention_sources(db, mention_id),
        mention_matches(db, mention_id),
        history,
        breach_of(db, mention_id),
    )
