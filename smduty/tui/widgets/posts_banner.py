"""The "scheduled posts stopped" banner, on every main screen while the stop holds.

It shows the app's `posts_stop`, which the app refreshes when it opens, after a change and
every minute (another desk or `smduty posts stop` may have changed it); the app hands a change
to every banner on the screen stack. Not `watch(app, ...)`: Textual keeps such a watcher, and
with it the closed screen the banner was on, until the watched value next changes.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from smduty.core.clock import local_text
from smduty.core.incidents.posts import PostingStop


class PostsBanner(Static):
    DEFAULT_CSS = """
    PostsBanner {
        display: none;
        height: auto;
        padding: 0 1;
        background: $error;
        color: $text;
        text-style: bold;
    }
    PostsBanner.-stopped { display: block; }
    """

    def on_mount(self) -> None:
        self.show_stop(self.app.posts_stop)

    def show_stop(self, stop: PostingStop | None) -> None:
        self.set_class(stop is not None, "-stopped")
        if stop is None:
            self.update("")
            return
        text = Text("SCHEDULED POSTS STOPPED")
        text.append(f" since {local_text(stop.stopped_at)} by {stop.stopped_by}: ")
        text.append(stop.reason)
        text.append("   (lift it: p on the incident, or smduty posts resume)", "not bold")
        self.update(text)
