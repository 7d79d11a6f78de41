"""The home screen: today, the operator, and one panel per concern."""

from __future__ import annotations

import sqlite3
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from smduty.core.clock import now_local, today
from smduty.core.errors import SmdutyError
from smduty.core.rota.duty_calendar import DutyCalendar
from smduty.core.rota.handover import acknowledge, current_handover, leave_handover
from smduty.tui.screens.base import MainScreen
from smduty.tui.widgets.duty_panel import DutyPanel
from smduty.tui.widgets.incidents_panel import IncidentsPanel
from smduty.tui.widgets.mentions_panel import MentionsPanel
from smduty.tui.widgets.panel import DashboardPanel
from smduty.tui.widgets.register_panel import RegisterPanel


class DashboardScreen(MainScreen):
    HELP_TITLE = "Dashboard"
    HELP_TEXT = "Today at a glance. Enter on a channel opens it in the register."
    # Panels shown top to bottom; later features append theirs here.
    PANELS: list[type[DashboardPanel]] = [IncidentsPanel, DutyPanel, MentionsPanel, RegisterPanel]
    BINDINGS = [
        Binding(
            "c",
            "app.open_channels",
            "Channels",
            id="dashboard.channels",
            tooltip="The full channel register",
        ),
        Binding(
            "k",
            "app.open_checks",
            "Check session",
            id="dashboard.checks",
            tooltip="Today's check of every channel",
        ),
        Binding(
            "o",
            "app.open_rota",
            "Rota",
            id="dashboard.rota",
            tooltip="Check officers, weekend duty, leave and swaps",
        ),
        Binding(
            "t",
            "app.open_queue",
            "Triage",
            id="dashboard.queue",
            tooltip="The triage queue of flagged mentions",
        ),
        Binding(
            "s",
            "app.open_sources",
            "Sources",
            id="dashboard.sources",
            tooltip="Feeds and export files that bring mentions in",
        ),
        Binding(
            "p",
            "app.open_staff",
            "Staff",
            id="dashboard.staff",
            tooltip="Staff and contacts: phone numbers, roles, deputies, who to ring today",
        ),
        Binding(
            "f",
            "app.open_reports",
            "Reports",
            id="dashboard.reports",
            tooltip="The policy report for a week, month or quarter, with charts",
        ),
        Binding(
            "i",
            "app.import_file",
            "Import",
            id="dashboard.import",
            tooltip="Import an export file of a social media tool",
        ),
        Binding(
            "n",
            "handover_note",
            "Handover note",
            id="dashboard.handover",
            tooltip="Leave a note for the weekend duty officer",
        ),
        Binding(
            "h",
            "acknowledge_handover",
            "Acknowledge",
            id="dashboard.ack",
            tooltip="Acknowledge the handover note shown",
        ),
        Binding(
            "m",
            "acknowledge_misses",
            "Ack misses",
            id="dashboard.misses",
            tooltip="Acknowledge the missed checks shown (they stay on the record)",
        ),
        Binding(
            "e",
            "app.open_incidents",
            "Incidents",
            id="dashboard.incidents",
            tooltip="Every incident; start one when something goes wrong",
        ),
        Binding("r", "reload", "Refresh", id="dashboard.refresh", tooltip="Load every panel again"),
    ]

    def compose_body(self) -> ComposeResult:
        yield Static(id="today-line", classes="screen-title")
        with VerticalScroll(id="panels"):
            for panel in self.PANELS:
                yield panel()

    def on_mount(self) -> None:
        self._show_today()

    def on_screen_resume(self) -> None:
        self.action_reload()

    def _show_today(self) -> None:
        now = now_local()
        self.query_one("#today-line", Static).update(
            Text(f"{now:%A %-d %B %Y}   operator: {self.app.actor}")
        )

    def every_minute(self) -> None:
        self._show_today()
        self.action_reload()

    def reload(self) -> None:
        for panel in self.query(DashboardPanel):
            panel.reload()

    def action_handover_note(self) -> None:
        from smduty.tui.screens import form  # forms are not needed to draw the dashboard

        actor, cal = self.app.actor, DutyCalendar.from_config(self.app.settings)

        def submit(db: sqlite3.Connection, values: dict[str, Any]) -> str:
            note = leave_handover(db, actor, cal, today(), values["text"])
            return f"Handover note left for the block starting {note.block_start:%a %-d %b}"

        block_start, block_end = cal.next_block(today())
        self.app.push_screen(
            form.FormModal(
                f"Handover for the duty block {block_start:%a %-d %b} to {block_end:%a %-d %b}",
                [form.Field("text", "Note", "area")],
                submit,
                intro="What the weekend duty officer needs to know: live issues, posts "
                "scheduled, channels to watch. It stays on the dashboard until acknowledged.",
            ),
            callback=self._changed,
        )

    @work(thread=True, group="dashboard-write", exit_on_error=False)
    def action_acknowledge_handover(self) -> None:
        db = self.app.store.connection()
        note = current_handover(db, DutyCalendar.from_config(self.app.settings), today())
        if note is None:
            self.app.call_from_thread(self.notify, "No handover note is waiting.", markup=False)
            return
        try:
            acknowledge(db, self.app.actor, note.id)
        except SmdutyError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error", markup=False)
            return
        self.app.call_from_thread(self._changed, f"Handover note from {note.author} acknowledged")

    @work(thread=True, group="dashboard-write", exit_on_error=False)
    def action_acknowledge_misses(self) -> None:
        from smduty.core.clock import now_utc
        from smduty.core.rota.misses import acknowledge as acknowledge_misses

        try:
            count = acknowledge_misses(self.app.store.connection(), self.app.actor, now_utc())
        except SmdutyError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error", markup=False)
            return
        said = f"{count} missed check(s) acknowledged" if count else "No missed checks waiting."
        self.app.call_from_thread(self._changed, said)

    def _changed(self, result: str | None) -> None:
        if result:
            self.notify(result, markup=False)
            self.action_reload()

    @on(MentionsPanel.QueueChosen)
    def _open_queue(self, message: MentionsPanel.QueueChosen) -> None:
        self.app.action_open_queue(message.rating, message.overdue)

    @on(IncidentsPanel.IncidentChosen)
    def _open_incident(self, message: IncidentsPanel.IncidentChosen) -> None:
        self.app.action_open_incident(message.incident_id)

    @on(RegisterPanel.ChannelChosen)
    def _open_channel(self, message: RegisterPanel.ChannelChosen) -> None:
        from smduty.tui.screens.channels import ChannelsScreen

        self.app.push_screen(ChannelsScreen(select_id=message.channel_id))
