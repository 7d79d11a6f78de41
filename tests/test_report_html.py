"""The report's charts and its HTML page (issue 21): the charts carry the report's own figures,
the page is one self-contained file with names escaped and officers numbered, and a real
browser (headless Chromium) draws every chart."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from browser import chromium, colour_counts, pixels_near
from click.testing import CliRunner
from test_report import NOW, WEEK, known_desk

from smduty.cli import main
from smduty.core.config import Config
from smduty.core.monitoring.sources import add_source
from smduty.core.records.report import build_report
from smduty.core.records.report_charts import COLOURS, report_charts
from smduty.core.records.report_html import report_html
from smduty.core.rota.duty_calendar import DutyCalendar

HOSTILE = '<img src=x onerror=alert(1)> [bold]Feed[/] "quoted" & more'


def week_report(db, **kwargs):
    config = Config()
    return build_report(db, DutyCalendar.from_config(config), config, *WEEK, now=NOW, **kwargs)


def test_the_charts_carry_the_reports_own_figures(db):
    known_desk(db)
    report = week_report(db)
    charts = {c.key: c for c in report_charts(report)}
    mentions = charts["mentions"]
    assert mentions.labels[0] == "Mon 16" and len(mentions.labels) == 6
    assert sum(sum(v) for v in mentions.series.values()) == report.mentions["ingested"] == 5
    for rating, count in report.mentions["by_rating"].items():
        assert sum(mentions.series[rating]) == count
    checks = charts["checks"]
    assert checks.series["working days"] == [100.0, 100.0, 50.0, 50.0, 50.0, None]
    assert checks.series["duty blocks"] == [None] * 6  # Saturday's deadline has not passed
    outcomes = charts["outcomes"]
    assert dict(zip(outcomes.labels, outcomes.series["outcomes"], strict=True)) == {
        "respond": 0, "refer": 1, "no engagement": 0, "escalate": 0, "dismiss": 1,
    }  # fmt: skip
    first = charts["first-action"]
    assert sorted(v for v in first.series["median"] if v) == [30.0, 60.0]


def test_a_quarter_is_drawn_a_week_a_bar(db):
    known_desk(db)
    config = Config()
    from datetime import date

    report = build_report(db, DutyCalendar.from_config(config), config, date(2026, 8, 23),
                          date(2026, 11, 21), now=NOW)  # fmt: skip
    mentions = report_charts(report)[0]
    assert mentions.labels[0] == "w/c 17 Aug" and mentions.labels[-1] == "w/c 16 Nov"
    assert len(mentions.labels) == 14
    assert sum(sum(v) for v in mentions.series.values()) == 5


def test_the_page_is_self_contained_escaped_and_masked(db):
    known_desk(db)
    add_source(db, "setup", HOSTILE, "https://feeds.example/x.rss")
    page = report_html(week_report(db))
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") == 4
    # Nothing to fetch when the page is opened: no script, no outside file, font or sheet.
    assert not re.search(r"<script|<[^>]*\s(?:xlink:)?(?:src|href)\s*=|@import|url\(", page, re.I)
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&quot;quoted&quot; &amp; more" in page
    assert "Bob Baker" not in page and "officer 1" in page
    named = report_html(week_report(db, personal_data=True))
    assert "Bob Baker" in named


def test_the_cli_writes_the_html_report(db, db_path, tmp_path):
    known_desk(db)
    out = tmp_path / "report.html"
    args = ["--db", str(db_path), "report", "--from", "2026-11-16", "--to", "2026-11-21"]
    done = CliRunner().invoke(main, [*args, "--format", "html", "-o", str(out)])
    assert done.exit_code == 0, done.output
    assert out.read_text(encoding="utf-8").count("<svg") == 4


def screenshot(page: Path, out: Path, size: str = "1000,2600") -> None:
    done = subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--no-first-run", "--force-color-profile=srgb", f"--window-size={size}",
         f"--screenshot={out}", page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.exists(), done.stderr[-2000:]


def test_a_browser_draws_every_chart(db, tmp_path):
    known_desk(db)
    page = tmp_path / "report.html"
    page.write_text(report_html(week_report(db)), encoding="utf-8")
    shot = tmp_path / "report.png"
    screenshot(page, shot)
    counts = colour_counts(shot)
    # Each chart's bars in its own colours, as filled areas (not a legend swatch alone).
    for chart, series in (
        ("mentions", ("critical", "not flagged")),
        ("checks", ("working days",)),
        ("outcomes", ("outcomes",)),
        ("first-action", ("median", "90th percentile")),
    ):
        for name in series:
            assert pixels_near(counts, COLOURS[name]) > 400, (chart, name)
    # And a page without charts has none of those colours: the count is the charts'.
    empty = tmp_path / "empty.html"
    empty.write_text("<!DOCTYPE html><p>No charts</p>", encoding="utf-8")
    screenshot(empty, tmp_path / "empty.png")
    assert pixels_near(colour_counts(tmp_path / "empty.png"), COLOURS["critical"]) == 0
