"""Flagging open mentions again after the rules change (`smduty rules rescan`).

Open mentions (new, in progress, snoozed) are read a batch at a time and flagged with the rules
in force; those whose verdict changed get their risk, rating, categories and matches replaced,
each batch in one short transaction, so the team's own writes never wait long. Each changed
mention has an audit row (its rating before and after), and the rescan one row of its own.
Closed mentions keep the verdict they were handled under: that is the record.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from datetime import datetime

import msgspec

from smduty.core.clock import stamp, utc_text
from smduty.core.monitoring.flagging import RATING_RANK, RuleSet
from smduty.core.monitoring.imports import pending_ranges
from smduty.core.records import audit
from smduty.core.store import transaction

RESCANNED = ("new", "in_progress", "snoozed")
BATCH = 2000


class RescanResult(msgspec.Struct):
    scanned: int = 0
    changed: int = 0
    raised: int = 0  # to a higher rating
    lowered: int = 0
    before: Counter = msgspec.field(default_factory=Counter)  # ratings of the changed mentions
    after: Counter = msgspec.field(default_factory=Counter)
    rules_file: str = ""

    def as_dict(self) -> dict:
        return {
            "scanned": self.scanned,
            "changed": self.changed,
            "raised": self.raised,
            "lowered": self.lowered,
            "before": dict(self.before),
            "after": dict(self.after),
            "rules_file": self.rules_file,
        }


def rescan(
    db: sqlite3.Connection,
    actor: str,
    rules: RuleSet,
    since: datetime | None = None,
    progress=None,
) -> RescanResult:
    """Flag again every open mention (first seen on or after `since`, if given)."""
    result = RescanResult(rules_file=str(rules.path))
    last_id = 0
    where = f"status IN ({','.join('?' * len(RESCANNED))}) AND id > ?"
    args: tuple = RESCANNED
    for first, end in pending_ranges(db):  # an import still being written is flagged as it goes
        where += f" AND id NOT BETWEEN {int(first)} AND {int(end)}"
    if since is not None:
        where += " AND ingested_at >= ?"
    while True:
        params = (*args, last_id, *([utc_text(since)] if since is not None else []))
        rows = db.execute(
            "SELECT id, title, text, risk, rating, categories FROM mentions"
            f" WHERE {where} ORDER BY id LIMIT {BATCH}",
            params,
        ).fetchall()
        if not rows:
            break
        last_id = rows[-1]["id"]
        result.scanned += len(rows)
        changes = []
        for row in rows:
            verdict = rules.scan({"title": row["title"], "text": row["text"]})
            categories = ",".join(verdict.categories)
            if (verdict.risk, verdict.rating, categories) != (
                row["risk"],
                row["rating"],
                row["categories"],
            ):
                changes.append((row, verdict, categories))
        if changes:
            _store(db, actor, changes, result)
        if progress:
            progress(result.scanned)
    with transaction(db):
        audit.record(db, actor, "rules.rescan", "rules", None, None, result.as_dict())
    return result


def _store(db: sqlite3.Connection, actor: str, changes: list, result: RescanResult) -> None:
    now = stamp()
    with transaction(db):
        for row, verdict, categories in changes:
            mention_id = row["id"]
            db.execute(
                "UPDATE mentions SET risk = ?, rating = ?, rating_rank = ?, categories = ?,"
                " about_council = max(about_council, ?), updated_at = ? WHERE id = ?",
                (verdict.risk, verdict.rating, RATING_RANK[verdict.rating], categories,
                 int(verdict.about_council), now, mention_id),
            )  # fmt: skip
            db.execute("DELETE FROM mention_matches WHERE mention_id = ?", (mention_id,))
            db.executemany(
                "INSERT INTO mention_matches (mention_id, rule, category, matched, field, start,"
                " end, likelihood, consequence, why) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (mention_id, m.rule, m.category, m.matched[:200], m.field, m.start, m.end,
                     m.likelihood, m.consequence, m.why[:500])
                    for m in verdict.matches
                ],
            )  # fmt: skip
            before = {"risk": row["risk"], "rating": row["rating"], "categories": row["categories"]}
            after = {"risk": verdict.risk, "rating": verdict.rating, "categories": categories}
            audit.record(db, actor, "mention.rescan", "mention", mention_id, before, after)
            result.changed += 1
            result.before[row["rating"]] += 1
            result.after[verdict.rating] += 1
            if RATING_RANK[verdict.rating] > RATING_RANK[row["rating"]]:
                result.raised += 1
            elif RATING_RANK[verdict.rating] < RATING_RANK[row["rating"]]:
                result.lowered += 1
