"""Help: the keys of the screen underneath, read from its bindings."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Label

from smduty.tui.widgets.table import Table


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark,f1", "dismiss", "Close", id="help.close")]

    def __init__(self, under: Screen) -> None:
        super().__init__()
        self.under = under

    def compose(self) -> ComposeResult:
        title = getattr(self.under, "HELP_TITLE", type(self.under).__name__)
        with Vertical(classes="modal"):
            yield Label(f"Keys: {title}", markup=False, classes="modal-title")
            about = getattr(self.under, "HELP_TEXT", "")
            if about:
                yield Label(about, markup=False, classes="muted")
            yield Table(id="help-keys", cursor_type="row", zebra_stripes=True)
            yield Label(
                "Everywhere: ctrl+p command palette, ? help, q quit. Escape closes this.",
                markup=False,
                classes="muted",
            )

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Key", "Does", "Id (for keys in the settings)")
        seen = set()
        for binding in self._bindings_of(self.under) + self._bindings_of(self.app):
            if binding.description and binding.action not in seen:
                seen.add(binding.action)
                key = binding.key_display or binding.key
                table.add_row(
                    Text(key, style="bold"),
                    Text(binding.tooltip or binding.description),
                    Text(binding.id or "", style="dim"),
                )

    @staticmethod
    def _bindings_of(node) -> list[Binding]:
        return [b for b in getattr(node, "BINDINGS", []) if isinstance(b, Binding)]


def binding_ids() -> set[str]:
    """Every binding id of the app and its screens (what `keys` in the settings may name)."""
    from smduty.tui.app import SmdutyApp
    from smduty.tui.screens import (
        channels,
        check_session,
        dashboard,
        incident,
        incidents,
        queue,
        rota,
        sources,
        staff,
    )

    screens = (
        channels.ChannelsScreen,
        check_session.CheckSessionScreen,
        dashboard.DashboardScreen,
        incident.IncidentScreen,
        incidents.IncidentsScreen,
        queue.QueueScreen,
        rota.RotaScreen,
        sources.SourcesScreen,
        staff.StaffScreen,
        HelpScreen,
        SmdutyApp,
    )
    return {b.id for cls in screens for b in cls.BINDINGS if isinstance(b, Binding) and b.id}
