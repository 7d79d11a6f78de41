"""Imports (issue 17): a big import never blocks the team, is all or nothing, hides its rows
until done, survives its process being killed, and is in the audit log."""

from __future__ import annotations

import csv
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from smduty.core.monitoring.flag_load import ruleset_for
from smduty.core.monitoring.imports import pending_ranges
from smduty.core.monitoring.ingest import ingest_location
from smduty.core.store import begin_write, connect
from smduty.core.triage import queue as triage


def write_export(path, rows: int, start: int = 0) -> None:
    when = datetime(2026, 11, 1, tzinfo=UTC)
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["id", "date", "author", "url", "text"])
        for n in range(start, start + rows):
            out.writerow([
                f"p{n}", (when + timedelta(seconds=n)).isoformat(), f"user{n % 97}",
                f"https://social.example/status/{n}",
                f"Bins not collected on Mill Road again, absolutely disgraceful service {n} "
                "and the council never answers the phone, waited all week for a reply",
            ])  # fmt: skip


def count(db_path, sql="SELECT count(*) FROM mentions") -> int:
    db = sqlite3.connect(db_path)
    try:
        return db.execute(sql).fetchone()[0]
    finally:
        db.close()


def smduty(db_path, *args, env):
    return subprocess.Popen(
        [sys.executable, "-m", "smduty", "--db", str(db_path), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@pytest.mark.parametrize(
    ("writer", "limit"),
    # smduty's own writes say they wait, and the import leaves the lock free at once; another
    # program's (sqlite's busy handler) gets it at the import's regular pause.
    [("smduty", 0.5), ("another program", 1.0)],
)
def test_a_big_import_lets_other_writes_through_within_a_second(tmp_path, db_path, writer, limit):
    connect(db_path).close()
    export = tmp_path / "big.csv"
    write_export(export, 200_000)
    child = smduty(db_path, "ingest", str(export), env=os.environ.copy())
    waits: list[float] = []
    if writer == "smduty":
        other = connect(db_path)
    else:
        other = sqlite3.connect(db_path, isolation_level=None, timeout=30)
    try:
        while child.poll() is None:
            began = time.monotonic()
            if writer == "smduty":
                begin_write(other)
            else:
                other.execute("BEGIN IMMEDIATE")
            waits.append(time.monotonic() - began)
            other.execute(
                "INSERT INTO meta (key, value) VALUES ('probe', ?) ON CONFLICT(key) DO UPDATE"
                " SET value = excluded.value",
                (str(began),),
            )
            other.execute("COMMIT")
            time.sleep(0.05)
    finally:
        other.close()
    out, err = child.communicate()
    assert child.returncode == 0, err.decode()
    assert count(db_path) == 200_000
    assert len(waits) >= 5, "the import ended before it could be watched"
    assert max(waits) < limit, f"longest wait {max(waits):.2f} s over {len(waits)} writes"


def test_an_import_is_hidden_until_done_and_a_killed_one_is_undone(tmp_path, db_path):
    db = connect(db_path)
    db.close()
    export = tmp_path / "big.csv"
    write_export(export, 60_000)
    child = smduty(db_path, "ingest", str(export), env=os.environ.copy())
    deadline = time.monotonic() + 60
    while count(db_path) < 5_000:  # some batches are in
        assert child.poll() is None and time.monotonic() < deadline, child.stderr.read()
        time.sleep(0.02)
    db = connect(db_path)
    assert pending_ranges(db), "a running import's rows must be marked as pending"
    assert triage.count(db, triage.Filters(rating="any")) == 0  # not shown yet
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert count(db_path) >= 5_000  # the rows are there, still hidden
    assert triage.count(db, triage.Filters(rating="any")) == 0
    small = tmp_path / "small.csv"
    write_export(small, 10, start=100_000)
    summary = ingest_location(db, ruleset_for(db), str(small))
    assert summary.error is None and summary.counts.new == 10
    assert count(db_path) == 10  # the killed import was undone first
    state = db.execute("SELECT state, error FROM imports ORDER BY id").fetchall()
    assert [s[0] for s in state] == ["failed", "done"]
    assert "stopped before it finished" in state[0][1]
    assert pending_ranges(db) == []
    db.close()


def test_an_import_waits_for_another_then_writes(tmp_path, db_path, monkeypatch):
    from smduty.core.monitoring import imports

    db = connect(db_path)
    lease = imports.begin(db, "someone", "elsewhere.csv", "other")
    small = tmp_path / "small.csv"
    write_export(small, 5)
    told: list[str] = []
    done: list = []

    def run() -> None:
        other = connect(db_path)
        done.append(ingest_location(other, ruleset_for(other), str(small), waiting=told.append))
        other.close()

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(0.8)
    assert not done and told == ["elsewhere.csv"]
    imports.finish(db, "someone", lease, {}, None)
    thread.join(10)
    assert done and done[0].counts.new == 5
    db.close()


def test_every_import_is_in_the_audit_log(tmp_path, db, smduty_home):
    small = tmp_path / "small.csv"
    write_export(small, 3)
    ingest_location(db, ruleset_for(db), str(small), actor="Priya Raman")
    bad = tmp_path / "bad.ndjson"
    bad.write_text('{"text": "fine"}\n{not json\n', encoding="utf-8")
    failed = ingest_location(db, ruleset_for(db), str(bad), actor="Priya Raman")
    assert failed.error and "line 2" in failed.error
    rows = db.execute(
        "SELECT actor, action, after_json FROM audit_log WHERE entity = 'import' ORDER BY id"
    ).fetchall()
    assert [(r[0], r[1]) for r in rows] == [
        ("Priya Raman", "mentions.import"),
        ("Priya Raman", "mentions.import_failed"),
    ]
    assert '"new": 3' in rows[0][2] and "small.csv" in rows[0][2]
    assert count(db.execute("PRAGMA database_list").fetchone()[2]) == 3


def test_feed_items_with_their_own_ids_sharing_one_link_are_all_kept(db, tmp_path):
    feed = tmp_path / "feed.rss"
    items = "".join(
        f"<item><guid>post-{n}</guid><title>Notice {n}</title>"
        "<link>https://council.example/news</link></item>"
        for n in range(5)
    )
    feed.write_text(f'<?xml version="1.0"?><rss version="2.0"><channel>{items}</channel></rss>')
    summary = ingest_location(db, ruleset_for(db), str(feed))
    assert summary.counts.new == 5
    # The same link from another source is still the same post.
    other = tmp_path / "other.ndjson"
    other.write_text('{"id": "x1", "url": "https://council.example/news", "text": "Notice"}\n')
    again = ingest_location(db, ruleset_for(db), str(other), source="another tool")
    assert again.counts.duplicates == 1 and again.counts.new == 0


def test_an_import_stopped_and_continued_like_ctrl_z_then_fg_completes(tmp_path, db_path):
    # A pipe write cut short by SIGSTOP/SIGCONT used to lose the rest of a reader's message:
    # the import failed with "a damaged message" after the operator's ctrl+z and fg.
    connect(db_path).close()
    export = tmp_path / "big.csv"
    write_export(export, 60_000)
    child = subprocess.Popen(
        [sys.executable, "-m", "smduty", "--db", str(db_path), "ingest", str(export)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, as a shell job is
    )
    time.sleep(1.0)
    for _ in range(40):
        if child.poll() is not None:
            break
        os.killpg(child.pid, signal.SIGSTOP)
        time.sleep(0.03)
        os.killpg(child.pid, signal.SIGCONT)
        time.sleep(0.07)
    out, err = child.communicate(timeout=120)
    assert child.returncode == 0, err.decode()
    assert count(db_path) == 60_000


def test_a_write_that_waits_says_so_and_the_import_leaves_the_lock_free(db_path):
    from smduty.core.store import note_waiting, someone_waiting, waiting_marker

    db = connect(db_path)
    marker = waiting_marker(db)
    assert marker == db_path.with_name(db_path.name + "-waiting")
    assert not someone_waiting(marker)
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    db.write_wait_seconds = 0.3
    from smduty.core.store import StoreBusy, transaction

    try:
        with transaction(db):
            pass
    except StoreBusy:
        pass
    holder.execute("ROLLBACK")
    assert someone_waiting(marker)  # the waiting write touched the marker
    assert oct(marker.stat().st_mode & 0o777) == "0o600"
    assert not someone_waiting(marker, within=0.0)
    note_waiting(sqlite3.connect(":memory:"))  # a database in memory has none: no error
    db.close()


def test_a_batch_looked_up_before_another_process_wrote_is_looked_up_again(db, monkeypatch):
    """The import finds duplicates before it takes the lock; a post stored in between (by a
    process outside the lease, with an id outside the import's) must still be found by a second
    look under the lock, not inserted twice or fail the import."""
    from smduty.core.monitoring import imports
    from smduty.core.monitoring.mentions import MentionWriter, RawMention

    rules = ruleset_for(db)
    lease = imports.begin(db, "tester", "/x.csv", "export")
    writer = MentionWriter(db, rules, "export", datetime(2026, 11, 21, tzinfo=UTC), lease)
    writer.add(RawMention("p1", "https://social.example/status/1", text="first post"))
    writer.add(RawMention("p2", "https://social.example/status/2", text="second post"))
    other = sqlite3.connect(db.execute("PRAGMA database_list").fetchone()[2], isolation_level=None)
    real_give_way = writer._give_way

    def another_process_writes_meanwhile():
        other.execute(
            "INSERT INTO mentions (id, key, url_key, url, text, published, source, ingested_at,"
            " updated_at) VALUES (1000000000, 'id:feed:z', 'https://social.example/status/2',"
            " 'https://social.example/status/2', 'second post', '2026-11-21T08:00:00Z', 'feed',"
            " '2026-11-21T08:00:00Z', '2026-11-21T08:00:00Z')"
        )
        real_give_way()

    monkeypatch.setattr(writer, "_give_way", another_process_writes_meanwhile)
    writer.close()
    imports.finish(db, "tester", lease, {}, None)
    assert (writer.counts.new, writer.counts.duplicates) == (1, 1)
    seen = db.execute("SELECT count(*) FROM mention_sources WHERE source = 'export'").fetchone()
    assert seen[0] == 1  # the feed's post remembers the export saw it too
    other.close()
