"""Pilot tests for incidents: from a flagged mention through every step to a closed incident and
its record; resuming after the app is closed mid-step; the posts banner on every screen."""

from __future__ import annotations

from textual.widgets import OptionList, Select, Static, TextArea
from tui_helpers import make_demo, settle, wait_for

from smduty.core.config import data_dir
from smduty.core.incidents import lifecycle as incidents
from smduty.core.incidents import posts
from smduty.core.incidents import steps as incident_steps
from smduty.core.store import connect
from smduty.tui.app import SmdutyApp
from smduty.tui.screens.form import FormModal
from smduty.tui.screens.incident import IncidentScreen
from smduty.tui.screens.incidents import IncidentsScreen
from smduty.tui.screens.modals import ConfirmModal, TextPromptModal
from smduty.tui.screens.queue import QueueScreen
from smduty.tui.widgets.posts_banner import PostsBanner


def fill(screen, values: dict[str, str]) -> None:
    for key, value in values.items():
        widget = screen.query_one(f"#f-{key}")
        if isinstance(widget, TextArea):
            widget.text = value
        else:
            widget.value = value


async def save(pilot) -> None:
    await pilot.press("ctrl+s")
    await settle(pilot)


async def told(pilot, person: str) -> None:
    await pilot.press("t")
    await settle(pilot)
    form = pilot.app.screen
    assert isinstance(form, FormModal)
    fill(form, {"person": person, "how": "phone", "told_at": "08:25"})
    await save(pilot)
    assert isinstance(pilot.app.screen, IncidentScreen), "told form not saved"


async def answer(pilot, screen: IncidentScreen, step: str, values: dict[str, str]) -> None:
    assert screen.shown_step == step
    fill(screen, values)
    await save(pilot)
    record = screen.incident.record(step)
    assert record.state == "done", (step, str(screen.query_one("#step-error").render()))


def mention_state(db_path, mention_id: int) -> tuple:
    db = connect(db_path)
    try:
        return tuple(db.execute("SELECT status, outcome FROM mentions WHERE id = ?",
                                (mention_id,)).fetchone())  # fmt: skip
    finally:
        db.close()


