"""Incident steps: recording a step done with its facts, or skipped with a reason.

Facts are checked against the playbook (kind, range, required, required only when a condition
holds). After each change the later steps' conditions are looked at again: a step that no longer
applies is marked not applicable, and back again if an amended answer brings it back.
"""

from __future__ import annotations

import json
import sqlite3

from smduty.core.clock import stamp
from smduty.core.errors import InvalidInput, Refused
from smduty.core.incidents.lifecycle import (
    NO,
    YES,
    Incident,
    StepRecord,
    _log,
    _open_for_change,
    get_incident,
)
from smduty.core.incidents.playbook import Step, parse_condition
from smduty.core.incidents.posts import current_stop, stop_posts
from smduty.core.monitoring.flag_verdict import rating_for
from smduty.core.records import audit
from smduty.core.store import transaction
from smduty.core.text import clean_block, clean_line

# --- steps -----------------------------------------------------------------------------------


def _check_facts(step: Step, values: dict, known: dict, problems: dict[str, str]) -> dict:
    """Turn what the operator typed into typed facts; problems name the fact's key."""
    facts: dict = {}
    for fact in step.facts:
        raw = values.get(fact.key)
        text = "" if raw is None else str(raw).strip()
        if fact.kind == "yesno" and text:
            low = text.lower()
            if low in YES:
                facts[fact.key] = "yes"
            elif low in NO:
                facts[fact.key] = "no"
            else:
                problems[fact.key] = "answer yes or no"
        elif fact.kind == "number" and text:
            try:
                number = int(text)
            except ValueError:
                problems[fact.key] = "a whole number is needed"
                continue
            low_ok = fact.min is None or number >= fact.min
            high_ok = fact.max is None or number <= fact.max
            if not (low_ok and high_ok):
                problems[fact.key] = f"from {fact.min} to {fact.max}"
                continue
            facts[fact.key] = number
        elif fact.kind == "choice" and text:
            match = next(
                (cid for cid, label in fact.choices if text.lower() in (cid, label.lower())),
                None,
            )
            if match is None:
                problems[fact.key] = "choose " + ", ".join(cid for cid, _ in fact.choices)
            else:
                facts[fact.key] = match
        elif text:
            size = 5000 if fact.kind == "note" else 1000
            facts[fact.key] = (
                clean_block(text, size) if fact.kind == "note" else clean_line(text, size)
            )
    seen = {**known, **facts}
    for fact in step.facts:
        if fact.key in facts or fact.key in problems:
            continue
        needed = not fact.optional
        if fact.required_when:
            needed = parse_condition(fact.required_when).test(seen) is True
        if needed:
            problems[fact.key] = "needed" + (
                f" (because {fact.required_when})" if fact.required_when else ""
            )
    unknown = set(values) - {f.key for f in step.facts}
    if unknown:
        problems["facts"] = f"step {step.id!r} has no fact {', '.join(sorted(unknown))}"
    return facts


def complete_step(
    db: sqlite3.Connection, actor: str, incident_id: int, step_id: str, values: dict
) -> Incident:
    """Record a step as done with its facts (again, to amend them); missing facts are refused."""
    with transaction(db):
        incident = _open_for_change(db, incident_id)
        record = incident.record(step_id)
        step = record.step
        if record.applies is False:
            raise Refused(
                f"step {step_id!r} does not apply to this incident ({step.when} is not so)"
            )
        problems: dict[str, str] = {}
        known = {k: v for k, v in incident.facts.items() if k not in record.facts}
        facts = _check_facts(step, values, known, problems)
        if step.notify and not problems:
            told = db.execute(
                "SELECT count(*) FROM incident_notifications WHERE incident_id = ? AND step_id = ?",
                (incident_id, step_id),
            ).fetchone()[0]
            if not told:
                problems["told"] = "record who was told, how and when first"
        if problems:
            raise InvalidInput(problems, f"incident {incident_id} step {step_id}")
        if step.matrix:
            facts["score"] = facts["likelihood"] * facts["consequence"]
            facts["rating"] = rating_for(facts["score"])
        _set_step(db, actor, incident, record, "done", facts, "")
        verb = "amended" if record.state == "done" else "done"
        _log(
            db,
            incident_id,
            actor,
            "step",
            f"Step {verb}: {step.title}{_fact_line(step, facts)}",
            step_id,
        )
        if step.matrix and facts["rating"] != incident.severity:
            db.execute(
                "UPDATE incidents SET severity = ? WHERE id = ?", (facts["rating"], incident_id)
            )
            _log(
                db,
                incident_id,
                actor,
                "severity",
                f"Severity {incident.severity} -> {facts['rating']} (score {facts['score']})",
                step_id,
            )
        if step.action == "stop_posts" and facts.get("stop_posts") == "yes":
            held = current_stop(db)
            if held is None:
                stop_posts(db, actor, f"Incident {incident_id}: {incident.title}", incident_id)
            else:
                _log(
                    db,
                    incident_id,
                    actor,
                    "posts",
                    f"Scheduled posts were already stopped ({held.stopped_at}, by "
                    f"{held.stopped_by})",
                    step_id,
                )
        _settle(db, actor, get_incident(db, incident_id))
    return get_incident(db, incident_id)


