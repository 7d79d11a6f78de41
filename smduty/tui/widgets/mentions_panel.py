"""Dashboard panel: new, open and overdue flagged mentions by rating, and failing sources.

Enter on a rating opens the queue filtered to it; on "Overdue", to everything past its target.
"""

from __future__ import annotations

import sqlite3

import msgspec
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import DataTable, Static

from smduty.core.monitoring.sources import Source, list_sources
from smduty.core.triage.queue import RatingCounts, dashboard_counts
from smduty.core.triage.targets import load_targets
from smduty.tui.theme import literal, rating_style, severity_style
from smduty.tui.widgets.panel import DashboardPanel
from smduty.tui.widgets.table import Table


class MentionSnapshot(msgspec.Struct, frozen=True):
    counts: list[RatingCounts]
    failing: list[Source]
    sources: int


class MentionsPanel(DashboardPanel):
    PANEL_TITLE = "Mentions to triage (t opens the queue)"
    DEFAULT_CSS = """
    MentionsPanel DataTable { height: auto; max-height: 8; }
    """

    class QueueChosen(Message):
        def __init__(self, rating: str, overdue: bool) -> None:
            super().__init__()
            self.rating = rating
            self.overdue = overdue

    def compose(self) -> ComposeResult:
        yield Table(id="mention-counts", cursor_type="row", show_cursor=True)
        yield Static("Loading mentions…", id="mentions-text")

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("Rating", "New", "Open", "Overdue")
        super().on_mount()

    def fetch(self, db: sqlite3.Connection) -> MentionSnapshot:
        counts = dashboard_counts(db, load_targets(self.app.settings))
        found = list_sources(db)
        failing = [s for s in found if s.enabled and s.failures]
        return MentionSnapshot(counts, failing, len(found))

    def show(self, data: MentionSnapshot) -> None:
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        late_style = severity_style(self.app, "red")
        for c in data.counts:
            table.add_row(
                literal(c.rating, rating_style(self.app, c.rating)),
                literal(c.new or "–"),
                literal(c.open or "–"),
                literal(c.overdue or "–", late_style if c.overdue else ""),
                key=c.rating,
            )
        overdue = sum(c.overdue for c in data.counts)
        table.add_row(
            literal("overdue, any rating"),
            literal(""),
            literal(""),
            literal(overdue or "none", late_style if overdue else severity_style(self.app, "ok")),
            key="overdue",
        )
        table.move_cursor(row=max(0, min(row, table.row_count - 1)), animate=False)
        text = Text.assemble(("Sources  ", "dim"), f"{data.sources} (s opens them)")
        if data.failing:
            text.append("\nIn error  ", severity_style(self.app, "red"))
            for i, source in enumerate(data.failing):
                text.append("\n  " if i else "")
                text.append(source.name, "bold")
                text.append(f": {source.last_error}")
        self.query_one("#mentions-text", Static).update(text)

    @on(DataTable.RowSelected, "#mention-counts")
    def _chosen(self, event: DataTable.RowSelected) -> None:
        key = event.row_key.value
        if key == "overdue":
            self.post_message(self.QueueChosen("", True))
        else:
            self.post_message(self.QueueChosen(key, False))
