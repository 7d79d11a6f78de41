"""Records that hold (issue 18): the audit trail's hash chain and anchors, backups taken while
others write, restore that refuses a tampered file, and the health check."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time

import pytest
from click.testing import CliRunner

from smduty.cli import main
from smduty.core.records import audit, backups, chain
from smduty.core.records.audit import digest
from smduty.core.store import connect, transaction


def write(db, n: int, actor: str = "Ana") -> None:
    for i in range(n):
        with transaction(db):
            audit.record(db, actor, "test.change", "thing", i, {"v": i}, {"v": i + 1})


def raw(db_path) -> sqlite3.Connection:
    """The database as someone with the sqlite3 shell sees it: no smduty in between."""
    return sqlite3.connect(db_path, isolation_level=None)


def cli(db_path, *args):
    return CliRunner().invoke(main, ["--db", str(db_path), *args])


def test_an_intact_trail_verifies_and_records_the_login(db, db_path):
    write(db, 5)
    result = cli(db_path, "audit", "verify", "--json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    assert found["ok"] and found["rows"] >= 5
    entry = audit.entries(db, "thing", 4)[0]
    assert entry.actor == "Ana" and entry.login  # the name given and who ran it


def test_an_edited_row_is_named(db, db_path):
    write(db, 6)
    target = db.execute("SELECT max(id) - 2 FROM audit_log").fetchone()[0]
    raw(db_path).execute("UPDATE audit_log SET actor = 'Mallory' WHERE id = ?", (target,))
    result = cli(db_path, "audit", "verify")
    assert result.exit_code == 1
    assert f"audit row {target} was altered or inserted" in result.output


def test_a_deleted_row_is_named(db, db_path):
    write(db, 6)
    target = db.execute("SELECT max(id) - 3 FROM audit_log").fetchone()[0]
    raw(db_path).execute("DELETE FROM audit_log WHERE id = ?", (target,))
    verdict = chain.verify(db)
    assert not verdict.ok and verdict.row == target + 1
    assert f"row {target} of the audit trail removed" in verdict.problem


def test_an_inserted_row_is_named(db, db_path):
    write(db, 3)
    last = db.execute("SELECT max(id) FROM audit_log").fetchone()[0]
    raw(db_path).execute(
        "INSERT INTO audit_log (id, at, actor, action, entity, entity_id) VALUES"
        " (?, '2026-11-20T09:00:00Z', 'Ana', 'posts.stop', 'stop', '1')",
        (last + 1,),
    )
    verdict = chain.verify(db)
    assert not verdict.ok and verdict.row == last + 1


def test_rows_removed_from_the_end_show_against_the_anchor(db, db_path):
    write(db, 6)
    anchored = chain.anchor(db)
    write(db, 2)
    keep = anchored.id - 3
    raw(db_path).execute("DELETE FROM audit_log WHERE id > ?", (keep,))
    assert chain.verify(db, None).problem.startswith(f"the audit trail ends at row {keep}")
    result = cli(db_path, "audit", "verify", "--anchor", str(chain.default_anchors()))
    assert result.exit_code == 1 and "rows were removed from the end" in result.output


def test_a_trail_rewritten_whole_shows_against_the_anchor(db, db_path):
    write(db, 4)
    chain.anchor(db)
    # Someone who knows the hashing edits a row and recomputes every hash after it.
    shell = raw(db_path)
    shell.execute("UPDATE audit_log SET actor = 'Mallory' WHERE id = 2")
    previous = audit.GENESIS
    for row in shell.execute(
        "SELECT id, at, actor, login, action, entity, entity_id, before_json, after_json"
        " FROM audit_log ORDER BY id"
    ).fetchall():
        previous = digest(previous, row)
        shell.execute("UPDATE audit_log SET hash = ? WHERE id = ?", (previous, row[0]))
    verdict = chain.verify(db)
    assert not verdict.ok and "the trail was rewritten" in verdict.problem


def test_anchors_of_another_database_do_not_apply(db, tmp_path):
    other = connect(tmp_path / "other.db")
    write(other, 3)
    chain.anchor(other)
    write(db, 1)
    verdict = chain.verify(db)
    assert verdict.ok and verdict.anchors_checked == 0


def test_a_backup_during_three_writers_holds_every_committed_write(db, db_path, tmp_path):
    write(db, 1)
    stop = threading.Event()
    committed: dict[str, list[float]] = {}
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        mine = connect(db_path)
        committed[name] = []
        try:
            while not stop.is_set():
                with transaction(mine):
                    audit.record(mine, name, "test.write", "w", len(committed[name]))
                committed[name].append(time.monotonic())
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            mine.close()

    threads = [threading.Thread(target=writer, args=(f"w{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    began = time.monotonic()
    made = backups.backup(db, db_path, tmp_path / "during.db")
    time.sleep(0.2)
    stop.set()
    for t in threads:
        t.join()
    assert not errors, errors
    copy = sqlite3.connect(tmp_path / "during.db")
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    for name, times in committed.items():
        before = sum(1 for t in times if t < began)
        held = copy.execute("SELECT count(*) FROM audit_log WHERE actor = ?", (name,))
        assert held.fetchone()[0] >= before, f"{name}: a write committed before is missing"
    copy.close()
    check = backups.check_backup(tmp_path / "during.db")
    assert check.audit.ok and check.anchored and check.audit.anchors_checked == 1
    assert os.stat(made.path).st_mode & 0o777 == 0o600


def test_restore_refuses_a_tampered_backup_and_restores_a_good_one(db, db_path, tmp_path):
    write(db, 3, actor="Before")
    good = backups.backup(db, db_path, tmp_path / "good.db")
    bad = backups.backup(db, db_path, tmp_path / "bad.db")
    raw(bad.path).execute("UPDATE audit_log SET actor = 'Mallory' WHERE id = 2")
    refused = cli(db_path, "restore", bad.path, "--yes")
    assert refused.exit_code == 1 and "does not verify" in refused.output
    write(db, 2, actor="After")
    done = cli(db_path, "restore", good.path, "--yes")
    assert done.exit_code == 0, done.output
    fresh = connect(db_path)
    assert fresh.execute("SELECT count(*) FROM audit_log WHERE actor = 'After'").fetchone()[0] == 0
    assert chain.verify(fresh).ok  # the replaced database's anchors do not apply to it
    assert any("before-restore" in p.name for p in backups.list_backups(db_path))
    assert audit.entries(fresh, "backup")[0].action == "records.restore"
    fresh.close()


def test_restore_without_yes_off_a_terminal_changes_nothing(db, db_path, tmp_path):
    made = backups.backup(db, db_path, tmp_path / "b.db")
    result = cli(db_path, "restore", made.path)
    assert result.exit_code == 2 and "--yes" in result.output


def test_default_backups_rotate(db, db_path, monkeypatch):
    names = iter(f"2026120{n}-000000" for n in range(1, 10))

    class Clock:
        def __format__(self, spec):
            return next(names)

    monkeypatch.setattr(backups, "_wall_now", lambda: Clock())
    for _ in range(5):
        backups.backup(db, db_path, keep=3)
    kept = backups.list_backups(db_path)
    assert len(kept) == 3 and kept[0].name.endswith("20261205-000000.db")
    assert all(backups.anchor_path(p).exists() for p in kept)


def test_doctor_reports_each_check_and_fails_on_a_readable_file(db, db_path):
    result = cli(db_path, "doctor", "--json")
    checks = {f["check"]: f["state"] for f in json.loads(result.output)}
    assert set(checks) == {"integrity", "schema", "audit trail", "write-ahead log", "file mode",
                           "sources", "last backup"}  # fmt: skip
    assert checks["last backup"] == "warn" and result.exit_code == 0
    os.chmod(db_path, 0o644)
    opened = connect(db_path)  # opening puts the mode back to 0600 ...
    opened.close()
    os.chmod(db_path, 0o644)  # ... so spoil it again, behind smduty's back
    findings = {f.check: f for f in backups.doctor(db, db_path)}
    assert findings["file mode"].state == "fail"


@pytest.mark.parametrize("args", [["audit"], ["history"], ["audit", "--entity", "thing"]])
def test_the_trail_lists_who_and_which_login(db, db_path, args):
    write(db, 2)
    result = cli(db_path, *args, "--json")
    assert result.exit_code == 0
    rows = json.loads(result.output)
    assert rows and {"actor", "login", "action"} <= set(rows[0])
