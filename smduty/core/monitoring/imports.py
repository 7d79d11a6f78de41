"""Writing one location's mentions without blocking the team, and all or nothing.

An import first takes the import lease: one import writes mentions at a time, across every
process (a `smduty watch`, open TUIs, a cron job). It then writes its mentions a batch at a
time, each batch in its own short transaction, so an officer's save waits milliseconds rather
than the whole import. Until the import's own row says it is done, its mentions are invisible:
the queue leaves out the id range of any import not finished (`pending_ranges`). If it fails,
its mentions are deleted; if its process dies, the next import finds the lease stale and
deletes them. Either way a location that fails part way leaves the database as it was.

Mention ids are given by the writer (max(id) + 1 upwards), and only the lease holder writes
mentions, so an import's rows are one contiguous id range from its `first_id`.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
from collections.abc import Callable
from datetime import timedelta

import msgspec

from smduty.core.clock import now_utc, parse_stamp, stamp
from smduty.core.errors import SmdutyError
from smduty.core.records import audit
from smduty.core.store import transaction

# A running import writes a heartbeat with every batch; one this old belongs to a process that
# stopped (or hangs), and is undone by whoever wants the lease next.
STALE_AFTER = timedelta(seconds=120)
LEASE_WAIT_SECONDS = 600.0
UNDO_CHUNK = 2000


class ImportBusy(SmdutyError):
    """Another import held the lease for the whole wait: nothing was written."""


class Lease(msgspec.Struct, frozen=True):
    import_id: int
    first_id: int


def _host() -> str:
    return socket.gethostname()[:100]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


def pending_ranges(db: sqlite3.Connection) -> list[tuple[int, int]]:
    """Id ranges of mentions not to be shown: imports still running or being undone."""
    return [
        (first, last if last is not None else 2**63 - 1)
        for first, last in db.execute(
            "SELECT first_id, last_id FROM imports WHERE state IN ('running', 'undoing')"
        )
    ]


def not_pending(db: sqlite3.Connection) -> tuple[str, list[int]]:
    """SQL to add to a WHERE clause (`AND id NOT BETWEEN ...` per unfinished import), and its
    arguments: the mentions no count or list may show yet."""
    ranges = pending_ranges(db)
    return " AND id NOT BETWEEN ? AND ?" * len(ranges), [n for pair in ranges for n in pair]


def _stale(row: sqlite3.Row) -> bool:
    if row["host"] == _host() and not _alive(row["pid"]):
        return True
    return now_utc() - parse_stamp(row["heartbeat_at"]) > STALE_AFTER


def begin(
    db: sqlite3.Connection,
    actor: str,
    location: str,
    source: str,
    waiting: Callable[[str], None] | None = None,
    wait_seconds: float = LEASE_WAIT_SECONDS,
) -> Lease:
    """Take the import lease (waiting while another import writes), undoing any import whose
    process stopped, and record this import as running."""
    deadline = time.monotonic() + wait_seconds
    told = False
    while True:
        undo = []
        with transaction(db):
            holder = None
            for row in db.execute(
                "SELECT * FROM imports WHERE state IN ('running', 'undoing') ORDER BY id"
            ):
                if row["state"] == "undoing" or _stale(row):
                    undo.append(row["id"])
                else:
                    holder = row
            for import_id in undo:
                db.execute("UPDATE imports SET state = 'undoing' WHERE id = ?", (import_id,))
            if holder is None and not undo:
                first_id = (db.execute("SELECT max(id) FROM mentions").fetchone()[0] or 0) + 1
                now = stamp()
                cursor = db.execute(
                    "INSERT INTO imports (location, source, actor, host, pid, state, started_at,"
                    " heartbeat_at, first_id) VALUES (?, ?, ?, ?, ?, 'running', ?, ?, ?)",
                    (location[:2000], source, actor, _host(), os.getpid(), now, now, first_id),
                )
                return Lease(cursor.lastrowid, first_id)
        for import_id in undo:
            _undo(db, import_id, "the importing process stopped before it finished")
        if undo:
            continue
        if time.monotonic() > deadline:
            raise ImportBusy(
                f"another import ({holder['location']}, started {holder['started_at']}) was "
                f"still writing after {wait_seconds:.0f} s: nothing was read; try again"
            )
        if not told and waiting is not None:
            told = True
            waiting(str(holder["location"]))
        time.sleep(0.25)


def heartbeat(db: sqlite3.Connection, lease: Lease, last_id: int | None) -> None:
    """Inside a batch's transaction: still alive, and the ids written so far."""
    db.execute(
        "UPDATE imports SET heartbeat_at = ?, last_id = ? WHERE id = ?",
        (stamp(), last_id, lease.import_id),
    )


def finish(
    db: sqlite3.Connection, actor: str, lease: Lease, counts: dict, warning: str | None
) -> None:
    """The import's mentions become visible, in one small write, with its audit row."""
    with transaction(db):
        db.execute(
            "UPDATE imports SET state = 'done', finished_at = ?, counts = ?, warning = ?"
            " WHERE id = ?",
            (stamp(), json.dumps(counts), warning, lease.import_id),
        )
        row = db.execute(
            "SELECT location, source FROM imports WHERE id = ?", (lease.import_id,)
        ).fetchone()
        audit.record(
            db,
            actor,
            "mentions.import",
            "import",
            lease.import_id,
            None,
            {"location": row["location"], "source": row["source"], **counts,
             "warning": warning},
        )  # fmt: skip


def fail(db: sqlite3.Connection, actor: str, lease: Lease, error: str) -> None:
    """Undo the import's mentions and record why it failed (in the audit log too)."""
    with transaction(db):
        db.execute("UPDATE imports SET state = 'undoing' WHERE id = ?", (lease.import_id,))
    _undo(db, lease.import_id, error, actor)


def _undo(db: sqlite3.Connection, import_id: int, error: str, actor: str = "smduty") -> None:
    """Delete an import's mentions a chunk at a time (others may write in between)."""
    row = db.execute("SELECT first_id, last_id FROM imports WHERE id = ?", (import_id,)).fetchone()
    first, last = row["first_id"], row["last_id"]  # last: the last id a committed batch wrote
    while True:
        with transaction(db):
            ids = []
            if last is not None:
                ids = [
                    r[0]
                    for r in db.execute(
                        "SELECT id FROM mentions WHERE id BETWEEN ? AND ? ORDER BY id"
                        f" LIMIT {UNDO_CHUNK}",
                        (first, last),
                    )
                ]
            if not ids:
                db.execute("DELETE FROM mention_sources WHERE import_id = ?", (import_id,))
                db.execute(
                    "UPDATE imports SET state = 'failed', finished_at = ?, error = ? WHERE id = ?",
                    (stamp(), error[:1000], import_id),
                )
                audit.record(
                    db, actor, "mentions.import_failed", "import", import_id, None,
                    {"error": error[:1000]},
                )  # fmt: skip
                return
            db.execute("DELETE FROM mentions WHERE id BETWEEN ? AND ?", (ids[0], ids[-1]))
