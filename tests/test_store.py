"""The store: file safety, pragmas, migrations, refusals and all-or-nothing writes."""

from __future__ import annotations

import sqlite3
import stat
import subprocess
import sys

import pytest

from smduty.core.migrations import LATEST
from smduty.core.records import audit
from smduty.core.records.chain import verify
from smduty.core.staff import add_staff
from smduty.core.store import (
    StoreError,
    TooSlow,
    connect,
    schema_version,
    time_limit,
    transaction,
)


def test_new_database_is_private_and_configured(db_path):
    db = connect(db_path)
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert schema_version(db) == LATEST
    db.close()


def test_parent_folders_are_created(tmp_path):
    path = tmp_path / "a" / "b" / "smduty.db"
    connect(path).close()
    assert path.exists()


def test_first_schema_upgrades_and_keeps_data(db_path):
    old = connect(db_path, migrate_to=1)
    assert schema_version(old) == 1
    # Written as that version wrote them (today's code writes today's schema).
    old.execute(
        "INSERT INTO staff (name, phone, created_at) VALUES ('Jo Bloggs', '01632 000000',"
        " '2026-01-05T09:00:00Z')"
    )
    for n in range(3):
        old.execute(
            "INSERT INTO audit_log (at, actor, action, entity, entity_id, after_json) VALUES"
            " ('2026-01-05T09:00:00Z', 'tester', 'staff.add', 'staff', ?, '{}')",
            (n,),
        )
    assert (
        old.execute("SELECT count(*) FROM sqlite_master WHERE name = 'channel_checks'").fetchone()[
            0
        ]
        == 0
    )
    old.close()

    upgraded = connect(db_path)
    assert schema_version(upgraded) == LATEST
    row = upgraded.execute("SELECT name, phone FROM staff").fetchone()
    assert tuple(row) == ("Jo Bloggs", "01632 000000")
    upgraded.execute("SELECT * FROM channel_checks").fetchall()  # the new table exists
    assert verify(upgraded).ok and verify(upgraded).rows == 3  # the old rows sealed in the chain
    upgraded.close()


def test_database_from_newer_smduty_is_refused(db_path):
    connect(db_path).close()
    raw = sqlite3.connect(db_path)
    raw.execute(f"PRAGMA user_version = {LATEST + 5}")
    raw.commit()
    raw.close()
    with pytest.raises(StoreError, match="newer smduty"):
        connect(db_path)


def test_another_applications_database_is_refused_and_untouched(tmp_path):
    path = tmp_path / "other.db"
    raw = sqlite3.connect(path)
    raw.execute("CREATE TABLE invoices (id INTEGER)")
    raw.commit()
    raw.close()
    with pytest.raises(StoreError, match="not an smduty database"):
        connect(path)
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == 0
    raw.close()


def test_garbage_file_is_refused(tmp_path):
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StoreError, match="not an smduty database or is damaged"):
        connect(path)


@pytest.mark.parametrize("content", [b"garbage" * 200, None])
def test_cli_bad_database_is_one_line_exit_2(tmp_path, content):
    path = tmp_path / "bad.db"
    if content is None:
        raw = sqlite3.connect(path)
        raw.execute("CREATE TABLE foreign_thing (x)")
        raw.commit()
        raw.close()
    else:
        path.write_bytes(content)
    result = subprocess.run(
        [sys.executable, "-m", "smduty", "--db", str(path), "channels", "list"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert str(path) in result.stderr


def test_failed_write_leaves_nothing(db):
    with pytest.raises(RuntimeError), transaction(db):
        add_staff(db, "tester", "Half Written")
        raise RuntimeError("crash mid-write")
    assert db.execute("SELECT count(*) FROM staff").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM audit_log").fetchone()[0] == 0


def test_audit_row_is_written_with_the_change(db):
    member = add_staff(db, "Priya", "Jo Bloggs", ["comms_officer"])
    [entry] = audit.entries(db, "staff", member.id)
    assert entry.actor == "Priya"
    assert entry.action == "staff.add"
    assert entry.before is None
    assert entry.after["name"] == "Jo Bloggs"
    assert entry.at.endswith("Z")


def test_audit_refuses_writes_outside_a_transaction(db):
    with pytest.raises(RuntimeError):
        audit.record(db, "x", "y", "z", 1)


def test_time_limit_stops_a_long_read_and_leaves_the_connection_as_it_was(tmp_path):
    db = connect(tmp_path / "t.db")
    endless = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT max(i) FROM n"
    with pytest.raises(TooSlow), time_limit(db, 0.02):
        db.execute(endless).fetchone()
    # The handler is gone: a read after it runs to the end however long it takes.
    counted = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300000)"
    assert db.execute(counted + " SELECT count(*) FROM n").fetchone()[0] == 300_000
    with time_limit(db, 5) as quick:
        assert quick.execute("SELECT count(*) FROM channels").fetchone()[0] == 0
    with pytest.raises(TooSlow), time_limit(db, 0):  # no time at all: not even a short read
        db.execute("SELECT 1").fetchone()
    db.close()


def test_bulk_writing_settings_are_set_back_even_after_a_failure(db):
    from smduty.core.store import BULK_CACHE_KB, BULK_CHECKPOINT_PAGES, bulk_writing

    def settings():
        return (
            db.execute("PRAGMA cache_size").fetchone()[0],
            db.execute("PRAGMA wal_autocheckpoint").fetchone()[0],
        )

    before = settings()
    assert before != (-BULK_CACHE_KB, BULK_CHECKPOINT_PAGES)
    with bulk_writing(db):
        assert settings() == (-BULK_CACHE_KB, BULK_CHECKPOINT_PAGES)
    assert settings() == before
    with pytest.raises(RuntimeError), bulk_writing(db):
        raise RuntimeError("the import failed")
    assert settings() == before
