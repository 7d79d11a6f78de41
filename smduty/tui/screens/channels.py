"""The channel register: sortable, filterable table; detail pane; add, edit, advance, close."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Input, Static

from smduty.core.clock import today
from smduty.core.errors import InvalidInput, SmdutyError
from smduty.core.register import channels as register_core
from smduty.core.register.compliance import Limits, RegisterEntry, register
from smduty.tui import messages
from smduty.tui.screens.base import MainScreen
from smduty.tui.theme import literal, severity_style
from smduty.tui.widgets.channel_detail import ChannelDetail
from smduty.tui.widgets.table import Table

SORTS = {
    "name": lambda e: e.channel.name.lower(),
    "platform": lambda e: (e.channel.platform, e.channel.name.lower()),
    "service": lambda e: (e.channel.service.lower(), e.channel.name.lower()),
    "status": lambda e: (e.channel.status, e.channel.name.lower()),
    "state": lambda e: ({"red": 0, "amber": 1, "ok": 2}.get(e.state, 3), e.channel.name.lower()),
}
# State sits beside the name so it stays in view when the detail pane takes half the width.
COLUMNS = (
    ("Channel", "name"),
    ("State", "state"),
    ("Status", "status"),
    ("Platform", "platform"),
    ("Service", "service"),
    ("Managers", None),
)


class ChannelsScreen(MainScreen):
    HELP_TITLE = "Channel register"
    HELP_TEXT = (
        "Every official channel and what fails policy. / filters as you type; "
        "s or a click on a column header sorts."
    )
    DEFAULT_CSS = """
    ChannelsScreen #filter { margin: 0 1; }
    ChannelsScreen #body { height: 1fr; }
    ChannelsScreen #register { width: 3fr; }
    ChannelsScreen #detail-scroll { width: 2fr; border-left: vkey $primary 40%; }
    ChannelsScreen.narrow #body { layout: vertical; }
    ChannelsScreen.narrow #register { width: 1fr; height: 1fr; }
    ChannelsScreen.narrow #detail-scroll { width: 1fr; height: 1fr; border-left: none;
                                           border-top: hkey $primary 40%; }
    """
    BINDINGS = [
        Binding("a", "add", "Add", id="channels.add", tooltip="Register a new channel"),
        Binding("e", "edit", "Edit", id="channels.edit", tooltip="Edit the selected channel"),
        Binding(
            "p",
            "advance",
            "Next step",
            id="channels.advance",
            tooltip="Complete the next set-up step of a proposal",
        ),
        Binding(
            "t",
            "training",
            "Training",
            id="channels.training",
            tooltip="Record that a manager of the selected channel was trained",
        ),
        Binding(
            "x",
            "close_channel",
            "Close channel",
            id="channels.close",
            tooltip="Close the selected channel (a proposal: turn it down)",
        ),
        Binding("h", "history", "History", id="channels.history", tooltip="Every change to it"),
        Binding("s", "sort", "Sort", id="channels.sort", tooltip="Sort by the next column"),
        Binding(
            "slash",
            "filter",
            "Filter",
            key_display="/",
            id="channels.filter",
            tooltip="Type to filter by name, platform, service, handle or manager",
        ),
        Binding(
            "escape",
            "back",
            "Back",
            id="channels.back",
            tooltip="Clear the filter, or go back to the dashboard",
        ),
    ]

    class Loaded(messages.Loaded):
        """The register's entries (list[RegisterEntry])."""

    class ActionDone(messages.Notice):
        """A proposal step or a close finished (or was refused)."""

    def __init__(self, select_id: int | None = None) -> None:
        super().__init__()
        self.entries: list[RegisterEntry] = []
        self.sort_key = "state"
        self.select_id = select_id

    def compose_body(self) -> ComposeResult:
        yield Input(
            placeholder="/ to filter: name, platform, service, handle, manager", id="filter"
        )
        with Horizontal(id="body"):
            yield Table(id="register", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="detail-scroll"):
                yield ChannelDetail(id="detail")
        yield Static(id="register-status", classes="muted")

    def on_mount(self) -> None:
        table = self.query_one("#register", DataTable)
        for label, key in COLUMNS:
            table.add_column(label, key=key or label.lower())
        table.focus()
        self._apply_width(self.size.width)
        self.reload()

    def on_resize(self, event) -> None:
        self._apply_width(event.size.width)

    def _apply_width(self, width: int) -> None:
        self.set_class(width < 110, "narrow")

    def on_screen_resume(self) -> None:
        self.reload()

    @work(thread=True, exclusive=True, group="register", exit_on_error=False)
    def reload(self) -> None:
        entries = register(self.app.store.connection(), None, Limits.from_config(self.app.settings))
        self.post_message(self.Loaded(entries))

    def on_channels_screen_loaded(self, message: Loaded) -> None:
        self.entries = message.data
        self._fill_table()

    # -- table -------------------------------------------------------------------------------

    def _visible(self) -> list[RegisterEntry]:
        needle = self.query_one("#filter", Input).value.strip().lower()
        rows = sorted(self.entries, key=SORTS[self.sort_key])
        if not needle:
            return rows

        def haystack(e: RegisterEntry) -> str:
            c = e.channel
            return " ".join(
                (
                    c.name,
                    c.platform,
                    c.service,
                    c.handle,
                    c.status,
                    e.state,
                    *(m.name for m in c.managers),
                )
            ).lower()

        return [e for e in rows if needle in haystack(e)]

    def _fill_table(self) -> None:
        table = self.query_one("#register", DataTable)
        keep = self.select_id if self.select_id is not None else self._selected_id()
        self.select_id = None
        table.clear()
        visible = self._visible()
        for e in visible:
            c = e.channel
            status = c.status
            if c.status == "proposed":
                status = "proposed {}/{}".format(*c.proposal_progress)
            table.add_row(
                literal(c.name),
                literal(e.state, severity_style(self.app, e.state)),
                literal(status),
                literal(c.platform),
                literal(c.service),
                literal(", ".join(m.name for m in c.managers)),
                key=str(c.id),
            )
        for index, e in enumerate(visible):
            if e.channel.id == keep:
                table.move_cursor(row=index)
                break
        self._show_detail()
        self.query_one("#register-status", Static).update(
            Text(f" {len(visible)} of {len(self.entries)} channels   sorted by {self.sort_key}")
        )

    def _selected_id(self) -> int | None:
        table = self.query_one("#register", DataTable)
        if table.row_count == 0:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return int(row_key.value) if row_key.value is not None else None

    def _selected(self) -> RegisterEntry | None:
        wanted = self._selected_id()
        return next((e for e in self.entries if e.channel.id == wanted), None)

    def _show_detail(self) -> None:
        self.query_one("#detail", ChannelDetail).show_entry(self._selected())

    @on(DataTable.RowHighlighted, "#register")
    def _highlighted(self) -> None:
        self._show_detail()

    @on(DataTable.RowSelected, "#register")
    def _selected_row(self) -> None:
        self.action_edit()

    @on(DataTable.HeaderSelected, "#register")
    def _sort_by_header(self, event: DataTable.HeaderSelected) -> None:
        key = event.column_key.value
        if key in SORTS:
            self.sort_key = key
            self._fill_table()

    @on(Input.Changed, "#filter")
    def _filter_changed(self) -> None:
        self._fill_table()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.query_one("#register", DataTable).focus()

    # -- actions -----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.query_one("#filter", Input).has_focus and action in (
            "add",
            "edit",
            "advance",
            "close_channel",
            "sort",
        ):
            return False  # the letters are being typed into the filter
        if action == "advance":
            entry = self._selected()
            return entry is not None and entry.channel.status == "proposed"
        return True

    def action_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_back(self) -> None:
        search = self.query_one("#filter", Input)
        if search.value:
            search.value = ""
            self.query_one("#register", DataTable).focus()
        elif search.has_focus:
            self.query_one("#register", DataTable).focus()
        else:
            self.app.action_open_dashboard()

    def action_sort(self) -> None:
        keys = list(SORTS)
        self.sort_key = keys[(keys.index(self.sort_key) + 1) % len(keys)]
        self._fill_table()

    def _after_form(self, channel) -> None:
        if channel is not None:
            self.select_id = channel.id
            self.notify(f"Saved {channel.name}", title="Register", markup=False)
            self.reload()

    def action_add(self) -> None:
        from smduty.tui.screens.channel_form import ChannelFormScreen

        self.app.push_screen(
            ChannelFormScreen(self.app.store.connection()), callback=self._after_form
        )

    def action_edit(self) -> None:
        from smduty.tui.screens.channel_form import ChannelFormScreen

        entry = self._selected()
        if entry is not None:
            self.app.push_screen(
                ChannelFormScreen(self.app.store.connection(), entry.channel),
                callback=self._after_form,
            )

    def action_advance(self) -> None:
        from smduty.tui.screens.modals import TextPromptModal

        entry = self._selected()
        if entry is None or entry.channel.status != "proposed":
            return
        channel = entry.channel
        done, _ = channel.proposal_progress
        if done == 1 and not channel.line_manager:  # the next step: the line manager agrees
            self.app.push_screen(
                TextPromptModal(
                    "Which line manager agreed? (000 A.3.5)",
                    "the line manager's name",
                    required=True,
                ),
                callback=lambda who: who and self._run_advance(channel.id, line_manager=who),
            )
        elif done == 5 and not channel.authorised_by:  # the next step is authorisation
            self.app.push_screen(
                TextPromptModal(
                    "Who authorised this channel? (004 §4.2.2)",
                    "the Assistant Director's name",
                    required=True,
                ),
                callback=lambda who: who and self._run_advance(channel.id, authorised_by=who),
            )
        else:
            self._run_advance(channel.id)

    def _run_advance(
        self, channel_id: int, authorised_by: str = "", line_manager: str = ""
    ) -> None:
        def advance(db):
            channel = register_core.advance_proposal(
                db, self.app.actor, channel_id, authorised_by, line_manager
            )
            done, total = channel.proposal_progress
            return f"{channel.name}: step {done} of {total} done"

        self._write(advance, "Not advanced")

    def action_training(self) -> None:
        """Record that a manager was trained (a proposal cannot go on without it)."""
        from smduty.tui.screens.form import Field, FormModal

        entry = self._selected()
        if entry is None or not entry.channel.managers:
            self.notify("The channel has no managers to record training for.", markup=False)
            return
        channel, actor = entry.channel, self.app.actor
        untrained = next((m.name for m in channel.managers if m.trained_on is None), "")

        def submit(db: sqlite3.Connection, values: dict) -> str:
            if not values["manager"]:
                raise InvalidInput({"manager": "choose who was trained"})
            register_core.record_training(db, actor, channel.id, values["manager"], values["on"])
            return f"Training recorded: {values['manager']} on {channel.name}"

        self.app.push_screen(
            FormModal(
                f"Training: {channel.name}",
                [
                    Field(
                        "manager",
                        "Manager",
                        "select",
                        untrained,
                        [
                            (
                                f"{m.name} (trained {m.trained_on})" if m.trained_on else m.name,
                                m.name,
                            )
                            for m in channel.managers
                        ],
                    ),
                    Field("on", "Trained on", "date", today().isoformat()),
                ],
                submit,
                intro="Managers must be trained before they post (002 §3.2.3, 000 A.3.7).",
                save_label="Record",
            ),
            callback=lambda note: note and self.post_message(self.ActionDone(note)),
        )

    def action_close_channel(self) -> None:
        from smduty.tui.screens.modals import TextPromptModal

        entry = self._selected()
        if entry is None or entry.channel.status == "closed":
            return
        proposal = entry.channel.status == "proposed"
        question = (
            f"Turn down the proposal {entry.channel.name}? Say why (kept on the record)."
            if proposal
            else f"Close {entry.channel.name}? Say why (kept in its notes)."
        )
        self.app.push_screen(
            TextPromptModal(question, "reason", required=True),
            callback=lambda reason: reason and self._run_close(entry.channel.id, reason, proposal),
        )

    def _run_close(self, channel_id: int, reason: str, proposal: bool = False) -> None:
        def close(db):
            if proposal:
                channel = register_core.reject_proposal(db, self.app.actor, channel_id, reason)
                return f"Turned down {channel.name}"
            channel = register_core.close_channel(db, self.app.actor, channel_id, reason)
            return f"Closed {channel.name}"

        self._write(close, "Not closed")

    @work(thread=True, group="write", exit_on_error=False)
    def _write(self, change: Callable[[sqlite3.Connection], str], refused: str) -> None:
        """Run one core write off the UI thread; its result or refusal comes back as a toast."""
        try:
            note = change(self.app.store.connection())
        except SmdutyError as exc:
            self.post_message(self.ActionDone(f"{refused}: {exc}", error=True))
            return
        self.post_message(self.ActionDone(note))

    def on_channels_screen_action_done(self, message: ActionDone) -> None:
        severity = "error" if message.error else "information"
        self.notify(message.note, severity=severity, markup=False)
        self.reload()

    def action_history(self) -> None:
        from smduty.tui.screens.history import HistoryScreen

        entry = self._selected()
        if entry is not None:
            self.app.push_screen(HistoryScreen("channel", entry.channel.id, entry.channel.name))
