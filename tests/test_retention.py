"""Retention and personal data (issue 18): purge redacts only what it should, reports still add
up, and personal data in linked mentions is masked in incident reports unless asked for."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner

from smduty.cli import main
from smduty.core.clock import utc_text
from smduty.core.incidents import lifecycle as incidents
from smduty.core.incidents.report import PERSONAL, report_json, report_markdown
from smduty.core.monitoring.flag_load import ruleset_for
from smduty.core.monitoring.mentions import MentionWriter, RawMention
from smduty.core.records.retention import REDACTED, purge
from smduty.core.store import transaction
from smduty.core.triage import outcomes
from smduty.core.triage import queue as triage

NOW = datetime(2026, 11, 21, 8, 30, tzinfo=UTC)


def add(db, text: str, author: str = "Jo Public") -> int:
    writer = MentionWriter(db, ruleset_for(db), "Test feed", NOW)
    writer.add(RawMention(text=text, author=author, url=f"https://x.com/jo/status/{len(text)}"))
    writer.close()
    return db.execute("SELECT max(id) FROM mentions").fetchone()[0]


def handled_days_ago(db, mention_id: int, days: int) -> None:
    outcomes.dismiss(db, "Ana", mention_id, "not for us")
    with transaction(db):
        db.execute(
            "UPDATE mentions SET updated_at = ? WHERE id = ?",
            (utc_text(NOW - timedelta(days=days)), mention_id),
        )


def test_purge_redacts_only_old_handled_mentions_and_counts_still_add_up(db, db_path):
    old = add(db, "Council tax bill wrong again, call me on 07700 900123 about it")
    recent = add(db, "Bins missed on Mill Road")
    still_open = add(db, "Library closed early today")
    in_incident = add(db, "Someone will get hurt at that junction")
    for mention_id in (old, in_incident):
        handled_days_ago(db, mention_id, 120)
    handled_days_ago(db, recent, 10)
    found = incidents.start(db, "Ana", "Junction", mention_id=in_incident)
    before = triage.count(db, triage.Filters(status="all", rating="any"))
    ratings = db.execute("SELECT id, rating, status FROM mentions ORDER BY id").fetchall()

    dry = CliRunner().invoke(main, ["--db", str(db_path), "purge", "--dry-run", "--json"])
    assert json.loads(dry.output)["mentions"] == 1
    assert db.execute("SELECT text FROM mentions WHERE id = ?", (old,)).fetchone()[0] != REDACTED

    done = purge(db, "Ana", NOW, 90)
    assert done.mentions == 1
    row = db.execute("SELECT title, text, author, url, key FROM mentions WHERE id = ?", (old,))
    title, text, author, url, key = row.fetchone()
    assert (title, text, author, url) == ("", REDACTED, "", "") and key  # key kept: no re-import
    assert not db.execute(
        "SELECT 1 FROM mention_matches WHERE mention_id = ? AND matched != ''", (old,)
    ).fetchone()
    hits = db.execute("SELECT rowid FROM mentions_fts WHERE mentions_fts MATCH '07700'")
    assert hits.fetchall() == []  # gone from the search index too
    for kept in (recent, still_open, in_incident):
        assert db.execute("SELECT text FROM mentions WHERE id = ?", (kept,)).fetchone()[0] != (
            REDACTED
        )
    assert triage.count(db, triage.Filters(status="all", rating="any")) == before
    assert db.execute("SELECT id, rating, status FROM mentions ORDER BY id").fetchall() == ratings
    assert purge(db, "Ana", NOW, 90).mentions == 0  # once
    actions = [r[0] for r in db.execute("SELECT action FROM audit_log WHERE action LIKE 'rec%'")]
    assert actions == ["records.purge"]
    assert found.id


def test_personal_data_is_masked_in_incident_reports_unless_asked(db, db_path):
    text = "My neighbour Jane lives at 14 Mill Lane, call her on 07700 900123 and sort it"
    mention_id = add(db, text)
    matched = db.execute(
        "SELECT count(*) FROM mention_matches WHERE mention_id = ? AND category = 'personal_data'",
        (mention_id,),
    ).fetchone()[0]
    assert matched, "the flag rules should find the phone number"
    found = incidents.start(db, "Ana", "Doxxing", mention_id=mention_id)
    masked = report_json(db, found.id)["linked_mentions"][0]["text"]
    assert "07700 900123" not in masked and PERSONAL in masked
    assert "07700 900123" not in report_markdown(db, found.id)
    full = CliRunner().invoke(
        main,
        ["--db", str(db_path), "incident", "report", str(found.id), "--format", "json",
         "--include-personal-data"],
    )  # fmt: skip
    assert "07700 900123" in json.loads(full.output)["linked_mentions"][0]["text"]
