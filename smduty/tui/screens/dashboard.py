"""The home screen: today, the operator, and one panel per concern."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from smduty.core.clock import now_local
from smduty.tui.widgets.duty_panel import DutyPanel
from smduty.tui.widgets.panel import DashboardPanel
from smduty.tui.widgets.register_panel import RegisterPanel


class DashboardScreen(Screen[None]):
    HELP_TITLE = "Dashboard"
    HELP_TEXT = "Today at a glance. Enter on a channel opens it in the register."
    # Panels shown top to bottom; later features append theirs here.
    PANELS: list[type[DashboardPanel]] = [DutyPanel, RegisterPanel]
    BINDINGS = [
        Binding(
            "c",
            "app.open_channels",
            "Channels",
            id="dashboard.channels",
            tooltip="The full channel register",
        ),
        Binding(
            "k",
            "app.open_checks",
            "Check session",
            id="dashboard.checks",
            tooltip="Today's check of every channel",
        ),
        Binding("r", "reload", "Refresh", id="dashboard.refresh", tooltip="Load every panel again"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="today-line", classes="screen-title")
        with VerticalScroll(id="panels"):
            for panel in self.PANELS:
                yield panel()
        yield Footer()

    def on_mount(self) -> None:
        self._show_today()
        self.set_interval(60, self._tick)

    def on_screen_resume(self) -> None:
        self.action_reload()

    def _show_today(self) -> None:
        now = now_local()
        self.query_one("#today-line", Static).update(
            Text(f"{now:%A %-d %B %Y}   operator: {self.app.actor}")
        )

    def _tick(self) -> None:
        self._show_today()
        self.action_reload()

    def action_reload(self) -> None:
        for panel in self.query(DashboardPanel):
            panel.reload()

    @on(RegisterPanel.ChannelChosen)
    def _open_channel(self, message: RegisterPanel.ChannelChosen) -> None:
        from smduty.tui.screens.channels import ChannelsScreen

        self.app.push_screen(ChannelsScreen(select_id=message.channel_id))
