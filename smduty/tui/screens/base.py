"""What every main screen shares: the title bar and posts banner above, the footer below, and
the two hooks the app calls on it.

The app calls `refresh_data()` when new data arrived (an import, a poll, another desk's change)
and `quarter_tick()` / `minute_tick()` every 15 s and every minute (the app's one clock: no
screen keeps a timer of its own, which kept a closed screen in memory until it was due). They
do nothing until the screen has mounted: a tick that
arrives while a screen is still opening used to query widgets not there yet (NoMatches).
Screens fill in `compose_body`, `reload` and, if they show ages, `every_minute`.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer

from smduty.tui.widgets.election_banner import ElectionBanner
from smduty.tui.widgets.posts_banner import PostsBanner
from smduty.tui.widgets.title_bar import TitleBar


class MainScreen(Screen[None]):
    HELP_TITLE = ""
    HELP_TEXT = ""

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield PostsBanner()
        yield ElectionBanner()
        yield from self.compose_body()
        yield Footer()

    def compose_body(self) -> ComposeResult:
        """The screen's own widgets, between the banner and the footer."""
        yield from ()

    @property
    def is_live(self) -> bool:
        """Mounted, still attached and on top, in an app not shutting down: safe to query and
        to reload. (A shutdown takes widgets away one by one while the screen is still on top:
        a change another desk made, noticed in between, met a table without its status line.)"""
        return (
            self.app.is_running and self.is_mounted and self.is_attached and self.app.screen is self
        )

    def reload(self) -> None:
        """Read what the screen shows again (keeping the cursor where it can)."""

    def every_minute(self) -> None:
        """Once a minute while on top: ages and deadlines move on."""

    def every_half_minute(self) -> None:
        """Every 30 s while on top (what other desks and the poller change)."""

    def every_quarter_minute(self) -> None:
        """Every 15 s while on top (a running clock on the screen)."""

    def save_draft(self, *, wait: bool = False) -> None:
        """Keep what is typed but not yet saved (the app calls it before quitting)."""

    def action_reload(self) -> None:
        self.app.refresh_posts_state()  # the banner too: another desk may have changed it
        self.reload()

    def refresh_data(self) -> None:
        if self.is_live:
            self.reload()

    def minute_tick(self) -> None:
        if self.is_live:
            self.every_minute()

    def quarter_tick(self, count: int) -> None:
        if self.is_live:
            self.every_quarter_minute()
            if count % 2 == 0:
                self.every_half_minute()
