"""A dashboard panel: fetches its data off the UI thread, then shows it.

Later features add panels by subclassing DashboardPanel and listing them in DashboardScreen.PANELS.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from rich.text import Text
from textual import work
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static

from smduty.core.store import TooSlow, time_limit
from smduty.tui import messages


class DashboardPanel(Vertical):
    DEFAULT_CSS = """
    DashboardPanel {
        height: auto;
        border: round $primary 60%;
        border-title-color: $text;
        border-title-style: bold;
        padding: 0 1;
    }
    DashboardPanel:focus-within {
        border: round $primary;
    }
    DashboardPanel > .panel-error {
        color: $error;
    }
    """

    PANEL_TITLE = ""
    # A panel whose `fetch` only reads is read on the UI thread when it takes a few
    # milliseconds (it is then in the first frame), and in a worker only when it runs longer.
    # A panel that writes (the duty panel records missed checks) always reads in a worker.
    READS_ONLY = True
    QUICK_READ_SECONDS = 0.025

    class Loaded(messages.Loaded):
        """What the panel's `load` read."""

    class Failed(Message):
        def __init__(self, reason: str) -> None:
            super().__init__()
            self.reason = reason

    def on_mount(self) -> None:
        self.border_title = self.PANEL_TITLE
        self.reload()

    def reload(self) -> None:
        if self.READS_ONLY:
            try:
                with time_limit(self.app.store.connection(), self.QUICK_READ_SECONDS) as db:
                    data = self.fetch(db)
            except TooSlow:
                pass  # a long read: the worker does it
            except Exception:  # noqa: S110 - the worker reads again and shows what failed
                pass
            else:
                self.show(data)
                return
        self._fetch_in_thread()

    @work(thread=True, exclusive=True, group="panel", exit_on_error=False)
    def _fetch_in_thread(self) -> None:
        try:
            data = self.fetch(self.app.store.connection())
        except Exception as exc:  # shown in the panel; the dashboard must stay up
            self.post_message(self.Failed(f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(self.Loaded(data))

    def on_dashboard_panel_loaded(self, message: Loaded) -> None:
        message.stop()
        self.show(message.data)

    def on_dashboard_panel_failed(self, message: Failed) -> None:
        message.stop()
        self.remove_children(".panel-error")
        self.mount(Static(Text(f"Could not load: {message.reason}"), classes="panel-error"))

    def fetch(self, db: sqlite3.Connection) -> Any:
        """Runs in a worker thread with that thread's own connection."""
        raise NotImplementedError

    def show(self, data: Any) -> None:
        """Runs on the UI thread with what fetch returned."""
        raise NotImplementedError
