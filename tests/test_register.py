"""The channel register: validation, managers, compliance rules, proposals and CSV import."""

from __future__ import annotations

from datetime import date

import pytest

from smduty.core.errors import InvalidInput, Refused
from smduty.core.records import audit
from smduty.core.register.channel_import import ImportFailed, import_channels
from smduty.core.register.channels import (
    add_channel,
    advance_proposal,
    close_channel,
    edit_channel,
    get_channel,
    record_training,
    reject_proposal,
)
from smduty.core.register.compliance import RULES, Limits, register
from smduty.core.rota.checks import check_states
from smduty.core.staff import add_staff, mark_left

TODAY = date(2026, 11, 21)


def compliant(**overrides):
    fields = {
        "name": "Council Facebook",
        "platform": "facebook",
        "status": "active",
        "comms_admin_access": True,
        "authorised_by": "AD",
        "authorised_on": "2025-01-01",
        "im_notified_on": "2025-01-02",
        "last_reviewed_on": "2026-10-01",
        "passwords_changed_on": "2026-10-01",
        "admin_verified_on": "2026-10-01",
        "checklist_done": True,
    }
    fields.update(overrides)
    return fields


@pytest.fixture
def people(db):
    for name in ("Ann Able", "Bob Baker", "Cat Cole"):
        add_staff(db, "setup", name, ["comms_officer"])
    return db


def problems_of(db, name):
    entry = next(e for e in register(db) if e.channel.name == name)
    return {p.rule: p for p in entry.problems}


def test_a_fully_compliant_channel_has_no_problems(people):
    add_channel(people, "t", compliant(), ["Ann Able", "Bob Baker"])
    for name in ("Ann Able", "Bob Baker"):
        record_training(people, "t", "Council Facebook", name, "2025-01-01")
    assert problems_of(people, "Council Facebook") == {}


def test_every_field_problem_is_reported_at_once(db):
    with pytest.raises(InvalidInput) as caught:
        add_channel(
            db,
            "t",
            {
                "name": "",
                "platform": "myspace",
                "url": "ftp://x",
                "authorised_on": "31/12/2025",
                "review_interval_months": "0",
            },
        )
    assert set(caught.value.problems) == {
        "name",
        "platform",
        "url",
        "authorised_on",
        "review_interval_months",
    }
    assert db.execute("SELECT count(*) FROM channels").fetchone()[0] == 0


def test_future_dates_of_done_things_are_refused(db):
    with pytest.raises(InvalidInput, match="in the future"):
        add_channel(db, "t", compliant(passwords_changed_on="2027-01-01"))


def test_duplicate_names_refused_case_insensitively(db):
    add_channel(db, "t", compliant())
    with pytest.raises(InvalidInput, match="already registered"):
        add_channel(db, "t", compliant(name="council facebook"))


@pytest.mark.parametrize(
    ("overrides", "managers", "trained", "rule"),
    [
        ({}, [], [], "no_manager"),
        ({}, ["Ann Able"], ["Ann Able"], "single_manager"),
        (
            {"comms_admin_access": False},
            ["Ann Able", "Bob Baker"],
            ["Ann Able", "Bob Baker"],
            "no_comms_admin",
        ),
        ({}, ["Ann Able", "Bob Baker"], ["Ann Able"], "manager_untrained"),
        (
            {"authorised_by": ""},
            ["Ann Able", "Bob Baker"],
            ["Ann Able", "Bob Baker"],
            "not_authorised",
        ),
        (
            {"last_reviewed_on": "2026-01-01"},
            ["Ann Able", "Bob Baker"],
            ["Ann Able", "Bob Baker"],
            "review_overdue",
        ),
        (
            {"im_notified_on": ""},
            ["Ann Able", "Bob Baker"],
            ["Ann Able", "Bob Baker"],
            "im_not_notified",
        ),
    ],
)
def test_each_rule_fires_alone(people, overrides, managers, trained, rule):
    add_channel(people, "t", compliant(**overrides), managers)
    for name in trained:
        record_training(people, "t", "Council Facebook", name, "2025-01-01")
    found = problems_of(people, "Council Facebook")
    assert set(found) == {rule}
    assert found[rule].policy  # every problem names its policy
    assert found[rule].severity in ("red", "amber")


def test_leaver_after_password_change_is_red_until_passwords_change(people):
    add_channel(
        people,
        "t",
        compliant(passwords_changed_on="2026-09-01"),
        ["Ann Able", "Bob Baker", "Cat Cole"],
    )
    for name in ("Ann Able", "Bob Baker", "Cat Cole"):
        record_training(people, "t", "Council Facebook", name, "2025-01-01")
    mark_left(people, "t", "Cat Cole", "2026-11-01")
    found = problems_of(people, "Council Facebook")
    assert set(found) == {"passwords_not_changed"}
    assert "Cat Cole" in found["passwords_not_changed"].message
    assert found["passwords_not_changed"].severity == "red"
    edit_channel(people, "t", "Council Facebook", {"passwords_changed_on": "2026-11-02"})
    assert problems_of(people, "Council Facebook") == {}


