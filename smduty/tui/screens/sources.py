"""Mention sources: every feed and export file with its health; add, edit, disable, poll now."""

from __future__ import annotations

import sqlite3
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from smduty.core.clock import COUNCIL_TZ, now_utc, parse_stamp
from smduty.core.errors import InvalidInput, NotFound, SmdutyError, changed_meanwhile
from smduty.core.monitoring import sources as sources_core
from smduty.core.monitoring.exports import FORMATS
from smduty.core.monitoring.fetch import limits_for
from smduty.core.monitoring.flag_load import ruleset_for
from smduty.core.monitoring.poller import poll_source
from smduty.core.monitoring.presets import preset_names
from smduty.core.monitoring.sources import Source
from smduty.core.store import transaction
from smduty.tui import messages
from smduty.tui.screens.base import MainScreen
from smduty.tui.screens.form import Field, FormModal
from smduty.tui.theme import literal, severity_style
from smduty.tui.widgets.table import Table


def when(stamp: str | None, empty: str = "never") -> str:
    """A stored UTC time as council time, with how long ago or how soon."""
    if not stamp:
        return empty
    moment = parse_stamp(stamp)
    minutes = round((moment - now_utc()).total_seconds() / 60)
    local = moment.astimezone(COUNCIL_TZ)
    if abs(minutes) < 1:
        gap = "now"
    elif abs(minutes) < 120:
        gap = f"{abs(minutes)} min"
    else:
        gap = f"{abs(minutes) // 60} h"
    if gap == "now":
        return f"{local:%H:%M} (now)"
    return f"{local:%a %H:%M} ({'in ' + gap if minutes > 0 else gap + ' ago'})"


def source_fields(source: Source | None = None) -> list[Field]:
    return [
        Field("name", "Name", value=source.name if source else ""),
        Field(
            "location",
            "URL or file",
            value=source.location if source else "",
            placeholder="https://… feed, or a path to an export file",
        ),
        Field(
            "every",
            "Poll every",
            value=f"{source.interval_minutes}m" if source else "15m",
            placeholder="15m, 1h",
        ),
        Field(
            "format",
            "Format",
            "select",
            value=source.format if source else "auto",
            options=[(f, f) for f in FORMATS],
        ),
        Field(
            "preset",
            "Export preset",
            "select",
            value=(source.preset or "") if source else "",
            options=[(p, p) for p in preset_names()],
            placeholder="detect from the header row",
        ),
        Field(
            "map",
            "Column map",
            value=source.column_map if source else "",
            placeholder="text=COLUMN,author=COLUMN (optional)",
        ),
    ]


