"""The pre-election period (issue 21): set, shown and cleared (audited); while it holds every
screen and the queue and checks output say so, and a response needs the election guidance
confirmed; reports mark it."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from click.testing import CliRunner
from tui_helpers import make_demo, settle

from smduty.cli import main
from smduty.core import election
from smduty.core.config import Config
from smduty.core.errors import InvalidInput
from smduty.core.records import audit
from smduty.core.records.report import build_report, report_markdown
from smduty.core.rota.duty_calendar import DutyCalendar
from smduty.core.triage import outcomes
from smduty.core.triage import queue as triage
from smduty.core.triage.assessment import load_guide
from smduty.tui.app import SmdutyApp
from smduty.tui.widgets.election_banner import ElectionBanner


def run(db_path, *args, **kwargs):
    return CliRunner().invoke(main, ["--db", str(db_path), *args], **kwargs)


def test_set_show_clear_from_the_cli_audited(db, db_path):
    assert "No pre-election period" in run(db_path, "election", "show").output
    made = run(db_path, "election", "set", "--from", "2026-11-20", "--to", "2026-12-10",
               "--name", "By-election [b]Ward 3[/b]")  # fmt: skip
    assert made.exit_code == 0, made.output
    shown = json.loads(run(db_path, "election", "show", "--json").output)
    assert shown["name"] == "By-election [b]Ward 3[/b]" and shown["to"] == "2026-12-10"
    assert election.in_force(db, date(2026, 11, 21)) is not None
    assert election.in_force(db, date(2026, 12, 11)) is None
    backwards = run(db_path, "election", "set", "--from", "2026-12-10", "--to", "2026-11-20")
    assert backwards.exit_code == 2
    assert run(db_path, "election", "clear").exit_code == 0
    assert run(db_path, "election", "clear").exit_code == 1  # nothing to clear
    actions = [e.action for e in audit.entries(db, entity="election")]
    assert actions == ["election.clear", "election.set"]


def test_a_response_in_the_period_needs_the_guidance_confirmed(demo_db, db_path):
    election.set_period(demo_db, "Head of Comms", "2026-11-20", "2026-12-10", "County elections")
    guide = load_guide()
    checks = [c.id for c in guide.before_you_respond]
    mention = triage.page(demo_db, triage.Filters(rating="any"), limit=1)[0].id
    with pytest.raises(InvalidInput) as refused:
        outcomes.respond(demo_db, "Tester", mention, "Thanks, passed on", checks, guide)
    assert "004 §4.2.6" in refused.value.problems["pre_election"]
    cli = run(db_path, "triage", str(mention), "--respond", "Thanks", "--checks-done")
    assert cli.exit_code == 2 and "--pre-election-checked" in cli.output
    done = run(db_path, "triage", str(mention), "--respond", "Thanks", "--checks-done",
               "--pre-election-checked")  # fmt: skip
    assert done.exit_code == 0, done.output
    assert triage.get_item(demo_db, mention).outcome["pre_election"] == "County elections"
    listed = run(db_path, "queue")
    assert "PRE-ELECTION PERIOD (County elections" in listed.stderr
    assert "PRE-ELECTION PERIOD" in run(db_path, "checks").output


async def test_every_screen_shows_the_period(db_path):
    from smduty.core.store import connect

    make_demo(db_path)
    app = SmdutyApp(db_path, "Tester", background_poll=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert not app.screen.query_one(ElectionBanner).has_class("-on")
        other = connect(db_path)
        election.set_period(other, "Head of Comms", "2026-11-20", "2026-12-10", "By-election")
        other.close()
        await pilot.pause(1.5)  # another desk's change is seen within 2 s
        await settle(pilot)
        banner = app.screen.query_one(ElectionBanner)
        assert banner.has_class("-on") and "By-election" in str(banner.render())
        for key in ("t", "escape", "o", "escape", "c"):
            await pilot.press(key)
            await settle(pilot)
            assert app.screen.query_one(ElectionBanner).has_class("-on"), key


def test_reports_mark_the_period(db):
    election.set_period(db, "Head of Comms", "2026-11-20", "2026-12-10", "By-election")
    report = build_report(db, DutyCalendar(), Config(), date(2026, 11, 16), date(2026, 11, 21),
                          now=datetime(2026, 11, 21, 8, 30, tzinfo=UTC))  # fmt: skip
    assert [p["name"] for p in report.election] == ["By-election"]
    assert "**Pre-election period:** By-election, 2026-11-20 to 2026-12-10" in report_markdown(
        report
    )
