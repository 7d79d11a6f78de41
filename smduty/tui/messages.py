"""Messages more than one screen sends itself."""

from __future__ import annotations

from typing import Any

from textual.message import Message


class Loaded(Message):
    """A worker's read, for the screen (or widget) that asked: `data` is the core's answer.

    Each sender declares its own subclass (`class Loaded(messages.Loaded)`), so a handler named
    for it hears its own reads only."""

    def __init__(self, data: Any) -> None:
        super().__init__()
        self.data = data


class Notice(Message):
    """A worker's word on what it did (or why it could not), for the screen to show."""

    def __init__(self, note: str, error: bool = False) -> None:
        super().__init__()
        self.note = note
        self.error = error
