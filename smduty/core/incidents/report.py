"""The incident record as a file: Markdown for the audit or FOI folder, JSON for machines.

Every time is given in council time with its zone; the JSON keeps UTC. Text that came from
outside (mentions, notes, facts) is escaped so it reads literally in any Markdown viewer.
"""

from __future__ import annotations

import re
import sqlite3

import msgspec

from smduty.core.clock import local_text as local
from smduty.core.clock import stamp
from smduty.core.incidents.lifecycle import (
    STATE_MARKS,
    Incident,
    get_incident,
    notifications,
    timeline,
)
from smduty.core.incidents.posts import history
from smduty.core.staff import ROLES

STATE_WORDS = {
    "pending": "not done",
    "done": "done",
    "skipped": "skipped",
    "not_applicable": "not applicable",
}
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")


def md(text: object) -> str:
    """Literal text in Markdown: specials escaped, line breaks kept inside the paragraph."""
    escaped = _MD_SPECIAL.sub(r"\\\1", str(text))
    return escaped.replace("\r", "").replace("\n", "  \n")


def cell(text: object) -> str:
    return md(text).replace("  \n", " / ")


PERSONAL = "[personal data removed]"


def report_json(
    db: sqlite3.Connection, incident_id: int, include_personal_data: bool = False
) -> dict:
    """The whole record. Personal data the flag rules found in a linked mention (a phone
    number, an address, a child's name) is masked unless `include_personal_data`."""
    incident = get_incident(db, incident_id)
    return {
        **incident.summary_json(),
        "description": incident.description,
        "playbook": {
            "id": incident.playbook.id,
            "title": incident.playbook.title,
            "policy": incident.playbook.policy,
            "source": incident.playbook.source,
        },
        "linked_mentions": _mentions(db, incident, include_personal_data),
        "steps": [s.as_json() for s in incident.steps],
        "notifications": [msgspec.structs.asdict(n) for n in notifications(db, incident_id)],
        "timeline": [msgspec.structs.asdict(e) for e in timeline(db, incident_id)],
        "scheduled_posts": [s.as_json() for s in history(db, incident_id)],
        "review": incident.review,
        "generated_at": stamp(),
    }


def _mentions(db: sqlite3.Connection, incident: Incident, include_personal: bool) -> list[dict]:
    if not incident.mentions:
        return []
    marks = ",".join("?" * len(incident.mentions))
    rows = [
        dict(r)
        for r in db.execute(
            f"SELECT id, url, title, text, author, published, source, rating FROM mentions"
            f" WHERE id IN ({marks}) ORDER BY id",
            incident.mentions,
        )
    ]
    if include_personal:
        return rows
    spans: dict[tuple[int, str], list[tuple[int, int]]] = {}
    for mention_id, field, start, end in db.execute(
        f"SELECT mention_id, field, start, end FROM mention_matches WHERE category ="
        f" 'personal_data' AND mention_id IN ({marks})",
        incident.mentions,
    ):
        spans.setdefault((mention_id, field), []).append((start, end))
    for row in rows:
        for field in ("title", "text"):
            found = spans.get((row["id"], field))
            if found:
                row[field] = mask(row[field], found)
    return rows


def mask(text: str, spans: list[tuple[int, int]]) -> str:
    """`text` with each span (overlapping ones merged) replaced by PERSONAL."""
    out, at = [], 0
    for start, end in sorted(spans):
        if end <= at:
            continue
        start = max(start, at)
        out += [text[at:start], PERSONAL]
        at = end
    out.append(text[at:])
    return "".join(out)


