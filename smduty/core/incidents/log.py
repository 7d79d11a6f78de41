"""The incident's running record besides its steps: notes, who was told, and the review."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, time, timedelta

import msgspec

from smduty.core.clock import (
    council_moment,
    local_text,
    now_utc,
    stamp,
    today,
    utc_text,
)
from smduty.core.errors import InvalidInput
from smduty.core.incidents.lifecycle import (
    HOW_TOLD,
    Incident,
    Notification,
    TimelineEntry,
    _log,
    _open_for_change,
    get_incident,
    notifications,
    timeline,
)
from smduty.core.records import audit
from smduty.core.staff import ROLES
from smduty.core.store import transaction
from smduty.core.text import clean_block, clean_line
from smduty.core.values import parse_date

# --- notes, notifications, status --------------------------------------------------------------


def add_note(db: sqlite3.Connection, actor: str, incident_id: int, text: str) -> TimelineEntry:
    text = clean_block(text, 5000)
    if not text:
        raise InvalidInput({"text": "the note is empty"}, f"incident {incident_id}")
    with transaction(db):
        incident = _open_for_change(db, incident_id)
        current = incident.current
        _log(db, incident_id, actor, "note", text, current.step.id if current else None)
        entry = timeline(db, incident_id)[-1]
        audit.record(db, actor, "incident.note", "incident", incident_id, None, {"note": text})
    return entry


def parse_told_at(text: str) -> datetime:
    """`HH:MM` today in council time, or an ISO date-time (council time unless it says)."""
    text = text.strip()
    try:
        if len(text) <= 5 and ":" in text:
            hour, minute = (int(p) for p in text.split(":"))
            return council_moment(datetime.combine(today(), time(hour, minute)))
        return council_moment(datetime.fromisoformat(text))
    except ValueError as exc:
        reason = str(exc) if "UK time" in str(exc) else "use HH:MM or an ISO time"
        raise InvalidInput({"told_at": f"cannot read {text!r}: {reason}"}) from None


def record_notification(
    db: sqlite3.Connection,
    actor: str,
    incident_id: int,
    person: str,
    how: str,
    *,
    role: str = "",
    told_at: datetime | None = None,
    step_id: str | None = None,
    note: str = "",
) -> Notification:
    """Who was told, how and when; `step_id` defaults to the current step."""
    person = clean_line(person, 200)
    how = clean_line(how, 40)
    problems: dict[str, str] = {}
    if not person:
        problems["person"] = "who was told?"
    match = next((h for h in HOW_TOLD if h.lower() == how.lower()), None)
    if match is None:
        problems["how"] = "one of " + ", ".join(HOW_TOLD)
    when = told_at or now_utc()
    if when > now_utc() + timedelta(minutes=1):
        problems["told_at"] = "cannot be in the future"
    with transaction(db):
        incident = _open_for_change(db, incident_id)
        if step_id is None:
            current = incident.current
            step_id = current.step.id if current else None
        elif step_id not in {s.step.id for s in incident.steps}:
            problems["step"] = f"no step {step_id!r}"
        if problems:
            raise InvalidInput(problems, f"incident {incident_id}")
        told = when.astimezone(now_utc().tzinfo).replace(microsecond=0)
        told_text = utc_text(told)
        cursor = db.execute(
            "INSERT INTO incident_notifications (incident_id, step_id, person, role, how,"
            " told_at, note, recorded_by, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                incident_id,
                step_id,
                person,
                clean_line(role, 100),
                match,
                told_text,
                clean_block(note, 1000),
                actor,
                stamp(),
            ),
        )
        role_text = f" ({ROLES.get(role, role)})" if role else ""
        _log(
            db,
            incident_id,
            actor,
            "notified",
            f"Told {person}{role_text} by {match} at {local_text(told_text)}",
            step_id,
        )
        found = next(n for n in notifications(db, incident_id) if n.id == cursor.lastrowid)
        audit.record(
            db,
            actor,
            "incident.notify",
            "incident",
            incident_id,
            None,
            msgspec.structs.asdict(found),
        )
    return found


def parse_actions(lines: list[str] | tuple[str, ...]) -> list[dict]:
    """Follow-up actions written `action | owner | YYYY-MM-DD`, one per line (blank lines
    skipped); a line that is not three parts is refused by its number."""
    actions = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) != 3:
            raise InvalidInput({"actions": f"line {number}: write action | owner | YYYY-MM-DD"})
        actions.append(dict(zip(("action", "owner", "due"), parts, strict=True)))
    return actions


REVIEW_FIELDS = ("what_happened", "what_worked", "lessons")


def save_review(
    db: sqlite3.Connection,
    actor: str,
    incident_id: int,
    *,
    what_happened: str,
    what_worked: str = "",
    lessons: str = "",
    actions: list[dict] | None = None,
) -> Incident:
    """The post-incident review; follow-up actions each need an owner and a due date."""
    review = {
        "what_happened": clean_block(what_happened, 10_000),
        "what_worked": clean_block(what_worked, 10_000),
        "lessons": clean_block(lessons, 10_000),
        "actions": [],
    }
    problems: dict[str, str] = {}
    if not review["what_happened"]:
        problems["what_happened"] = "say what happened"
    for number, action in enumerate(actions or [], start=1):
        text = clean_line(action.get("action", ""), 500)
        owner = clean_line(action.get("owner", ""), 200)
        due = parse_date(action.get("due", ""), f"action {number} due", problems)
        if not text or not owner or due is None:
            problems[f"action {number}"] = "each follow-up action needs the action, owner, due"
            continue
        review["actions"].append({"action": text, "owner": owner, "due": due.isoformat()})
    if problems:
        raise InvalidInput(problems, f"incident {incident_id} review")
    with transaction(db):
        incident = get_incident(db, incident_id)
        review["recorded_by"], review["recorded_at"] = actor, stamp()
        db.execute(
            "UPDATE incidents SET review_json = ? WHERE id = ?",
            (json.dumps(review, ensure_ascii=False), incident_id),
        )
        _log(
            db,
            incident_id,
            actor,
            "review",
            f"Post-incident review recorded ({len(review['actions'])} follow-up actions)",
        )
        audit.record(
            db, actor, "incident.review", "incident", incident_id, incident.review or None, review
        )
    return get_incident(db, incident_id)
