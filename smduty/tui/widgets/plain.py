"""Choice widgets whose labels are always plain text, never markup.

Textual parses a `str` label of Select, SelectionList, Checkbox and RadioButton as content
markup: a channel named `Oops [/] here` stops the app when its dropdown opens, and `Parks
[Archived]` shows as "Parks ". Labels here come from the register, staff and sources, so every
one is turned into a rich `Text` from the plain string first (Text, not Content: the Select's
type-to-search reads only Text or str prompts). Prompts (the blank choice) are the app's own
words and stay strings. The rest of the TUI builds these
widgets only through this module (a test keeps it so).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.text import Text
from textual.content import Content
from textual.widgets import Checkbox, RadioButton, Select, SelectionList
from textual.widgets.selection_list import Selection


def plain(label: object) -> Text | Content:
    """A label shown exactly as written (Text and Content keep their styles; nothing is parsed)."""
    if isinstance(label, Text | Content):
        return label
    return Text("" if label is None else str(label))


def _options(options: Iterable[tuple[object, Any]]) -> list[tuple[Text | Content, Any]]:
    return [(plain(label), value) for label, value in options]


class PlainSelect(Select):
    """A Select whose option labels and prompt are plain text."""

    def __init__(self, options: Iterable[tuple[object, Any]], *, prompt: str = "Select", **kw):
        super().__init__(_options(options), prompt=prompt, **kw)

    def set_options(self, options: Iterable[tuple[object, Any]]) -> None:
        super().set_options(_options(options))


def _selection(item: Selection | tuple) -> Selection | tuple:
    if isinstance(item, tuple):
        return (plain(item[0]), *item[1:])
    return item


class PlainSelectionList(SelectionList):
    """A SelectionList whose prompts are plain text."""

    def __init__(self, *selections: Selection | tuple, **kw) -> None:
        super().__init__(*(_selection(s) for s in selections), **kw)

    def add_option(self, item=None):  # type: ignore[override]
        return super().add_option(_selection(item) if item is not None else item)

    def add_options(self, items):  # type: ignore[override]
        return super().add_options([_selection(i) for i in items])


class PlainCheckbox(Checkbox):
    """A Checkbox whose label is plain text."""

    def __init__(self, label: object = "", value: bool = False, **kw) -> None:
        super().__init__(plain(label), value, **kw)


class PlainRadioButton(RadioButton):
    """A RadioButton whose label is plain text."""

    def __init__(self, label: object = "", value: bool = False, **kw) -> None:
        super().__init__(plain(label), value, **kw)
