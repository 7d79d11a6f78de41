"""The fields of a form: a label, an input and a line for its problem, one row per field.

Every form in the TUI is built from `Field` specs through this one widget: the modal forms
(`FormModal`) and the incident step's form inline on the walkthrough. The core's `InvalidInput`
problems are shown beside the fields they name; what names no field is handed back for the
form to show under it. Labels and choices are plain text (see `plain`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import msgspec
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Input, Label, Select, SelectionList, TextArea

from smduty.tui.widgets.plain import PlainCheckbox, PlainSelect, PlainSelectionList

KINDS = ("text", "area", "select", "checkbox", "date", "int", "multi")


class Field(msgspec.Struct, frozen=True):
    name: str
    label: str
    kind: str = "text"  # one of KINDS
    value: Any = ""
    options: Sequence[tuple[str, Any]] = ()  # (label, value) for select and multi
    placeholder: str = ""


def field_widget(spec: Field) -> Widget:
    """The input for one field, with id `f-<name>`."""
    wid = f"f-{spec.name}"
    if spec.kind == "select":
        blank = spec.value in ("", None)
        return PlainSelect(
            spec.options,
            value=Select.NULL if blank else spec.value,
            allow_blank=blank,
            prompt=spec.placeholder or "Choose…",
            id=wid,
            compact=True,
        )
    if spec.kind == "multi":
        chosen = set(spec.value or ())
        return PlainSelectionList(
            *((label, value, value in chosen) for label, value in spec.options), id=wid
        )
    if spec.kind == "checkbox":
        return PlainCheckbox(spec.placeholder or "yes", bool(spec.value), id=wid, compact=True)
    if spec.kind == "area":
        return TextArea(str(spec.value or ""), id=wid, soft_wrap=True)
    placeholder = spec.placeholder or ("YYYY-MM-DD" if spec.kind == "date" else "")
    return Input(
        str(spec.value or ""),
        placeholder=placeholder,
        id=wid,
        type="integer" if spec.kind == "int" else "text",
        compact=True,
    )


def field_value(widget: Widget) -> Any:
    if isinstance(widget, Select):
        return None if widget.is_blank() else widget.value
    if isinstance(widget, SelectionList):
        return list(widget.selected)
    if isinstance(widget, TextArea):
        return widget.text
    return widget.value  # type: ignore[attr-defined]


class FormFields(Vertical):
    """One row per field; `values()` reads them, `show_problems()` marks them."""

    DEFAULT_CSS = """
    FormFields { height: auto; }
    FormFields .form-row { height: auto; margin-bottom: 1; }
    FormFields .row-label { width: 22; color: $text-muted; }
    FormFields.wide-labels .row-label { width: 34; }
    FormFields .form-row > Input, FormFields .form-row > Select, FormFields .form-row > Checkbox,
    FormFields .form-row > TextArea, FormFields .form-row > SelectionList { width: 1fr; }
    FormFields TextArea { height: 5; }
    FormFields SelectionList { height: auto; max-height: 8; }
    FormFields .field-error { display: none; padding-left: 22; color: $error; width: 100%; }
    FormFields.wide-labels .field-error { padding-left: 34; }
    FormFields .field-error.shown { display: block; }
    """

    def __init__(self, fields: Iterable[Field], *, wide_labels: bool = False, **kw) -> None:
        super().__init__(**kw)
        self.fields = list(fields)
        self.set_class(wide_labels, "wide-labels")

    def compose(self) -> ComposeResult:
        for spec in self.fields:
            with Horizontal(classes="form-row"):
                yield Label(spec.label, classes="row-label", markup=False)
                yield field_widget(spec)
            yield Label("", id=f"e-{spec.name}", classes="field-error", markup=False)

    @property
    def names(self) -> list[str]:
        return [spec.name for spec in self.fields]

    def values(self) -> dict[str, Any]:
        return {spec.name: field_value(self.query_one(f"#f-{spec.name}")) for spec in self.fields}

    def clear_problems(self) -> None:
        for label in self.query(".field-error").results(Label):
            label.update("")
            label.remove_class("shown")

    def show_problems(self, problems: dict[str, str], aliases: dict[str, str] | None = None) -> str:
        """Each problem beside its field (the first such field focused); returns those that
        name no field here, joined, for the form to show under the fields."""
        self.clear_problems()
        aliases = aliases or {}
        loose, first = [], None
        names = set(self.names)
        for field, problem in problems.items():
            field = aliases.get(field, field)
            if field in names:
                label = self.query_one(f"#e-{field}", Label)
                label.update(problem)
                label.add_class("shown")
                first = first or field
            else:
                loose.append(f"{field}: {problem}")
        if first:
            self.query_one(f"#f-{first}").focus()
        return "; ".join(loose)
