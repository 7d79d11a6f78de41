"""Dashboard panel: every live channel and whether it meets policy."""

from __future__ import annotations

import sqlite3

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import DataTable, Static

from smduty.core.register.compliance import LIVE_STATUSES, Limits, RegisterEntry, register
from smduty.tui.theme import literal, severity_style
from smduty.tui.widgets.panel import DashboardPanel
from smduty.tui.widgets.table import Table


class RegisterPanel(DashboardPanel):
    DEFAULT_CSS = """
    RegisterPanel DataTable {
        height: auto;
        max-height: 16;
        overflow-x: hidden;
    }
    """
    PANEL_TITLE = "Channel register"

    class ChannelChosen(Message):
        def __init__(self, channel_id: int) -> None:
            super().__init__()
            self.channel_id = channel_id

    def compose(self) -> ComposeResult:
        yield Static("Loading the register…", id="register-summary")
        yield Table(id="register-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("Channel", "Platform", "Service", "State", "Problem")
        super().on_mount()

    def fetch(self, db: sqlite3.Connection) -> list[RegisterEntry]:
        return register(db, None, Limits.from_config(self.app.settings))

    def show(self, entries: list[RegisterEntry]) -> None:
        live = [e for e in entries if e.channel.status in LIVE_STATUSES]
        red = sum(e.state == "red" for e in live)
        amber = sum(e.state == "amber" for e in live)
        proposals = sum(e.channel.status == "proposed" for e in entries)
        summary = Text.assemble(
            f"{len(live)} live channels  ",
            (f"{red} failing policy", severity_style(self.app, "red") if red else ""),
            "  ",
            (f"{amber} need attention", severity_style(self.app, "amber") if amber else ""),
            f"  {proposals} proposals",
        )
        self.query_one("#register-summary", Static).update(summary)
        table = self.query_one(DataTable)
        table.clear()
        rank = {"red": 0, "amber": 1, "ok": 2}
        for entry in sorted(live, key=lambda e: (rank.get(e.state, 3), e.channel.name.lower())):
            first = entry.problems[0].message if entry.problems else ""
            more = f" (+{len(entry.problems) - 1})" if len(entry.problems) > 1 else ""
            table.add_row(
                literal(entry.channel.name),
                literal(entry.channel.platform),
                literal(entry.channel.service),
                literal(entry.state, severity_style(self.app, entry.state)),
                literal(first + more),
                key=str(entry.channel.id),
            )

    @on(DataTable.RowSelected, "#register-table")
    def _chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.ChannelChosen(int(event.row_key.value)))
