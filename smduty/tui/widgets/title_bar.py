"""The top line of every main screen: smduty, and which screen this is.

It takes the place of Textual's Header, which fills in its title from a watcher that runs just
after it mounts: leaving a screen in that moment (a quick key, a key held down) stopped the app
with "NoMatches: HeaderTitle" (Textual 8.2.8). This bar has nothing pending: it draws itself
from the screen it is on whenever it paints.
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget


class TitleBar(Widget):
    DEFAULT_CSS = """
    TitleBar {
        dock: top;
        width: 100%;
        height: 1;
        background: $panel;
        color: $foreground;
        text-align: center;
    }
    """

    def render(self) -> Text:
        where = getattr(self.screen, "HELP_TITLE", "") or self.app.sub_title
        return Text(f"{self.app.title} — {where}", no_wrap=True, overflow="ellipsis")
