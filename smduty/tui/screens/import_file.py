"""Import an export file: pick the file, watch the progress bar, read the summary.

The import runs in a worker thread in one transaction: a file that fails part way writes nothing.
"""

from __future__ import annotations

import time
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, DirectoryTree, Input, Label, ProgressBar, Select, Static

from smduty.core.monitoring.exports import FORMATS
from smduty.core.monitoring.fetch import limits_for
from smduty.core.monitoring.flag_load import ruleset_for
from smduty.core.monitoring.ingest import LocationSummary, ingest_location
from smduty.core.monitoring.presets import preset_names
from smduty.tui.widgets.plain import PlainSelect


class ImportScreen(ModalScreen[LocationSummary | None]):
    DEFAULT_CSS = """
    ImportScreen .modal { height: 90%; }
    ImportScreen DirectoryTree { height: 1fr; border: round $primary 40%; }
    ImportScreen #import-options { height: auto; margin-top: 1; }
    ImportScreen #import-options Select { width: 1fr; }
    ImportScreen #import-progress { margin-top: 1; }
    ImportScreen #import-summary { height: auto; min-height: 1; }
    """
    BINDINGS = [
        Binding("escape", "close", "Close", id="import.close"),
        Binding("ctrl+s", "start", "Import", id="import.start"),
    ]

    class Progress(Message):
        def __init__(self, done: int, total: int) -> None:
            super().__init__()
            self.done = done
            self.total = total

    class Finished(Message):
        def __init__(self, summary: LocationSummary) -> None:
            super().__init__()
            self.summary = summary

    def __init__(self, start_in: Path | None = None) -> None:
        super().__init__()
        self.start_in = start_in or Path.cwd()
        self.result: LocationSummary | None = None
        self.running = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal"):
            yield Label("Import an export file", classes="modal-title")
            yield Input(
                placeholder="path to a CSV, JSON or NDJSON export (or pick below)", id="import-path"
            )
            yield DirectoryTree(str(self.start_in), id="import-tree")
            with Horizontal(id="import-options"):
                yield PlainSelect(
                    [(f"format: {f}", f) for f in FORMATS],
                    value="auto",
                    allow_blank=False,
                    id="import-format",
                    compact=True,
                )
                yield PlainSelect(
                    [("preset: detect", "")] + [(f"preset: {p}", p) for p in preset_names()],
                    value="",
                    allow_blank=False,
                    id="import-preset",
                    compact=True,
                )
            yield ProgressBar(total=1, id="import-progress", show_eta=True)
            yield Static(id="import-summary")
            with Horizontal(classes="buttons"):
                yield Button("Close", id="close")
                yield Button("Import (ctrl+s)", id="start", variant="primary")

    @on(DirectoryTree.FileSelected)
    def _picked(self, event: DirectoryTree.FileSelected) -> None:
        self.query_one("#import-path", Input).value = str(event.path)

    @on(Input.Submitted, "#import-path")
    @on(Button.Pressed, "#start")
    def action_start(self) -> None:
        if self.running:
            return
        path = self.query_one("#import-path", Input).value.strip()
        summary = self.query_one("#import-summary", Static)
        if not path:
            summary.update(Text("Choose a file first.", style="bold"))
            return
        self.running = True
        self.query_one("#start", Button).disabled = True
        summary.update(Text(f"Importing {path}…"))
        self.query_one(ProgressBar).update(total=None, progress=0)
        fmt = self.query_one("#import-format", Select).value
        preset = self.query_one("#import-preset", Select).value
        self._import(str(Path(path).expanduser()), str(fmt), str(preset) or None)

    @work(thread=True, exclusive=True, group="import", exit_on_error=False)
    def _import(self, path: str, fmt: str, preset: str | None) -> None:
        db = self.app.store.connection()
        last = 0.0

        def progress(done: int, total: int) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last > 0.1 or done >= total:  # at most ten updates a second
                last = now
                self.post_message(self.Progress(done, total))

        try:
            rules = ruleset_for(db)
        except Exception as exc:  # a broken rules file: say so, import nothing
            summary = LocationSummary(path, "", error=f"the flag rules cannot load: {exc}")
        else:
            summary = ingest_location(
                db,
                rules,
                path,
                fmt=fmt,
                preset=preset,
                progress=progress,
                actor=self.app.actor,
                limits=limits_for(self.app.settings),
                waiting=lambda other: self.app.call_from_thread(
                    self.app.notify,
                    f"Waiting for another import to finish ({other})…",
                    markup=False,
                ),
            )
        self.post_message(self.Finished(summary))

    @on(Progress)
    def _progress(self, message: Progress) -> None:
        self.query_one(ProgressBar).update(total=max(message.total, 1), progress=message.done)

    @on(Finished)
    def _finished(self, message: Finished) -> None:
        self.running = False
        self.result = message.summary
        self.query_one("#start", Button).disabled = False
        s, c = message.summary, message.summary.counts
        text = Text()
        if s.error:
            text.append("Nothing was imported.\n", "bold")
            text.append(s.error)
            self.query_one(ProgressBar).update(total=1, progress=0)
        else:
            bar = self.query_one(ProgressBar)
            bar.update(total=bar.total or 1, progress=bar.total or 1)
            text.append(f"{s.location}\n", "bold")
            text.append(
                f"read {c.read}, new {c.new}, duplicates {c.duplicates}, flagged {c.flagged}, "
                f"skipped {c.skipped}"
            )
            if s.warning:
                text.append(f"\nWarning: {s.warning}")
        self.query_one("#import-summary", Static).update(text)

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        if not self.running:
            self.dismiss(self.result)
