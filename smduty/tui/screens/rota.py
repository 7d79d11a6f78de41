"""The duty rota: the coming weeks day by day, with blocks, bank holidays, leave and gaps marked.

Swap a duty, add leave and generate the rota from here; the fairness table sits underneath.
Every change goes through the core (the same rules and audit as the CLI).
"""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from typing import Any

import msgspec
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from smduty.core.clock import today
from smduty.core.rota import roster as rota_core
from smduty.core.rota.cover import CoverNeed, cover_needs
from smduty.core.rota.duty_calendar import DutyCalendar
from smduty.core.rota.people import Leave, RotaOfficer, leave_between, officers
from smduty.core.rota.reports import FairnessRow, RotaGap, fairness, gaps
from smduty.core.staff import list_staff
from smduty.tui import messages
from smduty.tui.screens.base import MainScreen
from smduty.tui.screens.rota_keys import RotaChangeKeys
from smduty.tui.theme import literal, severity_style
from smduty.tui.widgets.table import Table

WINDOW_WEEKS = 8
GAP_LABELS = {"uncovered": "GAP", "on_leave": "officer on leave", "left": "officer has left"}
FAIRNESS_DAYS = 365


class RotaSnapshot(msgspec.Struct, frozen=True):
    start: date
    end: date
    days: list[rota_core.DutyDay]
    leave: list[Leave]
    gaps: dict[date, list[RotaGap]]
    fairness: list[FairnessRow]
    officers: list[RotaOfficer]
    staff: list[str]
    cover: dict[date, CoverNeed]  # a planned duty its officer cannot do, with proposed cover


def load_rota(db: sqlite3.Connection, cal: DutyCalendar, start: date) -> RotaSnapshot:
    end = start + timedelta(days=7 * WINDOW_WEEKS - 1)
    by_date: dict[date, list[RotaGap]] = {}
    for gap in gaps(db, cal, start, end):
        if gap.date is not None:
            by_date.setdefault(gap.date, []).append(gap)
    return RotaSnapshot(
        start,
        end,
        rota_core.days_view(db, cal, start, end),
        leave_between(db, start, end),
        by_date,
        fairness(db, cal, today() - timedelta(days=FAIRNESS_DAYS), end),
        officers(db),
        [s.name for s in list_staff(db) if s.left_on is None],
        {day: need for need in cover_needs(db, cal, max(start, today()), end) for day in need.days},
    )


def _block_mark(cal: DutyCalendar, day: date) -> str:
    block = cal.block_of(day)
    if block is None:
        return ""
    if block[0] == block[1]:
        return "◆ block"
    if day == block[0]:
        return "╭ block"
    return "╰" if day == block[1] else "│"