def report_markdown(
    db: sqlite3.Connection, incident_id: int, include_personal_data: bool = False
) -> str:
    data = report_json(db, incident_id, include_personal_data)
    incident = get_incident(db, incident_id)
    out: list[str] = [f"# Incident {incident.id}: {md(incident.title)}", ""]
    header = [
        ("Status", incident.status),
        ("Severity", incident.severity),
        ("Opened", f"{local(incident.opened_at)} by {incident.opened_by}"),
        (
            "Closed",
            f"{local(incident.closed_at)} by {incident.closed_by}"
            if incident.closed_at
            else "not closed",
        ),
        ("Channel", incident.channel or "none named"),
        ("Procedure", f"{incident.playbook.title} ({incident.playbook.policy})"),
        ("Record generated", local(data["generated_at"])),
    ]
    out += [f"- **{k}:** {md(v)}" for k, v in header]
    if incident.description:
        out += ["", "## What was reported", "", md(incident.description)]
    if data["linked_mentions"]:
        out += ["", "## Linked mentions", ""]
        for m in data["linked_mentions"]:
            out.append(
                f"- **#{m['id']}** ({md(m['rating'])}) {md(m['author'])}, "
                f"{local(m['published'])}, {md(m['source'])}: {md(m['title'] or m['text'][:300])}"
            )
            if m["url"]:
                out.append(f"  <{m['url'].replace('>', '%3E').replace(' ', '%20')}>")
    out += ["", "## Steps", ""]
    for number, record in enumerate(incident.steps, start=1):
        step = record.step
        mark = STATE_MARKS[record.state]
        out.append(f"### {number}. {md(step.title)} [{mark} {STATE_WORDS[record.state]}]")
        out.append("")
        when = f"{local(record.updated_at)} by {record.updated_by}" if record.updated_at else ""
        out.append(f"- **Policy:** {md(step.policy)}; **responsible:** {md(step.role)}")
        if step.when:
            out.append(f"- **Applies when:** {md(step.when)}")
        if when:
            out.append(f"- **Recorded:** {md(when)}")
        if step.mandatory:
            out.append("- **Mandatory**")
        if record.reason and record.facts.get("decided_by"):
            who = record.facts["decided_by"]
            out.append(f"- **Ruled not applicable by {md(who)}:** {md(record.reason)}")
        elif record.reason:
            out.append(f"- **Reason skipped:** {md(record.reason)}")
        for fact in step.facts:
            if fact.key in record.facts:
                value = fact.choice_label(str(record.facts[fact.key]))
                out.append(f"- **{md(fact.label)}:** {md(value)}")
        if "score" in record.facts:
            out.append(f"- **Score:** {record.facts['score']} ({record.facts['rating']})")
        out.append("")
    told = data["notifications"]
    out += ["## Who was told", ""]
    if told:
        out += [
            "| Told at | Person | Role | How | Step | Recorded by |",
            "|---|---|---|---|---|---|",
        ]
        for n in told:
            role = ROLES.get(n["role"], n["role"])
            out.append(
                f"| {local(n['told_at'])} | {cell(n['person'])} | {cell(role)} | "
                f"{cell(n['how'])} | {cell(n['step_id'] or '')} | {cell(n['recorded_by'])} |"
            )
    else:
        out.append("Nobody was recorded as told.")
    if data["scheduled_posts"]:
        out += ["", "## Scheduled posts", ""]
        for s in data["scheduled_posts"]:
            resumed = (
                f"resumed {local(s['resumed_at'])} by {md(s['resumed_by'])}"
                if s["resumed_at"]
                else "still stopped"
            )
            out.append(
                f"- Stopped {local(s['stopped_at'])} by {md(s['stopped_by'])} "
                f"({md(s['reason'])}); {resumed}"
            )
    out += ["", "## Timeline", "", "| When | Who | What |", "|---|---|---|"]
    for e in data["timeline"]:
        out.append(f"| {local(e['at'])} | {cell(e['actor'])} | {cell(e['text'])} |")
    out += ["", "## Post-incident review", ""]
    review = incident.review
    if review:
        out.append(
            f"Recorded {local(review.get('recorded_at'))} by {md(review.get('recorded_by'))}."
        )
        for key, label in (
            ("what_happened", "What happened"),
            ("what_worked", "What worked"),
            ("lessons", "Lessons"),
        ):
            out += ["", f"**{label}:** {md(review.get(key) or 'not recorded')}"]
        out += ["", "**Follow-up actions:**", ""]
        if review.get("actions"):
            out += ["| Action | Owner | Due |", "|---|---|---|"]
            out += [
                f"| {cell(a['action'])} | {cell(a['owner'])} | {a['due']} |"
                for a in review["actions"]
            ]
        else:
            out.append("None recorded.")
    else:
        out.append("Not yet recorded.")
    return "\n".join(out) + "\n"