def test_manager_removed_before_leaving_does_not_need_new_passwords(people, monkeypatch):
    add_channel(people, "t", compliant(), ["Ann Able", "Bob Baker", "Cat Cole"])
    monkeypatch.setenv("SMDUTY_NOW", "2026-10-10T09:00:00+00:00")
    edit_channel(people, "t", "Council Facebook", {}, ["Ann Able", "Bob Baker"])
    monkeypatch.setenv("SMDUTY_NOW", "2026-11-21T09:00:00+00:00")
    mark_left(people, "t", "Cat Cole", "2026-11-01")
    assert "passwords_not_changed" not in problems_of(people, "Council Facebook")


def test_dormant_channel_detected_from_checks(demo_db):
    assert "dormant" in problems_of(demo_db, "Castlemere Heritage")
    assert "dormant" not in problems_of(demo_db, "Castlemere Council")


def test_demo_plants_one_problem_for_every_rule_but_no_manager(demo_db):
    fired = {p.rule for e in register(demo_db) for p in e.problems}
    # The pre-election rules hold only while a period is set (test_election plants one).
    during_an_election = {"candidate_manager", "about_members"}
    assert fired == {r.name for r in RULES} - {"no_manager"} - during_an_election


def test_closed_and_proposed_channels_are_not_audited(demo_db):
    states = {e.channel.name: e for e in register(demo_db)}
    assert states["Castlemere Events (old)"].problems == ()
    assert states["Castlemere Markets"].state == "proposed"


def test_manager_history_is_kept(people):
    add_channel(people, "t", compliant(), ["Ann Able", "Bob Baker"])
    channel = edit_channel(people, "t", "Council Facebook", {}, ["Bob Baker", "Cat Cole"])
    assert [m.name for m in channel.managers] == ["Bob Baker", "Cat Cole"]
    former = [m for m in channel.all_managers if m.name == "Ann Able"]
    assert former and former[0].removed_on == TODAY


def test_leavers_cannot_become_managers(people):
    mark_left(people, "t", "Cat Cole", "2026-11-01")
    with pytest.raises(InvalidInput, match="left on"):
        add_channel(people, "t", compliant(), ["Cat Cole"])


def test_edit_is_audited_with_before_and_after(people):
    channel = add_channel(people, "t", compliant())
    edit_channel(people, "Priya", channel.id, {"handle": "@council"})
    latest = audit.entries(people, "channel", channel.id)[0]
    assert latest.action == "channel.edit"
    assert latest.actor == "Priya"
    assert latest.before["handle"] == ""
    assert latest.after["handle"] == "@council"


def test_proposal_walks_every_step_with_its_preconditions(people):
    add_channel(people, "t", {"name": "Markets", "platform": "facebook"}, ["Ann Able"])
    with pytest.raises(Refused, match="what the channel is for"):
        advance_proposal(people, "t", "Markets")  # 000 A.3.4: a purpose first
    edit_channel(people, "t", "Markets", {"purpose": "Market days and stall bookings"})
    advance_proposal(people, "t", "Markets")  # purpose agreed
    with pytest.raises(Refused, match="line manager"):
        advance_proposal(people, "t", "Markets")  # 000 A.3.5: named
    channel = advance_proposal(people, "t", "Markets", line_manager="Helen Marsh")
    assert channel.line_manager == "Helen Marsh"
    advance_proposal(people, "t", "Markets")  # training requested
    with pytest.raises(Refused, match="training"):
        advance_proposal(people, "t", "Markets")
    record_training(people, "t", "Markets", "Ann Able", "2026-11-20")
    advance_proposal(people, "t", "Markets")  # trained
    channel = advance_proposal(people, "t", "Markets")  # admin granted
    assert channel.comms_admin_access and channel.admin_verified_on == TODAY
    with pytest.raises(Refused, match="who authorised"):
        advance_proposal(people, "t", "Markets")
    with pytest.raises(Refused, match="checklist"):
        advance_proposal(people, "t", "Markets", authorised_by="David Kerr")
    edit_channel(people, "t", "Markets", {"checklist_done": True})
    channel = advance_proposal(people, "t", "Markets", authorised_by="David Kerr")
    assert channel.authorised_by == "David Kerr" and channel.authorised_on == TODAY
    with pytest.raises(Refused, match="at least two"):
        advance_proposal(people, "t", "Markets")  # one manager: no cover (000 A.3.5)
    edit_channel(people, "t", "Markets", {}, ["Ann Able", "Bob Baker"])
    channel = advance_proposal(people, "t", "Markets")
    assert channel.status == "active"
    assert channel.proposal_progress == (7, 7)
    with pytest.raises(Refused, match="not a proposal"):
        advance_proposal(people, "t", "Markets")
    # Live today: not "review overdue" on day one, nor passwords or admin access due.
    entry = next(e for e in register(people) if e.channel.name == "Markets")
    assert not {"review_overdue", "passwords_due", "admin_unconfirmed"} & {
        p.rule for p in entry.problems
    }


