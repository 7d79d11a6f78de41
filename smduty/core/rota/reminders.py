"""What the duty desk should be reminded of right now: overdue checks and handovers.

Plain functions of the database and a moment, so the TUI's scheduler and the tests ask the same
questions. Each returns a message fit to show, or None when there is nothing to say.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

from smduty.core.clock import COUNCIL_TZ
from smduty.core.config import Config
from smduty.core.rota.checks import check_states, deadline_for
from smduty.core.rota.duty_calendar import DutyCalendar
from smduty.core.rota.handover import current_handover
from smduty.core.rota.roster import day_view


def overdue_checks(db: sqlite3.Connection, cal: DutyCalendar, config: Config, now: datetime):
    """Channels not yet checked today once today's deadline has passed."""
    day = now.astimezone(COUNCIL_TZ).date()
    due = deadline_for(
        day, cal.is_working_day(day), config.check_deadline_working, config.check_deadline_duty
    )
    if now < due:
        return None
    late = [s.channel for s in check_states(db, day) if not s.checked]
    if not late:
        return None
    shown = ", ".join(late[:5]) + (f" and {len(late) - 5} more" if len(late) > 5 else "")
    return (
        f"{len(late)} channel(s) not checked by {due:%H:%M}: {shown}. "
        "k on the dashboard opens the check session."
    )


def handover_due(db: sqlite3.Connection, cal: DutyCalendar, config: Config, now: datetime):
    """Before a block: leave a note. During a block: a note is waiting to be acknowledged."""
    local = now.astimezone(COUNCIL_TZ)
    day = local.date()
    waiting = current_handover(db, cal, day)
    if not cal.is_working_day(day):
        if waiting:
            return (
                f"Handover note from {waiting.author} is waiting. "
                "h on the dashboard acknowledges it."
            )
        return None
    block_start, _ = cal.next_block(day)
    last_working_day = block_start - timedelta(days=1) == day
    if not last_working_day or local.time() < config.handover_reminder_at:
        return None
    left = db.execute(
        "SELECT 1 FROM handover_notes WHERE block_start = ? LIMIT 1", (block_start.isoformat(),)
    ).fetchone()
    if left:
        return None
    duty = day_view(db, cal, block_start).check_officer or "the weekend duty officer"
    return (
        f"Leave a handover note for {duty} before the duty block starts on "
        f"{block_start:%A %-d %B}. n on the dashboard writes it."
    )
