"""The schema, as numbered migrations. Each is applied once, in order, inside one transaction.

Never edit a migration that has shipped: add a new one. The position in MIGRATIONS is the
schema version stored in PRAGMA user_version. A migration is SQL, or a function of the
connection for changes SQL alone cannot make (cleaning stored text, re-keying).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable

# Columns holding who did something or a name shown everywhere: an actor stored before names
# were cleaned at entry may hold escape sequences that retitle or clear a terminal.
_NAME_COLUMNS = {
    "audit_log": ("actor",),
    "channel_checks": ("officer",),
    "duty_changes": ("actor",),
    "handover_notes": ("author", "acknowledged_by"),
    "mentions": ("assigned_to",),
    "moderation_actions": ("recorded_by",),
    "incidents": ("opened_by", "closed_by"),
    "incident_mentions": ("linked_by",),
    "incident_steps": ("updated_by",),
    "incident_timeline": ("actor",),
    "incident_notifications": ("recorded_by", "person"),
    "posting_stops": ("stopped_by", "resumed_by"),
    "staff": ("name",),
    "channels": ("name",),
    "sources": ("name",),
}
_CONTROL = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b.?"
    r"|[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"
)


def _clean_name(value: str | None) -> str | None:
    if value is None:
        return None
    cleaned = " ".join(_CONTROL.sub("", value).split())
    return cleaned or "unknown"


def clean_stored_names(db: sqlite3.Connection) -> None:
    """9: names and actors stored with control characters are cleaned, as entry now does."""
    db.create_function("smduty_clean_name", 1, _clean_name, deterministic=True)
    for table, columns in _NAME_COLUMNS.items():
        for column in columns:
            db.execute(
                f"UPDATE OR IGNORE {table} SET {column} = smduty_clean_name({column})"
                f" WHERE {column} IS NOT NULL AND {column} != smduty_clean_name({column})"
            )


def chain_audit_log(db: sqlite3.Connection) -> None:
    """Migration 13: who ran the command beside the name given, a hash chain over the audit log,
    and the database's own id (anchors kept outside name the database they belong to)."""
    import uuid

    from smduty.core.records.audit import seal

    db.execute("ALTER TABLE audit_log ADD COLUMN login TEXT NOT NULL DEFAULT ''")
    db.execute("ALTER TABLE audit_log ADD COLUMN hash TEXT")
    db.execute(
        "INSERT OR IGNORE INTO meta (key, value) VALUES ('database_id', ?)", (uuid.uuid4().hex,)
    )
    seal(db)


def rekey_mentions(db: sqlite3.Connection) -> None:
    """12: mentions keyed as ingest now keys them (links folded: x.com and twitter.com, share
    parameters gone; hashed keys with the title), and impossible dates made unknown, so an
    old database neither duplicates a post on re-import nor stops the queue on a bad date."""
    from smduty.core.monitoring.mentions import RawMention, mention_key, url_key

    db.execute(
        "UPDATE mentions SET published = ingested_at, published_unknown = 1"
        " WHERE julianday(published) IS NULL"
        " OR date(julianday(published)) != substr(published, 1, 10)"
    )
    taken = {row[0] for row in db.execute("SELECT key FROM mentions")}
    changes = []
    for row in db.execute(
        "SELECT id, key, url, title, text, author, published, published_unknown, source"
        " FROM mentions"
    ):
        mention_id, key, url, title, text, author, published, unknown, source = row
        new_key = key
        if not key.startswith("id:"):
            raw = RawMention("", url, title, text, author, None if unknown else published)
            new_key = mention_key(source, raw)
            if new_key != key and new_key in taken:
                new_key = key  # another row already holds it: keep this one as it was
            taken.add(new_key)
        changes.append((new_key, url_key(url), mention_id))
    db.executemany("UPDATE mentions SET key = ?, url_key = ? WHERE id = ?", changes)


