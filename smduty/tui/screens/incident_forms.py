"""The forms of an incident: opening one, who was told, the review, and a step's facts as fields.

Each form is a FormModal whose submit calls the core, so refusals appear beside their fields.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from smduty.core.clock import now_local
from smduty.core.errors import InvalidInput
from smduty.core.incidents import lifecycle as incidents
from smduty.core.incidents import log as incident_log
from smduty.core.incidents import steps
from smduty.core.incidents.contacts import Contact
from smduty.core.incidents.playbook import Fact, Playbook, Step
from smduty.tui.screens.form import Field, FormModal


def start_form(
    actor: str,
    channels: list[str],
    *,
    mention_id: int | None = None,
    title: str = "",
    description: str = "",
    playbook: Playbook | None = None,
    open_incidents: list[tuple[str, int]] = (),
) -> FormModal:
    """Open an incident; answers with the new Incident. From a mention, it is linked, or added
    to an open incident instead when one is chosen (answering with that one)."""

    def submit(db: sqlite3.Connection, values: dict[str, Any]) -> incidents.Incident:
        if mention_id is not None and values.get("join"):
            return incidents.link_mention(db, actor, int(values["join"]), mention_id)
        return incidents.start(
            db,
            actor,
            values["title"],
            description=values["description"],
            severity=values["severity"] or "",
            channel=values["channel"] or "",
            mention_id=mention_id,
            playbook=playbook,
        )

    intro = (
        "Something went wrong. Give it a short title; the walkthrough then takes you through "
        "the procedure step by step, starting with who to tell now."
    )
    if mention_id is not None:
        intro += f" Mention #{mention_id} is linked and marked escalated."
        if open_incidents:
            intro += " If it belongs to an incident already open, choose that one below instead."
    return FormModal(
        "Start an incident",
        [
            Field("title", "Title", value=title, placeholder="e.g. Wrong collection date posted"),
            Field("description", "What was reported", "area", value=description),
            Field(
                "channel",
                "Channel",
                "select",
                options=[(c, c) for c in channels],
                placeholder="(none)",
            ),
            Field(
                "severity",
                "Severity for now",
                "select",
                options=[(s, s) for s in incidents.SEVERITIES[::-1]],
                placeholder="(from the mention, else high)",
            ),
            *(
                [
                    Field(
                        "join",
                        "Or add it to",
                        "select",
                        options=list(open_incidents),
                        placeholder="(a new incident)",
                    )
                ]
                if mention_id is not None and open_incidents
                else []
            ),
        ],
        submit,
        intro=intro,
        save_label="Start",
    )


def not_applicable_form(actor: str, incident_id: int, step: Step) -> FormModal:
    """A mandatory step is never put off: only a named decision-maker can rule it out."""

    def submit(db: sqlite3.Connection, values: dict[str, Any]) -> str:
        steps.skip_step(db, actor, incident_id, step.id, values["reason"], values["decided_by"])
        return f"Step {step.id} ruled not applicable by {values['decided_by'].strip()}"

    return FormModal(
        f"{step.title}: mandatory",
        [
            Field("reason", "Why it does not apply", placeholder="e.g. no child is involved"),
            Field("decided_by", "Decided by", placeholder="the manager or lead who decided"),
        ],
        submit,
        intro=(
            "This step cannot be skipped or left for later: do it now (ctrl+s on the step), or "
            "record who decided it does not apply to this incident, and why."
        ),
        save_label="Rule not applicable",
    )


def told_form(actor: str, incident_id: int, step_id: str, contacts: list[Contact]) -> FormModal:
    """Who was told, how and when; the step's contacts are offered first."""
    people = [c for c in contacts if c.name]
    options = [(f"{c.name} ({c.role_label})", f"{c.name}|{c.role}") for c in people]

    def submit(db: sqlite3.Connection, values: dict[str, Any]) -> str:
        chosen, _, role = (values["person"] or "").partition("|")
        person = (values["other"] or "").strip() or chosen
        if values["other"].strip():
            role = ""
        if not person:
            raise InvalidInput({"person": "choose who was told, or type a name below"})
        when = incident_log.parse_told_at(values["told_at"]) if values["told_at"] else None
        told = incident_log.record_notification(
            db,
            actor,
            incident_id,
            person,
            values["how"] or "",
            role=role,
            told_at=when,
            step_id=step_id,
            note=values["note"],
        )
        return f"Recorded: {told.person} told by {told.how}"

    return FormModal(
        "Record who was told",
        [
            Field("person", "Person", "select", options=options, placeholder="Choose…"),
            Field("other", "Or someone else", placeholder="name, if not in the list"),
            Field(
                "how", "How", "select", options=[(h, h) for h in incidents.HOW_TOLD], value="phone"
            ),
            Field("told_at", "When (HH:MM)", value=f"{now_local():%H:%M}"),
            Field("note", "Note", placeholder="e.g. left voicemail, will call back"),
        ],
        submit,
        intro="Record each person told, how and when: the report lists them for the record.",
        aliases={"told_at": "told_at", "how": "how"},
    )


def review_form(actor: str, incident: incidents.Incident) -> FormModal:
    review = incident.review or {}
    lines = "\n".join(
        f"{a['action']} | {a['owner']} | {a['due']}" for a in review.get("actions", [])
    )

    def submit(db: sqlite3.Connection, values: dict[str, Any]) -> str:
        actions = incident_log.parse_actions(values["actions"].splitlines())
        incident_log.save_review(
            db,
            actor,
            incident.id,
            what_happened=values["what_happened"],
            what_worked=values["what_worked"],
            lessons=values["lessons"],
            actions=actions,
        )
        return "Post-incident review recorded"

    return FormModal(
        f"Post-incident review: incident {incident.id}",
        [
            Field("what_happened", "What happened", "area", review.get("what_happened", "")),
            Field("what_worked", "What worked", "area", review.get("what_worked", "")),
            Field("lessons", "Lessons", "area", review.get("lessons", "")),
            Field("actions", "Follow-up actions", "area", lines),
        ],
        submit,
        intro="Follow-up actions: one per line, as  action | owner | YYYY-MM-DD",
    )


def fact_field(fact: Fact, value: object) -> Field:
    shown = "" if value is None else str(value)
    label = fact.label + ("" if not fact.optional else " (optional)")
    if fact.kind == "yesno":
        return Field(fact.key, label, "select", shown, [("Yes", "yes"), ("No", "no")])
    if fact.kind == "choice":
        return Field(fact.key, label, "select", shown, [(lab, cid) for cid, lab in fact.choices])
    small = fact.min is not None and fact.max is not None and fact.max - fact.min <= 10
    if fact.kind == "number" and small:
        numbers = [(str(n), str(n)) for n in range(fact.min, fact.max + 1)]
        return Field(fact.key, label, "select", shown, numbers)
    if fact.kind == "note":
        return Field(fact.key, label, "area", shown)
    return Field(fact.key, label, "text", shown, placeholder=fact.help)


def step_fields(step: Step, facts: dict) -> list[Field]:
    return [fact_field(f, facts.get(f.key)) for f in step.facts]
