"""Opens the one SQLite database, keeps its schema current and wraps every write in a transaction.

The file is created 0600 because it holds staff contact details. Nothing is opened at import time.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from smduty.core.errors import SmdutyError
from smduty.core.migrations import LATEST, MIGRATIONS

# "SMDT": marks the file as ours, so another application's database is never migrated.
APPLICATION_ID = 0x534D4454
# How long a statement waits for a lock inside SQLite (reads in WAL mode almost never wait).
BUSY_TIMEOUT_MS = 5000
# A write waits this long in all for another process's write (a long import, a backup) to
# finish, trying again with backoff, before it gives up and says so.
WRITE_WAIT_SECONDS = 30.0
_ATTEMPT_TIMEOUT_MS = 200


class StoreError(Exception):
    """The database cannot be used; the message is one line for the operator."""


class StoreBusy(SmdutyError):
    """Another process held the write lock for the whole wait: nothing was written."""


class Connection(sqlite3.Connection):
    """smduty's connection: knows whom to tell when a write has to wait for another's."""

    on_wait: Callable[[], None] | None = None
    write_wait_seconds: float = WRITE_WAIT_SECONDS


def _create_private_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)


def _configure(db: sqlite3.Connection) -> None:
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA synchronous = NORMAL")
    db.row_factory = sqlite3.Row


def schema_version(db: sqlite3.Connection) -> int:
    return db.execute("PRAGMA user_version").fetchone()[0]


def migrate(db: sqlite3.Connection, target: int = LATEST) -> int:
    """Bring the schema up to `target` in one transaction; returns the version reached."""
    with transaction(db):
        current = schema_version(db)
        for version in range(current + 1, target + 1):
            step = MIGRATIONS[version - 1]
            if callable(step):
                step(db)
                continue
            for statement in _statements(step):
                db.execute(statement)
        if target > current:
            db.execute(f"PRAGMA user_version = {int(target)}")
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    return max(current, target)


def _statements(script: str) -> Iterator[str]:
    # executescript() would commit the open transaction; split on complete statements instead.
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                yield buffer.strip()
            buffer = ""
    if buffer.strip():
        yield buffer.strip()


def connect(path: Path | str, *, migrate_to: int | None = LATEST) -> sqlite3.Connection:
    """Open (creating if needed) an smduty database; raises StoreError with a plain reason."""
    path = Path(path)
    is_new = not path.exists() or path.stat().st_size == 0
    if path.exists() and path.is_dir():
        raise StoreError(f"{path} is a folder, not a database file")
    try:
        if is_new:
            _create_private_file(path)
        # Store gives each thread its own connection; False only lets close() run on the main one.
        db = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, factory=Connection
        )
    except (OSError, sqlite3.Error) as exc:
        raise StoreError(f"cannot open {path}: {exc}") from None
    try:
        _configure(db)
        app_id = db.execute("PRAGMA application_id").fetchone()[0]
        tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        version = schema_version(db)
    except sqlite3.DatabaseError as exc:
        db.close()
        raise StoreError(f"{path} is not an smduty database or is damaged ({exc})") from None
    if app_id != APPLICATION_ID and tables:
        db.close()
        raise StoreError(f"{path} is not an smduty database (it belongs to another application)")
    if version > LATEST:
        db.close()
        raise StoreError(
            f"{path} was written by a newer smduty (schema {version}; this one knows up to "
            f"{LATEST}): upgrade smduty to open it"
        )
    try:
        os.chmod(path, 0o600)
        db.execute("PRAGMA journal_mode = WAL")
        if migrate_to is not None and version < migrate_to:
            migrate(db, migrate_to)
    except (OSError, sqlite3.DatabaseError) as exc:
        db.close()
        raise StoreError(f"{path} cannot be prepared: {exc}") from None
    return db


# A big import's connection, while it writes: a 16 MB page cache instead of 2 MB (the indexes'
# pages stay in memory from one short transaction to the next) and a checkpoint every 20,000
# pages of WAL (80 MB) instead of every 1,000, which made every other commit also copy the WAL
# into the database. Together 0.3-0.7 s of a 200,000-row import's 4.0-4.7 s of writing; the
# WAL stays under a tenth of a million-mention database (bench/RESULTS.md).
BULK_CACHE_KB = 16_384
BULK_CHECKPOINT_PAGES = 20_000


@contextmanager
def bulk_writing(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """The connection set for a big import, and set back as it was afterwards."""
    cache = db.execute("PRAGMA cache_size").fetchone()[0]
    checkpoint = db.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
    db.execute(f"PRAGMA cache_size = {-BULK_CACHE_KB}")
    db.execute(f"PRAGMA wal_autocheckpoint = {BULK_CHECKPOINT_PAGES}")
    try:
        yield db
    finally:
        db.execute(f"PRAGMA cache_size = {int(cache)}")
        db.execute(f"PRAGMA wal_autocheckpoint = {int(checkpoint)}")


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write: BEGIN IMMEDIATE takes the write lock first, so read-modify-write is safe.

    Nested use joins the outer transaction, so a core function can call another.
    """
    if db.in_transaction:
        yield db
        return
    begin_write(db)
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    else:
        db.execute("COMMIT")


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