async def test_from_a_flagged_mention_through_every_step_to_the_record(db_path):
    make_demo(db_path)
    app = SmdutyApp(db_path, "Test Officer", background_poll=False)
    async with app.run_test(size=(130, 45), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        mention = queue.items[0]
        assert mention.rating == "critical"
        await pilot.press("e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormModal)
        fill(form, {"title": "Threat on the bins page [bold red]", "channel": "@CastlemereBC"})
        await save(pilot)
        screen = app.screen
        assert isinstance(screen, IncidentScreen)
        status, outcome = mention_state(db_path, mention.id)
        assert status == "escalated" and f'"incident": {screen.incident_id}' in outcome
        assert "[bold red]" in str(screen.query_one("#incident-title", Static).render())

        # 1: refused until someone is recorded as told, then done.
        fill(screen, {"what_happened": "A threat to staff under a bins post"})
        await save(pilot)
        assert screen.incident.record("tell").state == "pending"
        refusal = screen.query_one("#step-error")
        await wait_for(pilot, lambda: "record who was told" in str(refusal.render()))
        await told(pilot, "David Kerr|line_manager")
        await answer(pilot, screen, "tell", {"what_happened": "A threat to staff"})
        # 2: the evidence; threats and safeguarding answered yes open their branches.
        await answer(pilot, screen, "evidence", {
            "evidence_text": "I know where you work", "screenshot": "/evidence/1.png",
            "deleted": "no", "delete_reason": "kept for the police", "threat": "yes",
            "safeguarding": "yes", "libel": "no", "personal_data": "no",
        })  # fmt: skip
        states = {s.step.id: s.state for s in screen.incident.steps}
        assert states["libel"] == states["personal_data"] == "not_applicable"
        options = screen.query_one("#steps", OptionList)
        assert "n/a" in str(options.get_option("libel").prompt)
        await told(pilot, "Aisha Patel|council_officer")
        await answer(
            pilot, screen, "threats", {"safety_threat": "yes", "police_reference": "CAD 7"}
        )
        await told(pilot, "Owen Price|safeguarding_lead")
        await answer(pilot, screen, "safeguarding", {"safeguarding_note": "Reported by phone"})
        # 3: the assessment rates it; 4: the crisis step stops scheduled posts everywhere.
        await answer(pilot, screen, "assess", {
            "likelihood": "4", "consequence": "4", "decision": "respond",
            "holding_line": "We are aware and have told the police.", "cleared_by": "David Kerr",
            "crisis": "yes", "reputational": "yes",
        })  # fmt: skip
        assert screen.incident.severity == "critical"
        await answer(
            pilot, screen, "crisis", {"crisis_plan": "S:/crisis.docx", "stop_posts": "yes"}
        )
        assert screen.query_one(PostsBanner).has_class("-stopped")
        assert "SCHEDULED POSTS STOPPED" in str(screen.query_one(PostsBanner).render())
        # 5: skip needs a reason.
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, TextPromptModal)
        await pilot.press("enter")
        assert isinstance(app.screen, TextPromptModal)  # an empty reason is refused
        await pilot.press(*"Leader briefed in person")
        await pilot.press("enter")
        await settle(pilot)
        assert screen.incident.record("escalate").state == "skipped"
        # A note at any moment, even with focus in a field.
        await pilot.press("ctrl+n")
        await settle(pilot)
        await pilot.press(*"Holding line posted")
        await pilot.press("enter")
        await settle(pilot)
        # Closing is refused while posts this incident stopped are held; lift them, then close.
        await pilot.press("c")
        await settle(pilot)
        app.screen.query_one("#confirm").press()
        await settle(pilot)
        assert screen.incident.status == "open"
        assert any("resume them first" in n.message for n in app._notifications)
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        app.screen.query_one("#confirm").press()
        await settle(pilot)
        assert not screen.query_one(PostsBanner).has_class("-stopped")
        await pilot.press("c")
        await settle(pilot)
        app.screen.query_one("#confirm").press()
        await settle(pilot)
        assert screen.incident.status == "closed", [n.message for n in app._notifications]
        # The review, then the record written to file.
        await pilot.press("v")
        await settle(pilot)
        fill(app.screen, {"what_happened": "Threat under a post", "lessons": "Faster police call",
                          "actions": "Brief duty officers | Helen Marsh | 2026-12-01"})  # fmt: skip
        await save(pilot)
        await pilot.press("x")
        await settle(pilot)
    reports = list((data_dir() / "reports").glob(f"incident-{screen.incident_id}-*.md"))
    assert len(reports) == 1
    text = reports[0].read_text(encoding="utf-8")
    for expected in (
        "Threat on the bins page \\[bold red\\]",
        "CAD 7",
        "Reported by phone",
        "Leader briefed in person",
        "Holding line posted",
        "| Aisha Patel | Council Officer | phone | threats |",
        "Sat 21 Nov 2026 08:25:00 GMT",
        "| Brief duty officers | Helen Marsh | 2026-12-01 |",
        "Incident closed",
        "Scheduled posts resumed",
    ):
        assert expected in text, expected


def incident_at_evidence(db_path, title: str) -> int:
    """The demo with an incident whose first step is done: the next is the evidence."""
    make_demo(db_path)
    db = connect(db_path)
    found = incidents.start(db, "Test Officer", title)
    incidents_log_tell(db, found.id)
    db.close()
    return found.id


async def open_at_evidence(pilot, incident_id: int) -> IncidentScreen:
    await settle(pilot)
    pilot.app.action_open_incident(incident_id)
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, IncidentScreen) and screen.shown_step == "evidence"
    return screen


async def test_closing_the_app_mid_step_resumes_at_the_same_step_with_what_was_typed(db_path):
    incident_id = incident_at_evidence(db_path, "Resume me")
    app = SmdutyApp(db_path, "Test Officer", background_poll=False)
    async with app.run_test(size=(130, 45)) as pilot:
        screen = await open_at_evidence(pilot, incident_id)
        fill(screen, {"evidence_text": "half typed", "threat": "yes"})
        await pilot.pause(0.8)
        await settle(pilot)
        # The laptop lid closes: the app goes away without a save or a quit.
    app = SmdutyApp(db_path, "Test Officer", background_poll=False)
    async with app.run_test(size=(130, 45)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, IncidentsScreen)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, IncidentScreen) and screen.shown_step == "evidence"
        assert screen.query_one("#f-evidence_text", TextArea).text == "half typed"
        assert screen.query_one("#f-threat", Select).value == "yes"


def incidents_log_tell(db, incident_id: int) -> None:
    from smduty.core.incidents import log as incident_log

    incident_log.record_notification(db, "Test Officer", incident_id, "Helen Marsh", "phone")
    incident_steps.complete_step(db, "Test Officer", incident_id, "tell", {"what_happened": "x"})


