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
from smduty.core.rota.duty_calendar import DutyCalendar

# Each job imports what it works with when it first runs, in the scheduler's worker thread:
# polling alone brings in feedparser and the ingest pipeline, and none of it is needed to draw
# the first screen (the app starts the scheduler once that screen is up).

log = logging.getLogger(__name__)

# How often the TUI looks for due sources when no `smduty watch` is running.
POLL_TICK_SECONDS = 60
# How often open incidents are looked at for a quiet timeline (and the posts state re-read).
INCIDENT_TICK_SECONDS = 60
# The weekend duty officer is reminded of a waiting handover note at this time too.
BLOCK_MORNING = time(8, 30)
# How often the TUI looks whether the daily backup (with its audit anchor) is due; the first
# look is a minute after opening, so opening the app is never slowed by it.
RECORDS_TICK_SECONDS = 3600
RECORDS_FIRST_LOOK_SECONDS = 60


class DutyScheduler:
    def __init__(self, app: App) -> None:
        self.app = app
        # incident id -> the quiet spell (last entry, multiple of the minutes) reminded about
        self._reminded: dict[int, str] = {}
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
        if getattr(self.app, "background_poll", True):
            self.every("poll-sources", POLL_TICK_SECONDS, self.poll_sources)
        self.every("incident-updates", INCIDENT_TICK_SECONDS, self.remind_incidents)
        self.every("wake-snoozes", INCIDENT_TICK_SECONDS, self.wake_snoozes)
        self.every("records", RECORDS_TICK_SECONDS, self.keep_records)
        # On opening, say once what is already late or waiting. (Wall-clock time: the jobs
        # themselves read the council clock, which SMDUTY_NOW may pin for a demo.)
        soon = datetime.now(COUNCIL_TZ) + timedelta(seconds=2)
        self.scheduler.add_job(self._run, "date", run_date=soon, args=[self.remind_overdue])
        self.scheduler.add_job(self._run, "date", run_date=soon, args=[self.remind_handover])
        later = soon + timedelta(seconds=RECORDS_FIRST_LOOK_SECONDS)
        self.scheduler.add_job(self._run, "date", run_date=later, args=[self.keep_records])
        self.scheduler.start()

    def every(self, job_id: str, seconds: float, job: Callable[[], str | None]) -> None:
        """Run `job` every `seconds`, never two at once; a late run is not repeated."""
        self.scheduler.add_job(
            self._run,
            "interval",
            seconds=seconds,
            args=[job],
            id=job_id,
            coalesce=True,
            max_instances=1,
        )

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
        """At each check deadline: the misses are written as facts, then the desk is told."""
        from smduty.core.rota.misses import record_misses
        from smduty.core.rota.reminders import overdue_checks

        db = self.app.store.connection()
        if record_misses(db, self._calendar(), self.app.settings, now_utc()):
            self.app.call_from_thread(self.app.refresh_screens)
        return overdue_checks(db, self._calendar(), self.app.settings, now_utc())

    def remind_handover(self) -> str | None:
        from smduty.core.rota.reminders import handover_due

        db = self.app.store.connection()
        return handover_due(db, self._calendar(), self.app.settings, now_utc())

    def remind_incidents(self) -> str | None:
        """Remind every `minutes` of quiet: an incident with nothing on its timeline for the set
        minutes (30 by default) needs an update posted and noted. Also re-reads whether
        scheduled posts are stopped, which another desk may have changed."""
        from smduty.core.incidents.lifecycle import quiet_incidents
        from smduty.core.incidents.posts import current_stop

        db = self.app.store.connection()
        self.app.call_from_thread(self.app.set_posts_stop, current_stop(db))
        minutes = self.app.settings.incident_update_minutes
        notes = []
        for incident, quiet in quiet_incidents(db, minutes):
            spell = f"{incident.last_activity}/{quiet // minutes}"
            if self._reminded.get(incident.id) == spell:
                continue
            self._reminded[incident.id] = spell
            notes.append(
                f"Incident {incident.id} ({incident.title}): nothing recorded for {quiet} "
                "minutes. Post an update and add a note (ctrl+n on the incident)."
            )
        return "\n".join(notes) or None

    def keep_records(self) -> str | None:
        """The daily backup, which also anchors the audit trail outside the database, then the
        daily purge. A failure is shown (as every job's is) and tried again at the next look."""
        from smduty.core.records.backups import backup, backup_due
        from smduty.core.records.retention import purge

        store = self.app.store
        if backup_due(store.path):
            backup(
                store.connection(),
                store.path,
                actor=f"{self.app.actor} (daily backup)",
                keep=self.app.settings.backups_keep,
            )
            # Daily too: the retention policy, after the backup has the words one last time.
            purge(
                store.connection(),
                f"{self.app.actor} (daily retention)",
                now_utc(),
                self.app.settings.retention_days,
            )
        return None

    def wake_snoozes(self) -> None:
        """Snoozed mentions whose time has come are new again, for every screen to show; and
        mentions past their response target have the breach put on the record."""
        from smduty.core.triage.breaches import record_breaches
        from smduty.core.triage.outcomes import wake_snoozed
        from smduty.core.triage.targets import load_targets

        db = self.app.store.connection()
        woken = wake_snoozed(db)
        breached = record_breaches(db, load_targets(self.app.settings), now_utc())
        if woken or breached:
            self.app.call_from_thread(self.app.refresh_screens)

    def poll_sources(self) -> str | None:
        """Poll due sources unless a `smduty watch` is doing it; say what came in."""
        from smduty.core.monitoring.fetch import limits_for
        from smduty.core.monitoring.flag_load import ruleset_for
        from smduty.core.monitoring.poller import poll_due, watcher_alive
        from smduty.core.monitoring.sources import failed_first_time

        db = self.app.store.connection()
        if watcher_alive(db):
            return None
        results = poll_due(
            db,
            ruleset_for(db),
            actor=f"{self.app.actor} (background poll)",
            limits=limits_for(self.app.settings),
        )
        if not results:
            return None
        self.app.call_from_thread(self.app.refresh_screens)
        new = sum(r.counts.new for r in results)
        flagged = sum(r.counts.flagged for r in results)
        failed = [r for r in results if r.error and failed_first_time(db, r.source)]
        notes = []
        if flagged:
            notes.append(f"{flagged} new flagged mention(s) of {new} new")
        for r in failed:
            notes.append(f"Source {r.source} failed: {r.error}")
        return "\n".join(notes) or None
