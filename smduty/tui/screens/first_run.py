"""Shown on an empty register: how to get channels in, never a blank screen."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from smduty.tui.screens.base import MainScreen

FIRST_RUN_TEXT = """\
Welcome to smduty. The channel register is empty.

Every official social media channel of the council belongs in the register
(002 §3.1.1: the council must oversee every channel it uses).

  a   add your first channel here, with a form
  c   open the channel register

Or from a shell:
  smduty channels import channels.csv     one row per channel; the header names the fields
  smduty channels add "Council Facebook" --platform facebook --service "Communications"
  smduty staff add "Jo Bloggs" --role comms_officer
  smduty demo                             explore a fictional council first
"""


class FirstRunScreen(MainScreen):
    HELP_TITLE = "Getting started"
    BINDINGS = [
        Binding(
            "a",
            "add_channel",
            "Add channel",
            id="first.add",
            tooltip="Register a channel with the form",
        ),
        Binding(
            "c",
            "app.open_channels",
            "Channels",
            id="first.channels",
            tooltip="Open the channel register",
        ),
    ]

    def compose_body(self) -> ComposeResult:
        with Vertical(id="first-run"):
            yield Static(FIRST_RUN_TEXT, markup=False, id="first-run-text")

    def action_add_channel(self) -> None:
        from smduty.tui.screens.channel_form import ChannelFormScreen

        def added(channel) -> None:
            if channel is not None:
                from smduty.tui.screens.dashboard import DashboardScreen

                self.app.switch_screen(DashboardScreen())

        self.app.push_screen(ChannelFormScreen(self.app.store.connection()), callback=added)
