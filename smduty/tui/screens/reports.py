"""Reports: the policy report for the last week, month or quarter, with its charts drawn in the
terminal (mentions per day by rating, the daily checks' completion, triage outcomes, time to
first action), the key figures under them, and the whole report written out (x) as Markdown and
as an HTML page with the same charts."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.widgets import Static

from smduty.core.clock import now_utc, today
from smduty.core.config import data_dir
from smduty.core.errors import SmdutyError
from smduty.core.files import write_output
from smduty.core.records.report import Report, build_report, period_of, report_markdown
from smduty.core.records.report_charts import report_charts
from smduty.core.records.report_html import report_html
from smduty.core.rota.duty_calendar import DutyCalendar
from smduty.tui import messages
from smduty.tui.screens.base import MainScreen
from smduty.tui.widgets.report_chart import ReportChart

CHARTS = ("mentions", "checks", "outcomes", "first-action")  # report_charts' keys, in order


class ReportsScreen(MainScreen):
    HELP_TITLE = "Reports"
    HELP_TEXT = (
        "The policy report for the last week (1), month (2) or quarter (3): the daily checks, "
        "the register, mentions and their triage, moderation, incidents and sources, with "
        "charts. x writes the whole report to the reports folder as Markdown and as an HTML "
        "page with the same charts, for a committee paper (officers numbered)."
    )
    DEFAULT_CSS = """
    ReportsScreen #charts { grid-size: 2; grid-rows: 16; height: auto; }
    ReportsScreen #charts.-narrow { grid-size: 1; }
    ReportsScreen #report-figures { padding: 1 1 0 1; }
    """
    BINDINGS = [
        Binding("1", "period('week')", "Week", id="reports.week"),
        Binding("2", "period('month')", "Month", id="reports.month"),
        Binding("3", "period('quarter')", "Quarter", id="reports.quarter"),
        Binding("x", "export", "Write report", id="reports.export", tooltip="As Markdown and HTML"),
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
            with Grid(id="charts"):
                for key in CHARTS:
                    yield ReportChart(id=f"chart-{key}")
            yield Static(id="report-figures")

    def on_mount(self) -> None:
        self.reload()

    def on_resize(self) -> None:
        # Side by side from 100 columns; one under another below that, each wide enough to read.
        self.query_one("#charts").set_class(self.size.width < 100, "-narrow")

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
        for chart in report_charts(report):
            self.query_one(f"#chart-{chart.key}", ReportChart).show(chart)
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
            write_output(path.with_suffix(".html"), report_html(report))
        except (SmdutyError, OSError) as exc:
            self.notify(f"Not written: {exc}", severity="error", markup=False)
            return
        self.notify(f"Report written to {path} and {path.with_suffix('.html').name}", markup=False)


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
    summary = report.checks["summary"]
    out.append(
        f"done by the deadline: working days {_pct(summary['working']['completion'])}, duty"
        f" blocks {_pct(summary['duty']['completion'])}; {len(report.checks['misses'])}"
        " missed check(s) on the record\n"
    )
    out.append("Incidents ", "bold")
    out.append(
        f"{i['opened']} opened, {i['closed']} closed; posts stopped"
        f" {i['posts_stopped_minutes']} min\n"
    )
    out.append("Moderation ", "bold")
    out.append(f"{report.moderation['actions']} action(s)\n")
    return out
