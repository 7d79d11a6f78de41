"""Dashboard panel: the incidents still open, each with its next step; Enter resumes one."""

from __future__ import annotations

import sqlite3

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import DataTable, Static

from smduty.core.clock import local_text
from smduty.core.incidents.lifecycle import Incident, list_incidents
from smduty.tui.theme import literal, rating_style
from smduty.tui.widgets.panel import DashboardPanel
from smduty.tui.widgets.table import Table


class IncidentsPanel(DashboardPanel):
    PANEL_TITLE = "Open incidents (e lists them all; ctrl+p Start an incident)"
    DEFAULT_CSS = """
    IncidentsPanel DataTable { height: auto; max-height: 8; }
    """

    class IncidentChosen(Message):
        def __init__(self, incident_id: int) -> None:
            super().__init__()
            self.incident_id = incident_id

    def compose(self) -> ComposeResult:
        yield Table(id="open-incidents", cursor_type="row")
        yield Static("Loading incidents…", id="incidents-text")

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns(
            "#", "Severity", "Title", "Status", "Next step", "Opened"
        )
        super().on_mount()

    def fetch(self, db: sqlite3.Connection) -> list[Incident]:
        return list_incidents(db, include_closed=False)

    def show(self, data: list[Incident]) -> None:
        table = self.query_one(DataTable)
        table.clear()
        table.display = bool(data)
        for found in data:
            current = found.current
            table.add_row(
                literal(found.id),
                literal(found.severity, rating_style(self.app, found.severity)),
                literal(found.title),
                literal(found.status),
                literal(current.step.title if current else "every step answered"),
                literal(local_text(found.opened_at)[4:21]),
                key=str(found.id),
            )
        text = Text("None open." if not data else "Enter resumes an incident at its step.", "dim")
        self.query_one("#incidents-text", Static).update(text)

    @on(DataTable.RowSelected, "#open-incidents")
    def _chosen(self, event: DataTable.RowSelected) -> None:
        self.post_message(self.IncidentChosen(int(event.row_key.value)))
