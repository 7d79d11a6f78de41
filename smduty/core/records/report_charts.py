"""The report's charts as data (issue 21): what each chart shows, its labels and its series.
The Reports screen draws them in the terminal (textual-plotext) and the HTML report as inline
SVG (pygal), from the same figures, so the two cannot disagree.

A period longer than five weeks is drawn a week a bar (labelled by its Monday), so a quarter
stays readable on an 80-column terminal.
"""

from __future__ import annotations

from datetime import date, timedelta

import msgspec

from smduty.core.records.report import OUTCOMES, RATINGS, Report

# One colour per series name, shared by the terminal and the HTML charts.
COLOURS = {
    "critical": "#d7263d",
    "high": "#f46036",
    "medium": "#e2b007",
    "low": "#2e86ab",
    "not flagged": "#9aa5b1",
    "working days": "#1b998b",
    "duty blocks": "#6a4c93",
    "outcomes": "#3d5a80",
    "median": "#8ac926",
    "90th percentile": "#ff70a6",
}
WEEKLY_AFTER_DAYS = 35


class Chart(msgspec.Struct, frozen=True):
    key: str  # a stable name: the TUI widget id and the HTML figure id
    title: str
    kind: str  # "stacked" bars, or "bars" side by side
    labels: list[str]
    series: dict[str, list[float | None]]  # name -> one value per label (None: nothing due)
    unit: str = ""

    @property
    def empty(self) -> bool:
        return not any(v for values in self.series.values() for v in values)


def report_charts(report: Report) -> list[Chart]:
    return [
        _mentions_by_rating(report),
        _checks(report),
        _outcomes(report),
        _first_action(report),
    ]


def _buckets(report: Report) -> tuple[list[str], dict[date, int]]:
    """The bars along the period: its days, or its weeks when it is long; and where each day
    falls among them."""
    count = (report.end - report.start).days + 1
    days = [report.start + timedelta(days=n) for n in range(count)]
    if count <= WEEKLY_AFTER_DAYS:
        return [f"{d:%a %-d}" for d in days], {d: n for n, d in enumerate(days)}
    mondays: list[date] = []
    where: dict[date, int] = {}
    for d in days:
        monday = d - timedelta(days=d.weekday())
        if not mondays or mondays[-1] != monday:
            mondays.append(monday)
        where[d] = len(mondays) - 1
    return [f"w/c {m:%-d %b}" for m in mondays], where


def _mentions_by_rating(report: Report) -> Chart:
    labels, where = _buckets(report)
    names = [*RATINGS, "not flagged"]
    series = {name: [0.0] * len(labels) for name in names}
    for row in report.mentions.get("per_day", []):
        at = where.get(date.fromisoformat(row["date"]))
        if at is None:
            continue
        for rating in RATINGS:
            series[rating][at] += row.get(rating) or 0
        series["not flagged"][at] += row["ingested"] - (row["flagged"] or 0)
    return Chart("mentions", "Mentions in, by rating", "stacked", labels, series, "mentions")


def _checks(report: Report) -> Chart:
    """The share of due checks done by the deadline, working days and duty blocks apart (a
    week's bar is the share over its days)."""
    labels, where = _buckets(report)
    done = {k: [0] * len(labels) for k in ("working", "duty")}
    due = {k: [0] * len(labels) for k in ("working", "duty")}
    for day in report.checks["days"]:
        at = where.get(date.fromisoformat(day["date"]))
        if at is None:
            continue
        done[day["kind"]][at] += day["on_time"]
        due[day["kind"]][at] += day["on_time"] + day["missed"]
    series = {
        label: [round(100 * d / w, 1) if w else None for d, w in zip(done[k], due[k], strict=True)]
        for k, label in (("working", "working days"), ("duty", "duty blocks"))
    }
    return Chart("checks", "Daily checks done by the deadline", "bars", labels, series, "%")


def _outcomes(report: Report) -> Chart:
    outcomes = report.mentions["outcomes"]
    labels = [name.replace("_", " ") for name in OUTCOMES]
    values = [float(outcomes.get(name, 0)) for name in OUTCOMES]
    return Chart("outcomes", "Triage outcomes", "bars", labels, {"outcomes": values}, "mentions")


def _first_action(report: Report) -> Chart:
    first = report.mentions["first_action"]
    labels = list(RATINGS)
    series = {
        "median": [float(first.get(r, {}).get("median_minutes") or 0) for r in RATINGS],
        "90th percentile": [float(first.get(r, {}).get("p90_minutes") or 0) for r in RATINGS],
    }
    return Chart("first-action", "Time to first action", "bars", labels, series, "minutes")
