"""Incidents: open ones first, then closed; Enter resumes the walkthrough where it was left."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from smduty.core.clock import local_text
from smduty.core.incidents.lifecycle import list_incidents
from smduty.tui.screens.base import MainScreen
from smduty.tui.theme import literal, rating_style
from smduty.tui.widgets.table import Table


class IncidentsScreen(MainScreen):
    HELP_TITLE = "Incidents"
    HELP_TEXT = "Every incident, open ones first. Enter resumes one at the step it reached."
    BINDINGS = [
        Binding(
            "s",
            "app.start_incident",
            "Start incident",
            id="incidents.start",
            tooltip="Something went wrong: open an incident",
        ),
        Binding("r", "reload", "Refresh", id="incidents.reload", tooltip="Read them again"),
        Binding("escape", "app.open_dashboard", "Dashboard", id="incidents.back"),
    ]

    def compose_body(self) -> ComposeResult:
        yield Static(Text("Incidents"), classes="screen-title")
        yield Table(id="incidents", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns(
            "#", "Status", "Severity", "Title", "Opened", "By", "Next step", "Last entry"
        )
        self.action_reload()

    def on_screen_resume(self) -> None:
        self.action_reload()

    def reload(self) -> None:
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        for found in list_incidents(self.app.store.connection()):
            current = found.current
            table.add_row(
                literal(found.id),
                literal(found.status),
                literal(found.severity, rating_style(self.app, found.severity)),
                literal(found.title),
                literal(local_text(found.opened_at)[:21]),
                literal(found.opened_by),
                literal(current.step.title if current else "–"),
                literal(local_text(found.last_activity)[:21]),
                key=str(found.id),
            )
        if table.row_count:
            table.move_cursor(row=max(0, min(row, table.row_count - 1)), animate=False)

    @on(DataTable.RowSelected, "#incidents")
    def _open(self, event: DataTable.RowSelected) -> None:
        self.app.action_open_incident(int(event.row_key.value))
