"""Reports: the policy report for the last week, month or quarter, with its figures drawn as
sparklines (mentions and flagged mentions per day, the daily checks' completion), the key
figures beside them, and the whole report written out as Markdown (x)."""

from __future__ import annotations

from datetime import date

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Label, Sparkline, Static

from smduty.core.clock import now_utc, today
from smduty.core.config import data_dir
from smduty.core.errors import SmdutyError
from smduty.core.files import write_output
from smduty.core.records.report import Report, build_report, period_of, report_markdown
from smduty.core.rota.duty_calendar import DutyCalendar
from smduty.tui import messages
from smduty.tui.screens.base import MainScreen


def _series(report: Report) -> tuple[list[float], list[float], list[float]]:
    """Per day of the period: mentions in, flagged, checks' completion (0 where none was due)."""
    first = report.start
    count = (report.end - first).days + 1
    ingested, flagged = [0.0] * count, [0.0] * count
    for row in report.mentions.get("per_day", []):
        at = (date.fromisoformat(row["date"]) - first).days
        if 0 <= at < count:
            ingested[at], flagged[at] = float(row["ingested"]), float(row["flagged"] or 0)
    completion = [float(d["completion"] or 0) for d in report.checks["days"]]
    return ingested, flagged, completion


class ReportsScreen(MainScreen):
    HELP_TITLE = "Reports"
    HELP_TEXT = (
        "The policy report for the last week (1), month (2) or quarter (3): the daily checks, "
        "the register, mentions and their triage, moderation, incidents and sources. x writes "
        "the whole report to the reports folder as Markdown (officers numbered)."
    )
    DEFAULT_CSS = """
    ReportsScreen .chart-label { color: $text-muted; padding: 0 1; }
    ReportsScreen Sparkline { height: 3; margin: 0 1 1 1; }
    ReportsScreen #report-figures { padding: 0 1; }
    ReportsScreen #charts { height: auto; }
    """
    BINDINGS = [
        Binding("1", "period('week')", "Week", id="reports.week"),
        Binding("2", "period('month')", "Month", id="reports.month"),
        Binding("3", "period('quarter')", "Quarter", id="reports.quarter"),
        Binding("x", "export", "Write report", id="reports.export", tooltip="As Markdown"),
        Binding("escape", "app.open_dashboard", "Back", id="reports.back"),
    ]

    class Loaded(messages.Loaded):
        """The report read (a Report)."""

    def __init__(self) -> None:
        super().__init__()
        self.period = "month"
        self.report: Report | None = None

    def compose_body(self) -> ComposeResult:
        yield Static(id="report-title", classes="screen-title")
        with VerticalScroll():
            with Vertical(id="charts"):
                yield Label("Mentions in, per day", classes="chart-label", id="label-ingested")
                yield Sparkline([], id="chart-ingested")
                yield Label("Flagged, per day", classes="chart-label", id="label-flagged")
                yield Sparkline([], id="chart-flagged")
                yield Label("Daily checks done by the deadline, %", classes="chart-label",
                            id="label-checks")  # fmt: skip
                yield Sparkline([], id="chart-checks")
            yield Static(id="report-figures")

    def on_mount(self) -> None:
        self.reload()

    def action_period(self, period: str) -> None:
        self.period = period
        self.reload()

    @work(thread=True, exclusive=True, group="report", exit_on_error=False)
    def reload(self) -> None:
        start, end = period_of(self.period, None, None, today())
        found = build_report(
            self.app.store.connection(),
            DutyCalendar.from_config(self.app.settings),
            self.app.settings,
            start,
            end,
            now=now_utc(),
        )
        self.post_message(self.Loaded(found))

    def on_reports_screen_loaded(self, message: Loaded) -> None:
        report = self.report = message.data
        ingested, flagged, completion = _series(report)
        self.query_one("#chart-ingested", Sparkline).data = ingested
        self.query_one("#chart-flagged", Sparkline).data = flagged
        self.query_one("#chart-checks", Sparkline).data = completion
        self.query_one("#label-ingested", Label).update(
            f"Mentions in, per day: {report.mentions['ingested']} in all, most in a day"
            f" {int(max(ingested, default=0))}"
        )
        self.query_one("#label-flagged", Label).update(
            f"Flagged, per day: {report.mentions['flagged']} in all"
        )
        summary = report.checks["summary"]
        self.query_one("#label-checks", Label).update(
            "Daily checks done by the deadline, %: working days "
            f"{_pct(summary['working']['completion'])}, duty blocks"
            f" {_pct(summary['duty']['completion'])}"
        )
        self.query_one("#report-title", Static).update(
            Text(
                f"Report {report.start:%a %-d %b} to {report.end:%a %-d %b %Y}"
                "   (1 week, 2 month, 3 quarter; x writes it)"
            )
        )
        self.query_one("#report-figures", Static).update(_figures(report))

    def action_export(self) -> None:
        if self.report is None:
            return
        report = self.report
        path = data_dir() / "reports" / f"report-{report.start}-to-{report.end}.md"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_output(path, report_markdown(report))
        except (SmdutyError, OSError) as exc:
            self.notify(f"Not written: {exc}", severity="error", markup=False)
            return
        self.notify(f"Report written to {path}", markup=False)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:g}%"


def _figures(report: Report) -> Text:
    m, r, i = report.mentions, report.register, report.incidents
    out = Text()
    out.append("Mentions  ", "bold")
    out.append(f"{m['ingested']} in, {m['flagged']} flagged; outcomes: ")
    out.append(", ".join(f"{k.replace('_', ' ')} {v}" for k, v in m["outcomes"].items()))
    out.append(f"; response targets missed: {m['breaches_total']}\n")
    for rating, first in m["first_action"].items():
        out.append(f"  {rating}: first action in {first['median_minutes']:g} min (median),")
        out.append(f" {first['p90_minutes']:g} min (90th percentile)\n")
    out.append("Register  ", "bold")
    now = r["now"]
    out.append(
        f"{now['live']} live ({now['red']} red, {now['amber']} amber); in the period"
        f" {r['proposals_opened']} proposed, {r['authorised']} authorised, {r['rejected']}"
        f" turned down, {r['closed']} closed\n"
    )
    out.append("Checks    ", "bold")
    out.append(f"{len(report.checks['misses'])} missed check(s) on the record\n")
    out.append("Incidents ", "bold")
    out.append(
        f"{i['opened']} opened, {i['closed']} closed; posts stopped"
        f" {i['posts_stopped_minutes']} min\n"
    )
    out.append("Moderation ", "bold")
    out.append(f"{report.moderation['actions']} action(s)\n")
    return out
