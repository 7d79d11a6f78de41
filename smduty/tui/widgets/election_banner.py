"""The pre-election banner, on every main screen while a pre-election period holds (004 §4.2.6).

Told by the app (as the posts banner is) when it opens, after a change and whenever another
desk's change is seen.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from smduty.core.election import GUIDANCE, ElectionPeriod


class ElectionBanner(Static):
    DEFAULT_CSS = """
    ElectionBanner {
        display: none;
        height: auto;
        padding: 0 1;
        background: $warning;
        color: $text;
    }
    ElectionBanner.-on { display: block; }
    """

    def on_mount(self) -> None:
        self.show_period(getattr(self.app, "election", None))

    def show_period(self, period: ElectionPeriod | None) -> None:
        self.set_class(period is not None, "-on")
        if period is None:
            self.update("")
            return
        text = Text("PRE-ELECTION PERIOD", "bold")
        text.append(f" {period.name}, to {period.end:%a %-d %b %Y}: ")
        text.append(GUIDANCE)
        self.update(text)
