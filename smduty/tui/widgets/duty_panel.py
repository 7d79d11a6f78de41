"""Dashboard panel: who is on duty, the weekend block, today's check progress, the handover."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime

import msgspec
from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import Static

from smduty.core.clock import local_text, now_utc, today
from smduty.core.rota.checks import ChannelCheckState, check_states, deadline_for
from smduty.core.rota.duty_calendar import DutyCalendar
from smduty.core.rota.handover import HandoverNote, block_handover
from smduty.core.rota.misses import Miss, record_misses, unacknowledged
from smduty.core.rota.roster import DutyDay, day_view
from smduty.tui.widgets.panel import DashboardPanel


class DutySnapshot(msgspec.Struct, frozen=True):
    duty: DutyDay
    states: list[ChannelCheckState]
    deadline: datetime
    overdue: bool
    next_holiday: tuple[date, str]
    handover: HandoverNote | None
    misses: list[Miss]


class DutyPanel(DashboardPanel):
    PANEL_TITLE = "On duty"

    READS_ONLY = False  # it records the missed checks due since anyone last looked

    def compose(self) -> ComposeResult:
        yield Static("Loading the rota…", id="duty-text")

    def fetch(self, db: sqlite3.Connection) -> DutySnapshot:
        settings = self.app.settings
        cal = DutyCalendar.from_config(settings)
        day = today()
        record_misses(db, cal, settings, now_utc())  # facts due since anyone last looked
        duty = day_view(db, cal, day)
        due = deadline_for(
            day, duty.working_day, settings.check_deadline_working, settings.check_deadline_duty
        )
        return DutySnapshot(
            duty,
            check_states(db, day),
            due,
            now_utc() > due,
            cal.next_bank_holiday(day),
            block_handover(db, cal, day),
            unacknowledged(db),
        )

    def show(self, data: DutySnapshot) -> None:
        d = data.duty
        done = sum(s.checked for s in data.states)
        parts: list[str | tuple[str, str]] = [("Check officer  ", "$text-muted")]
        parts.append(d.check_officer or ("nobody: a gap in the rota", "bold $error"))
        parts += [
            ("\nWeekend duty   ", "$text-muted"),
            d.weekend_duty or ("nobody: a gap in the rota", "bold $error"),
            f"  ({d.weekend_start:%a %-d %b} to {d.weekend_end:%a %-d %b})",
        ]
        holiday_day, holiday = data.next_holiday
        parts += [("\nNext holiday   ", "$text-muted"), f"{holiday_day:%a %-d %b}: {holiday}"]
        parts += [
            ("\nToday's checks ", "$text-muted"),
            (
                f"{done}/{len(data.states)} channels checked",
                "$success" if done == len(data.states) else "",
            ),
            f"  (due {data.deadline:%H:%M}; k opens the check session)",
        ]
        late = [s.channel for s in data.states if not s.checked]
        if data.overdue and late:
            parts += [("\nOverdue        ", "bold $warning"), (", ".join(late), "$warning")]
        if data.misses:
            by_day: dict[str, list[str]] = {}
            for miss in data.misses:
                late = " (late)" if miss.checked_late_at else ""
                by_day.setdefault(miss.duty_date, []).append(miss.channel + late)
            parts.append(
                (f"\nMissed checks  {len(data.misses)} not yet acknowledged", "bold $error")
            )
            for when, channels in by_day.items():
                shown = f"{date.fromisoformat(when):%a %-d %b}: "
                parts += [("\n  " + shown, "$text-muted"), ", ".join(channels)]
            parts.append(("\n(m acknowledges them; they stay on the record)", "$text-muted"))
        if data.handover:
            note = data.handover
            parts += [("\nHandover from ", "bold"), note.author, (":\n", "bold"), note.text]
            if note.acknowledged_at:
                when = local_text(note.acknowledged_at)
                parts.append((f"\n(acknowledged by {note.acknowledged_by}, {when})", "$text-muted"))
            else:
                parts.append(("\n(h acknowledges the note)", "$text-muted"))
        self.query_one("#duty-text", Static).update(Content.assemble(*parts))
