"""Add or edit a channel in a modal form; answers with the saved Channel, or None if cancelled.

Validation is the core's (the same rules as the CLI and the CSV import); the form is a
`FormModal` like every other, so refusals appear beside the fields and the form stays open.
"""

from __future__ import annotations

import sqlite3
from datetime import date
from typing import Any

from smduty.core.clock import local_text
from smduty.core.errors import changed_meanwhile
from smduty.core.register.channels import Channel, add_channel, edit_channel, get_channel
from smduty.core.register.fields import FIELDS, FieldSpec, validate_fields
from smduty.core.staff import list_staff
from smduty.core.store import transaction
from smduty.tui.screens.form import Field, FormModal

# The core's field kinds and the form's.
KIND = {"choice": "select", "bool": "checkbox", "block": "area", "date": "date", "int": "int"}


def _field(name: str, spec: FieldSpec, value: Any) -> Field:
    kind = KIND.get(spec.kind, "text")
    if kind == "select":
        options = [(choice.replace("_", " "), choice) for choice in spec.choices]
        return Field(name, spec.label, kind, value if value in spec.choices else "", options)
    if isinstance(value, date):
        value = value.isoformat()
    return Field(name, spec.label, kind, value)


class ChannelFormScreen(FormModal):
    def __init__(self, db: sqlite3.Connection, channel: Channel | None = None) -> None:
        self.channel = channel
        staff = [p.name for p in list_staff(db, include_left=False)]
        current = [m.name for m in channel.managers] if channel else []
        fields = [
            _field(name, spec, spec.default if channel is None else getattr(channel, name))
            for name, spec in FIELDS.items()
        ]
        fields.append(
            Field(
                "managers",
                "Designated managers (space to tick)",
                "multi",
                current,
                [(name, name) for name in staff],
            )
        )
        super().__init__(
            f"Edit {channel.name}" if channel else "Add a channel",
            fields,
            self._submit,
            tall=True,
            wide_labels=True,
        )

    def _submit(self, db: sqlite3.Connection, values: dict[str, Any]) -> Channel:
        managers = values.pop("managers")
        values = {k: "" if v is None else v for k, v in values.items()}
        validate_fields(values, require_all=True)
        if self.channel is None:
            return add_channel(db, self.app.actor, values, managers)
        with transaction(db):  # saved only over the version the form was opened on
            now = get_channel(db, self.channel.id)
            if now.as_dict() != self.channel.as_dict():  # what it says, not a time stamp
                raise changed_meanwhile(now.name, local_text(now.updated_at))
            return edit_channel(db, self.app.actor, self.channel.id, values, managers)
