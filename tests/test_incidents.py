"""Incidents: the playbook and its checks, steps and branches, who was told, scheduled posts,
closing, the record, the reminder, and the CLI."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from smduty.cli import main
from smduty.core.clock import local_text
from smduty.core.config import ConfigError
from smduty.core.errors import InvalidInput, Refused
from smduty.core.incidents import lifecycle as incidents
from smduty.core.incidents import log as incident_log
from smduty.core.incidents import posts
from smduty.core.incidents import steps as incident_steps
from smduty.core.incidents.contacts import contacts_for
from smduty.core.incidents.playbook import load_playbook, playbook_in_force, shipped_playbook_path
from smduty.core.incidents.report import report_json, report_markdown
from smduty.core.staff import set_deputy
from smduty.core.triage import queue as triage_queue

ACTOR = "Test Officer"
EVIDENCE = {
    "evidence_text": "You'll regret this [bold red]",
    "evidence_url": "https://social.example/p/1",
    "screenshot": "/shared/evidence/1.png",
    "deleted": "no",
    "delete_reason": "kept while the police look at it",
    "threat": "yes",
    "safeguarding": "no",
    "libel": "no",
    "personal_data": "no",
}


def critical_mention(db) -> int:
    return db.execute("SELECT id FROM mentions WHERE rating = 'critical' LIMIT 1").fetchone()[0]


def tell(db, incident_id: int, step: str = "tell") -> None:
    incident_log.record_notification(
        db, ACTOR, incident_id, "Helen Marsh", "phone", role="line_manager", step_id=step
    )


def test_shipped_playbook_loads_with_every_step_the_issue_names():
    playbook = load_playbook()
    ids = [s.id for s in playbook.steps]
    assert ids == [
        "tell", "evidence", "threats", "safeguarding", "libel", "personal_data", "assess",
        "crisis", "escalate",
    ]  # fmt: skip
    assert all(s.policy and s.guidance and s.role for s in playbook.steps)
    assert playbook.step("evidence").warning  # deleting can make it worse (002)
    assert playbook.step("tell").contacts[0] == "line_manager"


@pytest.mark.parametrize(
    ("change", "line", "reason"),
    [
        ('when = "threat = yes"', 114, "not a fact of an earlier step"),
        ('contacts = ["council_officer"]', 117, "unknown role 'nobody'"),
        ('kind = "yesno"', 98, "kind must be one of"),
        ('key = "safety_threat"', 127, "key is already used"),
    ],
)
def test_a_broken_playbook_copy_is_refused_with_line_and_reason(smduty_home, change, line, reason):
    text = shipped_playbook_path().read_text(encoding="utf-8")
    broken = {
        'when = "threat = yes"': 'when = "threatened = yes"',
        'contacts = ["council_officer"]': 'contacts = ["nobody"]',
        'kind = "yesno"': 'kind = "boolean"',
        'key = "safety_threat"': 'key = "threat"',
    }[change]
    assert change in text
    # The error names the very line that was broken.
    line = next(n for n, t in enumerate(text.splitlines(), start=1) if t.strip() == change)
    copy = smduty_home / "config" / "something-went-wrong.toml"
    copy.parent.mkdir(parents=True)
    copy.write_text(text.replace(change, broken, 1), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_playbook()
    message = str(caught.value)
    assert str(copy) in message and reason in message
    assert f"line {line}:" in message, message
    # An incident can still be started: the shipped playbook stands in, and says why.
    playbook, problem = playbook_in_force()
    assert problem and playbook.source == str(shipped_playbook_path())


def test_a_mention_opens_an_incident_and_is_escalated_with_the_link(demo_db):
    mention = critical_mention(demo_db)
    found = incidents.start(demo_db, ACTOR, "Threat on the bins page", mention_id=mention)
    assert found.mentions == (mention,) and found.severity == "critical"
    row = demo_db.execute("SELECT status, outcome FROM mentions WHERE id = ?", (mention,))
    status, outcome = row.fetchone()
    assert status == "escalated" and json.loads(outcome)["incident"] == found.id
    assert found.current.step.id == "tell"


def test_steps_need_their_facts_and_who_was_told(demo_db):
    found = incidents.start(demo_db, ACTOR, "Wrong post")
    with pytest.raises(InvalidInput) as caught:
        incident_steps.complete_step(demo_db, ACTOR, found.id, "tell", {})
    assert "what_happened" in caught.value.problems
    with pytest.raises(InvalidInput) as caught:
        incident_steps.complete_step(demo_db, ACTOR, found.id, "tell", {"what_happened": "x"})
    assert "told" in caught.value.problems
    tell(demo_db, found.id)
    after = incident_steps.complete_step(demo_db, ACTOR, found.id, "tell", {"what_happened": "x"})
    assert after.record("tell").state == "done" and after.current.step.id == "evidence"
    with pytest.raises(InvalidInput) as caught:
        incident_steps.complete_step(
            demo_db, ACTOR, found.id, "evidence", {**EVIDENCE, "deleted": "perhaps"}
        )
    assert caught.value.problems == {"deleted": "answer yes or no"}


def test_branches_follow_the_answers_and_come_back_when_amended(demo_db):
    found = incidents.start(demo_db, ACTOR, "Abuse")
    after = incident_steps.complete_step(demo_db, ACTOR, found.id, "evidence", EVIDENCE)
    states = {s.step.id: s.state for s in after.steps}
    assert states["threats"] == "pending"
    assert states["safeguarding"] == states["libel"] == states["personal_data"] == "not_applicable"
    with pytest.raises(Refused, match="does not apply"):
        incident_steps.complete_step(demo_db, ACTOR, found.id, "libel", {})
    # The police reference is needed only when someone's safety is threatened.
    tell(demo_db, found.id, "threats")
    with pytest.raises(InvalidInput) as caught:
        incident_steps.complete_step(demo_db, ACTOR, found.id, "threats", {"safety_threat": "yes"})
    assert "police_reference" in caught.value.problems
    incident_steps.complete_step(demo_db, ACTOR, found.id, "threats", {"safety_threat": "no"})
    # Amending the evidence brings the libel step back.
    after = incident_steps.complete_step(
        demo_db, ACTOR, found.id, "evidence", {**EVIDENCE, "libel": "yes"}
    )
    assert after.record("libel").state == "pending"
    texts = [e.text for e in incidents.timeline(demo_db, found.id)]
    assert any(t.startswith("Step now applies: Have the libel removed") for t in texts)
    assert any(t.startswith("Step amended: Capture the evidence") for t in texts)


def test_the_assessment_scores_rates_and_stops_posts_through_the_crisis_step(demo_db):
    found = incidents.start(demo_db, ACTOR, "Bad reply", severity="medium")
    assess = {"likelihood": "4", "consequence": "4", "decision": "Do not engage", "crisis": "no",
              "reputational": "no"}  # fmt: skip
    after = incident_steps.complete_step(demo_db, ACTOR, found.id, "assess", assess)
    facts = after.record("assess").facts
    assert facts["score"] == 16 and facts["rating"] == "critical"
    assert facts["decision"] == "do_not_engage"  # the label is accepted
    assert after.severity == "critical"
    # Score 16 >= 15: the crisis step applies even though nobody said yes; so does escalate.
    assert after.record("crisis").applies and after.record("escalate").applies
    with pytest.raises(InvalidInput) as caught:
        incident_steps.complete_step(
            demo_db, ACTOR, found.id, "assess", {**assess, "decision": "respond"}
        )
    assert {"holding_line", "cleared_by"} <= set(caught.value.problems)
    incident_steps.complete_step(
        demo_db, ACTOR, found.id, "crisis", {"crisis_plan": "S:/plans/1.docx", "stop_posts": "yes"}
    )
    held = posts.current_stop(demo_db)
    assert held is not None and held.incident_id == found.id and held.stopped_by == ACTOR
    with pytest.raises(Refused, match="already stopped"):
        posts.stop_posts(demo_db, ACTOR, "again")


def run_to_the_end(db) -> int:
    found = incidents.start(db, ACTOR, "Councillor posted in error", channel="@CastlemereBC")
    tell(db, found.id)
    incident_steps.complete_step(db, ACTOR, found.id, "tell", {"what_happened": "Wrong post"})
    incident_steps.complete_step(db, ACTOR, found.id, "evidence", EVIDENCE)
    incident_log.record_notification(db, ACTOR, found.id, "Aisha Patel", "in person")
    incident_steps.complete_step(
        db, ACTOR, found.id, "threats", {"safety_threat": "yes", "police_reference": "CAD 41"}
    )
    incident_steps.complete_step(db, ACTOR, found.id, "assess", {
        "likelihood": "3", "consequence": "4", "decision": "respond",
        "holding_line": "We are aware and looking into it.", "cleared_by": "David Kerr",
        "crisis": "yes", "reputational": "yes",
    })  # fmt: skip
    incident_steps.complete_step(
        db, ACTOR, found.id, "crisis", {"crisis_plan": "S:/plans/2.docx", "stop_posts": "yes"}
    )
    incident_steps.skip_step(db, ACTOR, found.id, "escalate", "the Leader was in the room")
    incident_log.add_note(db, ACTOR, found.id, "Holding line posted on X and Facebook")
    return found.id


def test_closing_needs_every_step_answered_and_posts_resumed(demo_db):
    found = incidents.start(demo_db, ACTOR, "Half done")
    with pytest.raises(Refused, match="still has steps to do: tell, evidence, threats"):
        incidents.close(demo_db, ACTOR, found.id)
    incident_id = run_to_the_end(demo_db)
    with pytest.raises(Refused, match="resume them first"):
        incidents.close(demo_db, ACTOR, incident_id)
    posts.resume_posts(demo_db, "Helen Marsh", "all clear")
    closed = incidents.close(demo_db, ACTOR, incident_id)
    assert closed.status == "closed" and closed.closed_by == ACTOR
    with pytest.raises(Refused, match="closed"):
        incident_log.add_note(demo_db, ACTOR, incident_id, "too late")
    # The review may still be written after closing.
    incident_log.save_review(
        demo_db, ACTOR, incident_id, what_happened="A councillor posted in error",
        actions=[{"action": "Refresher training", "owner": "Helen Marsh", "due": "2026-12-14"}],
    )  # fmt: skip


def test_the_report_holds_every_timestamp_fact_and_notification(demo_db):
    incident_id = run_to_the_end(demo_db)
    posts.resume_posts(demo_db, ACTOR)
    incidents.close(demo_db, ACTOR, incident_id)
    incident_log.save_review(
        demo_db, ACTOR, incident_id, what_happened="It happened", what_worked="The rota",
        lessons="Check drafts", actions=[{"action": "Train", "owner": "Tom", "due": "2026-12-01"}],
    )  # fmt: skip
    text = report_markdown(demo_db, incident_id)
    data = report_json(demo_db, incident_id)
    for entry in data["timeline"]:
        assert local_text(entry["at"]) in text
    for step in data["steps"]:
        assert step["title"] in text
        if step["updated_at"]:
            assert local_text(step["updated_at"]) in text
    assert "You'll regret this \\[bold red\\]" in text  # outside text stays literal
    facts = ("CAD 41", "We are aware and looking into it.", "S:/plans/2.docx")
    notes = ("the Leader was in the room", "Holding line posted on X and Facebook")
    for value in facts + notes:
        assert value in text, value
    assert "| Helen Marsh | Line manager | phone | tell |" in text
    assert "Aisha Patel" in text and "| Train | Tom | 2026-12-01 |" in text
    assert "Stopped " in text and "resumed " in text
    assert data["closed_at"] and data["steps"][4]["state"] == "not_applicable"
    assert [n["person"] for n in data["notifications"]] == ["Helen Marsh", "Aisha Patel"]


def test_a_draft_is_kept_for_a_pending_step_and_decides_nothing(demo_db):
    found = incidents.start(demo_db, ACTOR, "Draft")
    assert incident_steps.save_draft(demo_db, ACTOR, found.id, "evidence", {"threat": "yes"})
    assert not incident_steps.save_draft(demo_db, ACTOR, found.id, "evidence", {"threat": "yes"})
    again = incidents.get_incident(demo_db, found.id)
    assert again.record("evidence").facts == {"threat": "yes"}
    assert again.record("threats").applies is None  # a draft is not an answer


def test_contacts_show_the_deputy_of_someone_on_leave(demo_db):
    from datetime import date

    found = contacts_for(demo_db, ("head_of_comms",), date(2026, 11, 21))
    assert [(c.name, bool(c.away), c.deputy_for) for c in found] == [
        ("Helen Marsh", True, ""),
        ("David Kerr", False, "Helen Marsh"),
    ]
    with pytest.raises(InvalidInput):
        set_deputy(demo_db, ACTOR, "Helen Marsh", "Helen Marsh")


def test_quiet_incidents_are_found_after_the_set_minutes(demo_db, monkeypatch):
    from smduty.tui.scheduler import DutyScheduler

    found = incidents.start(demo_db, ACTOR, "Quiet")
    later = datetime(2026, 11, 21, 8, 59, tzinfo=UTC)
    assert incidents.quiet_incidents(demo_db, 30, later) == []
    quiet = incidents.quiet_incidents(demo_db, 30, later + timedelta(minutes=1))
    assert [(i.id, m) for i, m in quiet] == [(found.id, 30)]

    class FakeApp:
        class settings:  # noqa: N801 (stands in for the Config instance)
            incident_update_minutes = 30

        def __init__(self, db):
            self.stop = "unset"
            self.store = type("S", (), {"connection": staticmethod(lambda: db)})

        def call_from_thread(self, fn, *args):
            return fn(*args)

        def set_posts_stop(self, stop):
            self.stop = stop

    monkeypatch.setenv("SMDUTY_NOW", "2026-11-21T09:05:00+00:00")
    scheduler = DutyScheduler.__new__(DutyScheduler)
    scheduler.app, scheduler._reminded = FakeApp(demo_db), {}
    message = scheduler.remind_incidents()
    assert message and f"Incident {found.id} (Quiet): nothing recorded for 35 minutes" in message
    assert scheduler.remind_incidents() is None  # once per quiet spell
    assert scheduler.app.stop is None


def invoke(db_path, *args):
    return CliRunner().invoke(main, ["--db", str(db_path), *args], catch_exceptions=False)


def test_cli_runs_an_incident_from_start_to_report(demo_db, db_path, tmp_path):
    mention = critical_mention(demo_db)
    result = invoke(db_path, "incident", "start", "--title", "CLI run", "--mention", str(mention))
    assert result.exit_code == 0, result.output
    incident_id = int(result.stdout.strip())
    assert invoke(db_path, "incident", "step", str(incident_id), "tell", "--done",
                  "--set", "what_happened=x").exit_code == 2  # fmt: skip
    assert invoke(db_path, "incident", "notify", str(incident_id), "--person", "David Kerr",
                  "--how", "phone", "--at", "08:20").exit_code == 0  # fmt: skip
    done = invoke(db_path, "incident", "step", str(incident_id), "tell", "--done",
                  "--set", "what_happened=x")  # fmt: skip
    assert done.exit_code == 0 and "Next step: evidence" in done.output
    assert invoke(db_path, "incident", "step", str(incident_id), "evidence").exit_code == 2
    assert invoke(db_path, "incident", "note", str(incident_id), "Called back").exit_code == 0
    assert invoke(db_path, "posts", "stop", "--reason", "crisis").exit_code == 0
    status = json.loads(invoke(db_path, "posts", "status", "--json").output)
    assert status["stopped"] and status["reason"] == "crisis"
    assert invoke(db_path, "posts", "resume").exit_code == 0
    listed = json.loads(invoke(db_path, "incident", "list", "--json").output)
    assert listed[0]["id"] == incident_id and listed[0]["current_step"] == "evidence"
    out = tmp_path / "record.md"
    assert invoke(db_path, "incident", "report", str(incident_id), "-o", str(out)).exit_code == 0
    text = out.read_text(encoding="utf-8")
    assert "Sat 21 Nov 2026 08:20:00 GMT" in text and "Called back" in text
    shown = json.loads(invoke(db_path, "incident", "show", str(incident_id), "--json").output)
    assert shown["linked_mentions"][0]["id"] == mention


def test_escalating_from_the_cli_opens_the_incident_in_one_step(demo_db, db_path):
    """Issue 19: `triage --escalate` used to record "incident to be opened" and the mention
    left every list; now it opens (or joins) an incident there and then."""
    mention = critical_mention(demo_db)
    result = invoke(db_path, "triage", str(mention), "--escalate", "--note", "Threat to staff")
    assert result.exit_code == 0, result.output
    opened = incidents.list_incidents(demo_db)[0]
    assert mention in opened.mentions and f"incident {opened.id} opened:" in result.output
    assert opened.title.startswith(f"Mention #{mention} (critical")  # not the post's words
    assert opened.severity == "critical"
    item = triage_queue.get_item(demo_db, mention)
    assert item.status == "escalated" and item.outcome["incident"] == opened.id
    # A second post about the same thing joins that incident.
    other = demo_db.execute(
        "SELECT id FROM mentions WHERE status = 'new' AND id != ? LIMIT 1", (mention,)
    ).fetchone()[0]
    joined = invoke(db_path, "triage", str(other), "--escalate", "--incident", str(opened.id),
                    "--json")  # fmt: skip
    assert joined.exit_code == 0, joined.output
    assert json.loads(joined.output)["incident"]["id"] == opened.id
    assert len(incidents.list_incidents(demo_db)) == 1
    assert other in incidents.get_incident(demo_db, opened.id).mentions
    assert invoke(db_path, "triage", str(other), "--incident", "1").exit_code == 2


def test_a_mandatory_step_cannot_be_put_off_and_the_incident_not_closed_without_it(demo_db):
    playbook = load_playbook()
    assert {s.id for s in playbook.steps if s.mandatory} == {
        "tell", "evidence", "threats", "safeguarding", "libel", "personal_data",
    }  # fmt: skip
    found = incidents.start(demo_db, ACTOR, "Safeguarding disclosure")
    tell(demo_db, found.id)
    incident_steps.complete_step(demo_db, ACTOR, found.id, "tell", {"what_happened": "x"})
    with pytest.raises(InvalidInput) as refused:
        incident_steps.skip_step(demo_db, ACTOR, found.id, "evidence", "will do tomorrow")
    assert "mandatory" in refused.value.problems["decided_by"]
    facts = {**EVIDENCE, "threat": "no", "safeguarding": "yes"}
    incident_steps.complete_step(demo_db, ACTOR, found.id, "evidence", facts)
    with pytest.raises(InvalidInput):
        incident_steps.skip_step(demo_db, ACTOR, found.id, "safeguarding", "will do tomorrow")
    # The rest skipped or done; closing still refuses while safeguarding is not done.
    for step in ("assess", "crisis", "escalate"):
        with contextlib.suppress(InvalidInput, Refused):
            incident_steps.skip_step(demo_db, ACTOR, found.id, step, "not needed")
    with pytest.raises(Refused, match="safeguarding"):
        incidents.close(demo_db, ACTOR, found.id)
    # A named decision-maker may rule it out; that is recorded and survives re-settling.
    ruled = incident_steps.skip_step(
        demo_db, ACTOR, found.id, "safeguarding", "the child is the poster's own, in a photo",
        decided_by="Ruth Adeyemi (safeguarding lead)",
    )  # fmt: skip
    record = ruled.record("safeguarding")
    assert record.state == "not_applicable"
    assert record.facts["decided_by"] == "Ruth Adeyemi (safeguarding lead)"
    assert "ruled not applicable by Ruth Adeyemi" in report_markdown(demo_db, found.id)
    assert incidents.close(demo_db, ACTOR, found.id).status == "closed"


def test_a_mandatory_step_skipped_before_the_rule_blocks_closing(demo_db):
    found = incidents.start(demo_db, ACTOR, "Old habit")
    demo_db.execute(
        "UPDATE incident_steps SET state = 'skipped', reason = 'will do tomorrow'"
        " WHERE incident_id = ? AND step_id != 'assess'",
        (found.id,),
    )
    incident_steps.skip_step(demo_db, ACTOR, found.id, "assess", "n/a")
    with pytest.raises(Refused, match="mandatory steps skipped: tell, evidence"):
        incidents.close(demo_db, ACTOR, found.id)


def test_the_cli_skips_a_mandatory_step_only_with_a_decision_maker(demo_db, db_path):
    found = incidents.start(demo_db, ACTOR, "CLI")
    refused = invoke(db_path, "incident", "step", str(found.id), "evidence", "--skip", "later")
    assert refused.exit_code == 2 and "--decided-by" in refused.output
    ruled = invoke(db_path, "incident", "step", str(found.id), "evidence", "--skip",
                   "nothing was posted", "--decided-by", "Helen Marsh")  # fmt: skip
    assert ruled.exit_code == 0, ruled.output
    state = incidents.get_incident(demo_db, found.id).record("evidence").state
    assert state == "not_applicable"


def test_an_old_escalation_that_never_got_an_incident_comes_back_to_the_queue(demo_db):
    from smduty.core.migrations import MIGRATIONS, reopen_unlinked_escalations
    from smduty.core.records.audit import entries
    from smduty.core.store import transaction

    assert MIGRATIONS[16] is reopen_unlinked_escalations  # migration 17
    db = demo_db
    mention = critical_mention(db)
    with transaction(db):  # as `triage --escalate` recorded it before this release
        db.execute(
            "UPDATE mentions SET status = 'escalated', outcome = ? WHERE id = ?",
            (json.dumps({"note": "Threat", "intent": "incident to be opened"}), mention),
        )
    with transaction(db):  # the upgrade
        reopen_unlinked_escalations(db)
    item = triage_queue.get_item(db, mention)
    assert item.status == "in_progress" and "no incident" in item.outcome["reopened"]
    shown = triage_queue.page(db, triage_queue.Filters(), limit=500)
    assert mention in [i.id for i in shown]  # back in the open queue
    assert entries(db, entity="mention", entity_id=mention)[0].actor == "smduty (upgrade)"
