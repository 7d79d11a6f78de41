"""Add or edit a channel in a modal form; answers with the saved Channel, or None if cancelled.

Validation is the core's (the same rules as the CLI and the CSV import). The save runs in a
worker; refusals come back as messages beside the fields and the form stays open.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select, SelectionList, TextArea

from smduty.core.errors import InvalidInput, SmdutyError
from smduty.core.register.channels import Channel, add_channel, edit_channel
from smduty.core.register.fields import FIELDS, FieldSpec, validate_fields
from smduty.core.staff import list_staff


class ChannelFormScreen(ModalScreen[Channel | None]):
    DEFAULT_CSS = """
    ChannelFormScreen .modal { height: 90%; }
    ChannelFormScreen .form-row { height: auto; margin-bottom: 1; }
    ChannelFormScreen .row-label { width: 34; color: $text-muted; }
    ChannelFormScreen .form-row > Input, ChannelFormScreen .form-row > Select,
    ChannelFormScreen .form-row > Checkbox, ChannelFormScreen .form-row > TextArea { width: 1fr; }
    ChannelFormScreen TextArea { height: 3; }
    ChannelFormScreen SelectionList { height: auto; max-height: 8; }
    ChannelFormScreen .field-error { display: none; padding-left: 34; }
    ChannelFormScreen .field-error.shown { display: block; }
    ChannelFormScreen #form-error { color: $error; height: auto; }
    """
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="form.save", tooltip="Check and save the channel"),
        Binding("escape", "cancel", "Cancel", id="form.cancel", tooltip="Close without saving"),
    ]

    class Saved(Message):
        def __init__(self, channel: Channel) -> None:
            super().__init__()
            self.channel = channel

    class Refused(Message):
        def __init__(self, problems: dict[str, str], summary: str) -> None:
            super().__init__()
            self.problems = problems
            self.summary = summary

    def __init__(self, channel: Channel | None = None) -> None:
        super().__init__()
        self.channel = channel

    def compose(self) -> ComposeResult:
        title = f"Edit {self.channel.name}" if self.channel else "Add a channel"
        with Vertical(classes="modal"):
            yield Label(title, markup=False, classes="modal-title")
            with VerticalScroll(id="form-fields"):
                for name, spec in FIELDS.items():
                    with Horizontal(classes="form-row"):
                        yield Label(spec.label, classes="row-label", markup=False)
                        yield self._field_widget(name, spec)
                    yield Label("", id=f"e-{name}", classes="field-error", markup=False)
                yield Label("Designated managers (space to tick)", classes="form-label")
                yield SelectionList[str](id="f-managers")
                yield Label("", id="e-managers", classes="field-error", markup=False)
            yield Label("", id="form-error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Save (ctrl+s)", id="save", variant="primary")

    def _current(self, name: str) -> Any:
        if self.channel is None:
            return FIELDS[name].default
        return getattr(self.channel, name)

    def _field_widget(self, name: str, spec: FieldSpec):
        value = self._current(name)
        wid = f"f-{name}"
        if spec.kind == "choice":
            options = [(choice.replace("_", " "), choice) for choice in spec.choices]
            if value in spec.choices:
                return Select(options, value=value, allow_blank=False, id=wid, compact=True)
            return Select(options, prompt="Choose…", id=wid, compact=True)
        if spec.kind == "bool":
            return Checkbox("yes", value=bool(value), id=wid, compact=True)
        if spec.kind == "block":
            return TextArea(str(value or ""), id=wid, soft_wrap=True)
        text = value.isoformat() if isinstance(value, date) else str(value or "")
        placeholder = "YYYY-MM-DD" if spec.kind == "date" else ""
        kind = "integer" if spec.kind == "int" else "text"
        return Input(text, placeholder=placeholder, id=wid, type=kind, compact=True)

    def on_mount(self) -> None:
        self._load_staff()

    @work(thread=True, exit_on_error=False)
    def _load_staff(self) -> None:
        people = list_staff(self.app.store.connection(), include_left=False)
        self.app.call_from_thread(self._show_staff, [p.name for p in people])

    def _show_staff(self, names: list[str]) -> None:
        current = {m.name for m in self.channel.managers} if self.channel else set()
        selection = self.query_one("#f-managers", SelectionList)
        selection.add_options([(name, name, name in current) for name in names])

    def _values(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name in FIELDS:
            widget = self.query_one(f"#f-{name}")
            if isinstance(widget, Select):
                values[name] = "" if widget.value is Select.BLANK else widget.value
            elif isinstance(widget, Checkbox):
                values[name] = widget.value
            elif isinstance(widget, TextArea):
                values[name] = widget.text
            else:
                values[name] = widget.value
        return values

    def _show_problems(self, problems: dict[str, str], summary: str = "") -> None:
        for label in self.query(".field-error").results(Label):
            problem = problems.get(label.id.removeprefix("e-"), "") if label.id else ""
            label.update(problem)
            label.set_class(bool(problem), "shown")
        self.query_one("#form-error", Label).update(summary)
        first = next((f for f in (*FIELDS, "managers") if f in problems), None)
        if first:
            self.query_one(f"#f-{first}").focus()

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        values = self._values()
        try:
            validate_fields(values, require_all=True)
        except InvalidInput as exc:
            self._show_problems(exc.problems, "Please correct the fields marked above.")
            return
        managers = list(self.query_one("#f-managers", SelectionList).selected)
        self.query_one("#save", Button).disabled = True
        self._save(values, managers)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _save(self, values: dict[str, Any], managers: list[str]) -> None:
        db = self.app.store.connection()
        try:
            if self.channel is None:
                saved = add_channel(db, self.app.actor, values, managers)
            else:
                saved = edit_channel(db, self.app.actor, self.channel.id, values, managers)
        except InvalidInput as exc:
            self.post_message(self.Refused(exc.problems, "Not saved: see the fields marked above."))
        except SmdutyError as exc:
            self.post_message(self.Refused({}, f"Not saved: {exc}"))
        else:
            self.post_message(self.Saved(saved))

    def on_channel_form_screen_saved(self, message: Saved) -> None:
        self.dismiss(message.channel)

    def on_channel_form_screen_refused(self, message: Refused) -> None:
        self.query_one("#save", Button).disabled = False
        self._show_problems(message.problems, message.summary)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
