"""Response-target breaches are facts (issue 18): recorded when they happen and kept after the
mention is handled; the queue and the breaches report read the record."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner

from smduty.cli import main
from smduty.core.clock import utc_text
from smduty.core.config import Config
from smduty.core.monitoring.flag_load import ruleset_for
from smduty.core.monitoring.flagging import RATING_RANK
from smduty.core.monitoring.mentions import MentionWriter, RawMention
from smduty.core.store import transaction
from smduty.core.triage import outcomes
from smduty.core.triage.breaches import breach_of, record_breaches
from smduty.core.triage.targets import load_targets

NOW = datetime(2026, 11, 21, 8, 30, tzinfo=UTC)  # the pinned clock of the tests
TARGETS = load_targets(Config())  # critical: 1h


def critical(db, minutes_ago: int, text: str = "Bins not collected") -> int:
    writer = MentionWriter(db, ruleset_for(db), "Test feed", NOW)
    writer.add(RawMention(text=f"{text} {minutes_ago}"))
    writer.close()
    mention_id = db.execute("SELECT max(id) FROM mentions").fetchone()[0]
    when = utc_text(NOW - timedelta(minutes=minutes_ago))
    with transaction(db):
        db.execute(
            "UPDATE mentions SET rating = 'critical', rating_rank = ?, published = ?,"
            " ingested_at = ? WHERE id = ?",
            (RATING_RANK["critical"], when, when, mention_id),
        )
    return mention_id


def test_a_late_response_keeps_its_breach(db, db_path):
    late, early = critical(db, 180), critical(db, 20)
    assert record_breaches(db, TARGETS, NOW) == [late]
    assert record_breaches(db, TARGETS, NOW) == []  # once
    outcomes.refer(db, "Ana", late, "Waste services", "Passed on")
    outcomes.refer(db, "Ana", early, "Waste services", "Passed on")
    kept = breach_of(db, late)
    assert kept.due_at == "2026-11-21T06:30:00Z" and kept.handled_as == "referred"
    assert kept.handled_at == "2026-11-21T08:30:00Z"
    assert breach_of(db, early) is None
    shown = CliRunner().invoke(
        main, ["--db", str(db_path), "queue", "--status", "closed", "--json", "--rating", "any"]
    )
    rows = {r["id"]: r for r in json.loads(shown.output)}
    assert rows[late]["overdue"] is False and rows[late]["breach"]["handled_as"] == "referred"
    assert rows[early]["breach"] is None
    report = CliRunner().invoke(main, ["--db", str(db_path), "breaches", "--json"])
    assert [b["mention_id"] for b in json.loads(report.output)] == [late]


def test_handled_late_before_anyone_recorded_the_breach(db):
    late = critical(db, 95)
    outcomes.dismiss(db, "Ana", late, "spam")  # nobody had smduty open to record it
    kept = breach_of(db, late)
    assert kept is not None and kept.handled_as == "dismissed"


def test_a_breach_stays_when_the_mention_is_reopened_and_handled_again(db):
    late = critical(db, 200)
    record_breaches(db, TARGETS, NOW)
    outcomes.dismiss(db, "Ana", late)
    first = breach_of(db, late)
    outcomes.reopen(db, "Ana", late)
    outcomes.dismiss(db, "Ana", late)
    assert breach_of(db, late) == first  # the first handling is the one on record
