"""The fields of a channel record, their allowed values and validation.

One description serves the CLI options, the CSV import and the TUI form, so all three accept and
refuse the same things with the same words.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec

from smduty.core.clock import today
from smduty.core.errors import InvalidInput
from smduty.core.text import clean_block, clean_line
from smduty.core.values import parse_bool, parse_date, parse_int

PLATFORMS = (
    "facebook",
    "x",
    "instagram",
    "linkedin",
    "youtube",
    "tiktok",
    "flickr",
    "bluesky",
    "mastodon",
    "nextdoor",
    "whatsapp",
    "other",
)
STATUSES = ("proposed", "active", "dormant", "closing", "closed")
BUSINESS_CASES = ("not_needed", "pending", "approved")

# Set-up steps of a proposed channel, in order (000 Appendix 3 A.3.4-A.3.8; 004 §4.2.2).
PROPOSAL_STEPS = (
    "purpose_agreed",
    "line_manager_agreed",
    "training_requested",
    "trained",
    "admin_granted",
    "authorised",
    "active",
)
PROPOSAL_STEP_LABELS = {
    "purpose_agreed": "Purpose agreed (000 A.3.4)",
    "line_manager_agreed": "Line manager agrees (000 A.3.5)",
    "training_requested": "Training requested (000 A.3.6)",
    "trained": "Managers trained (000 A.3.7)",
    "admin_granted": "Admin rights granted to comms (000 A.3.7, 004 §4.2.4)",
    "authorised": "Authorised by the Assistant Director (004 §4.2.2)",
    "active": "Live (000 A.3.8)",
}


class FieldSpec(msgspec.Struct, frozen=True):
    label: str
    kind: str  # line, block, choice, date, bool, int
    choices: tuple[str, ...] = ()
    default: Any = None
    past_only: bool = False  # a date that records something done cannot be in the future


FIELDS: dict[str, FieldSpec] = {
    "name": FieldSpec("Name", "line"),
    "platform": FieldSpec("Platform", "choice", PLATFORMS),
    "handle": FieldSpec("Handle", "line", default=""),
    "url": FieldSpec("URL", "line", default=""),
    "service": FieldSpec("Owning service", "line", default=""),
    "purpose": FieldSpec("Purpose", "block", default=""),
    "line_manager": FieldSpec("Line manager who agreed", "line", default=""),
    "status": FieldSpec("Status", "choice", STATUSES, default="proposed"),
    "comms_admin_access": FieldSpec("Comms team has admin access", "bool", default=False),
    "admin_verified_on": FieldSpec("Admin access verified on", "date", past_only=True),
    "authorised_by": FieldSpec("Authorised by", "line", default=""),
    "authorised_on": FieldSpec("Authorised on", "date", past_only=True),
    "checklist_done": FieldSpec("Project checklist done", "bool", default=False),
    "business_case": FieldSpec("Business case", "choice", BUSINESS_CASES, default="not_needed"),
    "im_notified_on": FieldSpec("Information Manager notified on", "date", past_only=True),
    "last_reviewed_on": FieldSpec("Last reviewed on", "date", past_only=True),
    "review_interval_months": FieldSpec("Review every (months)", "int", default=6),
    "passwords_changed_on": FieldSpec("Passwords last changed on", "date", past_only=True),
    "notes": FieldSpec("Notes", "block", default=""),
}


def validate_fields(raw: dict[str, Any], require_all: bool) -> dict[str, Any]:
    """Clean and check channel fields; returns column values ready to store.

    With require_all, absent fields take their defaults and name and platform must be given.
    Raises InvalidInput naming every bad field at once.
    """
    problems: dict[str, str] = {}
    unknown = sorted(set(raw) - set(FIELDS))
    if unknown:
        problems["fields"] = f"unknown field {', '.join(unknown)}"
    values: dict[str, Any] = {}
    for name, spec in FIELDS.items():
        if name not in raw:
            if require_all and spec.default is not None:
                values[name] = spec.default
            continue
        value = _convert(name, spec, raw[name], problems)
        if value is not None or spec.kind == "date":
            values[name] = value
    if (require_all or "name" in raw) and not values.get("name"):
        problems["name"] = "a name is needed"
    if require_all and not values.get("platform") and "platform" not in problems:
        problems["platform"] = f"choose one of {', '.join(PLATFORMS)}"
    url = values.get("url")
    if url and not url.lower().startswith(("https://", "http://")):
        problems["url"] = "must start with https:// or http://"
    if problems:
        raise InvalidInput(problems)
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()}


def _convert(name: str, spec: FieldSpec, value: Any, problems: dict[str, str]) -> Any:
    if spec.kind == "line":
        return clean_line(value, 300)
    if spec.kind == "block":
        return clean_block(value, 4000)
    if spec.kind == "choice":
        text = clean_line(value, 40).lower().replace(" ", "_")
        if text == "twitter":
            text = "x"
        if not text:
            return None
        if text not in spec.choices:
            problems[name] = f"{value!r} is not one of {', '.join(spec.choices)}"
            return None
        return text
    if spec.kind == "bool":
        return parse_bool(value, name, problems)
    if spec.kind == "int":
        return parse_int(value, name, problems, minimum=1)
    when = parse_date(value, name, problems)
    if when and spec.past_only and when > today():
        problems[name] = f"{when} is in the future"
    return when
