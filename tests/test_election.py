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


POLITICAL = "Vote for the candidate at the by-election, says the council"


def test_political_posts_are_raised_while_the_period_holds(db):
    from smduty.core.monitoring.flag_load import ruleset_for
    from smduty.core.monitoring.mentions import MentionWriter, RawMention

    before = ruleset_for(db).scan({"text": POLITICAL})
    assert before.rating == "medium" and before.risk == 4
    election.set_period(db, "Head of Comms", "2026-11-20", "2026-12-10", "By-election")
    during = ruleset_for(db).scan({"text": POLITICAL})
    assert during.rating == "high" and during.risk == 12  # 3 x 4: a person sees it at once
    assert all("pre-election period" in m.why for m in during.matches)
    # Other categories are as they were; a measurement of the rules is made outside a period.
    assert ruleset_for(db).scan({"text": "Bins missed again"}).rating == "none"
    assert ruleset_for(db, election=False).scan({"text": POLITICAL}).risk == 4
    # A post ingested in the period is stored as rated then, with the reason.
    writer = MentionWriter(db, ruleset_for(db), "Feed", datetime(2026, 11, 21, 8, 30, tzinfo=UTC))
    writer.add(RawMention("p1", "https://p.example/1", text=POLITICAL))
    writer.close()
    (rating,) = db.execute("SELECT rating FROM mentions WHERE source_item_id = 'p1'").fetchone()
    assert rating == "high"
    election.clear_period(db, "Head of Comms")
    assert ruleset_for(db).scan({"text": POLITICAL}).risk == 4


def test_the_register_warns_of_candidates_and_posts_about_members_in_the_period(demo_db):
    from smduty.core.register.channels import add_channel
    from smduty.core.register.compliance import register
    from smduty.core.staff import edit_staff

    def problems(name: str) -> set[str]:
        entry = next(e for e in register(demo_db) if e.channel.name == name)
        return {p.rule for p in entry.problems}

    edit_staff(demo_db, "Head of Comms", "Priya Raman", standing=True)
    diary = {"name": "Mayor's diary", "platform": "x", "status": "active",
             "purpose": "The Mayor's engagements"}  # fmt: skip
    add_channel(demo_db, "Head of Comms", diary, ["Tom Whitfield"])
    # Outside a period neither is a problem.
    assert "candidate_manager" not in problems("Castlemere Council")
    assert "about_members" not in problems("Mayor's diary")
    election.set_period(demo_db, "Head of Comms", "2026-11-20", "2026-12-10", "By-election")
    assert "candidate_manager" in problems("Castlemere Council")  # Priya manages it: red
    assert "candidate_manager" not in problems("Castlemere Emergency")  # she does not
    assert "about_members" in problems("Mayor's diary")
    entry = next(e for e in register(demo_db) if e.channel.name == "Castlemere Council")
    assert entry.state == "red"
    said = run_cli_audit(demo_db)
    assert "Priya Raman is standing as a candidate" in said
    edit_staff(demo_db, "Head of Comms", "Priya Raman", standing=False)
    assert "candidate_manager" not in problems("Castlemere Council")
    changes = [e for e in audit.entries(demo_db, entity="staff") if e.action == "staff.edit"]
    assert changes[0].before["standing"] is True and changes[0].after["standing"] is False


def run_cli_audit(db) -> str:
    path = db.execute("PRAGMA database_list").fetchone()[2]
    return run(path, "channels", "audit").output


async def test_standing_is_set_from_the_staff_screen(db_path):
    from textual.widgets import Checkbox, DataTable

    from smduty.core.staff import get_staff
    from smduty.core.store import connect
    from smduty.tui.screens.form import FormModal

    make_demo(db_path)
    app = SmdutyApp(db_path, "Tester", background_poll=False)
    async with app.run_test(size=(130, 40)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        screen = app.screen
        names = [p.name for p in screen.snapshot.people]
        screen.query_one("#staff-people", DataTable).move_cursor(row=names.index("Priya Raman"))
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormModal)
        form.query_one("#f-standing", Checkbox).value = True
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        assert "(candidate)" in str(screen.query_one("#staff-people", DataTable).get_row(
            "Priya Raman")[0])  # fmt: skip
    db = connect(db_path)
    assert get_staff(db, "Priya Raman").standing
    db.close()