def begin_write(db: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE, waiting with backoff while another process writes.

    The first time it has to wait, the connection's `on_wait` is told (the TUI shows "waiting
    for another officer's change…", the CLI says so on stderr). After `write_wait_seconds` it
    raises StoreBusy: the caller's change is not made, and it says so plainly.
    """
    limit = getattr(db, "write_wait_seconds", WRITE_WAIT_SECONDS)
    deadline = time.monotonic() + limit
    delay = 0.02
    told = False
    db.execute(f"PRAGMA busy_timeout = {_ATTEMPT_TIMEOUT_MS}")
    try:
        while True:
            try:
                db.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc):
                    raise
            left = deadline - time.monotonic()
            if left <= 0:
                raise StoreBusy(
                    f"another change held the database for {limit:.0f} s (an import, a backup "
                    "or another officer's save): nothing was saved; try again"
                )
            note_waiting(db)
            if not told:
                told = True
                hook = getattr(db, "on_wait", None)
                if hook is not None:
                    hook()
            time.sleep(min(delay, left))
            delay = min(delay * 2, 0.05)  # never look away longer than an import's pause
    finally:
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


WAITING_SUFFIX = "-waiting"


def waiting_marker(db: sqlite3.Connection) -> Path | None:
    """The file next to the database that a write kept waiting touches, so that a long import
    (the only holder of the lock for more than a moment) knows to leave it free now rather than
    on a timetable. None for a database in memory."""
    row = db.execute("PRAGMA database_list").fetchone()
    return Path(row[2] + WAITING_SUFFIX) if row is not None and row[2] else None


def note_waiting(db: sqlite3.Connection) -> None:
    """Say (by touching the marker) that a write is waiting for the lock; never fails."""
    remembered = getattr(db, "__dict__", {})  # smduty's Connection keeps it
    try:
        if "_waiting_marker" not in remembered:
            remembered["_waiting_marker"] = waiting_marker(db)
        marker = remembered["_waiting_marker"]
        if marker is not None:
            os.close(os.open(marker, os.O_CREAT | os.O_WRONLY, 0o600))
            os.utime(marker)
    except (OSError, sqlite3.Error):
        pass


def someone_waiting(marker: Path | None, within: float = 1.0) -> bool:
    """Whether a write said it was waiting within the last `within` seconds."""
    if marker is None:
        return False
    try:
        return time.time() - marker.stat().st_mtime < within
    except OSError:
        return False


def integrity_problem(path: Path | str) -> str | None:
    """What SQLite's quick check finds wrong with the file, or None if it is sound."""
    try:
        db = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error as exc:
        return str(exc)
    try:
        rows = [r[0] for r in db.execute("PRAGMA quick_check(5)")]
    except sqlite3.DatabaseError as exc:
        return str(exc)
    finally:
        db.close()
    return None if rows == ["ok"] else "; ".join(rows)


class TooSlow(Exception):
    """A read ran past its time limit and was stopped."""


@contextmanager
def time_limit(db: sqlite3.Connection, seconds: float) -> Iterator[sqlite3.Connection]:
    """Reads inside stop with TooSlow once `seconds` have passed (SQLite's progress handler).

    For reads only: the UI reads small things on its own thread this way and hands whatever
    runs long to a worker, so a rare slow query never freezes the screen.
    """
    if seconds <= 0:
        raise TooSlow("no time allowed")
    deadline = time.perf_counter() + seconds
    db.set_progress_handler(lambda: time.perf_counter() > deadline, 2000)
    try:
        yield db
    except sqlite3.OperationalError as exc:
        if "interrupted" in str(exc):
            raise TooSlow(f"stopped after {seconds * 1000:.0f} ms") from exc
        raise
    finally:
        db.set_progress_handler(None, 0)


class Store:
    """The database at one path, with one connection per thread (TUI workers read off-thread)."""

    def __init__(self, path: Path | str, on_wait: Callable[[], None] | None = None) -> None:
        self.path = Path(path)
        self.on_wait = on_wait
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[tuple[threading.Thread, sqlite3.Connection]] = []

    def connection(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = connect(self.path)
            db.on_wait = self.on_wait
            self._local.db = db
            with self._lock:
                self._close_finished()
                self._all.append((threading.current_thread(), db))
        return db

    def _close_finished(self) -> None:
        """Connections of threads that have ended (each TUI worker runs on a thread of its own):
        closed as new ones open, or a day of use piles up a connection, and its page cache, per
        worker that ever ran."""
        alive = []
        for owner, db in self._all:
            if owner.is_alive():
                alive.append((owner, db))
            else:
                with contextlib.suppress(sqlite3.ProgrammingError):
                    db.close()
        self._all[:] = alive

    def close(self) -> None:
        """Close this thread's connection and those of finished threads.

        A connection still in use by a running worker is never closed from here: closing it
        under a running query crashes the process. It is dropped instead, and closes when its
        thread lets go of it.
        """
        me = threading.current_thread()
        with self._lock:
            for owner, db in self._all:
                if owner is me or not owner.is_alive():
                    with contextlib.suppress(sqlite3.ProgrammingError):
                        db.close()
            self._all.clear()
        self._local = threading.local()
