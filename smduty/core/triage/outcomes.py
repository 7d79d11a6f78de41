"""Triage outcomes: each change of a mention's state, audited with the facts it needs.

Reopen takes any closed or snoozed mention back to new. Each outcome needs its facts (004
Appendix, 000 Appendix 1); a missing fact is refused with what is missing.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, time, timedelta

from msgspec.structs import replace

from smduty.core.clock import COUNCIL_TZ, check_range, council_moment, now_utc, utc_text
from smduty.core.errors import InvalidInput, Refused
from smduty.core.monitoring.flag_verdict import RATING_RANK
from smduty.core.records import audit
from smduty.core.staff import get_staff
from smduty.core.store import transaction
from smduty.core.text import clean_block, clean_line
from smduty.core.triage.assessment import Guide
from smduty.core.triage.breaches import on_handled
from smduty.core.triage.queue import CLOSED, OPEN, STATE_LABELS, QueueItem, get_item

BULK_DISMISS_MAX_RATING = "low"


_KEEP = object()


def _change(
    db: sqlite3.Connection,
    actor: str,
    mention_id: int,
    action: str,
    to_status: str,
    *,
    allowed_from: Sequence[str],
    facts: dict | None = None,
    assigned_to: object = _KEEP,
    snoozed_until: str | None = None,
    when: datetime | None = None,
) -> QueueItem:
    with transaction(db):
        item = get_item(db, mention_id)
        if item.status not in allowed_from:
            hint = " (reopen it first)" if item.status in CLOSED else ""
            raise Refused(
                f"mention {mention_id} is {STATE_LABELS[item.status]}: cannot "
                f"{action.replace('_', ' ')} it{hint}"
            )
        assigned = item.assigned_to if assigned_to is _KEEP else assigned_to
        outcome = facts or {}
        stamp = utc_text(when or now_utc())
        db.execute(
            "UPDATE mentions SET status = ?, assigned_to = ?, outcome = ?, snoozed_until = ?,"
            " updated_at = ? WHERE id = ?",
            (
                to_status,
                assigned,
                json.dumps(outcome, ensure_ascii=False),
                snoozed_until,
                stamp,
                mention_id,
            ),
        )
        if item.status in OPEN and to_status in CLOSED:
            on_handled(db, mention_id, item.rating, item.waiting_since, to_status,
                       when or now_utc(), _targets())  # fmt: skip
        audit.record(
            db,
            actor,
            f"mention.{action}",
            "mention",
            mention_id,
            {"status": item.status, "assigned_to": item.assigned_to},
            {"status": to_status, "assigned_to": assigned, **outcome},
        )
    return replace(
        item,
        status=to_status,
        assigned_to=assigned,
        outcome=outcome,
        snoozed_until=snoozed_until,
    )


def _targets():
    """The response targets in the operator's config (None if the config cannot be read: the
    breach is then left to `record_breaches`, which the dashboard and queue run)."""
    from smduty.core.config import ConfigError, load_config
    from smduty.core.triage.targets import load_targets

    try:
        return load_targets(load_config())
    except ConfigError:
        return None


def _note(note: str) -> dict:
    return {"note": clean_block(note, 2000)} if note.strip() else {}


def _refuse_missing(problems: dict[str, str], mention_id: int) -> None:
    if problems:
        raise InvalidInput(problems, f"mention {mention_id}")


def assign(
    db: sqlite3.Connection, actor: str, mention_id: int, officer: str, note: str = ""
) -> QueueItem:
    """Give the mention to an officer. Taking it from another officer is allowed (people go
    off shift) but never silent: the outcome and the audit entry name who it was taken from."""
    officer = clean_line(officer, 100)
    if not officer:
        _refuse_missing({"officer": "say who will work on it"}, mention_id)
    person = get_staff(db, officer)
    if person.left_on:
        raise Refused(f"{person.name} has left the council: assign someone else")
    facts = _note(note)
    with transaction(db):  # the holder read and the change in one transaction
        holder = get_item(db, mention_id).assigned_to
        if holder and holder != person.name:
            facts["taken_from"] = holder  # in the outcome and the audit entry
        return _change(
            db,
            actor,
            mention_id,
            "assign",
            "in_progress",
            allowed_from=("new", "in_progress", "snoozed"),
            facts=facts,
            assigned_to=person.name,
        )


OUTCOME_FROM = ("new", "in_progress", "snoozed")


def respond(
    db: sqlite3.Connection,
    actor: str,
    mention_id: int,
    response: str,
    checks: Iterable[str],
    guide: Guide,
    note: str = "",
    pre_election_checked: bool = False,
) -> QueueItem:
    """Record the council's response (its text or a link to it); every "before you respond"
    check in the guide must be confirmed, and in a pre-election period the election guidance
    (004 §4.2.6) too."""
    from smduty.core.clock import today
    from smduty.core.election import GUIDANCE, in_force

    response = clean_block(response, 5000)
    confirmed = set(checks)
    problems = {}
    if not response:
        problems["response"] = "give the response as sent, or a link to it"
    missing = [c.label for c in guide.before_you_respond if c.id not in confirmed]
    if missing:
        problems["checks"] = "confirm the 'before you respond' checks: " + ", ".join(missing)
    election = in_force(db, today())
    if election is not None and not pre_election_checked:
        problems["pre_election"] = f"confirm the pre-election guidance ({GUIDANCE})"
    _refuse_missing(problems, mention_id)
    facts = {"response": response, "checks": [c.id for c in guide.before_you_respond]}
    if election is not None:
        facts["pre_election"] = election.name
    if note.strip():
        facts["note"] = clean_block(note, 2000)
    return _change(
        db, actor, mention_id, "respond", "responded", allowed_from=OUTCOME_FROM, facts=facts
    )


def refer(db: sqlite3.Connection, actor: str, mention_id: int, to: str, note: str) -> QueueItem:
    """Refer to a service, team or staff member, with a note of what was passed on."""
    to, note = clean_line(to, 200), clean_block(note, 2000)
    problems = {}
    if not to:
        problems["to"] = "say who it is referred to (a service, team or staff member)"
    if not note:
        problems["note"] = "add a note of what was passed on"
    _refuse_missing(problems, mention_id)
    return _change(
        db,
        actor,
        mention_id,
        "refer",
        "referred",
        allowed_from=OUTCOME_FROM,
        facts={"to": to, "note": note},
    )


def no_engagement(
    db: sqlite3.Connection,
    actor: str,
    mention_id: int,
    reason: str,
    guide: Guide,
    note: str = "",
) -> QueueItem:
    known = {c.id: c.label for c in guide.no_engagement_reasons}
    reason = reason.strip()
    if reason not in known:
        options = "; ".join(f"{k} ({v})" for k, v in known.items())
        problems = {"reason": f"give one of the assessment's reasons: {options}"}
        if not reason:
            problems["reason"] = "say why there is no engagement: " + options
        _refuse_missing(problems, mention_id)
    facts = {"reason": reason, "reason_label": known[reason]}
    if note.strip():
        facts["note"] = clean_block(note, 2000)
    return _change(
        db,
        actor,
        mention_id,
        "no_engagement",
        "no_engagement",
        allowed_from=OUTCOME_FROM,
        facts=facts,
    )


def escalate(
    db: sqlite3.Connection,
    actor: str,
    mention_id: int,
    note: str,
    incident_id: int,
) -> QueueItem:
    """Escalate: the mention goes to the incident procedure, linked to its incident (opened or
    named by `incidents.lifecycle.escalate_mention`, in the same transaction)."""
    facts: dict = {"note": clean_block(note, 2000), "incident": incident_id}
    return _change(
        db,
        actor,
        mention_id,
        "escalate",
        "escalated",
        allowed_from=OUTCOME_FROM,
        facts=facts,
    )


def dismiss(db: sqlite3.Connection, actor: str, mention_id: int, note: str = "") -> QueueItem:
    """Not relevant (an unrelated post that matched a word, say)."""
    facts = _note(note)
    return _change(
        db, actor, mention_id, "dismiss", "dismissed", allowed_from=OUTCOME_FROM, facts=facts
    )


def dismiss_many(
    db: sqlite3.Connection, actor: str, mention_ids: Iterable[int], note: str = ""
) -> int:
    """Dismiss several low-risk mentions in one transaction: all of them or none."""
    ids = sorted(set(mention_ids))
    limit = RATING_RANK[BULK_DISMISS_MAX_RATING]
    with transaction(db):
        for mention_id in ids:
            item = get_item(db, mention_id)
            if item.rating_rank > limit:
                raise Refused(
                    f"mention {mention_id} is rated {item.rating}: bulk dismiss is for "
                    f"{BULK_DISMISS_MAX_RATING}-risk mentions only; triage it on its own"
                )
            dismiss(db, actor, mention_id, note or "dismissed in bulk")
    return len(ids)


def snooze(
    db: sqlite3.Connection,
    actor: str,
    mention_id: int,
    until: datetime,
    note: str = "",
    *,
    now: datetime | None = None,
) -> QueueItem:
    now = now or now_utc()
    if until.tzinfo is None:
        raise ValueError("snooze needs an aware datetime")
    if until <= now:
        _refuse_missing({"until": "snooze until a time in the future"}, mention_id)
    facts = {"until": utc_text(until)}
    if note.strip():
        facts["note"] = clean_block(note, 2000)
    return _change(
        db,
        actor,
        mention_id,
        "snooze",
        "snoozed",
        allowed_from=("new", "in_progress", "snoozed"),
        facts=facts,
        snoozed_until=utc_text(until),
    )


def reopen(db: sqlite3.Connection, actor: str, mention_id: int, note: str = "") -> QueueItem:
    facts = _note(note)
    return _change(
        db,
        actor,
        mention_id,
        "reopen",
        "new",
        allowed_from=(*CLOSED, "snoozed", "in_progress"),
        facts=facts,
        assigned_to=None,
    )


def wake_snoozed(db: sqlite3.Connection, now: datetime | None = None) -> int:
    """Snoozed mentions whose time has come go back to new (audited as smduty's own act)."""
    now_text = utc_text(now or now_utc())
    due = [
        r[0]
        for r in db.execute(
            "SELECT id FROM mentions WHERE snoozed_until IS NOT NULL AND snoozed_until <= ?"
            " AND status = 'snoozed'",
            (now_text,),
        )
    ]
    if not due:
        return 0
    with transaction(db):
        for mention_id in due:
            item = get_item(db, mention_id)
            if item.status == "snoozed":
                _change(
                    db,
                    "smduty",
                    mention_id,
                    "wake",
                    "new",
                    allowed_from=("snoozed",),
                    facts={"note": f"snooze ended at {item.snoozed_until}"},
                )
    return len(due)


_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def parse_until(text: str, now: datetime | None = None) -> datetime:
    """When a snooze ends: "2h", "30m", "3d", "tomorrow" or a weekday (09:00 local), or an ISO
    date or date-time (local time unless it says otherwise). ValueError names what it wants."""
    now = now or now_utc()
    value = text.strip().lower()
    units = {"m": 1, "h": 60, "d": 24 * 60}
    if len(value) > 1 and value[:-1].isdigit() and value[-1] in units:
        minutes = int(value[:-1]) * units[value[-1]]
        if minutes > 400 * 24 * 60:
            raise ValueError(f"{text!r} is more than a year away")
        return now + timedelta(minutes=minutes)
    local = now.astimezone(COUNCIL_TZ)
    if value == "tomorrow" or value in _WEEKDAYS:
        days = 1
        if value in _WEEKDAYS:
            days = (_WEEKDAYS.index(value) - local.weekday()) % 7 or 7
        day = local.date() + timedelta(days=days)
        return datetime.combine(day, time(9, 0), COUNCIL_TZ).astimezone(UTC)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r} is not a time: use 2h, 30m, 3d, tomorrow, a weekday, or 2026-11-23T09:00"
        ) from None
    if len(text.strip()) == 10:  # a bare date: 09:00 that day
        moment = moment.replace(hour=9)
    check_range(moment.date(), "the time")
    return council_moment(moment).astimezone(UTC)