def test_a_proposal_can_be_turned_down_with_a_reason(people):
    add_channel(people, "t", {"name": "Pets", "platform": "tiktok"}, ["Ann Able"])
    with pytest.raises(InvalidInput):
        reject_proposal(people, "t", "Pets", " ")
    turned_down = reject_proposal(people, "t", "Pets", "no service owner; covered by main page")
    assert turned_down.status == "closed" and "Rejected" in turned_down.notes
    assert audit.entries(people, "channel", turned_down.id)[0].action == "channel.reject"
    with pytest.raises(Refused, match="not a proposal"):
        reject_proposal(people, "t", "Pets", "again")


def test_password_and_admin_access_checks_fall_due_by_the_configured_interval(people):
    dates = {"passwords_changed_on": "2025-09-01", "admin_verified_on": "2026-01-01"}
    add_channel(people, "t", compliant(**dates), ["Ann Able", "Bob Baker"])
    for name in ("Ann Able", "Bob Baker"):
        record_training(people, "t", "Council Facebook", name, "2025-01-01")
    found = problems_of(people, "Council Facebook")
    assert "2025-09-01" in found["passwords_due"].message  # 12 months by default
    assert "2026-01-01" in found["admin_unconfirmed"].message  # 6 months by default
    entry = next(
        e for e in register(people, limits=Limits(password_change_months=24, admin_check_months=12))
    )
    assert not {"passwords_due", "admin_unconfirmed"} & {p.rule for p in entry.problems}


def test_a_dormant_channel_is_still_checked_every_day_until_closed(people):
    add_channel(people, "t", compliant(status="dormant"), ["Ann Able", "Bob Baker"])
    assert [s.channel for s in check_states(people, TODAY)] == ["Council Facebook"]
    close_channel(people, "t", "Council Facebook", "closed at last")
    assert check_states(people, TODAY) == []


def test_close_keeps_the_reason(people):
    add_channel(people, "t", compliant())
    closed = close_channel(people, "t", "Council Facebook", "merged into main page")
    assert closed.status == "closed"
    assert "merged into main page" in closed.notes
    with pytest.raises(Refused):
        close_channel(people, "t", "Council Facebook", "again")
    with pytest.raises(InvalidInput, match="reason"):
        close_channel(people, "t", "Council Facebook", "  ")


def test_csv_import_adds_every_row(people, tmp_path):
    path = tmp_path / "channels.csv"
    path.write_text(
        "name,platform,service,status,comms_admin_access,managers\n"
        "Libraries,facebook,Libraries,active,yes,Ann Able=2025-01-01; Bob Baker\n"
        "Bins,twitter,Waste,active,no,\n",
        encoding="utf-8-sig",
    )
    assert import_channels(people, "t", path) == 2
    libraries = get_channel(people, "Libraries")
    assert [(m.name, m.trained_on) for m in libraries.managers] == [
        ("Ann Able", date(2025, 1, 1)),
        ("Bob Baker", None),
    ]
    assert get_channel(people, "Bins").platform == "x"


def test_csv_import_with_bad_rows_writes_nothing_and_names_lines(people, tmp_path):
    path = tmp_path / "channels.csv"
    path.write_text(
        "name,platform,authorised_on,managers\n"
        "Good,facebook,2025-01-01,Ann Able\n"
        "Bad platform,myspace,,\n"
        "Good,instagram,,\n"
        "Bad date,x,01/02/2025,\n"
        "Unknown manager,x,,Zed Zulu\n",
        encoding="utf-8",
    )
    with pytest.raises(ImportFailed) as caught:
        import_channels(people, "t", path)
    lines = {e.line: e.message for e in caught.value.errors}
    assert set(lines) == {3, 4, 5, 6}
    assert "myspace" in lines[3]
    assert "repeats line 2" in lines[4]
    assert "not a date" in lines[5]
    assert "Zed Zulu" in lines[6]
    assert "channels.csv, line 3" in str(caught.value)
    assert people.execute("SELECT count(*) FROM channels").fetchone()[0] == 0


def test_csv_import_rejects_unknown_columns(people, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("name,platform,password\nX,facebook,hunter2\n", encoding="utf-8")
    with pytest.raises(ImportFailed, match="unknown column"):
        import_channels(people, "t", path)


def test_outside_text_is_stored_without_escape_sequences(db):
    channel = add_channel(
        db, "t", compliant(name="Evil\x1b[2J[bold red]name[/]\x07", notes="line one\nline\x00 two")
    )
    assert channel.name == "Evil[bold red]name[/]"
    assert channel.notes == "line one\nline two"