def _fact_line(step: Step, facts: dict) -> str:
    shown = []
    for fact in step.facts:
        if fact.key in facts and fact.kind != "note":
            value = facts[fact.key]
            shown.append(f"{fact.label}: {fact.choice_label(str(value))}")
    if "score" in facts:
        shown.append(f"score {facts['score']} ({facts['rating']})")
    return (" (" + "; ".join(shown) + ")") if shown else ""


def skip_step(
    db: sqlite3.Connection,
    actor: str,
    incident_id: int,
    step_id: str,
    reason: str,
    decided_by: str = "",
) -> Incident:
    """Skip a step, saying why. A mandatory step (a safeguarding referral, say) cannot be put
    off: it is done, or a named decision-maker rules that it does not apply, which is recorded
    with their name as not applicable."""
    reason = clean_block(reason, 1000)
    decided_by = clean_line(decided_by, 200)
    where = f"incident {incident_id} step {step_id}"
    problems: dict[str, str] = {}
    if not reason:
        problems["reason"] = "say why the step is skipped"
    with transaction(db):
        incident = _open_for_change(db, incident_id)
        record = incident.record(step_id)
        step = record.step
        if step.mandatory and not decided_by:
            problems["decided_by"] = (
                f"{step.title!r} is mandatory: do it, or have the person who decides it does "
                "not apply named (--decided-by NAME)"
            )
        if problems:
            raise InvalidInput(problems, where)
        if decided_by:
            facts = {"decided_by": decided_by}
            _set_step(db, actor, incident, record, "not_applicable", facts, reason)
            text = f"Step ruled not applicable by {decided_by}: {step.title} ({reason})"
        else:
            _set_step(db, actor, incident, record, "skipped", {}, reason)
            text = f"Step skipped: {step.title} ({reason})"
        _log(db, incident_id, actor, "step", text, step_id)
        _settle(db, actor, get_incident(db, incident_id))
    return get_incident(db, incident_id)


def _set_step(
    db: sqlite3.Connection,
    actor: str,
    incident: Incident,
    record: StepRecord,
    state: str,
    facts: dict,
    reason: str,
) -> None:
    at = stamp()
    db.execute(
        "UPDATE incident_steps SET state = ?, facts_json = ?, reason = ?, updated_by = ?,"
        " updated_at = ? WHERE incident_id = ? AND step_id = ?",
        (
            state,
            json.dumps(facts, ensure_ascii=False),
            reason,
            actor,
            at,
            incident.id,
            record.step.id,
        ),
    )
    audit.record(
        db,
        actor,
        f"incident.step.{state}",
        "incident",
        incident.id,
        record.as_json(),
        {
            **record.as_json(),
            "state": state,
            "facts": facts,
            "reason": reason,
            "updated_by": actor,
            "updated_at": at,
        },
    )


def _settle(db: sqlite3.Connection, actor: str, incident: Incident) -> None:
    """Mark steps whose condition is now false as not applicable, and back again if it turns
    true; each change is on the timeline with the condition that decided it."""
    for record in incident.steps:
        if record.state == "pending" and record.applies is False:
            state, text = "not_applicable", "does not apply"
        elif (
            record.state == "not_applicable"
            and record.applies is not False
            and "decided_by" not in record.facts  # a person's ruling stands
        ):
            state, text = "pending", "now applies"
        else:
            continue
        db.execute(
            "UPDATE incident_steps SET state = ?, updated_by = ?, updated_at = ?"
            " WHERE incident_id = ? AND step_id = ?",
            (state, actor, stamp(), incident.id, record.step.id),
        )
        _log(
            db,
            incident.id,
            actor,
            "step",
            f"Step {text}: {record.step.title} (when {record.step.when})",
            record.step.id,
        )


def save_draft(
    db: sqlite3.Connection, actor: str, incident_id: int, step_id: str, values: dict
) -> bool:
    """Keep what was typed into a step not yet done, so a closed laptop loses nothing.

    A draft is stored as typed (unchecked) on the pending step; it decides no condition and
    is replaced when the step is done. Returns False when nothing changed or the step is not
    pending.
    """
    draft = {str(k): clean_block(str(v), 5000) for k, v in values.items() if str(v).strip()}
    with transaction(db):
        incident = _open_for_change(db, incident_id)
        record = incident.record(step_id)
        if record.state != "pending" or record.facts == draft:
            return False
        db.execute(
            "UPDATE incident_steps SET facts_json = ? WHERE incident_id = ? AND step_id = ?",
            (json.dumps(draft, ensure_ascii=False), incident_id, step_id),
        )
        audit.record(
            db,
            actor,
            "incident.step.draft",
            "incident",
            incident_id,
            {"step": step_id, "draft": record.facts},
            {"step": step_id, "draft": draft},
        )
    return True
