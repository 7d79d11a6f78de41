"""One mention in full: its text shown literally with the words that flagged it highlighted,
where it came from, why it was flagged, its response target and its history."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.app import App
from textual.widgets import Static

from smduty.core.clock import COUNCIL_TZ, parse_stamp
from smduty.core.monitoring.flag_verdict import rating_for
from smduty.core.triage.detail import Detail
from smduty.core.triage.queue import STATE_LABELS, age_text
from smduty.core.triage.targets import Targets
from smduty.tui.theme import rating_style


def _local(stamp: str) -> str:
    moment = parse_stamp(stamp).astimezone(COUNCIL_TZ)
    return f"{moment:%a %d %b %H:%M}"


def highlighted(value: str, spans: list[tuple[int, int]], style: str) -> Text:
    text = Text(value)
    for start, end in spans:
        if 0 <= start < end <= len(value):
            text.stylize(style, start, end)
    return text


class MentionDetail(Static):
    DEFAULT_CSS = """
    MentionDetail { padding: 0 1; height: auto; }
    """

    def show_detail(self, found: Detail | None, targets: Targets, now: datetime) -> None:
        self.update(render(self.app, found, targets, now))


def render(app: App, found: Detail | None, targets: Targets, now: datetime) -> Text:
    if found is None:
        return Text("Nothing here: change the filters above, or wait for the next poll.")
    item = found.item
    mark = f"reverse {app.theme_variables.get('warning', 'yellow')}"
    out = Text()
    out.append(f" {item.rating.upper()} ", f"reverse {rating_style(app, item.rating) or 'dim'}")
    out.append(f"  risk {item.risk}", "bold")
    if item.categories:
        out.append("  " + ", ".join(c.replace("_", " ") for c in item.categories))
    out.append(f"\n#{item.id} · {STATE_LABELS[item.status]}")
    if item.assigned_to:
        out.append(f" · {item.assigned_to}")
    if item.snoozed_until:
        out.append(f" until {_local(item.snoozed_until)}")
    out.append("\n\n")
    spans = {"title": [], "text": []}
    for match in found.matches:
        spans.setdefault(match["field"], []).append((match["start"], match["end"]))
    if item.title:
        out.append_text(highlighted(item.title, spans["title"], f"bold {mark}"))
        out.stylize("bold", len(out) - len(item.title), len(out))
        out.append("\n")
    if item.text:
        out.append_text(highlighted(item.text, spans["text"], mark))
        out.append("\n")
    out.append("\n")
    rows = [
        ("Author", item.author or "unknown"),
        (
            "Published",
            f"unknown (first seen {_local(item.ingested_at)}, {age_text(item.age_minutes(now))}"
            " ago)"
            if item.published_unknown
            else f"{_local(item.published)} ({age_text(item.age_minutes(now))} ago)",
        ),
        ("Link", item.url or "none"),
        ("Sources", ", ".join(found.sources)),
    ]
    for label, value in rows:
        out.append(f"{label:<10}", "dim")
        out.append(f"{value}\n")
    due = item.due(targets)
    if due is not None:
        out.append(f"{'Target':<10}", "dim")
        late = due <= now
        out.append(
            f"{'OVERDUE since' if late else 'by'} {_local(due.isoformat())}"
            f" ({targets.by_rating[item.rating].text})\n",
            rating_style(app, "critical") if late else "",
        )
    if found.breach is not None:
        b = found.breach
        out.append(f"{'Breach':<10}", "dim")
        handled = f"; handled ({b.handled_as}) {_local(b.handled_at)}" if b.handled_at else ""
        out.append(
            f"target {b.target} missed: due {_local(b.due_at)}{handled}\n",
            rating_style(app, "critical"),
        )
    if found.matches:
        out.append("\nWhy flagged", "bold")
        out.append("  (likelihood × consequence, 000 §4.3)\n", "dim")
        for match in found.matches:
            score = match["likelihood"] * match["consequence"]
            out.append(f"  {match['category'].replace('_', ' ')}: ")
            out.append(repr(match["matched"]))
            out.append(
                f" {match['likelihood']}×{match['consequence']}={score} {rating_for(score)}"
                f" ({match['rule']})\n",
                "dim",
            )
            if match.get("why"):
                out.append(f"    {match['why']}\n", "dim italic")
    if item.outcome:
        out.append("\nOutcome\n", "bold")
        for key, value in item.outcome.items():
            shown = ", ".join(value) if isinstance(value, list) else str(value)
            out.append(f"  {key.replace('_', ' ')}: ", "dim")
            out.append(f"{shown}\n")
    if found.history:
        out.append("\nHistory\n", "bold")
        for entry in found.history:
            out.append(f"  {_local(entry.at)} ", "dim")
            out.append(f"{entry.actor}: {entry.action.removeprefix('mention.')}")
            if entry.action == "mention.assess":
                out.append(f" → {entry.facts.get('outcome', '')}\n")
                for answer in entry.facts.get("answers", []):
                    out.append(f"      {answer}\n", "dim")
                continue
            out.append(f" → {STATE_LABELS.get(entry.status, entry.status)}\n")
    return out
