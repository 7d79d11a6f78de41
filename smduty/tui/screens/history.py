"""One record's history, from the audit trail: who changed it, when, and what before and after.

Opened with `h` from the channel register, the triage queue and an incident. Newest first, a
page at a time (keyset on the row id): moving past the last row loads the next page. Every
value is shown as text, never markup: names and notes come from people and posts.
"""

from __future__ import annotations

import json

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static

from smduty.core.records.audit import AuditEntry, entries
from smduty.core.text import escape_controls
from smduty.tui.widgets.table import Table

PAGE = 100


def _short(value: object, width: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str) if value is not None else ""
    return text if len(text) <= width else text[: width - 1] + "…"


def _change(entry: AuditEntry) -> str:
    """The fields that changed, as `field: before → after`, else what was written."""
    before, after = entry.before, entry.after
    if isinstance(before, dict) and isinstance(after, dict):
        changed = [k for k in sorted({*before, *after}) if before.get(k) != after.get(k)]
        return "; ".join(
            f"{k}: {_short(before.get(k), 30)} → {_short(after.get(k), 30)}" for k in changed
        )
    return _short(after if after is not None else before)


class HistoryScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Close", id="history.close")]
    DEFAULT_CSS = """
    HistoryScreen > .modal { width: 120; height: 90%; }
    HistoryScreen #history-table { height: 1fr; }
    HistoryScreen #history-detail-scroll { height: 9; border-top: solid $primary; }
    """

    class Page(Message):
        def __init__(self, rows: list[AuditEntry], first: bool) -> None:
            super().__init__()
            self.rows = rows
            self.first = first

    def __init__(self, entity: str, entity_id: object, title: str) -> None:
        super().__init__()
        self.entity = entity
        self.entity_id = str(entity_id)
        self.heading = title
        self.rows: list[AuditEntry] = []
        self.exhausted = False
        self.loading = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal"):
            yield Label(Text(f"History: {self.heading}"), classes="modal-title")
            yield Table(id="history-table", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="history-detail-scroll"):
                yield Static(id="history-detail")
            yield Label(Text("escape closes; newest first"), classes="muted")

    def on_mount(self) -> None:
        table = self.query_one("#history-table", DataTable)
        for label in ("When (UTC)", "Who", "Login", "Action", "Change"):
            table.add_column(label, key=label)
        table.focus()
        self._load(None)

    @work(thread=True, exclusive=True, group="history", exit_on_error=False)
    def _load(self, before_id: int | None) -> None:
        db = self.app.store.connection()
        rows = entries(db, self.entity, self.entity_id, PAGE, before_id=before_id)
        self.post_message(self.Page(rows, before_id is None))

    def on_history_screen_page(self, message: Page) -> None:
        self.loading = False
        self.exhausted = len(message.rows) < PAGE
        table = self.query_one("#history-table", DataTable)
        for entry in message.rows:
            table.add_row(
                *(Text(escape_controls(cell)) for cell in (entry.at, entry.actor, entry.login,
                                                           entry.action, _change(entry))),
                key=str(entry.id),
            )  # fmt: skip
        self.rows.extend(message.rows)
        if message.first and not message.rows:
            self.query_one("#history-detail", Static).update(
                Text("No changes recorded for this record yet.")
            )
        elif message.first:
            self._show(0)

    @on(DataTable.RowHighlighted, "#history-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show(event.cursor_row)
        if event.cursor_row >= len(self.rows) - 1 and not self.exhausted and not self.loading:
            self.loading = True
            self._load(self.rows[-1].id)

    def _show(self, index: int) -> None:
        if not 0 <= index < len(self.rows):
            return
        entry = self.rows[index]
        detail = Text()
        said = f"{entry.action} by {entry.actor} (login {entry.login or '?'}) "
        detail.append(escape_controls(said), "bold")
        detail.append(escape_controls(f"at {entry.at}, audit row {entry.id}\n"))
        detail.append("before: ", "bold")
        detail.append(json.dumps(entry.before, ensure_ascii=False, default=str, indent=None))
        detail.append("\nafter:  ", "bold")
        detail.append(json.dumps(entry.after, ensure_ascii=False, default=str, indent=None))
        self.query_one("#history-detail", Static).update(detail)