def reopen_unlinked_escalations(db: sqlite3.Connection) -> None:
    """17: escalations made before escalating opened the incident in the same step recorded
    "incident to be opened" and left every list; those never linked to an incident go back to
    the open queue (in progress, as escalated with no incident), so a person sees them again."""
    import json

    from smduty.core.records.audit import record

    rows = db.execute(
        "SELECT id, outcome, assigned_to FROM mentions WHERE status = 'escalated'"
        " AND json_extract(outcome, '$.incident') IS NULL"
        " AND id NOT IN (SELECT mention_id FROM incident_mentions)"
    ).fetchall()
    for mention_id, outcome, assigned in rows:
        before = json.loads(outcome or "{}")
        after = {
            **before,
            "reopened": "escalated with no incident opened: open one, or record another outcome",
        }
        db.execute(
            "UPDATE mentions SET status = 'in_progress', outcome = ? WHERE id = ?",
            (json.dumps(after, ensure_ascii=False), mention_id),
        )
        record(
            db,
            "smduty (upgrade)",
            "mention.reopen",
            "mention",
            mention_id,
            {"status": "escalated", "assigned_to": assigned, **before},
            {"status": "in_progress", "assigned_to": assigned, **after},
        )


MIGRATIONS: list[str | Callable[[sqlite3.Connection], None]] = [
    # 1: people, the channel register and the audit log.
    """
    CREATE TABLE staff (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        email TEXT NOT NULL DEFAULT '',
        phone TEXT NOT NULL DEFAULT '',
        out_of_hours_phone TEXT NOT NULL DEFAULT '',
        team TEXT NOT NULL DEFAULT '',
        left_on TEXT,
        notes TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL
    );
    CREATE TABLE staff_roles (
        staff_id INTEGER NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
        role TEXT NOT NULL,
        PRIMARY KEY (staff_id, role)
    );
    CREATE TABLE channels (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        platform TEXT NOT NULL,
        handle TEXT NOT NULL DEFAULT '',
        url TEXT NOT NULL DEFAULT '',
        service TEXT NOT NULL DEFAULT '',
        purpose TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'proposed',
        proposal_step TEXT,
        comms_admin_access INTEGER NOT NULL DEFAULT 0,
        admin_verified_on TEXT,
        authorised_by TEXT NOT NULL DEFAULT '',
        authorised_on TEXT,
        checklist_done INTEGER NOT NULL DEFAULT 0,
        business_case TEXT NOT NULL DEFAULT 'not_needed',
        im_notified_on TEXT,
        last_reviewed_on TEXT,
        review_interval_months INTEGER NOT NULL DEFAULT 6,
        passwords_changed_on TEXT,
        notes TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE channel_managers (
        channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
        staff_id INTEGER NOT NULL REFERENCES staff(id),
        trained_on TEXT,
        added_on TEXT NOT NULL,
        removed_on TEXT,
        PRIMARY KEY (channel_id, staff_id)
    );
    CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        entity TEXT NOT NULL,
        entity_id TEXT,
        before_json TEXT,
        after_json TEXT
    );
    CREATE INDEX audit_log_entity ON audit_log(entity, entity_id);
    """,
    # 2: every check of a channel is kept; the dormancy rule and the daily check read it.
    """
    CREATE TABLE channel_checks (
        id INTEGER PRIMARY KEY,
        channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
        duty_date TEXT NOT NULL,
        checked_at TEXT NOT NULL,
        officer TEXT NOT NULL,
        outcome TEXT NOT NULL DEFAULT 'nothing_to_action',
        note TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX channel_checks_by_channel ON channel_checks(channel_id, checked_at);
    CREATE INDEX channel_checks_by_date ON channel_checks(duty_date, channel_id);
    """,
    # 3: the duty rota: who may do which duty, leave, one officer per date, swaps, handovers.
    """
    CREATE TABLE rota_officers (
        staff_id INTEGER PRIMARY KEY REFERENCES staff(id),
        weekday INTEGER NOT NULL DEFAULT 1,
        weekend INTEGER NOT NULL DEFAULT 1
    );
    CREATE TABLE leave (
        id INTEGER PRIMARY KEY,
        staff_id INTEGER NOT NULL REFERENCES staff(id),
        start_date TEXT NOT NULL,
        end_date TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL
    );
    CREATE INDEX leave_by_staff ON leave(staff_id, start_date);
    CREATE TABLE duty_days (
        duty_date TEXT PRIMARY KEY,
        block_start TEXT,
        officer_id INTEGER REFERENCES staff(id),
        source TEXT NOT NULL DEFAULT 'generated',
        updated_at TEXT NOT NULL
    );
    CREATE TABLE duty_changes (
        id INTEGER PRIMARY KEY,
        duty_date TEXT NOT NULL,
        from_officer_id INTEGER REFERENCES staff(id),
        to_officer_id INTEGER REFERENCES staff(id),
        reason TEXT NOT NULL,
        forced INTEGER NOT NULL DEFAULT 0,
        actor TEXT NOT NULL,
        at TEXT NOT NULL
    );
    CREATE INDEX duty_changes_by_date ON duty_changes(duty_date);
    CREATE TABLE handover_notes (
        id INTEGER PRIMARY KEY,
        block_start TEXT NOT NULL,
        author TEXT NOT NULL,
        text TEXT NOT NULL,
        created_at TEXT NOT NULL,
        acknowledged_by TEXT,
        acknowledged_at TEXT
    );
    CREATE INDEX handover_by_block ON handover_notes(block_start);
    """,
    # 4: mention sources (feeds and export files), mentions, why each was flagged.
    """
    CREATE TABLE sources (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        kind TEXT NOT NULL CHECK (kind IN ('feed', 'file')),
        location TEXT NOT NULL,
        format TEXT NOT NULL DEFAULT 'auto',
        preset TEXT NOT NULL DEFAULT '',
        column_map TEXT NOT NULL DEFAULT '',
        interval_minutes INTEGER NOT NULL DEFAULT 15,
        enabled INTEGER NOT NULL DEFAULT 1,
        last_polled TEXT,
        last_status TEXT,
        last_error TEXT,
        last_warning TEXT,
        failures INTEGER NOT NULL DEFAULT 0,
        next_poll TEXT,
        etag TEXT,
        last_modified TEXT,
        created_at TEXT NOT NULL
    );
    CREATE TABLE mentions (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        url_key TEXT NOT NULL DEFAULT '',
        source_item_id TEXT NOT NULL DEFAULT '',
        url TEXT NOT NULL DEFAULT '',
        title TEXT NOT NULL DEFAULT '',
        text TEXT NOT NULL DEFAULT '',
        author TEXT NOT NULL DEFAULT '',
        published TEXT NOT NULL,
        source TEXT NOT NULL,
        ingested_at TEXT NOT NULL,
        about_council INTEGER NOT NULL DEFAULT 0,
        risk INTEGER NOT NULL DEFAULT 0,
        rating TEXT NOT NULL DEFAULT 'none',
        rating_rank INTEGER NOT NULL DEFAULT 0,
        categories TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'new',
        assigned_to TEXT,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX mentions_by_url ON mentions(url_key) WHERE url_key != '';
    CREATE INDEX mentions_queue ON mentions(status, rating_rank DESC, published, id);
    CREATE TABLE mention_sources (
        mention_id INTEGER NOT NULL REFERENCES mentions(id) ON DELETE CASCADE,
        source TEXT NOT NULL,
        seen_at TEXT NOT NULL,
        PRIMARY KEY (mention_id, source)
    ) WITHOUT ROWID;
    CREATE TABLE mention_matches (
        mention_id INTEGER NOT NULL REFERENCES mentions(id) ON DELETE CASCADE,
        rule TEXT NOT NULL,
        category TEXT NOT NULL,
        matched TEXT NOT NULL,
        field TEXT NOT NULL,
        start INTEGER NOT NULL,
        end INTEGER NOT NULL,
        likelihood INTEGER NOT NULL,
        consequence INTEGER NOT NULL
    );
    CREATE INDEX matches_by_mention ON mention_matches(mention_id);
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    """,
    # 5: triage: outcome facts and snoozes on mentions, full-text search, the moderation log.
    """
    ALTER TABLE mentions ADD COLUMN outcome TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE mentions ADD COLUMN snoozed_until TEXT;
    CREATE INDEX mentions_snoozed ON mentions(snoozed_until) WHERE snoozed_until IS NOT NULL;
    CREATE VIRTUAL TABLE mentions_fts USING fts5(
        title, text, author, content='mentions', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2'
    );
    INSERT INTO mentions_fts(mentions_fts) VALUES ('rebuild');
    CREATE TRIGGER mentions_fts_insert AFTER INSERT ON mentions BEGIN
        INSERT INTO mentions_fts(rowid, title, text, author)
        VALUES (new.id, new.title, new.text, new.author);
    END;
    CREATE TRIGGER mentions_fts_delete AFTER DELETE ON mentions BEGIN
        INSERT INTO mentions_fts(mentions_fts, rowid, title, text, author)
        VALUES ('delete', old.id, old.title, old.text, old.author);
    END;
    CREATE TRIGGER mentions_fts_update AFTER UPDATE OF title, text, author ON mentions BEGIN
        INSERT INTO mentions_fts(mentions_fts, rowid, title, text, author)
        VALUES ('delete', old.id, old.title, old.text, old.author);
        INSERT INTO mentions_fts(rowid, title, text, author)
        VALUES (new.id, new.title, new.text, new.author);
    END;
    CREATE TABLE moderation_actions (
        id INTEGER PRIMARY KEY,
        taken_at TEXT NOT NULL,
        platform TEXT NOT NULL,
        channel TEXT NOT NULL,
        action TEXT NOT NULL CHECK (action IN ('hide', 'delete', 'block')),
        user_name TEXT NOT NULL,
        content TEXT NOT NULL,
        breach TEXT NOT NULL,
        evidence TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        mention_id INTEGER REFERENCES mentions(id) ON DELETE SET NULL,
        recorded_by TEXT NOT NULL,
        recorded_at TEXT NOT NULL
    );
    CREATE INDEX moderation_by_time ON moderation_actions(taken_at, id);
    """,
    # 6: new mentions are indexed for search a batch at a time by MentionWriter, four times
    # faster than a trigger firing per row (deletes and edits keep their triggers).
    """
    DROP TRIGGER mentions_fts_insert;
    """,
    # 7: incidents (the escalation walkthrough), deputies for escalation contacts, and the
    # council-wide "scheduled posts stopped" state with its history.
    """
    ALTER TABLE staff ADD COLUMN deputy_id INTEGER REFERENCES staff(id);
    CREATE TABLE incidents (
        id INTEGER PRIMARY KEY,
        title TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        severity TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'monitoring', 'closed')),
        channel TEXT NOT NULL DEFAULT '',
        playbook_json TEXT NOT NULL,
        opened_by TEXT NOT NULL,
        opened_at TEXT NOT NULL,
        closed_by TEXT,
        closed_at TEXT,
        review_json TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX incidents_by_status ON incidents(status, opened_at);
    CREATE TABLE incident_mentions (
        incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
        mention_id INTEGER NOT NULL REFERENCES mentions(id),
        linked_by TEXT NOT NULL,
        linked_at TEXT NOT NULL,
        PRIMARY KEY (incident_id, mention_id)
    ) WITHOUT ROWID;
    CREATE INDEX incident_mentions_by_mention ON incident_mentions(mention_id);
    CREATE TABLE incident_steps (
        incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
        step_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending'
            CHECK (state IN ('pending', 'done', 'skipped', 'not_applicable')),
        facts_json TEXT NOT NULL DEFAULT '{}',
        reason TEXT NOT NULL DEFAULT '',
        updated_by TEXT,
        updated_at TEXT,
        PRIMARY KEY (incident_id, step_id)
    ) WITHOUT ROWID;
    CREATE TABLE incident_timeline (
        id INTEGER PRIMARY KEY,
        incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        kind TEXT NOT NULL,
        step_id TEXT,
        text TEXT NOT NULL
    );
    CREATE INDEX incident_timeline_by_incident ON incident_timeline(incident_id, at, id);
    CREATE TABLE incident_notifications (
        id INTEGER PRIMARY KEY,
        incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
        step_id TEXT,
        person TEXT NOT NULL,
        role TEXT NOT NULL DEFAULT '',
        how TEXT NOT NULL,
        told_at TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        recorded_by TEXT NOT NULL,
        recorded_at TEXT NOT NULL
    );
    CREATE INDEX incident_notifications_by_incident ON incident_notifications(incident_id);
    CREATE TABLE posting_stops (
        id INTEGER PRIMARY KEY,
        stopped_at TEXT NOT NULL,
        stopped_by TEXT NOT NULL,
        reason TEXT NOT NULL,
        incident_id INTEGER REFERENCES incidents(id),
        resumed_at TEXT,
        resumed_by TEXT,
        resume_note TEXT NOT NULL DEFAULT ''
    );
    CREATE UNIQUE INDEX posting_stops_one_open ON posting_stops((1)) WHERE resumed_at IS NULL;
    """,
    # 8: the search index merges its segments eight at a time instead of four: a quarter less
    # work per imported mention (200,000 rows: 1.15 s of indexing down to 0.86 s), at the
    # price of a few more segments for each search to read.
    """
    INSERT INTO mentions_fts(mentions_fts, rank) VALUES ('automerge', 8);
    """,
    # 9: stored names cleaned of control characters.
    clean_stored_names,
    # 10: each match keeps why it counted: the context near it and what raised or lowered it.
    """
    ALTER TABLE mention_matches ADD COLUMN why TEXT NOT NULL DEFAULT '';
    """,
    # 11: imports written in short transactions, visible when done (all or nothing); a post
    # whose date could not be read keeps its ingest time for order and says it is unknown.
    """
    CREATE TABLE imports (
        id INTEGER PRIMARY KEY,
        location TEXT NOT NULL,
        source TEXT NOT NULL,
        actor TEXT NOT NULL,
        host TEXT NOT NULL,
        pid INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('running', 'undoing', 'done', 'failed')),
        started_at TEXT NOT NULL,
        heartbeat_at TEXT NOT NULL,
        finished_at TEXT,
        first_id INTEGER NOT NULL,
        last_id INTEGER,
        counts TEXT NOT NULL DEFAULT '{}',
        warning TEXT,
        error TEXT
    );
    CREATE INDEX imports_unfinished ON imports(state) WHERE state != 'done';
    ALTER TABLE mention_sources ADD COLUMN import_id INTEGER;
    ALTER TABLE mentions ADD COLUMN published_unknown INTEGER NOT NULL DEFAULT 0;
    """,
    # 12: keys and links as ingest now makes them; impossible dates made unknown.
    rekey_mentions,
    # 13: the audit log becomes a hash chain; each row says which login ran the command.
    chain_audit_log,
    # 14: missed checks are facts, written when a deadline passes (rota.misses).
    """
    CREATE TABLE missed_checks (
        id INTEGER PRIMARY KEY,
        duty_date TEXT NOT NULL,
        channel_id INTEGER NOT NULL REFERENCES channels(id),
        channel TEXT NOT NULL,
        deadline TEXT NOT NULL,
        officer TEXT NOT NULL DEFAULT '',
        recorded_at TEXT NOT NULL,
        checked_late_at TEXT,
        reconstructed INTEGER NOT NULL DEFAULT 0,
        acknowledged_at TEXT,
        acknowledged_by TEXT,
        UNIQUE (duty_date, channel_id)
    );
    CREATE INDEX missed_checks_open ON missed_checks(duty_date) WHERE acknowledged_at IS NULL;
    """,
    # 15: response-target breaches are facts, kept after the mention is handled.
    """
    CREATE TABLE response_breaches (
        mention_id INTEGER PRIMARY KEY REFERENCES mentions(id) ON DELETE CASCADE,
        rating TEXT NOT NULL,
        target TEXT NOT NULL,
        due_at TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        handled_at TEXT,
        handled_as TEXT
    );
    CREATE INDEX response_breaches_by_due ON response_breaches(due_at);
    """,
    # 16: retention: when a handled mention's words were redacted (records.retention).
    """
    ALTER TABLE mentions ADD COLUMN redacted_at TEXT;
    CREATE INDEX mentions_to_redact ON mentions(updated_at) WHERE redacted_at IS NULL
        AND status IN ('responded', 'referred', 'no_engagement', 'escalated', 'dismissed');
    """,
    # 17: escalations that never got an incident come back to the open queue.
    reopen_unlinked_escalations,
    # 18: how many times a planned day changed hands: calendars send it as the event's SEQUENCE.
    """
    ALTER TABLE duty_days ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
    """,
    # 19: the line manager who agreed a proposed channel (000 A.3.5), by name.
    """
    ALTER TABLE channels ADD COLUMN line_manager TEXT NOT NULL DEFAULT '';
    """,
    # 20: the response assessment as walked for a mention: questions, answers, outcome.
    """
    CREATE TABLE mention_assessments (
        id INTEGER PRIMARY KEY,
        mention_id INTEGER NOT NULL REFERENCES mentions(id) ON DELETE CASCADE,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        answers_json TEXT NOT NULL,
        outcome TEXT NOT NULL,
        recommend TEXT NOT NULL
    );
    CREATE INDEX mention_assessments_by_mention ON mention_assessments(mention_id);
    """,
    # 21: pre-election periods (004 §4.2.6), each set and clear kept.
    """
    CREATE TABLE election_periods (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        start_date TEXT NOT NULL,
        end_date TEXT NOT NULL,
        set_by TEXT NOT NULL,
        set_at TEXT NOT NULL,
        cleared_at TEXT,
        cleared_by TEXT
    );
    """,
    # 22: who is standing as a candidate (a pre-election period's register warning, 004 §4.2.6).
    """
    ALTER TABLE staff ADD COLUMN standing INTEGER NOT NULL DEFAULT 0;
    """,
]

LATEST = len(MIGRATIONS)
