"""The policy report (issue 21, first part): every figure of a known data set checked, the
sections adding up, officers numbered unless personal data is asked for."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime

from click.testing import CliRunner
from test_register import compliant

from smduty.cli import main
from smduty.core.config import Config
from smduty.core.incidents import lifecycle as incidents
from smduty.core.incidents import posts
from smduty.core.monitoring.flag_load import ruleset_for
from smduty.core.monitoring.mentions import MentionWriter, RawMention
from smduty.core.records.report import build_report, report_markdown
from smduty.core.register.channels import add_channel, record_training
from smduty.core.rota.duty_calendar import DutyCalendar
from smduty.core.staff import add_staff
from smduty.core.store import transaction
from smduty.core.triage import moderation, outcomes
from smduty.core.triage.assessment import load_guide

NOW = datetime(2026, 11, 21, 8, 30, tzinfo=UTC)  # the pinned clock: Saturday
WEEK = (date(2026, 11, 16), date(2026, 11, 21))  # Monday to Saturday


def known_desk(db) -> dict[str, int]:
    for name in ("Ann Able", "Bob Baker"):
        add_staff(db, "setup", name, ["comms_officer"])
    add_channel(db, "setup", compliant(), ["Ann Able", "Bob Baker"])
    for name in ("Ann Able", "Bob Baker"):
        record_training(db, "setup", "Council Facebook", name, "2025-01-01")
    add_channel(db, "setup", {"name": "Council X", "platform": "x", "status": "active"}, [])
    add_channel(db, "setup", {"name": "Markets", "platform": "facebook"}, ["Ann Able"])
    ids = {
        n: db.execute("SELECT id FROM channels WHERE name = ?", (n,)).fetchone()[0]
        for n in ("Council Facebook", "Council X")
    }
    with transaction(db):
        # Mon-Fri (working, due 10:00 GMT): Facebook checked by 09:00 each day; X on Mon and
        # Tue only, late on Wed (a miss checked late), missed Thu and Fri. Sat (duty, 11:00):
        # nothing yet at 08:30, so no misses recorded and the day still open.
        for day in range(16, 21):
            db.execute(
                "INSERT INTO channel_checks (channel_id, duty_date, checked_at, officer)"
                " VALUES (?, ?, ?, 'Ann Able')",
                (ids["Council Facebook"], f"2026-11-{day}", f"2026-11-{day}T09:00:00Z"),
            )
        for day in (16, 17):
            db.execute(
                "INSERT INTO channel_checks (channel_id, duty_date, checked_at, officer)"
                " VALUES (?, ?, ?, 'Bob Baker')",
                (ids["Council X"], f"2026-11-{day}", f"2026-11-{day}T09:30:00Z"),
            )
        db.execute(
            "INSERT INTO channel_checks (channel_id, duty_date, checked_at, officer)"
            " VALUES (?, '2026-11-18', '2026-11-18T12:00:00Z', 'Bob Baker')",
            (ids["Council X"],),
        )
        for day, late in ((18, "2026-11-18T12:00:00Z"), (19, None), (20, None)):
            db.execute(
                "INSERT INTO missed_checks (duty_date, channel_id, channel, deadline,"
                " officer, recorded_at, checked_late_at) VALUES (?, ?, 'Council X', ?,"
                " 'Bob Baker', ?, ?)",
                (
                    f"2026-11-{day}",
                    ids["Council X"],
                    f"2026-11-{day}T10:00:00Z",
                    f"2026-11-{day}T10:00:00Z",
                    late,
                ),
            )
    rules = ruleset_for(db)
    writer = MentionWriter(db, rules, "Feed A", NOW)
    for n in range(3):
        writer.add(RawMention(f"a{n}", f"https://a.example/{n}", text=f"Bins day {n} is fine"))
    writer.add(
        RawMention(
            "a9",
            "https://a.example/9",
            text="I know where you live, watch your back at the town hall",
        )
    )
    writer.close()
    writer = MentionWriter(db, rules, "Export B", NOW)
    writer.add(
        RawMention(
            "b1",
            "https://b.example/1",
            text="My neighbour's number is 07700 900123, call him names",
        )
    )
    writer.close()
    mentions = dict(db.execute("SELECT source_item_id, id FROM mentions").fetchall())
    with transaction(db):  # they came in an hour and half an hour before now
        db.execute(
            "UPDATE mentions SET ingested_at = '2026-11-21T07:30:00Z' WHERE source_item_id = 'a9'"
        )
        db.execute(
            "UPDATE mentions SET ingested_at = '2026-11-21T08:00:00Z' WHERE source_item_id = 'b1'"
        )  # noqa: E501
    outcomes.assign(db, "Ann Able", mentions["a9"], "Ann Able")
    outcomes.refer(db, "Ann Able", mentions["b1"], "Data protection", "passed on")
    outcomes.dismiss(db, "Ann Able", mentions["a0"])
    guide = load_guide()
    moderation.record(
        db,
        "Ann Able",
        guide,
        channel="Council Facebook",
        action="hide",
        user_name="troll",
        content="abuse",
        breach="abuse",
        evidence="/shots/1.png",
    )
    moderation.record(
        db,
        "Ann Able",
        guide,
        channel="Council Facebook",
        action="block",
        user_name="troll",
        content="more",
        breach="abuse",
        evidence="/shots/2.png",
    )
    found = incidents.start(db, "Ann Able", "Threat on Facebook", severity="critical")
    posts.stop_posts(db, "Ann Able", "crisis", found.id)
    return mentions


def test_every_figure_of_a_known_week(db):
    known_desk(db)
    report = build_report(db, DutyCalendar(), Config(), *WEEK, now=NOW)
    c = report.checks
    assert c["summary"]["working"] == {
        "days": 5,
        "on_time": 7,
        "missed": 3,
        "checked_late": 1,
        "completion": 70.0,
    }
    assert c["summary"]["duty"] == {
        "days": 1,
        "on_time": 0,
        "missed": 0,
        "checked_late": 0,
        "completion": None,
    }
    wednesday = next(d for d in c["days"] if d["date"] == "2026-11-18")
    assert (wednesday["on_time"], wednesday["missed"], wednesday["checked_late"]) == (1, 1, 1)
    assert [d["due_passed"] for d in c["days"]] == [True] * 5 + [False]
    assert [(m["date"], m["officer"]) for m in c["misses"]] == [
        ("2026-11-18", "officer 1"),
        ("2026-11-19", "officer 1"),
        ("2026-11-20", "officer 1"),
    ]
    r = report.register
    assert r["now"] == {"live": 2, "red": 1, "amber": 0, "ok": 1, "proposed": 1}
    assert (r["proposals_opened"], r["authorised"], r["rejected"], r["closed"]) == (1, 0, 0, 0)
    m = report.mentions
    assert m["ingested"] == 5 and m["by_source"] == {"Feed A": 4, "Export B": 1}
    assert m["flagged"] == sum(m["by_rating"].values()) == 2
    assert set(m["by_rating"]) <= {"critical", "high"}
    assert m["outcomes"] == {
        "respond": 0,
        "refer": 1,
        "no_engagement": 0,
        "escalate": 0,
        "dismiss": 1,
    }
    acted = {k: v["median_minutes"] for k, v in m["first_action"].items()}
    assert sorted(acted.values()) == [30.0, 60.0]  # assigned after 60, referred after 30
    assert sum(v["acted_on"] for v in m["first_action"].values()) == 2
    assert report.moderation == {
        "actions": 2,
        "by_action": {"hide": 1, "block": 1},
        "by_reason": {"abuse": 2},
    }
    i = report.incidents
    assert (i["opened"], i["closed"], i["by_severity"]) == (1, 0, {"critical": 1})
    assert i["posts_stopped_minutes"] == 0  # stopped at 08:30, the report made at 08:30
    text = report_markdown(report)
    assert "| 5 working days | 7 | 3 | 1 | 70% |" in text
    assert "Bob Baker" not in text and "officer 1" in text


def test_the_cli_writes_each_format_and_names_officers_only_when_asked(db, db_path, tmp_path):
    known_desk(db)
    args = ["--db", str(db_path), "report", "--from", "2026-11-16", "--to", "2026-11-21"]
    as_json = json.loads(CliRunner().invoke(main, [*args, "--format", "json"]).output)
    assert as_json["checks"]["summary"]["working"]["missed"] == 3
    rows = list(
        csv.reader(io.StringIO(CliRunner().invoke(main, [*args, "--format", "csv"]).output))
    )
    assert rows[0] == ["section", "item", "detail", "value"]
    assert ["mentions", "ingested", "", "5"] in rows
    named = CliRunner().invoke(
        main, [*args, "--include-personal-data", "-o", str(tmp_path / "r.md")]
    )
    assert named.exit_code == 0
    assert "Bob Baker" in (tmp_path / "r.md").read_text(encoding="utf-8")
    backwards = CliRunner().invoke(
        main, ["--db", str(db_path), "report", "--from", "2026-11-22", "--to", "2026-11-16"]
    )
    assert backwards.exit_code == 2


async def test_the_reports_screen_charts_the_period_and_writes_the_report(db_path):
    from textual_plotext import PlotextPlot
    from tui_helpers import make_demo, settle

    from smduty.core.config import data_dir
    from smduty.tui.app import SmdutyApp
    from smduty.tui.screens.reports import ReportsScreen
    from smduty.tui.widgets.report_chart import ReportChart

    make_demo(db_path)
    app = SmdutyApp(db_path, "Tester", background_poll=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReportsScreen) and screen.report is not None
        assert (screen.report.end - screen.report.start).days == 29  # a month
        mentions = screen.query_one("#chart-mentions", ReportChart)
        drawn = mentions.chart
        assert len(drawn.labels) == 30
        assert sum(sum(v) for v in drawn.series.values()) == screen.report.mentions["ingested"] > 0
        # The bars are on the screen: plotext's full blocks inside the chart's own region.
        plot = mentions.query_one(PlotextPlot)
        assert "█" in plot.render().plain
        assert set(screen.query_one("#chart-outcomes", ReportChart).chart.labels) >= {"refer"}
        await pilot.press("1")
        await settle(pilot)
        assert (screen.report.end - screen.report.start).days == 6
        assert len(screen.query_one("#chart-checks", ReportChart).chart.labels) == 7
        await pilot.press("3")
        await settle(pilot)
        assert screen.query_one("#chart-mentions", ReportChart).chart.labels[0].startswith("w/c")
        await pilot.press("x")
        await settle(pilot)
        said = [n.message for n in app._notifications]
    written = list((data_dir() / "reports").glob("report-*.md"))
    assert written, said
    assert "## Daily checks" in written[0].read_text(encoding="utf-8")
    page = written[0].with_suffix(".html").read_text(encoding="utf-8")
    assert page.count("<svg") + page.count("nothing to draw") == 4
