"""The daily check session: go through every active channel and record each one as checked."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, ProgressBar, Static

from smduty.core.clock import COUNCIL_TZ, today
from smduty.core.errors import SmdutyError
from smduty.core.rota.checks import OUTCOMES, ChannelCheckState, check_states, record_check
from smduty.tui import messages
from smduty.tui.screens.base import MainScreen
from smduty.tui.theme import literal, severity_style
from smduty.tui.widgets.table import Table


class CheckSessionScreen(MainScreen):
    HELP_TITLE = "Daily check session"
    HELP_TEXT = (
        "Open each channel (its URL is shown), look at what happened since the last "
        "check, then record it. Every check is kept; a channel may be checked again."
    )
    DEFAULT_CSS = """
    CheckSessionScreen #check-progress { margin: 0 1; }
    CheckSessionScreen #checks { height: 1fr; }
    """
    BINDINGS = [
        Binding(
            "space",
            "mark('nothing_to_action')",
            "Checked",
            id="check.ok",
            tooltip="Checked: nothing to action",
        ),
        Binding(
            "t",
            "mark('queued')",
            "Queued",
            id="check.queued",
            tooltip="Checked: items queued for triage",
        ),
        Binding(
            "x",
            "mark('escalated')",
            "Escalated",
            id="check.escalated",
            tooltip="Checked: something was escalated",
        ),
        Binding("n", "note", "Note", id="check.note", tooltip="Checked, with a note"),
        Binding(
            "escape", "app.open_dashboard", "Back", id="check.back", tooltip="Back to the dashboard"
        ),
    ]

    class Loaded(messages.Loaded):
        """Today's check state of every channel (list[ChannelCheckState])."""

    class Recorded(messages.Notice):
        """A channel's check was recorded (or refused)."""

    def __init__(self) -> None:
        super().__init__()
        self.states: list[ChannelCheckState] = []
        self.day = today()

    def compose_body(self) -> ComposeResult:
        yield Static(Text(f"Checks for {self.day:%A %-d %B %Y}"), classes="screen-title")
        yield ProgressBar(id="check-progress", show_eta=False)
        yield Table(id="checks", cursor_type="row", zebra_stripes=True)
        yield Static(id="check-summary", classes="muted")

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns(
            "Channel", "Today", "Platform", "Handle", "URL", "Last checked"
        )
        self.reload()

    @work(thread=True, exclusive=True, group="checks", exit_on_error=False)
    def reload(self) -> None:
        self.post_message(self.Loaded(check_states(self.app.store.connection(), self.day)))

    def on_check_session_screen_loaded(self, message: Loaded) -> None:
        self.states = message.data
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        for s in self.states:
            last = (
                s.last_checked.astimezone(COUNCIL_TZ).strftime("%a %-d %b %H:%M")
                if s.last_checked
                else "never"
            )
            today_cell = (
                literal(OUTCOMES[s.outcome], severity_style(self.app, "ok"))
                if s.checked
                else literal("not yet", severity_style(self.app, "amber"))
            )
            table.add_row(
                literal(s.channel),
                today_cell,
                literal(s.platform),
                literal(s.handle),
                literal(s.url),
                literal(last),
                key=str(s.channel_id),
            )
        if self.states:
            table.move_cursor(row=min(row, len(self.states) - 1))
        done = sum(s.checked for s in self.states)
        self.query_one(ProgressBar).update(total=max(len(self.states), 1), progress=done)
        summary = f" {done} of {len(self.states)} channels checked today"
        if self.states and done == len(self.states):
            summary += ": the daily check is complete"
        self.query_one("#check-summary", Static).update(Text(summary))

    def _current(self) -> ChannelCheckState | None:
        table = self.query_one(DataTable)
        if not self.states or table.cursor_row >= len(self.states):
            return None
        return self.states[table.cursor_row]

    def action_mark(self, outcome: str, note: str = "") -> None:
        state = self._current()
        if state is None:
            return
        self._record(state.channel_id, state.channel, outcome, note)
        table = self.query_one(DataTable)
        if table.cursor_row < table.row_count - 1:
            table.move_cursor(row=table.cursor_row + 1)

    def action_note(self) -> None:
        from smduty.tui.screens.modals import TextPromptModal

        state = self._current()
        if state is None:
            return
        self.app.push_screen(
            TextPromptModal(
                f"Note for {state.channel} (recorded with the check)", "note", required=True
            ),
            callback=lambda note: (
                note and self._record(state.channel_id, state.channel, "nothing_to_action", note)
            ),
        )

    @work(thread=True, group="write", exit_on_error=False)
    def _record(self, channel_id: int, name: str, outcome: str, note: str) -> None:
        try:
            record_check(self.app.store.connection(), self.app.actor, channel_id, outcome, note)
        except SmdutyError as exc:
            self.post_message(self.Recorded(f"Not recorded: {exc}", error=True))
            return
        self.post_message(self.Recorded(f"{name}: {OUTCOMES[outcome].lower()}"))

    @on(Recorded)
    def _recorded(self, message: Recorded) -> None:
        if message.error:
            self.notify(message.note, severity="error", markup=False)
        self.reload()
