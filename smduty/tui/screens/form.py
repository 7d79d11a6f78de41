"""The modal form: fields from specs, a save that runs in a worker against the core.

Screens describe their fields (`Field`) and pass a `submit(db, values)` callable that calls the
core. The core's `InvalidInput` problems appear beside the fields they name; any other refusal
appears under the form. The form answers with whatever `submit` returned, or None if cancelled.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

from smduty.core.errors import InvalidInput, SmdutyError
from smduty.tui.widgets.form_fields import Field, FormFields

__all__ = ["Field", "FormModal", "Submit"]

log = logging.getLogger(__name__)

Submit = Callable[[sqlite3.Connection, dict[str, Any]], Any]


class FormModal(ModalScreen[Any]):
    DEFAULT_CSS = """
    FormModal #form-scroll { height: auto; max-height: 20; }
    FormModal.tall .modal { height: 90%; }
    FormModal.tall #form-scroll { max-height: 100%; height: 1fr; }
    FormModal .intro { color: $text-muted; padding-bottom: 1; width: 100%; }
    FormModal #form-error { color: $error; height: auto; width: 100%; }
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
        tall: bool = False,
        wide_labels: bool = False,
    ) -> None:
        """`aliases` shows a problem the core names one way beside a field named another;
        `tall` gives a long form most of the screen."""
        super().__init__(classes="tall" if tall else None)
        self.aliases = aliases or {}
        self.form_title = title
        self.fields = list(fields)
        self.submit = submit
        self.intro = intro
        self.save_label = save_label
        self.wide_labels = wide_labels

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal"):
            yield Label(self.form_title, markup=False, classes="modal-title")
            if self.intro:
                yield Label(self.intro, markup=False, classes="intro")
            with VerticalScroll(id="form-scroll"):
                yield FormFields(self.fields, wide_labels=self.wide_labels, id="form-fields")
            yield Label("", id="form-error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button(f"{self.save_label} (ctrl+s)", id="save", variant="primary")

    def values(self) -> dict[str, Any]:
        return self.query_one(FormFields).values()

    @on(Input.Submitted)
    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        if self.query_one("#save", Button).disabled:
            return  # a save is already on its way
        self.query_one(FormFields).clear_problems()
        self.query_one("#form-error", Label).update("")
        self.query_one("#save", Button).disabled = True
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
        except Exception as exc:  # a bug: the form says so and stays open; the log has it
            log.exception("form %r: save failed", self.form_title)
            self.post_message(self.Refused({}, f"unexpected {type(exc).__name__}: {exc}"))
            return
        self.post_message(self.Saved(result))

    @on(Saved)
    def _saved(self, message: Saved) -> None:
        self.dismiss(message.result)

    @on(Refused)
    def _refused(self, message: Refused) -> None:
        self.query_one("#save", Button).disabled = False
        loose = self.query_one(FormFields).show_problems(message.problems, self.aliases)
        if loose or not message.problems:
            summary = loose or message.summary
        else:  # every problem is shown beside its field: say so, not it all again
            summary = "see the field(s) marked above"
        self.query_one("#form-error", Label).update(f"Not saved: {summary}")
