"""Past handover notes: the block, who wrote it, who acknowledged it, and the note in full."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static

from smduty.core.clock import local_text
from smduty.core.rota.handover import HandoverNote, past_handovers
from smduty.tui.theme import literal
from smduty.tui.widgets.table import Table


class HandoversModal(ModalScreen[None]):
    DEFAULT_CSS = """
    HandoversModal .modal { height: 80%; }
    HandoversModal #handovers { height: 1fr; }
    HandoversModal #handover-scroll { height: 10; border-top: hkey $primary 40%; }
    """
    BINDINGS = [Binding("escape", "dismiss", "Close", id="handovers.close")]

    def __init__(self) -> None:
        super().__init__()
        self.notes: list[HandoverNote] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal"):
            yield Label("Handover notes, newest first (esc closes)", classes="modal-title")
            yield Table(id="handovers", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="handover-scroll"):
                yield Static(id="handover-text")

    def on_mount(self) -> None:
        table = self.query_one("#handovers", DataTable)
        table.add_columns("Block", "From", "Written", "Acknowledged")
        self.notes = past_handovers(self.app.store.connection())
        for note in self.notes:
            seen = (
                f"{note.acknowledged_by}, {local_text(note.acknowledged_at)[:21]}"
                if note.acknowledged_at
                else "not yet"
            )
            table.add_row(
                literal(f"{note.block_start:%a %-d %b %Y}"),
                literal(note.author),
                literal(local_text(note.created_at)[:21]),
                literal(seen, "" if note.acknowledged_at else "bold"),
            )
        if not self.notes:
            self.query_one("#handover-text", Static).update(Text("No handover notes yet."))
        table.focus()

    @on(DataTable.RowHighlighted, "#handovers")
    def _show(self, event: DataTable.RowHighlighted) -> None:
        if 0 <= event.cursor_row < len(self.notes):
            note = self.notes[event.cursor_row]
            self.query_one("#handover-text", Static).update(Text(note.text))
