"""The triage queue core: transitions, refusals, paging, targets, the guide, moderation."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from smduty.cli import main
from smduty.core.config import Config, ConfigError
from smduty.core.errors import InvalidInput, NotFound, Refused
from smduty.core.incidents.lifecycle import escalate_mention
from smduty.core.monitoring.flag_load import ruleset_for
from smduty.core.monitoring.mentions import MentionWriter, RawMention
from smduty.core.records import audit
from smduty.core.store import transaction
from smduty.core.triage import detail as mention_detail
from smduty.core.triage import moderation, outcomes
from smduty.core.triage import queue as triage
from smduty.core.triage.assessment import load_guide
from smduty.core.triage.targets import load_targets, parse_target

NOW = datetime(2026, 11, 21, 8, 30, tzinfo=UTC)
ACTOR = "Test Officer"
ALL_CHECKS = ["transparent", "sources", "no-rush", "tone", "focus"]


@pytest.fixture
def guide():
    return load_guide()


def first_open(db, rating="critical") -> int:
    return triage.page(db, triage.Filters(rating=rating), limit=1)[0].id


def test_queue_order_is_rating_then_oldest(demo_db):
    items = triage.page(demo_db, triage.Filters(), limit=500)
    keys = [(-i.rating_rank, i.published, i.id) for i in items]
    assert keys == sorted(keys)
    assert items[0].rating == "critical"
    assert all(i.status in triage.OPEN and i.rating != "none" for i in items)


def test_assign_then_every_outcome_with_its_facts(demo_db, guide):
    db = demo_db
    ids = [i.id for i in triage.page(db, triage.Filters(rating="any"), limit=6)]
    a, b, c, d, e, f = ids

    item = outcomes.assign(db, ACTOR, a, "Priya Raman")
    assert (item.status, item.assigned_to) == ("in_progress", "Priya Raman")
    checks = [c.id for c in guide.before_you_respond]
    item = outcomes.respond(db, ACTOR, a, "We have removed the post.", checks, guide)
    assert item.status == "responded" and item.assigned_to == "Priya Raman"
    assert outcomes.refer(db, ACTOR, b, "Children's services", "Passed on at 09:00").status == (
        "referred"
    )
    assert outcomes.no_engagement(db, ACTOR, c, "troll", guide).outcome["reason"] == "troll"
    opened = escalate_mention(db, ACTOR, d, "Threat to staff")  # opens an incident at once
    assert triage.get_item(db, d).outcome["incident"] == opened.id
    assert outcomes.dismiss(db, ACTOR, e).status == "dismissed"
    snoozed = outcomes.snooze(db, ACTOR, f, NOW + timedelta(hours=2), now=NOW)
    assert snoozed.status == "snoozed" and snoozed.snoozed_until == "2026-11-21T10:30:00Z"

    states = ("responded", "referred", "no_engagement", "escalated", "dismissed", "snoozed")
    for mention_id, status in zip(ids, states, strict=True):
        assert triage.get_item(db, mention_id).status == status
    # Audited with who, before and after, and the facts.
    entries = audit.entries(db, entity="mention", entity_id=a)
    assert [e.action for e in entries] == ["mention.respond", "mention.assign"]
    assert entries[0].actor == ACTOR
    assert entries[0].before == {"status": "in_progress", "assigned_to": "Priya Raman"}
    assert entries[0].after["response"] == "We have removed the post."
    history = mention_detail.detail(db, a).history
    assert [h.status for h in history] == ["in_progress", "responded"]


@pytest.mark.parametrize(
    "call, field",
    [
        (lambda db, g, m: outcomes.respond(db, ACTOR, m, "", ALL_CHECKS, g), "response"),
        (lambda db, g, m: outcomes.respond(db, ACTOR, m, "Thanks", ["transparent"], g), "checks"),
        (lambda db, g, m: outcomes.refer(db, ACTOR, m, "", "note"), "to"),
        (lambda db, g, m: outcomes.refer(db, ACTOR, m, "Highways", ""), "note"),
        (lambda db, g, m: outcomes.no_engagement(db, ACTOR, m, "", g), "reason"),
        (lambda db, g, m: outcomes.no_engagement(db, ACTOR, m, "bored", g), "reason"),
        (lambda db, g, m: escalate_mention(db, ACTOR, m, ""), "note"),
        (lambda db, g, m: outcomes.snooze(db, ACTOR, m, NOW - timedelta(hours=1), now=NOW),
         "until"),
    ],
)  # fmt: skip
def test_missing_facts_are_refused_and_nothing_changes(demo_db, guide, call, field):
    mention_id = first_open(demo_db)
    with pytest.raises(InvalidInput) as refused:
        call(demo_db, guide, mention_id)
    assert field in refused.value.problems
    assert triage.get_item(demo_db, mention_id).status == "new"
    assert not audit.entries(demo_db, entity="mention", entity_id=mention_id)


def test_checks_refusal_names_the_missing_checks(demo_db, guide):
    with pytest.raises(InvalidInput, match="Cite sources, Don't rush, Get the tone right, Focus"):
        outcomes.respond(demo_db, ACTOR, first_open(demo_db), "Thanks", ["transparent"], guide)


def test_closed_mentions_need_reopening(demo_db, guide):
    mention_id = first_open(demo_db)
    outcomes.dismiss(demo_db, ACTOR, mention_id)
    with pytest.raises(Refused, match="dismissed: cannot refer it \\(reopen it first\\)"):
        outcomes.refer(demo_db, ACTOR, mention_id, "Highways", "note")
    with pytest.raises(Refused):
        outcomes.assign(demo_db, ACTOR, mention_id, "Priya Raman")
    item = outcomes.reopen(demo_db, ACTOR, mention_id, "dismissed by mistake")
    assert (item.status, item.assigned_to, item.outcome) == (
        "new",
        None,
        {"note": "dismissed by mistake"},
    )
    assert outcomes.refer(demo_db, ACTOR, mention_id, "Highways", "note").status == "referred"
    with pytest.raises(Refused, match="is new: cannot reopen"):
        outcomes.reopen(demo_db, ACTOR, first_open(demo_db))


def test_assign_refuses_unknown_and_leavers(demo_db):
    mention_id = first_open(demo_db)
    with pytest.raises(NotFound):
        outcomes.assign(demo_db, ACTOR, mention_id, "Nobody Atall")
    with pytest.raises(NotFound):
        outcomes.dismiss(demo_db, ACTOR, 999_999)


def test_snooze_wakes_back_to_new(demo_db):
    mention_id = first_open(demo_db)
    outcomes.snooze(demo_db, ACTOR, mention_id, NOW + timedelta(hours=1), now=NOW)
    assert mention_id not in {i.id for i in triage.page(demo_db, triage.Filters(), limit=500)}
    assert outcomes.wake_snoozed(demo_db, NOW + timedelta(minutes=59)) == 0
    assert outcomes.wake_snoozed(demo_db, NOW + timedelta(hours=1)) == 1
    item = triage.get_item(demo_db, mention_id)
    assert (item.status, item.snoozed_until) == ("new", None)
    assert audit.entries(demo_db, entity="mention", entity_id=mention_id)[0].actor == "smduty"


def test_bulk_dismiss_is_all_or_nothing_and_low_risk_only(demo_db):
    low = [i.id for i in triage.page(demo_db, triage.Filters(rating="none"), limit=3)]
    high = first_open(demo_db, "high")
    with pytest.raises(Refused, match="bulk dismiss is for low-risk"):
        outcomes.dismiss_many(demo_db, ACTOR, [*low, high])
    assert all(triage.get_item(demo_db, m).status == "new" for m in low)
    assert outcomes.dismiss_many(demo_db, ACTOR, low) == 3
    assert all(triage.get_item(demo_db, m).status == "dismissed" for m in low)


def test_filters_category_source_search_and_status(demo_db, guide):
    db = demo_db
    safeguarding = triage.page(db, triage.Filters(category="safeguarding"), limit=50)
    assert safeguarding and all("safeguarding" in i.categories for i in safeguarding)
    by_source = triage.page(db, triage.Filters(rating="any", source="Hootsuite inbox"), limit=50)
    assert by_source and {i.source for i in by_source} == {"Hootsuite inbox"}
    flood = triage.page(db, triage.Filters(rating="any", search="flood"), limit=50)
    assert flood and all("flood" in (i.title + i.text).lower() for i in flood)
    assert triage.page(db, triage.Filters(rating="any", search='"; DROP TABLE ('), limit=5) == []
    mention_id = first_open(db)
    outcomes.dismiss(db, ACTOR, mention_id)
    assert [i.id for i in triage.page(db, triage.Filters(status="dismissed"), limit=5)] == [
        mention_id
    ]
    with pytest.raises(InvalidInput):
        triage.page(db, triage.Filters(status="lost"))


def _add_mentions(db, count: int, start: int, published: datetime) -> None:
    rules = ruleset_for(db)
    with transaction(db):
        writer = MentionWriter(db, rules, "bench", published)
        for n in range(start, start + count):
            writer.add(
                RawMention(
                    source_item_id=f"bench:{n}",
                    text=f"Post {n}: the council is useless" if n % 3 else f"Post {n}",
                    author=f"user{n}",
                    published=published - timedelta(minutes=n % 97),
                )
            )
        writer.close()


def test_paging_returns_every_row_once_even_while_mentions_arrive(db):
    _add_mentions(db, 600, 0, NOW)
    filters = triage.Filters(rating="any")
    before = {r[0] for r in db.execute("SELECT id FROM mentions")}
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        chunk = triage.page(db, filters, after=cursor, limit=37)
        if not chunk:
            break
        seen += [i.id for i in chunk]
        cursor = chunk[-1].cursor
        pages += 1
        if pages in (2, 5, 9):  # new mentions arrive, older and newer than the cursor
            _add_mentions(db, 20, 10_000 + pages * 100, NOW + timedelta(minutes=pages - 3))
    assert len(seen) == len(set(seen))
    assert before <= set(seen)
    assert triage.count(db, filters) == db.execute("SELECT count(*) FROM mentions").fetchone()[0]
    assert triage.count(db, filters, cap=100) == 101


@pytest.mark.parametrize("driven_max", [20_000, 5])  # read from the hits; walk the index
def test_search_paging_matches_index_paging(db, monkeypatch, driven_max):
    monkeypatch.setattr(triage, "FTS_DRIVEN_MAX", driven_max)
    _add_mentions(db, 300, 0, NOW)
    direct, cursor = [], None
    while chunk := triage.page(db, triage.Filters(rating="any", search="useless"), cursor, 23):
        direct += [i.id for i in chunk]
        cursor = chunk[-1].cursor
    walked = [
        i.id
        for i in triage.page(db, triage.Filters(rating="any"), limit=1000)
        if "useless" in i.text
    ]
    assert direct == walked and len(direct) == 200
    assert triage.count(db, triage.Filters(rating="any", search="useless")) == 200
    # New mentions with the word: the walk's cached hits are rebuilt, so they are found.
    _add_mentions(db, 3, 5000, NOW)
    assert triage.count(db, triage.Filters(rating="any", search="useless")) == 202


def test_targets_clock_and_working_time():
    targets = load_targets(Config())
    saturday = datetime(2026, 11, 21, 8, 30, tzinfo=UTC)
    assert targets.due("critical", saturday) == saturday + timedelta(hours=1)
    # 4 working hours from a Saturday: Monday 09:00-13:00 (GMT in November).
    assert targets.due("high", saturday) == datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
    # 1 working day from Friday 16:00: one hour Friday, seven on Monday.
    friday = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
    assert targets.due("medium", friday) == datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
    # cutoff is the inverse of due.
    monday = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
    assert targets.cutoff("medium", monday) == friday
    assert targets.due("none", saturday) is None
    # Christmas: 1 working day from 24 Dec 16:00 lands on 29 Dec.
    assert targets.due("medium", datetime(2026, 12, 24, 16, 0, tzinfo=UTC)) == datetime(
        2026, 12, 29, 16, 0, tzinfo=UTC
    )


def test_targets_are_configurable_and_checked():
    targets = load_targets(
        Config(response_targets={"critical": "30m"}, working_hours="08:00-16:00")
    )
    assert targets.by_rating["critical"].minutes == 30
    assert targets.day_minutes == 480
    assert parse_target("2 working days").working
    with pytest.raises(ConfigError, match="response_targets.high"):
        load_targets(Config(response_targets={"high": "soon"}))
    with pytest.raises(ConfigError, match="working_hours"):
        load_targets(Config(working_hours="17:00-09:00"))


def test_overdue_filter_and_dashboard_counts(demo_db):
    targets = load_targets(Config())
    later = NOW + timedelta(hours=2)  # critical is 1 hour on the clock
    counts = {c.rating: c for c in triage.dashboard_counts(demo_db, targets, later)}
    open_items = triage.page(demo_db, triage.Filters(), limit=500)
    late = {i.id for i in open_items if i.overdue(targets, later)}
    for rating, c in counts.items():
        assert c.open == sum(i.rating == rating for i in open_items)
        assert c.overdue == sum(i.rating == rating and i.id in late for i in open_items)
    assert counts["critical"].overdue == counts["critical"].open > 0
    # High waits for working hours: a Friday-evening post is not late on Saturday.
    friday_evening = [
        i for i in open_items if i.rating == "high" and "2026-11-20T18" in i.published
    ]
    assert friday_evening and not any(i.id in late for i in friday_evening)
    overdue = triage.page(
        demo_db, triage.Filters(overdue=True), limit=100, targets=targets, now=later
    )
    assert {i.id for i in overdue} == late


def test_guide_walk_reaches_outcomes_and_bad_guides_name_the_line(tmp_path, guide):
    node = guide.step(guide.start)
    assert node.answers[0].label == "Yes"
    assert guide.step("troll").recommend == "no_engagement"
    bad = tmp_path / "guide.toml"
    text = (guide_text := (load_guide.__globals__["guide_path"]()).read_text()).replace(
        'next = "rager"', 'next = "nowhere"'
    )
    bad.write_text(text)
    with pytest.raises(ConfigError, match=r"line \d+: question 'negative'.*'nowhere'"):
        load_guide(bad)
    bad.write_text(guide_text.replace('recommend = "refer"', 'recommend = "shrug"'))
    with pytest.raises(ConfigError, match="outcome 'refer-service': recommend must be"):
        load_guide(bad)
    bad.write_text(
        guide_text.replace('{ label = "No", next = "tone" }', '{ label = "No", next = "about" }')
    )
    with pytest.raises(ConfigError, match="leads back to itself"):
        load_guide(bad)


def test_moderation_needs_every_fact(demo_db, guide):
    with pytest.raises(InvalidInput) as refused:
        moderation.record(
            demo_db, ACTOR, guide, channel="Nope", action="nuke", user_name="", content="",
            breach="", evidence="",
        )  # fmt: skip
    assert set(refused.value.problems) == {
        "channel", "action", "user_name", "content", "breach", "evidence"
    }  # fmt: skip
    entry = moderation.record(
        demo_db, ACTOR, guide, channel="castlemere council", action="Block",
        user_name="[red]x[/red]", content="abuse\x1b[2J", breach="abuse", evidence="shot.png",
    )  # fmt: skip
    assert (entry.channel, entry.platform, entry.action) == (
        "Castlemere Council",
        "facebook",
        "block",
    )
    assert entry.user_name == "[red]x[/red]" and entry.content == "abuse"
    assert moderation.list_actions(demo_db)[0].id == entry.id
    assert audit.entries(demo_db, entity="moderation")[0].actor == ACTOR


def test_cli_queue_triage_and_moderation(tmp_path):
    runner = CliRunner()
    db = str(tmp_path / "cli.db")
    assert runner.invoke(main, ["--db", db, "init", "--demo"]).exit_code == 0
    result = runner.invoke(main, ["--db", db, "queue", "--limit", "3", "--json"])
    items = json.loads(result.output)
    assert len(items) == 3
    assert set(items[0]) >= {
        "id", "source", "author", "text", "url", "published", "categories", "risk", "rating",
        "status", "assigned_to", "age_minutes",
    }  # fmt: skip
    assert isinstance(items[0]["categories"], list) and isinstance(items[0]["risk"], int)
    first = str(items[0]["id"])
    refused = runner.invoke(main, ["--db", db, "triage", first, "--respond", "Thanks"])
    assert refused.exit_code == 2 and "--checks-done" in refused.output
    done = runner.invoke(
        main, ["--db", db, "triage", first, "--respond", "Thanks", "--checks-done"]
    )
    assert done.exit_code == 0 and "responded" in done.output
    again = runner.invoke(main, ["--db", db, "triage", first, "--dismiss"])
    assert again.exit_code == 1 and "reopen it first" in again.output
    both = runner.invoke(main, ["--db", db, "triage", first, "--dismiss", "--reopen"])
    assert both.exit_code == 2
    snooze = runner.invoke(main, ["--db", db, "triage", str(items[1]["id"]), "--snooze", "soon"])
    assert snooze.exit_code == 2 and "not a time" in snooze.output
    found = json.loads(
        runner.invoke(
            main, ["--db", db, "queue", "--rating", "any", "--search", "flood", "--json"]
        ).output
    )
    assert found and all("flood" in (i["title"] + i["text"]).lower() for i in found)
    add = runner.invoke(
        main,
        ["--db", db, "moderation", "add", "--channel", "Castlemere Council", "--action",
         "hide", "--user", "x", "--content", "c", "--breach", "spam", "--evidence", "e.png"],
    )  # fmt: skip
    assert add.exit_code == 0 and "can make matters worse" in add.output
    listed = json.loads(runner.invoke(main, ["--db", db, "moderation", "list", "--json"]).output)
    assert listed[0]["breach"] == "spam"


def test_parse_until():
    assert outcomes.parse_until("2h", NOW) == NOW + timedelta(hours=2)
    assert outcomes.parse_until("monday", NOW) == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert outcomes.parse_until("tomorrow", NOW) == datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    assert outcomes.parse_until("2026-11-24", NOW) == datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    with pytest.raises(ValueError):
        outcomes.parse_until("whenever", NOW)


def test_taking_a_mention_from_another_officer_warns_and_is_recorded(demo_db, db_path):
    mention_id = first_open(demo_db)
    outcomes.assign(demo_db, ACTOR, mention_id, "Priya Raman")
    again = outcomes.assign(demo_db, ACTOR, mention_id, "Priya Raman")
    assert "taken_from" not in again.outcome  # the same officer again takes nothing
    result = CliRunner().invoke(
        main, ["--db", str(db_path), "triage", str(mention_id), "--assign", "David Kerr"]
    )
    assert result.exit_code == 0, result.output
    assert "was assigned to Priya Raman" in result.stderr
    item = triage.get_item(demo_db, mention_id)
    assert (item.assigned_to, item.outcome["taken_from"]) == ("David Kerr", "Priya Raman")
    entry = audit.entries(demo_db, entity="mention", entity_id=mention_id)[0]
    assert entry.before["assigned_to"] == "Priya Raman"
    assert entry.after["taken_from"] == "Priya Raman"


def test_the_assessment_from_the_cli_is_stored_with_the_mention(demo_db, db_path):
    from smduty.core.triage.assessed import assessments_of

    mention_id = first_open(demo_db)
    run = CliRunner().invoke(
        main,
        ["--db", str(db_path), "assess", str(mention_id), "--answer", "yes", "--answer", "2",
         "--answer", "Negative", "--answer", "1", "--json"],
    )  # fmt: skip
    assert run.exit_code == 0, run.output
    assert json.loads(run.output)["recommend"] == "no_engagement"
    [walked] = assessments_of(demo_db, mention_id)
    assert [a["answer"] for a in walked.answers][:3] == ["Yes", "No", "Negative"]
    assert mention_detail.detail(demo_db, mention_id).history[0].action == "mention.assess"
    wrong = CliRunner().invoke(
        main, ["--db", str(db_path), "assess", str(mention_id), "--answer", "Perhaps"]
    )
    assert wrong.exit_code == 2 and "Perhaps" in wrong.output
    assert len(assessments_of(demo_db, mention_id)) == 1  # nothing stored for a wrong walk
    asked = CliRunner().invoke(
        main, ["--db", str(db_path), "assess", str(mention_id)], input="1\n2\n1\n"
    )
    assert asked.exit_code == 0, asked.output
    assert "Is the post positive" in asked.output
