"""Timed jobs while the TUI is open (APScheduler on Textual's own event loop).

Jobs are plain functions run in APScheduler's thread pool, so a slow query never freezes the
screen; they report back through `App.call_from_thread`. A job that fails is logged and shown as
a toast; the scheduler keeps running.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, time, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from textual.app import App

from smduty.core.clock import COUNCIL_TZ, now_utc
from smduty.core.duty_calendar import DutyCalendar
from smduty.core.reminders import handover_due, overdue_checks

log = logging.getLogger(__name__)

# The weekend duty officer is reminded of a waiting handover note at this time too.
BLOCK_MORNING = time(8, 30)


class DutyScheduler:
    def __init__(self, app: App) -> None:
        self.app = app
        self.scheduler = AsyncIOScheduler(
            event_loop=asyncio.get_running_loop(), timezone=COUNCIL_TZ
        )

    def start(self) -> None:
        settings = self.app.settings
        deadlines = {settings.check_deadline_working, settings.check_deadline_duty}
        for at in sorted(deadlines):
            self.daily(f"deadline-{at:%H%M}", at, self.remind_overdue)
        self.daily("handover-note", settings.handover_reminder_at, self.remind_handover)
        self.daily("handover-ack", BLOCK_MORNING, self.remind_handover)
        # On opening, say once what is already late or waiting. (Wall-clock time: the jobs
        # themselves read the council clock, which SMDUTY_NOW may pin for a demo.)
        soon = datetime.now(COUNCIL_TZ) + timedelta(seconds=2)
        self.scheduler.add_job(self._run, "date", run_date=soon, args=[self.remind_overdue])
        self.scheduler.add_job(self._run, "date", run_date=soon, args=[self.remind_handover])
        self.scheduler.start()

    def daily(self, job_id: str, at: time, job: Callable[[], str | None]) -> None:
        self.scheduler.add_job(
            self._run,
            CronTrigger(hour=at.hour, minute=at.minute, timezone=COUNCIL_TZ),
            args=[job],
            id=job_id,
            replace_existing=True,
            coalesce=True,
            misfire_grace_time=15 * 60,
        )

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def _run(self, job: Callable[[], str | None]) -> None:
        try:
            message = job()
        except Exception as exc:  # a reminder must never take the app down
            log.exception("scheduled job failed")
            message, severity = f"A scheduled check failed: {exc}", "error"
        else:
            severity = "warning"
        if message:
            self.app.call_from_thread(
                self.app.notify, message, severity=severity, timeout=30, markup=False
            )

    def _calendar(self) -> DutyCalendar:
        return DutyCalendar.from_config(self.app.settings)

    def remind_overdue(self) -> str | None:
        db = self.app.store.connection()
        return overdue_checks(db, self._calendar(), self.app.settings, now_utc())

    def remind_handover(self) -> str | None:
        db = self.app.store.connection()
        return handover_due(db, self._calendar(), self.app.settings, now_utc())
