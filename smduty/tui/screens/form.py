"""A small modal form built from field specs; the save runs in a worker against the core.

Screens describe their fields (`Field`) and pass a `submit(db, values)` callable that calls the
core. The core's `InvalidInput` problems appear beside the fields they name; any other refusal
appears under the form. The form answers with whatever `submit` returned, or None if cancelled.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, Label, Select, TextArea

from smduty.core.errors import InvalidInput, SmdutyError


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str = "text"  # text, area, select, checkbox
    value: Any = ""
    options: Sequence[tuple[str, Any]] = ()  # (label, value) for select
    placeholder: str = ""


Submit = Callable[[sqlite3.Connection, dict[str, Any]], Any]


def field_widget(spec: Field) -> Widget:
    """The input for one field, with id `f-<name>` (the walkthrough screen builds forms too)."""
    wid = f"f-{spec.name}"
    if spec.kind == "select":
        return Select(
            [(label, value) for label, value in spec.options],
            value=spec.value if spec.value not in ("", None) else Select.NULL,
            allow_blank=spec.value in ("", None),
            prompt=spec.placeholder or "Choose…",
            id=wid,
            compact=True,
        )
    if spec.kind == "checkbox":
        return Checkbox(spec.placeholder, bool(spec.value), id=wid, compact=True)
    if spec.kind == "area":
        return TextArea(str(spec.value or ""), id=wid, soft_wrap=True)
    return Input(str(spec.value or ""), placeholder=spec.placeholder, id=wid, compact=True)


def field_value(widget: Widget) -> Any:
    if isinstance(widget, Select):
        return None if widget.is_blank() else widget.value
    if isinstance(widget, TextArea):
        return widget.text
    return widget.value  # type: ignore[attr-defined]


class FormModal(ModalScreen[Any]):
    DEFAULT_CSS = """
    FormModal .form-row { height: auto; margin-bottom: 1; }
    FormModal .row-label { width: 22; color: $text-muted; }
    FormModal .form-row > Input, FormModal .form-row > Select,
    FormModal .form-row > Checkbox, FormModal .form-row > TextArea { width: 1fr; }
    FormModal TextArea { height: 5; }
    FormModal #form-fields { height: auto; max-height: 20; }
    FormModal .intro { color: $text-muted; padding-bottom: 1; width: 100%; }
    FormModal .field-error { display: none; padding-left: 22; }
    FormModal .field-error.shown { display: block; }
    FormModal #form-error { color: $error; height: auto; }
    """
    # The first field, not the scrolling container around the fields.
    AUTO_FOCUS = "#form-fields .form-row > *"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="form.save", tooltip="Check and save"),
        Binding("escape", "dismiss(None)", "Cancel", id="form.cancel", tooltip="Close unsaved"),
    ]

    class Refused(Message):
        def __init__(self, problems: dict[str, str], summary: str) -> None:
            super().__init__()
            self.problems = problems
            self.summary = summary

    class Saved(Message):
        def __init__(self, result: Any) -> None:
            super().__init__()
            self.result = result

    def __init__(
        self,
        title: str,
        fields: Sequence[Field],
        submit: Submit,
        *,
        intro: str = "",
        save_label: str = "Save",
        aliases: dict[str, str] | None = None,
    ) -> None:
        """`aliases` shows a problem the core names one way beside a field named another."""
        super().__init__()
        self.aliases = aliases or {}
        self.form_title = title
        self.fields = list(fields)
        self.submit = submit
        self.intro = intro
        self.save_label = save_label

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal"):
            yield Label(self.form_title, markup=False, classes="modal-title")
            if self.intro:
                yield Label(self.intro, markup=False, classes="intro")
            with VerticalScroll(id="form-fields"):
                for spec in self.fields:
                    with Horizontal(classes="form-row"):
                        yield Label(spec.label, classes="row-label", markup=False)
                        yield field_widget(spec)
                    yield Label("", id=f"e-{spec.name}", classes="field-error", markup=False)
            yield Label("", id="form-error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button(f"{self.save_label} (ctrl+s)", id="save", variant="primary")

    def values(self) -> dict[str, Any]:
        return {spec.name: field_value(self.query_one(f"#f-{spec.name}")) for spec in self.fields}

    @on(Input.Submitted)
    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        for label in self.query(".field-error"):
            label.remove_class("shown")
        self.query_one("#form-error", Label).update("")
        self._save(self.values())

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @work(thread=True, exclusive=True, group="form", exit_on_error=False)
    def _save(self, values: dict[str, Any]) -> None:
        try:
            result = self.submit(self.app.store.connection(), values)
        except InvalidInput as exc:
            self.post_message(self.Refused(exc.problems, str(exc)))
            return
        except SmdutyError as exc:
            self.post_message(self.Refused({}, str(exc)))
            return
        self.post_message(self.Saved(result))

    @on(Saved)
    def _saved(self, message: Saved) -> None:
        self.dismiss(message.result)

    @on(Refused)
    def _refused(self, message: Refused) -> None:
        names = {spec.name for spec in self.fields}
        loose = []
        for field, problem in message.problems.items():
            field = self.aliases.get(field, field)
            if field in names:
                label = self.query_one(f"#e-{field}", Label)
                label.update(problem)
                label.add_class("shown")
            else:
                loose.append(f"{field}: {problem}")
        summary = "; ".join(loose) if loose else message.summary
        self.query_one("#form-error", Label).update(f"Not saved: {summary}")
