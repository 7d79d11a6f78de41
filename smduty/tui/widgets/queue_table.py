"""The triage queue's table: one page of mentions; moving past either end asks for the next."""

from __future__ import annotations

from datetime import datetime

from textual.message import Message

from smduty.core.triage import queue as triage
from smduty.core.triage.targets import Targets
from smduty.tui.theme import literal, rating_style
from smduty.tui.widgets.table import Table

# Fixed widths, so the text column stays in view whatever a source or author is called.
COLUMNS = (
    (" ", 1),
    ("Rating", 8),
    ("Age", 9),
    ("Status", 11),
    ("Assignee", 13),
    ("Source", 13),
    ("Author", 13),
    ("Text", 200),
)
NARROW_DROPS = ("Source", "Author")


class QueueTable(Table):
    """Moving past the ends of the page asks the screen for the next or previous page."""

    class PastEnd(Message):
        def __init__(self, forward: bool) -> None:
            super().__init__()
            self.forward = forward

    def action_cursor_down(self) -> None:
        if self.row_count and self.cursor_row >= self.row_count - 1:
            self.post_message(self.PastEnd(True))
            return
        super().action_cursor_down()

    def action_cursor_up(self) -> None:
        if self.row_count and self.cursor_row == 0:
            self.post_message(self.PastEnd(False))
            return
        super().action_cursor_up()

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.narrow = False
        self._add_columns()

    def _add_columns(self) -> None:
        for label, width in COLUMNS:
            if not (self.narrow and label in NARROW_DROPS):
                self.add_column(label, width=width)

    def set_narrow(self, narrow: bool) -> bool:
        """On a narrow terminal the source and author columns go (the detail pane below says
        them), so the text stays in view. True when the columns changed (show the rows again)."""
        if narrow == self.narrow:
            return False
        self.narrow = narrow
        self.clear(columns=True)
        self._add_columns()
        return True

    def show_items(
        self, items: list[triage.QueueItem], marked: set[int], targets: Targets, now: datetime
    ) -> None:
        """One page of mentions, every cell outside text shown literally."""
        self.clear()
        late_style = rating_style(self.app, "critical")
        for item in items:
            late = item.overdue(targets, now)
            status = triage.STATE_LABELS[item.status]
            cells = [
                literal("✓" if item.id in marked else ""),
                literal(item.rating, rating_style(self.app, item.rating)),
                literal(
                    triage.age_text(item.age_minutes(now)) + (" !" if late else ""),
                    late_style if late else "",
                ),
                literal(status),
                literal(item.assigned_to or ""),
            ]
            if not self.narrow:
                cells += [literal(item.source), literal(item.author)]
            cells.append(literal(item.first_line()[:200]))
            self.add_row(*cells, key=str(item.id))

    def mark_row(self, row: int, marked: bool) -> None:
        self.update_cell_at((row, 0), literal("✓" if marked else ""))
