"""The command palette: every screen and the actions of the screen you are on."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

# (title, help, app action) for every screen and app-wide job.
APP_COMMANDS = (
    ("Dashboard", "Today at a glance", "open_dashboard"),
    ("Channels", "The register of official channels", "open_channels"),
    ("Check session", "Today's check of every active channel", "open_checks"),
    ("Duty rota", "Check officers, weekend duty, leave, swaps, fairness", "open_rota"),
    (
        "Triage queue",
        "Flagged mentions to work: respond, refer, no engagement, escalate",
        "open_queue",
    ),
    ("Mention sources", "Feeds and export files, their health; poll now", "open_sources"),
    (
        "Reports",
        "The policy report for a week, month or quarter, with its figures charted",
        "open_reports",
    ),
    (
        "Staff and contacts",
        "Phone numbers, roles, deputies; who to ring for each role today",
        "open_staff",
    ),
    (
        "Import export file",
        "Read a Meltwater, Brandwatch, Hootsuite, Sprout, Talkwalker or other export",
        "import_file",
    ),
    (
        "Start an incident",
        "Something went wrong: the escalation procedure, step by step",
        "start_incident",
    ),
    ("Incidents", "Open and closed incidents; resume one where it was left", "open_incidents"),
    ("Help", "Keys of this screen", "help"),
)


class SmdutyCommands(Provider):
    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        app = self.app
        found: list[tuple[str, str, Callable[[], object]]] = [
            (title, help_text, partial(app.run_action, action))
            for title, help_text, action in APP_COMMANDS
        ]
        # The named queue views of the settings ([views.NAME]).
        for name in getattr(app.settings, "views", {}):
            found.append(
                (
                    f"View: {name}",
                    "a triage queue view from the settings",
                    partial(app.action_open_view, name),
                )
            )
        # The current screen's own actions, as its bindings describe them.
        screen = self.screen
        titles = {title for title, _, _ in found}
        for binding in getattr(screen, "BINDINGS", []):
            if getattr(binding, "description", "") and binding.description not in titles:
                found.append(
                    (
                        binding.description,
                        binding.tooltip or f"key: {binding.key_display or binding.key}",
                        partial(screen.run_action, binding.action),
                    )
                )
        return found

    async def discover(self) -> Hits:
        for title, help_text, callback in self._commands():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
