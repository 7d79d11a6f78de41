"""The smduty Textual app: opens on the dashboard (or the first-run screen on an empty register)."""

from __future__ import annotations

import gc
import logging
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import App
from textual.binding import Binding
from textual.reactive import reactive
from textual.worker import Worker, WorkerState

from smduty.core.config import load_config
from smduty.core.store import Store
from smduty.tui.commands import SmdutyCommands
from smduty.tui.screens.base import MainScreen

if TYPE_CHECKING:
    from smduty.tui.scheduler import DutyScheduler

log = logging.getLogger(__name__)


# How often an open TUI looks whether anyone else changed the database (issue 20: within 2 s).
LIVE_LOOK_SECONDS = 1.0


class SmdutyApp(App[None]):
    TITLE = "smduty"
    SUB_TITLE = "social media duty desk"
    CSS_PATH = "smduty.tcss"
    COMMANDS = App.COMMANDS | {SmdutyCommands}
    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit", tooltip="Leave smduty (everything is saved)"),
        Binding(
            "question_mark,f1",
            "help",
            "Help",
            key_display="?",
            id="help",
            tooltip="The keys of this screen",
        ),
        Binding("ctrl+d", "open_dashboard", "Dashboard", show=False, id="dashboard"),
        Binding("ctrl+r", "open_channels", "Channels", show=False, id="channels"),
        Binding("ctrl+o", "open_rota", "Rota", show=False, id="rota"),
        Binding("ctrl+t", "open_queue", "Triage queue", show=False, id="queue"),
        Binding("ctrl+e", "open_incidents", "Incidents", show=False, id="incidents"),
    ]
    # The "scheduled posts stopped" state every screen's banner shows (None: posting as usual).
    posts_stop = reactive(None, always_update=False)

    def __init__(self, db_path: Path, actor: str, background_poll: bool = True) -> None:
        super().__init__()
        # Poll due sources while open (stands down while a `smduty watch` runs).
        self.background_poll = background_poll
        self.store = Store(db_path, on_wait=self._write_waits)
        self.actor = actor
        self.settings = load_config()
        self.duty_scheduler: DutyScheduler | None = None  # started after the first frame
        self.queue_filters = None  # the triage queue's filters as last set (None: its defaults)
        self.election = None  # the pre-election period in force today, if any

    def on_mount(self) -> None:
        from smduty.core.register.channels import register_is_empty
        from smduty.tui.screens.dashboard import DashboardScreen
        from smduty.tui.screens.first_run import FirstRunScreen

        if self.settings.theme in self.available_themes:
            self.theme = self.settings.theme  # as chosen last time (saved by watch_theme)
        if self.settings.keys:
            self._use_own_keys(self.settings.keys)
        db = self.store.connection()
        self.refresh_posts_state()
        self.push_screen(FirstRunScreen() if register_is_empty(db) else DashboardScreen())
        self.call_after_refresh(self._start_scheduler)  # once the first screen is up
        self.set_timer(2, self._freeze_startup_heap)
        self._quarters = 0
        self.set_interval(15, self._every_quarter_minute)
        self._seen_version: int | None = None
        self._look_for_changes()  # what the first screen is read from
        self.set_interval(LIVE_LOOK_SECONDS, self._look_for_changes)
        self.screen_change_signal.subscribe(self, _forget_closed_screens)

    def _use_own_keys(self, keys: dict[str, str]) -> None:
        """The settings' `keys` (a binding id and its keys) over the shipped ones; an id that
        is no binding's is named, so a typo does not go unnoticed."""
        from smduty.tui.screens.help import binding_ids

        unknown = sorted(set(keys) - binding_ids())
        if unknown:
            self.notify(
                f"Settings, keys: no binding called {', '.join(unknown)} (the help screen, ?, "
                "lists the ids)",
                severity="warning",
                timeout=15,
                markup=False,
            )
        self.set_keymap({k: v for k, v in keys.items() if k not in unknown})

    def watch_theme(self, theme: str) -> None:
        """A theme chosen in the TUI (ctrl+p, "theme") is kept in the settings file."""
        if not self.is_running or theme == self.settings.theme:
            return
        from msgspec.structs import replace

        from smduty.core.config import ConfigError, set_config_value
        from smduty.core.files import UnwritableFile

        try:
            set_config_value("theme", theme)
        except (ConfigError, UnwritableFile, OSError) as exc:
            self.notify(f"The theme was not saved: {exc}", severity="warning", markup=False)
            return
        self.settings = replace(self.settings, theme=theme)

    def _start_scheduler(self) -> None:
        from smduty.tui.scheduler import DutyScheduler

        if self.duty_scheduler is None and self.is_running:
            self.duty_scheduler = DutyScheduler(self)
            self.duty_scheduler.start()

    def _write_waits(self) -> None:
        """A save has to wait for another process's write (an import, a backup, a colleague):
        say so, from whichever thread the save runs on. It then saves, or says it did not."""
        message = "Waiting for another officer's change to finish…"
        if threading.current_thread() is threading.main_thread():
            self.notify(message, timeout=5, markup=False)
        else:
            self.call_from_thread(self.notify, message, timeout=5, markup=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """No worker's failure goes unseen: screens catch what they expect (a refusal, a busy
        database); anything else ends here, is logged with its traceback and shown."""
        if event.state is WorkerState.ERROR:
            error = event.worker.error
            log.error("worker %s failed", event.worker.name, exc_info=error)
            self.notify(
                f"Something went wrong and was not finished: {type(error).__name__}: {error}",
                title="Not done",
                severity="error",
                timeout=30,
                markup=False,
            )

    def _look_for_changes(self) -> None:
        """Another officer's save, an import, the poller: any commit by another connection
        changes SQLite's data_version, a read of shared memory that costs microseconds. When
        it has moved, the posts state is read again and the screen on top reloads (keeping
        its cursor; a form being filled in is on top, so it is left alone)."""
        if not self.is_running:  # shutting down: nothing left to refresh
            return
        try:
            version = self.store.connection().execute("PRAGMA data_version").fetchone()[0]
        except sqlite3.Error:
            return
        if self._seen_version is not None and version != self._seen_version:
            self.refresh_posts_state()
            self.refresh_screens()
        self._seen_version = version

    def _every_quarter_minute(self) -> None:
        """The app keeps the one clock screens tick by (every 15 s, 30 s and minute): a screen's
        own timer, once the screen closed, kept it and all its widgets in memory until the timer
        was next due (asyncio holds a cancelled timer, with the screen in its context)."""
        self._quarters += 1
        if isinstance(self.screen, MainScreen):
            self.screen.quarter_tick(self._quarters)
        if self._quarters % 4 == 0:
            self._every_minute()

    def _every_minute(self) -> None:
        """Screens that show ages refresh them."""
        if isinstance(self.screen, MainScreen):
            self.screen.minute_tick()

    def _freeze_startup_heap(self) -> None:
        """Keep the garbage collector's full passes short while the app runs.

        Once the first screen has settled, the ~90,000 objects alive (modules, classes, the
        stylesheet, the dashboard) live as long as the app. Every full collection walked them
        all again: 90-180 ms pauses, now and then, in the middle of paging the queue. Frozen,
        they are left out of those walks; what screens create later is collected as before.
        """
        gc.collect()
        gc.freeze()
        gc.enable()

    async def action_quit(self) -> None:
        # A walkthrough keeps what was typed into its step before the app goes.
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                screen.save_draft(wait=True)
        await super().action_quit()

    def on_unmount(self) -> None:
        gc.unfreeze()  # the app's objects can go (tests run many apps in one process)
        if self.duty_scheduler:
            self.duty_scheduler.shutdown()
        self.store.close()

    def action_help(self) -> None:
        from smduty.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_open_dashboard(self) -> None:
        from smduty.tui.screens.dashboard import DashboardScreen

        self._switch_to(DashboardScreen)

    def action_open_channels(self) -> None:
        from smduty.tui.screens.channels import ChannelsScreen

        self._switch_to(ChannelsScreen)

    def action_open_rota(self) -> None:
        from smduty.tui.screens.rota import RotaScreen

        self._switch_to(RotaScreen)

    def action_open_staff(self) -> None:
        from smduty.tui.screens.staff import StaffScreen

        self._switch_to(StaffScreen)

    def action_open_reports(self) -> None:
        from smduty.tui.screens.reports import ReportsScreen

        self._switch_to(ReportsScreen)

    def action_open_sources(self) -> None:
        from smduty.tui.screens.sources import SourcesScreen

        self._switch_to(SourcesScreen)

    def action_open_queue(self, rating: str = "", overdue: bool = False) -> None:
        """The triage queue; from the dashboard, filtered to one rating or to what is overdue."""
        from smduty.core.triage.queue import Filters
        from smduty.tui.screens.queue import QueueScreen

        if rating or overdue:
            filters = Filters(rating=rating or "flagged", overdue=overdue)
        elif isinstance(self.screen, QueueScreen):
            return
        else:
            filters = self.queue_filters  # as the officer left them
        self._show_queue(filters, lambda: self.action_open_queue(rating, overdue))

    def action_open_view(self, name: str) -> None:
        """A named queue view from the settings ([views.NAME]), from the command palette."""
        from smduty.core.errors import InvalidInput
        from smduty.core.triage.queue import view_filters

        try:
            filters = view_filters(self.settings.views[name], self.actor)
        except (KeyError, InvalidInput) as exc:
            self.notify(f"View {name!r}: {exc}", severity="error", markup=False)
            return
        self.queue_filters = filters
        self._show_queue(filters, lambda: self.action_open_view(name))

    def _show_queue(self, filters, again: Callable[[], None]) -> None:
        from smduty.tui.screens.queue import QueueScreen

        if self._put_off_while_opening(again):
            return
        while len(self.screen_stack) > 2:
            self.pop_screen()
        if len(self.screen_stack) > 1:
            self.switch_screen(QueueScreen(filters))
        else:
            self.push_screen(QueueScreen(filters))

    def refresh_posts_state(self) -> None:
        """The council-wide states every screen shows: scheduled posts stopped, and the
        pre-election period."""
        from smduty.core.clock import today
        from smduty.core.election import in_force
        from smduty.core.incidents.posts import current_stop

        db = self.store.connection()
        self.set_posts_stop(current_stop(db))
        period = in_force(db, today())
        if period != self.election:
            self.election = period
            from smduty.tui.widgets.election_banner import ElectionBanner

            for screen in self.screen_stack:
                for banner in screen.query(ElectionBanner):
                    banner.show_period(period)

    def set_posts_stop(self, stop) -> None:
        self.posts_stop = stop

    def watch_posts_stop(self, stop) -> None:
        from smduty.tui.widgets.posts_banner import PostsBanner

        for screen in self.screen_stack:
            for banner in screen.query(PostsBanner):
                banner.show_stop(stop)

    def action_open_incidents(self) -> None:
        from smduty.tui.screens.incidents import IncidentsScreen

        self._switch_to(IncidentsScreen)

    def action_open_incident(self, incident_id: int) -> None:
        from smduty.tui.screens.incident import IncidentScreen

        self.push_screen(IncidentScreen(incident_id))

    def action_start_incident(self, mention_id: int | None = None, title: str = "") -> None:
        """The start form (from anywhere, or from a mention), then its walkthrough."""
        from smduty.core.incidents.playbook import playbook_in_force
        from smduty.core.register.channels import channel_names
        from smduty.tui.screens.incident_forms import start_form

        playbook, problem = playbook_in_force()
        if problem:
            self.notify(problem, title="Playbook copy refused", severity="error", markup=False)
        channels = channel_names(self.store.connection())

        def started(incident) -> None:
            if incident is not None:
                nxt = incident.current
                self.notify(
                    f"Incident {incident.id}: "
                    + (f"next, {nxt.step.title}" if nxt else "every step has an answer"),
                    markup=False,
                )
                self.refresh_screens()
                self.action_open_incident(incident.id)

        from smduty.core.incidents.lifecycle import list_incidents

        open_now = [
            (f"#{i.id} {i.title[:60]}", i.id)
            for i in list_incidents(self.store.connection(), include_closed=False)
        ]
        form = start_form(
            self.actor,
            channels,
            mention_id=mention_id,
            title=title,
            playbook=playbook,
            open_incidents=open_now,
        )
        self.push_screen(form, callback=started)

    def action_import_file(self) -> None:
        from smduty.tui.screens.import_file import ImportScreen

        def imported(summary) -> None:
            if summary is not None and not summary.error:
                self.refresh_screens()

        self.push_screen(ImportScreen(), callback=imported)

    def refresh_screens(self) -> None:
        """New data arrived (an import, a poll): reload whatever shows it."""
        if isinstance(self.screen, MainScreen):
            self.screen.refresh_data()

    def action_open_checks(self) -> None:
        from smduty.tui.screens.check_session import CheckSessionScreen

        self._switch_to(CheckSessionScreen)

    def _put_off_while_opening(self, go: Callable[[], None]) -> bool:
        """True when the screen on top is still opening: `go` is tried again after the next
        refresh. A screen removed before it has opened stops the app (its on_mount then runs
        with its widgets gone), and two keys pressed together do that."""
        if self.screen.is_mounted:
            return False
        self.call_after_refresh(go)
        return True

    def _switch_to(self, screen_type: type) -> None:
        """Show a main screen, reusing it if it is already on the stack."""
        if self._put_off_while_opening(lambda: self._switch_to(screen_type)):
            return
        while len(self.screen_stack) > 2 and not isinstance(self.screen, screen_type):
            self.pop_screen()
        if not isinstance(self.screen, screen_type):
            if len(self.screen_stack) > 1:
                self.switch_screen(screen_type())
            else:
                self.push_screen(screen_type())


def run_app(db_path: Path, actor: str) -> None:
    # No garbage collection while the first screen is built: the passes over the modules and
    # widgets being created found almost nothing to free and delayed the first frame. The
    # heap is collected and frozen once that screen has settled (`_freeze_startup_heap`).
    gc.disable()
    SmdutyApp(db_path, actor).run()


def _forget_closed_screens(_screen) -> None:
    """Textual caches `StylesCache.get_inner_outer` with lru_cache on a method, so each of the
    last 1,024 widgets' style caches (their rendered lines) outlives its screen: about 80 KB a
    closed screen until the cache is full (bench/bench_memory.py). Its entries are two Styles,
    cheap to make again; emptied at every change of screen."""
    from textual._styles_cache import StylesCache

    StylesCache.get_inner_outer.cache_clear()
