"""Messages more than one screen sends itself."""

from __future__ import annotations

from textual.message import Message


class Notice(Message):
    """A worker's word on what it did (or why it could not), for the screen to show."""

    def __init__(self, note: str, error: bool = False) -> None:
        super().__init__()
        self.note = note
        self.error = error