class RotaScreen(RotaChangeKeys, MainScreen):
    HELP_TITLE = "Duty rota"
    HELP_TEXT = (
        "One row a day. Duty blocks (weekends and bank holidays) are bracketed; each has one "
        "weekend duty officer. Gaps and officers rostered on leave are in the error colour. "
        "Generating fills only days not yet planned: a planned duty moves by a swap (o; one "
        "day of a block on its own if you tick it), by cover when its officer is away (v takes "
        "the proposed cover), or by re-planning from a date (g, which lists what would change "
        "and asks). Past days are the record."
    )
    DEFAULT_CSS = """
    RotaScreen #rota-days { height: 1fr; }
    RotaScreen #rota-fairness { height: auto; max-height: 9; }
    RotaScreen #rota-fairness.hidden { display: none; }
    RotaScreen #rota-detail { height: auto; padding: 0 1; background: $panel; }
    """
    BINDINGS = [
        Binding("o", "swap", "Swap", id="rota.swap", tooltip="Give this duty to someone else"),
        Binding(
            "v", "cover", "Cover", id="rota.cover", tooltip="Give the duty to the proposed cover"
        ),
        Binding("a", "add_leave", "Add leave", id="rota.leave", tooltip="Record leave or absence"),
        Binding("g", "generate", "Generate", id="rota.generate", tooltip="Fill the rota fairly"),
        Binding("f", "toggle_fairness", "Fairness", id="rota.fairness", tooltip="Show or hide"),
        Binding("n", "handovers", "Handovers", id="rota.handovers", tooltip="Past handover notes"),
        Binding("left_square_bracket", "shift(-4)", "Earlier", id="rota.earlier"),
        Binding("right_square_bracket", "shift(4)", "Later", id="rota.later"),
        Binding("t", "to_today", "Today", id="rota.today", tooltip="Back to this week"),
        Binding("escape", "app.open_dashboard", "Back", id="rota.back"),
    ]

    class Loaded(messages.Loaded):
        """The weeks shown (a RotaSnapshot)."""

    def __init__(self) -> None:
        super().__init__()
        self.start = self._week_start(today())
        self.snapshot: RotaSnapshot | None = None
        self._focus_date: date | None = today()

    @staticmethod
    def _week_start(day: date) -> date:
        return day - timedelta(days=day.weekday())

    @property
    def calendar(self) -> DutyCalendar:
        return DutyCalendar.from_config(self.app.settings)

    def compose_body(self) -> ComposeResult:
        yield Static(id="rota-title", classes="screen-title")
        yield Table(id="rota-days", cursor_type="row", zebra_stripes=True)
        yield Static(id="rota-detail")
        yield Table(id="rota-fairness", cursor_type="none", show_cursor=False)

    def on_mount(self) -> None:
        self.query_one("#rota-days", DataTable).add_columns(
            "Date", "Block", "Check officer", "Note", "Day", "On leave"
        )
        self.query_one("#rota-fairness", DataTable).add_columns(
            "Officer", "Weekday checks", "Weekend blocks", "Weekend days", "Bank holiday days"
        )
        self.reload()

    @work(thread=True, exclusive=True, group="rota", exit_on_error=False)
    def reload(self) -> None:
        snapshot = load_rota(self.app.store.connection(), self.calendar, self.start)
        self.post_message(self.Loaded(snapshot))

    @on(Loaded)
    def _show(self, message: Loaded) -> None:
        snap = self.snapshot = message.data
        cal = self.calendar
        self.query_one("#rota-title", Static).update(
            Text(
                f"Rota {snap.start:%a %-d %b} to {snap.end:%a %-d %b %Y}"
                f"   ([ earlier, ] later, t today)"
            )
        )
        error = severity_style(self.app, "red")
        warn = severity_style(self.app, "amber")
        table = self.query_one("#rota-days", DataTable)
        keep = self._focus_date or self._cursor_date()
        table.clear()
        cursor = 0
        for i, day in enumerate(snap.days):
            problems = snap.gaps.get(day.date, [])
            away = [lv.name for lv in snap.leave if lv.covers(day.date)]
            if day.bank_holiday:
                kind = literal(day.bank_holiday, warn)
            elif day.working_day:
                kind = literal("working day")
            else:
                kind = literal("weekend" if day.date.weekday() >= 5 else "closure day", "italic")
            if day.check_officer is None:
                officer = literal("nobody: gap", error)
            elif problems:
                officer = literal(f"{day.check_officer} (!)", error)
            else:
                officer = literal(day.check_officer, "bold" if day.date == today() else "")
            note = ", ".join(dict.fromkeys(GAP_LABELS[p.kind] for p in problems))
            if day.source == "swap":
                note = ", ".join(filter(None, [note, "swapped"]))
            table.add_row(
                literal(f"{day.date:%a %-d %b}", "reverse" if day.date == today() else ""),
                literal(_block_mark(cal, day.date)),
                officer,
                literal(note, error if problems else "dim"),
                kind,
                literal(", ".join(away)),
                key=day.date.isoformat(),
            )
            if day.date == keep:
                cursor = i
        table.move_cursor(row=cursor)
        self._focus_date = None
        fair = self.query_one("#rota-fairness", DataTable)
        fair.clear()
        for row in snap.fairness:
            fair.add_row(
                literal(row.officer),
                literal(row.weekday_checks),
                literal(row.weekend_blocks),
                literal(row.weekend_days),
                literal(row.bank_holiday_days),
            )
        fair.border_title = f"Fairness: last {FAIRNESS_DAYS} days and the rota ahead"
        self._show_detail()

    def _cursor_date(self) -> date | None:
        if self.snapshot is None:
            return None
        table = self.query_one("#rota-days", DataTable)
        if not self.snapshot.days or table.cursor_row >= len(self.snapshot.days):
            return None
        return self.snapshot.days[table.cursor_row].date

    @on(DataTable.RowHighlighted, "#rota-days")
    def _show_detail(self) -> None:
        day = self._cursor_date()
        if day is None or self.snapshot is None:
            return
        duty = next(d for d in self.snapshot.days if d.date == day)
        block = f"{duty.weekend_start:%a %-d %b} to {duty.weekend_end:%a %-d %b}"
        label = "this block" if not duty.working_day else "next block"
        detail = Text(
            f"{day:%A %-d %B}: check officer {duty.check_officer or 'nobody'}; "
            f"weekend duty ({label}, {block}): {duty.weekend_duty or 'nobody'}"
        )
        for gap in self.snapshot.gaps.get(day, []):
            detail.append(f"\n{gap.message}", severity_style(self.app, "red"))
        need = self.snapshot.cover.get(day)
        if need is not None:
            also = f" (also free: {', '.join(need.candidates[1:4])})" if need.candidates[1:] else ""
            proposal = (
                f"proposed cover for {need.span()}: {need.proposal}{also}; v to apply"
                if need.proposal
                else f"nobody on the rota is free for {need.span()}: o to swap with an override"
            )
            detail.append(f"\n{proposal}", "bold")
        self.query_one("#rota-detail", Static).update(detail)

    @on(DataTable.RowSelected, "#rota-days")
    def _selected(self) -> None:
        self.action_swap()

    def action_shift(self, weeks: int) -> None:
        self.start += timedelta(weeks=weeks)
        self._focus_date = self.start
        self.reload()

    def action_to_today(self) -> None:
        self.start = self._week_start(today())
        self._focus_date = today()
        self.reload()

    def action_handovers(self) -> None:
        from smduty.tui.screens.handovers import HandoversModal

        self.app.push_screen(HandoversModal())

    def action_toggle_fairness(self) -> None:
        self.query_one("#rota-fairness").toggle_class("hidden")

    def _after_change(self, result: Any) -> None:
        if result is None:
            return
        self.notify(str(result), markup=False)
        self._focus_date = self._cursor_date()
        self.reload()
