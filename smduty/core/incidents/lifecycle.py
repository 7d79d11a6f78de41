"""Incidents: the "something went wrong" procedure run step by step, kept as it happens.

An incident keeps a copy of the playbook it was opened with, one row per step (its state and
the facts recorded), a timeline (an entry for every change, and free notes), who was told and
when, and the post-incident review. Every change is one transaction with its timeline entry and
audit row, so closing the laptop mid-step loses nothing and reopening resumes at the same step.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from functools import lru_cache

import msgspec

from smduty.core.clock import now_utc, parse_stamp, stamp
from smduty.core.errors import InvalidInput, NotFound, Refused
from smduty.core.incidents.playbook import Playbook, Step, playbook_in_force
from smduty.core.incidents.posts import current_stop
from smduty.core.records import audit
from smduty.core.register.channels import get_channel
from smduty.core.store import transaction
from smduty.core.text import clean_block, clean_line

SEVERITIES = ("low", "medium", "high", "critical")
STATUSES = ("open", "monitoring", "closed")
STEP_STATES = ("pending", "done", "skipped", "not_applicable")
STATE_MARKS = {"pending": "·", "done": "✓", "skipped": "–", "not_applicable": "n/a"}
HOW_TOLD = ("phone", "in person", "voicemail", "text message", "email", "Teams")
YES = {"yes", "y", "true", "1"}
NO = {"no", "n", "false", "0"}
# Without a mention to go by, an incident starts as high until the comms team assess it.
DEFAULT_SEVERITY = "high"


class StepRecord(msgspec.Struct, frozen=True):
    step: Step
    state: str
    facts: dict
    reason: str
    updated_by: str | None
    updated_at: str | None
    applies: bool | None  # False: its condition is not met; None: not yet known

    def as_json(self) -> dict:
        return {
            "id": self.step.id,
            "title": self.step.title,
            "state": self.state,
            "facts": self.facts,
            "reason": self.reason,
            "updated_by": self.updated_by,
            "updated_at": self.updated_at,
            "policy": self.step.policy,
        }


class TimelineEntry(msgspec.Struct, frozen=True):
    id: int
    at: str
    actor: str
    kind: str
    step_id: str | None
    text: str


class Notification(msgspec.Struct, frozen=True):
    id: int
    step_id: str | None
    person: str
    role: str
    how: str
    told_at: str
    note: str
    recorded_by: str
    recorded_at: str


class Incident(msgspec.Struct, frozen=True):
    id: int
    title: str
    description: str
    severity: str
    status: str
    channel: str
    playbook: Playbook
    opened_by: str
    opened_at: str
    closed_by: str | None
    closed_at: str | None
    review: dict
    mentions: tuple[int, ...]
    steps: tuple[StepRecord, ...]
    last_activity: str = ""
    facts: dict = msgspec.field(default_factory=dict)

    @property
    def current(self) -> StepRecord | None:
        """The first step still to do, or None when every step has an answer."""
        return next(
            (s for s in self.steps if s.state == "pending" and s.applies is not False), None
        )

    def record(self, step_id: str) -> StepRecord:
        for record in self.steps:
            if record.step.id == step_id:
                return record
        known = ", ".join(s.step.id for s in self.steps)
        raise NotFound(f"incident {self.id} has no step {step_id!r} (steps: {known})")

    def summary_json(self) -> dict:
        current = self.current
        return {
            "id": self.id,
            "title": self.title,
            "severity": self.severity,
            "status": self.status,
            "channel": self.channel,
            "opened_by": self.opened_by,
            "opened_at": self.opened_at,
            "closed_by": self.closed_by,
            "closed_at": self.closed_at,
            "current_step": current.step.id if current else None,
            "last_activity": self.last_activity,
            "mentions": list(self.mentions),
        }


def _all_facts(rows: list[sqlite3.Row]) -> dict:
    facts: dict = {}
    for row in rows:
        if row["state"] == "done":
            facts.update(json.loads(row["facts_json"]))
    return facts


@lru_cache(maxsize=16)
def _playbook(text: str) -> Playbook:
    # Incidents opened under the same playbook share its text: read it once, not per incident.
    return Playbook.from_json(json.loads(text))


def get_incident(db: sqlite3.Connection, incident_id: int) -> Incident:
    row = db.execute("SELECT * FROM incidents WHERE id = ?", (incident_id,)).fetchone()
    if row is None:
        raise NotFound(f"no incident {incident_id}")
    playbook = _playbook(row["playbook_json"])
    step_rows = db.execute(
        "SELECT * FROM incident_steps WHERE incident_id = ? ORDER BY position", (incident_id,)
    ).fetchall()
    facts = _all_facts(step_rows)
    by_id = {r["step_id"]: r for r in step_rows}
    steps = []
    for step in playbook.steps:
        r = by_id[step.id]
        condition = step.condition
        steps.append(
            StepRecord(
                step,
                r["state"],
                json.loads(r["facts_json"]),
                r["reason"],
                r["updated_by"],
                r["updated_at"],
                True if condition is None else condition.test(facts),
            )
        )
    mentions = tuple(
        m[0]
        for m in db.execute(
            "SELECT mention_id FROM incident_mentions WHERE incident_id = ? ORDER BY linked_at",
            (incident_id,),
        )
    )
    last = db.execute(
        "SELECT max(at) FROM incident_timeline WHERE incident_id = ?", (incident_id,)
    ).fetchone()[0]
    return Incident(
        row["id"],
        row["title"],
        row["description"],
        row["severity"],
        row["status"],
        row["channel"],
        playbook,
        row["opened_by"],
        row["opened_at"],
        row["closed_by"],
        row["closed_at"],
        json.loads(row["review_json"]),
        mentions,
        tuple(steps),
        last or row["opened_at"],
        facts,
    )


def list_incidents(db: sqlite3.Connection, *, include_closed: bool = True) -> list[Incident]:
    """Open and monitoring first (newest first), then closed ones, newest first."""
    sql = "SELECT id FROM incidents"
    if not include_closed:
        sql += " WHERE status != 'closed'"
    sql += " ORDER BY status = 'closed', opened_at DESC, id DESC LIMIT 500"
    return [get_incident(db, r[0]) for r in db.execute(sql)]


def timeline(db: sqlite3.Connection, incident_id: int) -> list[TimelineEntry]:
    return [
        TimelineEntry(r["id"], r["at"], r["actor"], r["kind"], r["step_id"], r["text"])
        for r in db.execute(
            "SELECT * FROM incident_timeline WHERE incident_id = ? ORDER BY at, id",
            (incident_id,),
        )
    ]


def notifications(db: sqlite3.Connection, incident_id: int) -> list[Notification]:
    return [
        Notification(
            r["id"],
            r["step_id"],
            r["person"],
            r["role"],
            r["how"],
            r["told_at"],
            r["note"],
            r["recorded_by"],
            r["recorded_at"],
        )
        for r in db.execute(
            "SELECT * FROM incident_notifications WHERE incident_id = ? ORDER BY told_at, id",
            (incident_id,),
        )
    ]


def _log(
    db: sqlite3.Connection,
    incident_id: int,
    actor: str,
    kind: str,
    text: str,
    step_id: str | None = None,
    at: str | None = None,
) -> None:
    db.execute(
        "INSERT INTO incident_timeline (incident_id, at, actor, kind, step_id, text)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (incident_id, at or stamp(), actor, kind, step_id, text),
    )


def _open_for_change(db: sqlite3.Connection, incident_id: int) -> Incident:
    incident = get_incident(db, incident_id)
    if incident.status == "closed":
        raise Refused(f"incident {incident_id} is closed: its record can no longer change")
    return incident


# --- opening ---------------------------------------------------------------------------------


def start(
    db: sqlite3.Connection,
    actor: str,
    title: str,
    *,
    description: str = "",
    severity: str = "",
    mention_id: int | None = None,
    channel: str = "",
    playbook: Playbook | None = None,
) -> Incident:
    """Open an incident; a mention named is linked and escalated in the same transaction."""
    playbook = playbook or playbook_in_force()[0]
    title = clean_line(title, 200)
    description = clean_block(description, 5000)
    channel = clean_line(channel, 200)
    problems: dict[str, str] = {}
    if not title:
        problems["title"] = "give the incident a short title"
    if severity and severity not in SEVERITIES:
        problems["severity"] = f"use one of {', '.join(SEVERITIES)}"
    with transaction(db):
        mention = None
        if mention_id is not None:
            mention = db.execute(
                "SELECT id, rating, status FROM mentions WHERE id = ?", (mention_id,)
            ).fetchone()
            if mention is None:
                problems["mention"] = f"no mention with id {mention_id}"
        if channel:
            try:
                channel = get_channel(db, channel).name
            except NotFound:
                problems["channel"] = f"no channel called {channel!r} in the register"
        if problems:
            raise InvalidInput(problems, "incident")
        if not severity:
            rating = mention["rating"] if mention is not None else ""
            severity = rating if rating in SEVERITIES else DEFAULT_SEVERITY
        opened = stamp()
        cursor = db.execute(
            "INSERT INTO incidents (title, description, severity, channel, playbook_json,"
            " opened_by, opened_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                title,
                description,
                severity,
                channel,
                json.dumps(playbook.as_json(), ensure_ascii=False),
                actor,
                opened,
            ),
        )
        incident_id = cursor.lastrowid
        db.executemany(
            "INSERT INTO incident_steps (incident_id, step_id, position) VALUES (?, ?, ?)",
            [(incident_id, s.id, i) for i, s in enumerate(playbook.steps)],
        )
        _log(db, incident_id, actor, "opened", f"Incident opened: {title}", at=opened)
        if mention is not None:
            _link(db, actor, incident_id, mention_id, description or title)
        incident = get_incident(db, incident_id)
        audit.record(
            db, actor, "incident.start", "incident", incident_id, None, incident.summary_json()
        )
    return get_incident(db, incident_id)


def _link(db: sqlite3.Connection, actor: str, incident_id: int, mention_id: int, why: str) -> None:
    db.execute(
        "INSERT OR IGNORE INTO incident_mentions (incident_id, mention_id, linked_by, linked_at)"
        " VALUES (?, ?, ?, ?)",
        (incident_id, mention_id, actor, stamp()),
    )
    from smduty.core.triage import outcomes  # escalating only: listing incidents needs none of it
    from smduty.core.triage import queue as triage

    item = triage.get_item(db, mention_id)
    if item.status in outcomes.OUTCOME_FROM:
        outcomes.escalate(db, actor, mention_id, why, incident_id=incident_id)
    elif item.status == "escalated":
        # Escalated before the incident existed: the intent becomes the link.
        outcome = {**item.outcome, "incident": incident_id}
        outcome.pop("intent", None)
        db.execute(
            "UPDATE mentions SET outcome = ? WHERE id = ?",
            (json.dumps(outcome, ensure_ascii=False), mention_id),
        )
        audit.record(db, actor, "mention.escalate", "mention", mention_id, item.outcome, outcome)
    _log(db, incident_id, actor, "link", f"Mention #{mention_id} linked")


def link_mention(db: sqlite3.Connection, actor: str, incident_id: int, mention_id: int) -> Incident:
    with transaction(db):
        incident = _open_for_change(db, incident_id)
        if not db.execute("SELECT 1 FROM mentions WHERE id = ?", (mention_id,)).fetchone():
            raise InvalidInput({"mention": f"no mention with id {mention_id}"}, "incident")
        if mention_id in incident.mentions:
            raise Refused(f"mention {mention_id} is already linked to incident {incident_id}")
        _link(db, actor, incident_id, mention_id, f"linked to incident {incident_id}")
    return get_incident(db, incident_id)


def escalate_mention(
    db: sqlite3.Connection,
    actor: str,
    mention_id: int,
    note: str,
    incident_id: int | None = None,
) -> Incident:
    """Escalate a mention in one step: it is linked to the open incident named, or a new
    incident is opened on it (titled by its number, rating and source, never its words, which
    may hold personal data). An escalation never waits for someone to open the incident."""
    if incident_id is not None:
        return link_mention(db, actor, incident_id, mention_id)
    if not clean_block(note, 2000):
        raise InvalidInput(
            {"note": "say what has gone wrong, for the incident record"}, f"mention {mention_id}"
        )
    row = db.execute("SELECT rating, source FROM mentions WHERE id = ?", (mention_id,)).fetchone()
    if row is None:
        raise InvalidInput({"mention": f"no mention with id {mention_id}"}, "escalate")
    title = f"Mention #{mention_id} ({row['rating']}, {row['source']})"
    return start(db, actor, title, description=note, mention_id=mention_id)


def set_status(db: sqlite3.Connection, actor: str, incident_id: int, status: str) -> Incident:
    """Between open and monitoring; closing is `close`."""
    if status not in ("open", "monitoring"):
        raise InvalidInput({"status": "open or monitoring (use close to close it)"})
    with transaction(db):
        incident = _open_for_change(db, incident_id)
        if incident.status == status:
            raise Refused(f"incident {incident_id} is already {status}")
        db.execute("UPDATE incidents SET status = ? WHERE id = ?", (status, incident_id))
        _log(db, incident_id, actor, "status", f"Status {incident.status} -> {status}")
        audit.record(
            db,
            actor,
            "incident.status",
            "incident",
            incident_id,
            {"status": incident.status},
            {"status": status},
        )
    return get_incident(db, incident_id)


def close(db: sqlite3.Connection, actor: str, incident_id: int, note: str = "") -> Incident:
    """Close: every step must have an answer, and posts this incident stopped must be resumed."""
    with transaction(db):
        incident = _open_for_change(db, incident_id)
        waiting = [
            s.step.id for s in incident.steps if s.state == "pending" and s.applies is not False
        ]
        if waiting:
            raise Refused(
                f"incident {incident_id} still has steps to do: {', '.join(waiting)} "
                "(do them, or skip each with a reason)"
            )
        put_off = [s.step.id for s in incident.steps if s.state == "skipped" and s.step.mandatory]
        if put_off:
            raise Refused(
                f"incident {incident_id} has mandatory steps skipped: {', '.join(put_off)} "
                "(do them, or have a decision-maker rule each not applicable with --decided-by)"
            )
        held = current_stop(db)
        if held is not None and held.incident_id == incident_id:
            raise Refused(
                "scheduled posts this incident stopped are still stopped: resume them first "
                "(smduty posts resume), or keep the incident open as monitoring"
            )
        at = stamp()
        db.execute(
            "UPDATE incidents SET status = 'closed', closed_by = ?, closed_at = ? WHERE id = ?",
            (actor, at, incident_id),
        )
        note = clean_block(note, 2000)
        _log(
            db,
            incident_id,
            actor,
            "closed",
            "Incident closed" + (f": {note}" if note else ""),
            at=at,
        )
        audit.record(
            db,
            actor,
            "incident.close",
            "incident",
            incident_id,
            {"status": incident.status},
            {"status": "closed", "note": note},
        )
    return get_incident(db, incident_id)


def quiet_incidents(
    db: sqlite3.Connection, minutes: int, now: datetime | None = None
) -> list[tuple[Incident, int]]:
    """Incidents not closed whose timeline has had nothing added for `minutes` or more."""
    now = now or now_utc()
    found = []
    for incident in list_incidents(db, include_closed=False):
        last = parse_stamp(incident.last_activity)
        quiet = int((now - last).total_seconds() // 60)
        if quiet >= minutes:
            found.append((incident, quiet))
    return found
