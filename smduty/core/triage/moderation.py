"""The moderation log: every comment a council channel hid or deleted and every user it blocked.

000 Appendix 1: official accounts do not block people or delete comments unless the acceptable
use policy is breached, so each record names the breach and keeps the evidence. 002 warns that
deleting or blocking can escalate matters; the CLI and TUI show WARNING before recording.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

import msgspec

from smduty.core.clock import now_utc, utc_text
from smduty.core.errors import InvalidInput, NotFound
from smduty.core.records import audit
from smduty.core.register.channels import get_channel
from smduty.core.store import transaction
from smduty.core.text import clean_block, clean_line
from smduty.core.triage.assessment import Guide

ACTIONS = ("hide", "delete", "block")
WARNING = (
    "Deleting a comment or blocking a user can make matters worse: people notice, screenshot "
    "and share it (002). Only do it when the acceptable use policy is breached (000 Appendix 1), "
    "and keep the evidence."
)


class ModerationAction(msgspec.Struct, frozen=True):
    id: int
    taken_at: str
    platform: str
    channel: str
    action: str
    user_name: str
    content: str
    breach: str
    evidence: str
    note: str
    mention_id: int | None
    recorded_by: str
    recorded_at: str

    def as_json(self) -> dict:
        return msgspec.structs.asdict(self)


def record(
    db: sqlite3.Connection,
    actor: str,
    guide: Guide,
    *,
    channel: str,
    action: str,
    user_name: str,
    content: str,
    breach: str,
    evidence: str,
    platform: str = "",
    note: str = "",
    mention_id: int | None = None,
    taken_at: datetime | None = None,
) -> ModerationAction:
    """Record one moderation action; every fact the policy asks for is required."""
    values = {
        "channel": clean_line(channel, 200),
        "action": clean_line(action, 20).lower(),
        "user_name": clean_line(user_name, 200),
        "content": clean_block(content, 10_000),
        "breach": clean_line(breach, 100),
        "evidence": clean_line(evidence, 2000),
        "platform": clean_line(platform, 100),
        "note": clean_block(note, 2000),
    }
    problems: dict[str, str] = {}
    if values["action"] not in ACTIONS:
        problems["action"] = f"use one of {', '.join(ACTIONS)}"
    for name, why in (
        ("user_name", "give the user's name or handle"),
        ("content", "paste the content as it was captured"),
        ("evidence", "give the screenshot's path or a URL to it"),
    ):
        if not values[name]:
            problems[name] = why
    breaches = {c.id for c in guide.breaches}
    if values["breach"] not in breaches:
        problems["breach"] = "name the acceptable-use breach: " + ", ".join(sorted(breaches))
    when = taken_at or now_utc()
    if when > now_utc():
        problems["taken_at"] = "cannot be in the future"
    with transaction(db):
        try:
            found = get_channel(db, values["channel"]) if values["channel"] else None
        except NotFound:
            found = None
        if found is None:
            names = [r[0] for r in db.execute("SELECT name FROM channels ORDER BY name LIMIT 12")]
            problems["channel"] = "name a channel in the register: " + ", ".join(names)
        else:
            values["channel"] = found.name
            values["platform"] = values["platform"] or found.platform
        if (
            mention_id is not None
            and not db.execute("SELECT 1 FROM mentions WHERE id = ?", (mention_id,)).fetchone()
        ):
            problems["mention"] = f"no mention with id {mention_id}"
        if problems:
            raise InvalidInput(problems, "moderation record")
        stamp = utc_text(now_utc())
        cursor = db.execute(
            "INSERT INTO moderation_actions (taken_at, platform, channel, action, user_name,"
            " content, breach, evidence, note, mention_id, recorded_by, recorded_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                utc_text(when),
                values["platform"],
                values["channel"],
                values["action"],
                values["user_name"],
                values["content"],
                values["breach"],
                values["evidence"],
                values["note"],
                mention_id,
                actor,
                stamp,
            ),
        )
        entry = get(db, cursor.lastrowid)
        audit.record(db, actor, "moderation.add", "moderation", entry.id, None, entry.as_json())
    return entry


def get(db: sqlite3.Connection, action_id: int) -> ModerationAction:
    row = db.execute("SELECT * FROM moderation_actions WHERE id = ?", (action_id,)).fetchone()
    if row is None:
        raise NotFound(f"no moderation record {action_id}")
    return ModerationAction(**dict(row))


def list_actions(
    db: sqlite3.Connection, *, channel: str = "", limit: int = 500
) -> list[ModerationAction]:
    """Newest first."""
    sql, args = "SELECT * FROM moderation_actions", []
    if channel:
        sql += " WHERE channel = ? COLLATE NOCASE"
        args.append(channel)
    sql += " ORDER BY taken_at DESC, id DESC LIMIT ?"
    args.append(limit)
    return [ModerationAction(**dict(r)) for r in db.execute(sql, args)]