async def test_the_posts_banner_is_on_every_main_screen_while_the_stop_holds(db_path):
    make_demo(db_path)
    db = connect(db_path)
    posts.stop_posts(db, "Helen Marsh", "Flood: [red]hold everything[/]")
    db.close()
    app = SmdutyApp(db_path, "Test Officer", background_poll=False)
    async with app.run_test(size=(130, 45)) as pilot:
        await settle(pilot)
        for action in ("open_dashboard", "open_channels", "open_rota", "open_queue",
                       "open_sources", "open_checks", "open_incidents"):  # fmt: skip
            await app.run_action(action)
            await settle(pilot)
            banner = app.screen.query_one(PostsBanner)
            assert banner.has_class("-stopped"), action
            assert "[red]hold everything[/]" in str(banner.render()), action
        db = connect(db_path)
        posts.resume_posts(db, "Helen Marsh")
        db.close()
        app.refresh_posts_state()
        await settle(pilot)
        assert not app.screen.query_one(PostsBanner).has_class("-stopped")


async def test_a_mandatory_step_is_ruled_out_only_by_a_named_decision_maker(db_path):
    make_demo(db_path)
    db = connect(db_path)
    found = incidents.start(db, "Test Officer", "Nothing was posted")
    incidents_log_tell(db, found.id)
    db.close()
    app = SmdutyApp(db_path, "Test Officer", background_poll=False)
    async with app.run_test(size=(130, 45)) as pilot:
        await settle(pilot)
        app.action_open_incident(found.id)
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, IncidentScreen) and screen.shown_step == "evidence"
        assert "Mandatory" in str(screen.query_one("#step-head", Static).render())
        await pilot.press("s")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormModal)  # not the plain "why?" prompt
        fill(form, {"reason": "will do tomorrow"})
        await save(pilot)
        assert app.screen is form  # refused: no decision-maker named
        fill(form, {"decided_by": "Helen Marsh [b]"})
        await save(pilot)
        assert isinstance(app.screen, IncidentScreen)
        record = screen.incident.record("evidence")
        assert record.state == "not_applicable"
        assert record.facts["decided_by"] == "Helen Marsh [b]"
        assert screen.shown_step == "threats"  # on to the next step
        options = screen.query_one("#steps", OptionList)
        assert "n/a" in str(options.get_option("evidence").prompt)
        options.highlighted = options.get_option_index("evidence")
        await settle(pilot)
        head = str(screen.query_one("#step-head", Static).render())
        assert "Ruled not applicable by Helen Marsh [b]" in head


async def test_escalating_a_second_mention_joins_the_open_incident(db_path):
    make_demo(db_path)
    db = connect(db_path)
    found = incidents.start(db, "Test Officer", "Threats on the bins page")
    db.close()
    app = SmdutyApp(db_path, "Test Officer", background_poll=False)
    async with app.run_test(size=(130, 45)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        queue = app.screen
        mention = queue.items[0]
        await pilot.press("e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormModal)
        form.query_one("#f-join", Select).value = found.id
        await save(pilot)
        assert isinstance(app.screen, IncidentScreen) and app.screen.incident_id == found.id
    db = connect(db_path)
    assert mention.id in incidents.get_incident(db, found.id).mentions
    assert len(incidents.list_incidents(db)) == 1
    db.close()


async def test_the_desks_own_draft_is_not_taken_for_another_desks_save(db_path):
    """Typing keeps a draft every half second; the live look then sees the database change.
    That is this desk's own typing: ctrl+s saves the step, with no 'someone saved' refusal."""
    incident_id = incident_at_evidence(db_path, "Slow typist")
    app = SmdutyApp(db_path, "Test Officer", background_poll=False)
    async with app.run_test(size=(130, 45)) as pilot:
        screen = await open_at_evidence(pilot, incident_id)
        fill(screen, {
            "evidence_text": "abuse under the bins post", "screenshot": "/evidence/2.png",
            "deleted": "no", "delete_reason": "kept", "threat": "no", "safeguarding": "no",
            "libel": "no", "personal_data": "no",
        })  # fmt: skip
        await pilot.pause(2.2)  # the draft kept, and the live look (every second) after it
        await settle(pilot)
        assert "saved this step" not in str(screen.query_one("#step-error").render())
        await save(pilot)
        assert screen.incident.record("evidence").state == "done", str(
            screen.query_one("#step-error").render()
        )
