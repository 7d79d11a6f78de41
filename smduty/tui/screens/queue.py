"""The triage queue: flagged mentions a page at a time, a detail pane, one key per outcome.

The table never holds more than one page (PAGE rows). Pages are keyset queries, so moving down a
million rows costs the same as the first page; moving past the last row loads the next page.
Reloads (the poller adding mentions, a change saved) keep the page and the highlighted mention.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

import msgspec
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.lazy import Lazy
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Checkbox, DataTable, Input, Select, Static

from smduty.core.clock import now_utc
from smduty.core.config import Config, ConfigError, shipped_data_dir
from smduty.core.store import TooSlow, time_limit
from smduty.core.triage import detail as mention_detail
from smduty.core.triage import outcomes
from smduty.core.triage import queue as triage
from smduty.core.triage.assessment import Guide, current_guide, load_guide
from smduty.core.triage.targets import Targets, load_targets
from smduty.tui.messages import Notice
from smduty.tui.screens.base import MainScreen
from smduty.tui.screens.queue_outcomes import QueueOutcomeKeys
from smduty.tui.screens.queue_team import QueueTeamKeys
from smduty.tui.widgets.mention_detail import MentionDetail
from smduty.tui.widgets.queue_filters import QueueFilters
from smduty.tui.widgets.queue_table import QueueTable

PAGE = 50  # a few screens of rows; the next page is one keypress past the last
QUICK_READ_SECONDS = 0.025  # a page read on the UI thread is cut off (and left to a worker) here


class PageData(msgspec.Struct, frozen=True):
    items: list[triage.QueueItem]
    has_more: bool
    total: int
    start: tuple | None
    keep: int | None  # the mention to highlight again
    keep_row: int  # else the row it was on (it left the filter: show the next one)
    generation: int  # which request this answers: an older one's answer is dropped
    to_end: bool  # highlight the last row (arrived by moving up)
    seconds: float
    unflagged: int = 0  # unflagged mentions these filters leave out (said, never hidden)


class QueueScreen(QueueTeamKeys, QueueOutcomeKeys, MainScreen):
    HELP_TITLE = "Triage queue"
    HELP_TEXT = (
        "Flagged mentions, highest rating first, then oldest first. Pick one and record its "
        "outcome with the facts policy asks for; g walks the response assessment and fills the "
        "form in for you. Moving past the last row loads the next page."
    )
    DEFAULT_CSS = """
    QueueScreen #filters { height: 1; padding: 0 1; }
    QueueScreen.narrow #filters { height: 2; }
    QueueScreen.narrow QueueFilters { layout: grid; grid-size: 4 2; grid-columns: 1fr; height: 2; }
    QueueScreen.narrow QueueFilters Select, QueueScreen.narrow QueueFilters Input,
    QueueScreen.narrow QueueFilters #f-category, QueueScreen.narrow QueueFilters #f-source {
        width: 1fr;
    }
    QueueScreen #body { height: 1fr; }
    QueueScreen #queue { height: 1fr; }
    QueueScreen #detail-pane { height: 45%; border-top: hkey $primary 40%; }
    QueueScreen #queue-status { height: 1; padding: 0 1; background: $panel; color: $text-muted; }
    """
    BINDINGS = [
        Binding("a", "assign", "Assign", id="queue.assign", tooltip="Take it on, or give it"),
        Binding("r", "respond", "Respond", id="queue.respond", tooltip="Record the response"),
        Binding("f", "refer", "Refer", id="queue.refer", tooltip="Refer to a service or person"),
        Binding("n", "no_engagement", "No engagement", id="queue.none", tooltip="With a reason"),
        Binding(
            "e",
            "escalate",
            "Escalate",
            id="queue.escalate",
            tooltip="Something went wrong: open an incident on this mention",
        ),
        Binding("d", "dismiss_one", "Dismiss", id="queue.dismiss", tooltip="Not relevant"),
        Binding("z", "snooze", "Snooze", id="queue.snooze", tooltip="Hide until a time"),
        Binding("o", "reopen", "Reopen", id="queue.reopen", tooltip="Back to new"),
        Binding("h", "history", "History", id="queue.history", tooltip="Every change to it"),
        Binding("g", "guide", "Assess", id="queue.guide", tooltip="Response assessment guide"),
        Binding(
            "m", "moderate", "Moderation", id="queue.moderate", tooltip="Record a hide/delete/block"
        ),
        Binding("t", "take", "Take it", id="queue.take", tooltip="Assign it to me"),
        Binding(
            "space",
            "select",
            "Mark",
            id="queue.select",
            tooltip="Mark for a bulk assign, snooze, refer or dismiss (a, z, f, d)",
        ),
        Binding(
            "D",
            "dismiss_selected",
            "Dismiss marked",
            id="queue.bulk",
            tooltip="Dismiss every marked low-risk mention",
        ),
        Binding("w", "open_link", "Open link", id="queue.open", tooltip="In the web browser"),
        Binding("y", "copy_link", "Copy link", id="queue.copy", tooltip="To the clipboard"),
        Binding(
            "u",
            "unflagged",
            "Unflagged",
            id="queue.unflagged",
            tooltip="List unflagged mentions after the flagged ones, or stop listing them",
        ),
        Binding("slash", "search", "Search", id="queue.search", show=False),
        Binding("right_square_bracket", "page(1)", "Next page", id="queue.next", show=False),
        Binding("left_square_bracket", "page(-1)", "Previous page", id="queue.prev", show=False),
        Binding("escape", "back", "Back", id="queue.back"),
    ]

    class Loaded(Message):
        def __init__(self, data: PageData) -> None:
            super().__init__()
            self.data = data

    class Woken(Message):
        """Snoozed mentions whose time came went back to new."""

    class DetailLoaded(Message):
        def __init__(self, found: mention_detail.Detail | None) -> None:
            super().__init__()
            self.found = found

    class Done(Notice):
        """A bulk dismiss finished; `cleared` are the mentions to unmark."""

        def __init__(self, note: str, error: bool = False, cleared: list[int] = ()) -> None:
            super().__init__(note, error)
            self.cleared = list(cleared)

    def __init__(self, filters: triage.Filters | None = None) -> None:
        super().__init__()
        self.filters = filters or triage.Filters()
        self.starts: list[tuple | None] = [None]  # where each page so far began
        self.items: list[triage.QueueItem] = []
        self.has_more = False
        self.total = 0
        self.unflagged = 0
        self.selected: set[int] = set()
        self.targets: Targets = load_targets(Config())
        self.guide_problem = ""
        try:
            self.guide: Guide = current_guide()
        except ConfigError as exc:  # a broken user copy must not keep the queue shut
            self.guide_problem = str(exc)
            self.guide = load_guide(shipped_data_dir() / "response-assessment.toml")
        self.last_load_seconds = 0.0
        self.loads = 0
        self.generation = 0
        self._search_timer: Timer | None = None

    # --- layout ------------------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        yield Static(Text("Triage queue"), classes="screen-title", id="queue-title")
        with Horizontal(id="filters"):  # holds the row while the bar itself is mounted
            yield Lazy(QueueFilters(self.filters, id="filter-bar"))
        with Vertical(id="body"):
            yield QueueTable(id="queue")
            with VerticalScroll(id="detail-pane"):
                yield MentionDetail(id="detail")
        yield Static(id="queue-status")

    def on_mount(self) -> None:
        try:
            self.targets = load_targets(self.app.settings)
        except ConfigError as exc:
            self.notify(
                f"Response targets: {exc}; using the defaults", severity="error", markup=False
            )
        if self.guide_problem:
            self.notify(
                f"Response assessment: {self.guide_problem}; using the shipped guide",
                severity="error",
                markup=False,
            )
        self.query_one(QueueTable).focus()
        self._apply_width(self.size.width)
        self._request(None)
        self._wake_snoozed()

    def on_resize(self, event) -> None:
        self._apply_width(event.size.width)

    def _apply_width(self, width: int) -> None:
        """Below 120 columns the filter bar takes two rows and the table drops its source and
        author columns (the detail pane below has them), so everything fits at 80x24."""
        narrow = width < 120
        self.set_class(narrow, "narrow")
        if self.query_one(QueueTable).set_narrow(narrow) and self.items:
            self.query_one(QueueTable).show_items(
                self.items, self.selected, self.targets, now_utc()
            )

    def every_minute(self) -> None:
        """The app's minute tick, while this screen is on top: ages move on, snoozes end."""
        self.reload()
        self._wake_snoozed()

    def on_screen_resume(self) -> None:
        self.reload()

    # --- loading -----------------------------------------------------------------------

    def reload(self) -> None:
        """Load the current page again, keeping the highlighted mention."""
        current = self._current()
        row = self.query_one(QueueTable).cursor_row if self.is_mounted else 0
        self._request(self.starts[-1], current.id if current else None, keep_row=row)

    @work(thread=True, exclusive=True, group="queue-load", exit_on_error=False)
    def _load(
        self,
        generation: int,
        start: tuple | None,
        keep: int | None = None,
        to_end: bool = False,
        keep_row: int = 0,
    ) -> None:
        db = self.app.store.connection()
        self.post_message(self.Loaded(self._fetch(db, generation, start, keep, to_end, keep_row)))

    def _request(self, *args, **kwargs) -> None:
        """Every load goes through here, so only the latest request's answer is shown.

        A page is one keyset seek and a capped count, a few milliseconds at a million mentions,
        so it is read right here on the UI thread, within a time budget. Only a read that runs
        past the budget (a word search building its hit list, a rare filter scanning far) is
        interrupted and handed to a worker. Reading in a worker by default was slower: the
        thread gives up the GIL at every SQLite step and waits to get it back while the UI is
        drawing, which turned 3 ms reads into 50-250 ms.
        """
        self.generation += 1
        if not self.filters.search:  # searches fill a per-connection hit table: worker only
            data = self._fetch_within(QUICK_READ_SECONDS, self.generation, *args, **kwargs)
            if data is not None:
                self._show_page(data)
                return
        self._load(self.generation, *args, **kwargs)

    def _fetch_within(self, budget: float, *args, **kwargs) -> PageData | None:
        """The page if it can be read within `budget` seconds, else None."""
        try:
            with time_limit(self.app.store.connection(), budget) as db:
                return self._fetch(db, *args, **kwargs)
        except TooSlow:
            return None

    @work(thread=True, exclusive=True, group="queue-snoozes", exit_on_error=False)
    def _wake_snoozed(self) -> None:
        if outcomes.wake_snoozed(self.app.store.connection()):
            self.post_message(self.Woken())

    @on(Woken)
    def _woken(self) -> None:
        self.reload()

    def _fetch(
        self,
        db: sqlite3.Connection,
        generation: int,
        start: tuple | None,
        keep: int | None = None,
        to_end: bool = False,
        keep_row: int = 0,
    ) -> PageData:
        began = time.perf_counter()
        now = now_utc()
        found = triage.page(
            db, self.filters, after=start, limit=PAGE + 1, targets=self.targets, now=now
        )
        total = triage.count(db, self.filters, targets=self.targets, now=now)
        unflagged = triage.unflagged_count(db, self.filters, now=now)
        seconds = time.perf_counter() - began
        return PageData(
            found[:PAGE],
            len(found) > PAGE,
            total,
            start,
            keep,
            keep_row,
            generation,
            to_end,
            seconds,
            unflagged,
        )

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        if message.data.generation == self.generation:
            self._show_page(message.data)

    def _show_page(self, data: PageData) -> None:
        self.last_load_seconds = data.seconds
        self.loads += 1  # the benchmarks wait on this
        self.items, self.has_more, self.total = data.items, data.has_more, data.total
        self.unflagged = data.unflagged
        table = self.query_one(QueueTable)
        table.show_items(self.items, self.selected, self.targets, now_utc())
        row = 0
        if data.to_end and self.items:
            row = len(self.items) - 1
        elif data.keep is not None:
            row = next(
                (i for i, it in enumerate(self.items) if it.id == data.keep),
                min(data.keep_row, len(self.items) - 1),
            )
        if self.items:
            table.move_cursor(row=row, animate=False)
        self._show_status()
        self._show_detail()

    def _show_status(self) -> None:
        first = (len(self.starts) - 1) * PAGE + 1
        last = first + len(self.items) - 1
        total = f"{self.total:,}" if self.total <= 10_000 else "over 10,000"
        parts = [
            f"{first:,}–{last:,} of {total}" if self.items else "nothing matches",
            f"page {len(self.starts)}",
        ]
        if self.selected:
            parts.append(f"{len(self.selected)} selected (D dismisses)")
        if self.unflagged:
            hidden = f"{self.unflagged:,}" if self.unflagged <= 10_000 else "over 10,000"
            parts.append(f"{hidden} unflagged not listed (u lists them)")
        self.query_one("#queue-status", Static).update(Text("  ·  ".join(parts)))

    def _current(self) -> triage.QueueItem | None:
        if not self.is_mounted:
            return None
        table = self.query_one(QueueTable)
        if not self.items or table.cursor_row >= len(self.items) or table.cursor_row < 0:
            return None
        return self.items[table.cursor_row]

    @on(DataTable.RowHighlighted, "#queue")
    def _show_detail(self) -> None:
        """The highlighted mention's detail: read here (a few small reads), else in a worker."""
        item = self._current()
        if item is None:
            self.query_one(MentionDetail).show_detail(None, self.targets, now_utc())
            return
        try:
            with time_limit(self.app.store.connection(), QUICK_READ_SECONDS) as db:
                found = mention_detail.detail(db, item.id)
        except TooSlow:
            self._load_detail(item.id)
            return
        self.query_one(MentionDetail).show_detail(found, self.targets, now_utc())

    @work(thread=True, exclusive=True, group="queue-detail", exit_on_error=False)
    def _load_detail(self, mention_id: int) -> None:
        self.post_message(
            self.DetailLoaded(mention_detail.detail(self.app.store.connection(), mention_id))
        )

    @on(DetailLoaded)
    def _detail_loaded(self, message: DetailLoaded) -> None:
        current = self._current()
        if message.found is None or current is None or message.found.item.id != current.id:
            return  # the cursor has moved on since
        self.query_one(MentionDetail).show_detail(message.found, self.targets, now_utc())

    # --- paging and filters --------------------------------------------------------------

    @on(QueueTable.PastEnd)
    def _past_end(self, message: QueueTable.PastEnd) -> None:
        self.action_page(1 if message.forward else -1, to_end=not message.forward)

    def action_page(self, step: int, to_end: bool = False) -> None:
        if step > 0 and self.has_more and self.items:
            self.starts.append(self.items[-1].cursor)
            self._request(self.starts[-1])
        elif step < 0 and len(self.starts) > 1:
            self.starts.pop()
            self._request(self.starts[-1], to_end=to_end)

    def action_unflagged(self) -> None:
        """Unflagged mentions after the flagged ones (rating "any"), or back to flagged only."""
        rating = "flagged" if self.filters.rating == "any" else "any"
        for bar in self.query(QueueFilters):  # mounted just after the first frame
            bar.show_rating(rating)
        self._set_filters(rating=rating)

    def _set_filters(self, **changes: Any) -> None:
        updated = msgspec.structs.replace(self.filters, **changes)
        if updated == self.filters:
            return
        self.filters = updated
        self.app.queue_filters = updated  # the queue opens with them next time
        self.starts = [None]
        self.selected.clear()
        self._request(None)

    @on(Select.Changed, "#f-status")
    def _status_changed(self, event: Select.Changed) -> None:
        self._set_filters(status=event.value)

    @on(Select.Changed, "#f-rating")
    def _rating_changed(self, event: Select.Changed) -> None:
        self._set_filters(rating=event.value)

    @on(Select.Changed, "#f-category")
    def _category_changed(self, event: Select.Changed) -> None:
        self._set_filters(category="" if event.select.is_blank() else event.value)

    @on(Select.Changed, "#f-source")
    def _source_changed(self, event: Select.Changed) -> None:
        self._set_filters(source="" if event.select.is_blank() else event.value)

    @on(Select.Changed, "#f-assigned")
    def _assigned_changed(self, event: Select.Changed) -> None:
        self._set_filters(assigned="" if event.select.is_blank() else event.value)

    @on(Checkbox.Changed, "#f-overdue")
    def _overdue_changed(self, event: Checkbox.Changed) -> None:
        self._set_filters(overdue=event.value)

    @on(Input.Changed, "#f-search")
    def _search_typed(self, event: Input.Changed) -> None:
        if self._search_timer:
            self._search_timer.stop()
        value = event.value
        self._search_timer = self.set_timer(0.3, lambda: self._set_filters(search=value))

    @on(Input.Submitted, "#f-search")
    def _search_entered(self, event: Input.Submitted) -> None:
        if self._search_timer:
            self._search_timer.stop()
        self._set_filters(search=event.value)
        self.query_one(QueueTable).focus()

    def action_search(self) -> None:
        for box in self.query("#f-search").results(Input):  # none in the bar's first frame
            box.focus()

    def action_back(self) -> None:
        if not isinstance(self.focused, QueueTable):
            self.query_one(QueueTable).focus()
        else:
            self.app.action_open_dashboard()

    @on(Done)
    def _done(self, message: Done) -> None:
        self.selected.difference_update(message.cleared)
        self.notify(
            message.note, severity="error" if message.error else "information", markup=False
        )
        self.reload()

    def action_history(self) -> None:
        from smduty.tui.screens.history import HistoryScreen

        item = self._current()
        if item is not None:
            self.app.push_screen(HistoryScreen("mention", item.id, f"mention {item.id}"))
