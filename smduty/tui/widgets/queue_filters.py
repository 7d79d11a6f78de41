"""The triage queue's filter bar: status, rating, category, source, assignee, words, overdue.

Its widgets post their own Changed messages, which the queue screen handles. The category and
source choices come from the rules file and the database, read once the bar is mounted; they are
filled in with those Changed messages held back, so it never looks like the user changing a
filter.

The screen mounts this bar lazily (after the table's first paint): four Selects are about half
of what it costs Textual to build the screen.
"""

from __future__ import annotations

import sqlite3

from msgspec.structs import replace
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Select

from smduty.core.monitoring.flag_load import load_rules
from smduty.core.monitoring.mentions import source_names_seen
from smduty.core.monitoring.sources import list_sources
from smduty.core.staff import list_staff
from smduty.core.store import TooSlow, time_limit
from smduty.core.triage import queue as triage
from smduty.tui.widgets.plain import PlainCheckbox, PlainSelect

STATUS_OPTIONS = [
    ("Open", "open"),
    ("New", "new"),
    ("In progress", "in_progress"),
    ("Snoozed", "snoozed"),
    ("Responded", "responded"),
    ("Referred", "referred"),
    ("No engagement", "no_engagement"),
    ("Escalated", "escalated"),
    ("Dismissed", "dismissed"),
    ("Closed (any outcome)", "closed"),
    ("All", "all"),
]
RATING_OPTIONS = [
    ("Flagged", "flagged"),
    ("Critical", "critical"),
    ("High", "high"),
    ("Medium", "medium"),
    ("Low", "low"),
    ("Not flagged", "none"),
    ("Any", "any"),
]


class QueueFilters(Horizontal):
    DEFAULT_CSS = """
    QueueFilters { height: 1; }
    QueueFilters Select { width: 15; margin-right: 1; }
    QueueFilters #f-category, QueueFilters #f-source { width: 20; }
    QueueFilters Input { width: 1fr; margin-right: 1; }
    QueueFilters Checkbox { width: auto; }
    """

    class Choices(Message):
        def __init__(
            self, categories: list[tuple[str, str]], sources: list[str], officers: list[str]
        ) -> None:
            super().__init__()
            self.categories = categories
            self.sources = sources
            self.officers = officers

    def __init__(self, filters: triage.Filters, id: str | None = None) -> None:
        super().__init__(id=id)
        self.filters = filters  # as they were when the bar was made
        self.ready = False  # True once the category and source choices are in

    def compose(self) -> ComposeResult:
        yield PlainSelect(
            STATUS_OPTIONS, value=self.filters.status, allow_blank=False, id="f-status",
            compact=True,
        )  # fmt: skip
        yield PlainSelect(
            RATING_OPTIONS, value=self.filters.rating, allow_blank=False, id="f-rating",
            compact=True,
        )  # fmt: skip
        yield PlainSelect([], prompt="Any category", id="f-category", compact=True)
        yield PlainSelect([], prompt="Any source", id="f-source", compact=True)
        yield PlainSelect([], prompt="Anyone", id="f-assigned", compact=True)
        yield Input(self.filters.search, placeholder="/ search words", id="f-search", compact=True)
        yield PlainCheckbox("Overdue", self.filters.overdue, id="f-overdue", compact=True)

    def on_mount(self) -> None:
        try:  # a few small reads, so here; a worker only if they run long
            with time_limit(self.app.store.connection(), 0.025) as db:
                choices = self._choices(db)
        except TooSlow:
            self._load_choices()
            return
        self._show_choices(choices)

    @staticmethod
    def _choices(db: sqlite3.Connection) -> Choices:
        try:
            categories = [(c.label, c.name) for c in load_rules().categories.values()]
        except Exception:  # a broken rules file is reported elsewhere; the filter just goes
            categories = []
        names = sorted({s.name for s in list_sources(db)})
        names += [n for n in source_names_seen(db) if n not in names]
        officers = [s.name for s in list_staff(db, include_left=False)]
        return QueueFilters.Choices(categories, names, officers)

    def show_rating(self, rating: str) -> None:
        """Show a rating chosen elsewhere (a key), without that counting as a change here."""
        self.filters = replace(self.filters, rating=rating)
        if self.is_mounted:
            with self.prevent(Select.Changed):
                self.query_one("#f-rating", Select).value = rating

    @work(thread=True, exclusive=True, group="queue-choices", exit_on_error=False)
    def _load_choices(self) -> None:
        self.post_message(self._choices(self.app.store.connection()))

    @on(Choices)
    def _show_choices(self, message: Choices) -> None:
        message.stop()
        category = self.query_one("#f-category", Select)
        source = self.query_one("#f-source", Select)
        with self.prevent(Select.Changed):
            category.set_options(message.categories)
            if self.filters.category:
                category.value = self.filters.category
            source.set_options([(n, n) for n in message.sources])
            if self.filters.source:
                source.value = self.filters.source
            assigned = self.query_one("#f-assigned", Select)
            actor = self.app.actor
            people = [("Mine", actor), ("Unassigned", triage.NOBODY)]
            people += [(n, n) for n in message.officers if n != actor]
            assigned.set_options(people)
            if self.filters.assigned:
                assigned.value = self.filters.assigned
        self.ready = True