class SourcesScreen(MainScreen):
    HELP_TITLE = "Mention sources"
    HELP_TEXT = (
        "Feeds (http or https) and export files that bring mentions in. A failing source backs "
        "off (its interval doubles, up to 6 hours) and recovers on the next success."
    )
    DEFAULT_CSS = """
    SourcesScreen #sources { height: 1fr; }
    SourcesScreen #source-detail { height: auto; max-height: 8; padding: 0 1;
                                   background: $panel; }
    """
    BINDINGS = [
        Binding("a", "add", "Add", id="sources.add", tooltip="Add a feed or export file"),
        Binding("e", "edit", "Edit", id="sources.edit", tooltip="Change the selected source"),
        Binding("d", "toggle", "Disable/enable", id="sources.toggle"),
        Binding("p", "poll_now", "Poll now", id="sources.poll", tooltip="Fetch it straight away"),
        Binding("i", "app.import_file", "Import file", id="sources.import"),
        Binding("escape", "app.open_dashboard", "Back", id="sources.back"),
    ]

    class Loaded(messages.Loaded):
        """Every source (list[Source])."""

    class Done(messages.Notice):
        """A toggle or a poll finished (or failed)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[Source] = []

    def compose_body(self) -> ComposeResult:
        yield Static(Text("Mention sources"), classes="screen-title")
        yield Table(id="sources", cursor_type="row", zebra_stripes=True)
        yield Static(id="source-detail")

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns(
            "Source", "Health", "Last polled", "Next poll", "Every", "Location"
        )
        self.reload()

    def every_half_minute(self) -> None:
        self.reload()

    def on_screen_resume(self) -> None:
        self.reload()

    @work(thread=True, exclusive=True, group="sources", exit_on_error=False)
    def reload(self) -> None:
        self.post_message(self.Loaded(sources_core.list_sources(self.app.store.connection())))

    @on(Loaded)
    def _show(self, message: Loaded) -> None:
        self.found = message.data
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        for s in self.found:
            if not s.enabled:
                health = literal("disabled", "dim")
            elif s.failures:
                health = literal(f"error ×{s.failures}", severity_style(self.app, "red"))
            elif s.last_warning:
                health = literal("warning", severity_style(self.app, "amber"))
            elif s.last_status:
                health = literal(s.last_status, severity_style(self.app, "ok"))
            else:
                health = literal("not polled yet", "dim")
            table.add_row(
                literal(s.name),
                health,
                literal(when(s.last_polled)),
                literal(when(s.next_poll, "due now") if s.enabled else "—"),
                literal(f"{s.interval_minutes} min"),
                literal(s.location),
                key=str(s.id),
            )
        if self.found:
            table.move_cursor(row=min(row, len(self.found) - 1))
        self._show_detail()

    def _current(self) -> Source | None:
        table = self.query_one(DataTable)
        if not self.found or table.cursor_row >= len(self.found):
            return None
        return self.found[table.cursor_row]

    @on(DataTable.RowHighlighted)
    def _show_detail(self) -> None:
        s = self._current()
        detail = self.query_one("#source-detail", Static)
        if s is None:
            detail.update(Text("No sources yet: a adds a feed or an export file."))
            return
        text = Text()
        text.append(f"{s.name}", "bold")
        text.append(f"  {s.kind}, format {s.format}")
        if s.preset:
            text.append(f", preset {s.preset}")
        if s.column_map:
            text.append(f", columns {s.column_map}")
        text.append(f"\n{s.location}")
        if s.last_error:
            text.append(f"\nLast error: {s.last_error}", severity_style(self.app, "red"))
        if s.last_warning:
            text.append(f"\nWarning: {s.last_warning}", severity_style(self.app, "amber"))
        detail.update(text)

    # --- changes ---------------------------------------------------------------------

    def _after_form(self, result: Any) -> None:
        if result:
            self.notify(str(result), markup=False)
            self.reload()

    def action_add(self) -> None:
        actor = self.app.actor

        def submit(db: sqlite3.Connection, values: dict[str, Any]) -> str:
            s = sources_core.add_source(
                db,
                actor,
                values["name"],
                values["location"],
                values["every"],
                values["format"] or "auto",
                values["preset"] or "",
                values["map"],
            )
            return f"Added {s.name}; it is polled within a minute"

        self.app.push_screen(
            FormModal("Add a mention source", source_fields(), submit, save_label="Add"),
            callback=self._after_form,
        )

    def action_edit(self) -> None:
        source, actor = self._current(), self.app.actor
        if source is None:
            return

        def submit(db: sqlite3.Connection, values: dict[str, Any]) -> str:
            if not values["name"]:
                raise InvalidInput({"name": "a name is needed"})
            with transaction(db):  # saved only over the settings the form was opened on
                try:
                    now = sources_core.get_source(db, source.name)
                except NotFound:
                    raise changed_meanwhile(source.name) from None
                if _settings(now) != _settings(source):  # not its polls, which come and go
                    raise changed_meanwhile(source.name)
                s = sources_core.edit_source(
                    db,
                    actor,
                    source.name,
                    name=values["name"],
                    location=values["location"],
                    interval_minutes=values["every"],
                    format=values["format"] or "auto",
                    preset=values["preset"] or "",
                    column_map=values["map"],
                )
            return f"Saved {s.name}"

        self.app.push_screen(
            FormModal(f"Edit {source.name}", source_fields(source), submit),
            callback=self._after_form,
        )

    @work(thread=True, group="sources-write", exit_on_error=False)
    def action_toggle(self) -> None:
        source = self._current()
        if source is None:
            return
        try:
            s = sources_core.set_enabled(
                self.app.store.connection(), self.app.actor, source.name, not source.enabled
            )
        except SmdutyError as exc:
            self.post_message(self.Done(str(exc), error=True))
            return
        self.post_message(self.Done(f"{s.name} is {'enabled' if s.enabled else 'disabled'}"))

    @work(thread=True, group="sources-write", exit_on_error=False)
    def action_poll_now(self) -> None:
        source = self._current()
        if source is None:
            return
        if not source.enabled:
            self.post_message(self.Done(f"{source.name} is disabled: d enables it", error=True))
            return
        self.post_message(self.Done(f"Polling {source.name}…"))
        db = self.app.store.connection()
        try:
            found = sources_core.get_source(db, source.name)
            limits = limits_for(self.app.settings)
            result = poll_source(db, ruleset_for(db), found, limits, actor=self.app.actor)
        except Exception as exc:  # shown, never fatal: the rules file may be broken
            self.post_message(self.Done(f"{source.name}: {exc}", error=True))
            return
        if result.error:
            self.post_message(self.Done(f"{source.name}: {result.error}", error=True))
        else:
            c = result.counts
            self.post_message(
                self.Done(
                    f"{source.name}: {result.status}; read {c.read}, new {c.new}, "
                    f"flagged {c.flagged}"
                )
            )

    @on(Done)
    def _done(self, message: Done) -> None:
        self.notify(
            message.note, severity="error" if message.error else "information", markup=False
        )
        self.reload()


def _settings(source: Source) -> tuple:
    """What an officer sets on a source (its polls' results change on their own)."""
    return (source.name, source.kind, source.location, source.format, source.preset,
            source.column_map, source.interval_minutes, source.enabled)  # fmt: skip
