"""Dashboard panel: new flagged mentions by rating, and the sources that are failing."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import Static

from smduty.core.flagging import RATINGS
from smduty.core.sources import Source, list_sources
from smduty.tui.widgets.panel import DashboardPanel

RATING_STYLE = {
    "critical": "bold $error",
    "high": "$error",
    "medium": "$warning",
    "low": "$text-muted",
}


@dataclass(frozen=True)
class MentionSnapshot:
    new_by_rating: dict[str, int]
    total: int
    failing: list[Source]
    sources: int


class MentionsPanel(DashboardPanel):
    PANEL_TITLE = "Mentions"

    def compose(self) -> ComposeResult:
        yield Static("Loading mentions…", id="mentions-text")

    def fetch(self, db: sqlite3.Connection) -> MentionSnapshot:
        counts = dict(
            db.execute(
                "SELECT rating, count(*) FROM mentions WHERE status = 'new' AND rating_rank > 0"
                " GROUP BY rating"
            ).fetchall()
        )
        total = db.execute("SELECT max(id) FROM mentions").fetchone()[0] or 0
        found = list_sources(db)
        failing = [s for s in found if s.enabled and s.failures]
        return MentionSnapshot(counts, total, failing, len(found))

    def show(self, data: MentionSnapshot) -> None:
        parts: list[str | tuple[str, str]] = [("New flagged    ", "$text-muted")]
        shown = [r for r in reversed(RATINGS) if data.new_by_rating.get(r)]
        if not shown:
            parts.append(("none waiting", "$success"))
        for i, rating in enumerate(shown):
            if i:
                parts.append("  ")
            parts.append((f"{data.new_by_rating[rating]} {rating}", RATING_STYLE[rating]))
        parts += [("\nSources        ", "$text-muted"), f"{data.sources} (s opens them)"]
        if data.failing:
            parts.append(("\nIn error       ", "bold $error"))
            for i, source in enumerate(data.failing):
                parts += ["\n  " if i else "", (source.name, "bold"), f": {source.last_error}"]
        self.query_one("#mentions-text", Static).update(Content.assemble(*parts))
