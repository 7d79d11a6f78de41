"""The tables of every screen: Textual's DataTable, with columns that never stay squashed.

DataTable measures its auto-width columns when it next goes idle after rows are added, but it
caches rendered rows without their widths. A frame drawn between the two (likely on a busy
machine) is cached at the header's widths and shown so until the table next changes: columns
cut to "Castl…" beside a header of another width. When measuring changes the table's size, the
stale renders are dropped and the table drawn again.
"""

from __future__ import annotations

from textual.geometry import Size
from textual.widgets import DataTable


class Table(DataTable):
    def watch_virtual_size(self, old: Size, new: Size) -> None:
        clear = getattr(self, "_clear_caches", None)  # DataTable's own; absent, nothing to do
        if clear is not None:
            clear()
        self.refresh()
