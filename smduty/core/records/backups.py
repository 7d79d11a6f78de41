"""Backups, restore and a health check.

A backup is taken with SQLite's online backup API in one step: a consistent copy of the database
as one read transaction saw it, while the app, the poller and other commands go on writing (WAL
readers never block writers). Copying the .db file alone misses whatever is still in its -wal
file. Each backup is a single file (rollback journal, no -wal), private (0600), checked with
SQLite's quick check before it takes its name, with an anchor of its audit trail beside it
(`NAME.anchor`), so a backup verifies on its own.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec

from smduty.core.clock import stamp
from smduty.core.config import data_dir
from smduty.core.errors import SmdutyError
from smduty.core.migrations import LATEST
from smduty.core.records import audit, chain
from smduty.core.store import integrity_problem, schema_version, transaction

DEFAULT_KEEP = 14
BACKUP_EVERY = timedelta(hours=20)  # the scheduler's "daily": a day's run never skips one
WAL_WARN_BYTES = 256 * 1024 * 1024


def _wall_now() -> datetime:
    """Backups are files: their names and ages are in real time, even when the council clock
    is pinned (SMDUTY_NOW, for a demo or a test)."""
    return datetime.now(UTC)


class BackupFailed(SmdutyError):
    """A backup or restore could not be made; nothing was replaced."""


def backups_dir() -> Path:
    return data_dir() / "backups"


def _stem(db_path: Path) -> str:
    return db_path.stem or "smduty"


class BackupMade(msgspec.Struct, frozen=True):
    path: str
    bytes: int
    audit_rows: int
    head_hash: str
    at: str
    removed: tuple[str, ...] = ()


def anchor_path(backup: Path) -> Path:
    return backup.with_name(backup.name + ".anchor")


def backup(
    db: sqlite3.Connection,
    db_path: Path,
    dest: Path | None = None,
    actor: str = "smduty",
    keep: int = DEFAULT_KEEP,
    tag: str = "",
) -> BackupMade:
    """Copy the database to `dest` (default: a dated file in the backups folder, keeping the
    newest `keep` there). The copy is written under a temporary name and renamed once checked,
    so a failed backup leaves no file that looks like one."""
    rotating = dest is None
    when = _wall_now()
    if dest is None:
        suffix = f"-{tag}" if tag else ""
        dest = backups_dir() / f"{_stem(db_path)}-{when:%Y%m%d-%H%M%S}{suffix}.db"
    dest = dest.expanduser()
    if dest.exists() and not dest.is_file():
        raise BackupFailed(f"{dest}: is not a file")
    if dest.resolve() == Path(db_path).resolve():
        raise BackupFailed(f"{dest}: is the database itself")
    partial = dest.with_name(f".{dest.name}.partial")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        partial.unlink(missing_ok=True)
        os.close(os.open(partial, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600))
        target = sqlite3.connect(partial)
        try:
            db.backup(target)  # one step: the copy is one consistent snapshot
            target.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
            rows, head_hash = _head(target)
            database = chain.database_id(target)
        finally:
            target.close()
        problem = integrity_problem(partial)
        if problem:
            raise BackupFailed(f"{dest}: the copy failed its integrity check: {problem}")
        os.replace(partial, dest)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise BackupFailed(f"{dest}: cannot write the backup: {exc.strerror or exc}") from None
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise BackupFailed(f"{dest}: the backup failed: {exc}") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    made_at = stamp()
    side = chain.Anchor(database, rows, head_hash, made_at)
    _write_private(anchor_path(dest), json.dumps(msgspec.structs.asdict(side)) + "\n")
    with transaction(db):
        audit.record(
            db, actor, "records.backup", "backup", dest.name, None,
            {"path": str(dest), "bytes": dest.stat().st_size, "audit_head": rows},
        )  # fmt: skip
    chain.anchor(db)  # the live trail's head, outside the database, as of this backup
    removed = _rotate(db_path, keep) if rotating else ()
    return BackupMade(str(dest), dest.stat().st_size, rows, head_hash, made_at, removed)


def _head(db: sqlite3.Connection) -> tuple[int, str]:
    row = db.execute("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    return (row[0], row[1] or "") if row else (0, audit.GENESIS)


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)


def list_backups(db_path: Path) -> list[Path]:
    """This database's backups in the backups folder, newest first."""
    folder = backups_dir()
    if not folder.is_dir():
        return []
    found = [p for p in folder.glob(f"{_stem(db_path)}-*.db") if p.is_file()]
    return sorted(found, key=lambda p: p.name, reverse=True)


def _rotate(db_path: Path, keep: int) -> tuple[str, ...]:
    removed = []
    for old in list_backups(db_path)[keep:]:
        old.unlink(missing_ok=True)
        anchor_path(old).unlink(missing_ok=True)
        removed.append(str(old))
    return tuple(removed)


def backup_due(db_path: Path, now: datetime | None = None) -> bool:
    newest = list_backups(db_path)
    if not newest:
        return True
    made = datetime.fromtimestamp(newest[0].stat().st_mtime, tz=UTC)
    return (now or _wall_now()) - made >= BACKUP_EVERY


# --- restore -----------------------------------------------------------------------------


class Checked(msgspec.Struct, frozen=True):
    """What a backup file holds, checked before it may replace the database."""

    path: str
    schema: int
    audit: chain.Verdict
    anchored: bool  # a sidecar anchor was there and was checked


def check_backup(path: Path) -> Checked:
    """Integrity and the audit trail of a backup file (against its own anchor when it has one);
    BackupFailed saying why it must not be restored."""
    path = path.expanduser()
    if not path.is_file():
        raise BackupFailed(f"{path}: no such file")
    problem = integrity_problem(path)
    if problem:
        raise BackupFailed(f"{path}: fails SQLite's integrity check: {problem}")
    try:
        src = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise BackupFailed(f"{path}: cannot be opened: {exc}") from None
    try:
        schema = schema_version(src)
        if schema > LATEST:
            raise BackupFailed(f"{path}: was written by a newer smduty (schema {schema})")
        if schema < 13:
            raise BackupFailed(
                f"{path}: is from before the audit trail was chained (schema {schema}); it "
                "cannot be verified, so it is not restored"
            )
        side = anchor_path(path)
        verdict = chain.verify(src, side if side.exists() else None)
    except sqlite3.DatabaseError as exc:
        raise BackupFailed(f"{path}: is not an smduty database ({exc})") from None
    finally:
        src.close()
    if not verdict.ok:
        raise BackupFailed(f"{path}: its audit trail does not verify: {verdict.problem}")
    return Checked(str(path), schema, verdict, side.exists())


def restore(
    db: sqlite3.Connection,
    db_path: Path,
    source: Path,
    actor: str,
    keep: int = DEFAULT_KEEP,
) -> tuple[Checked, BackupMade]:
    """Replace the database's contents with a checked backup, after backing up what is there.
    The restored database gets a new id: anchors of the one it replaced no longer apply to it
    (they would show the rows written since the backup as removed), and it is anchored at
    once."""
    checked = check_backup(source)
    before = backup(db, db_path, actor=actor, keep=keep, tag="before-restore")
    try:
        src = sqlite3.connect(f"file:{source.expanduser().resolve()}?mode=ro", uri=True)
        try:
            src.backup(db)
        finally:
            src.close()
    except sqlite3.Error as exc:
        raise BackupFailed(
            f"{source}: the restore failed ({exc}); the database as it was is in {before.path}"
        ) from None
    import uuid

    with transaction(db):
        old_id = chain.database_id(db)
        new_id = uuid.uuid4().hex
        db.execute("UPDATE meta SET value = ? WHERE key = 'database_id'", (new_id,))
        audit.record(
            db, actor, "records.restore", "backup", Path(source).name,
            {"database_id": old_id, "previous_copy": before.path},
            {"database_id": new_id, "restored_from": str(source),
             "audit_head": checked.audit.head_id},
        )  # fmt: skip
    chain.anchor(db)
    return checked, before


# --- health ------------------------------------------------------------------------------


class Finding(msgspec.Struct, frozen=True):
    check: str
    state: str  # "ok", "warn" or "fail"
    detail: str


def doctor(db: sqlite3.Connection, db_path: Path, now: datetime | None = None) -> list[Finding]:
    """Everything worth knowing about the database's health, one finding per check."""
    now = now or _wall_now()
    found: list[Finding] = []
    problem = integrity_problem(db_path)
    found.append(Finding("integrity", "fail" if problem else "ok", problem or "quick check ok"))
    version = schema_version(db)
    found.append(
        Finding(
            "schema",
            "ok" if version == LATEST else "fail",
            f"version {version}" + ("" if version == LATEST else f" (this smduty: {LATEST})"),
        )
    )
    verdict = chain.verify(db)
    detail = (
        f"{verdict.rows} rows, {verdict.anchors_checked} anchors checked"
        if verdict.ok
        else verdict.problem
    )
    if verdict.ok and verdict.notes:
        detail += f"; {verdict.notes[0]}"
    found.append(Finding("audit trail", "ok" if verdict.ok else "fail", detail))
    wal = Path(f"{db_path}-wal")
    size = wal.stat().st_size if wal.exists() else 0
    found.append(
        Finding(
            "write-ahead log",
            "warn" if size > WAL_WARN_BYTES else "ok",
            f"{size / 1_048_576:.1f} MB",
        )
    )
    mode = stat.S_IMODE(os.stat(db_path).st_mode)
    found.append(
        Finding(
            "file mode",
            "ok" if mode & 0o077 == 0 else "fail",
            f"{mode:04o}" + ("" if mode & 0o077 == 0 else " (others can read it: chmod 600)"),
        )
    )
    failing = [
        r[0] for r in db.execute("SELECT name FROM sources WHERE last_status = 'error' LIMIT 20")
    ]
    found.append(
        Finding(
            "sources",
            "warn" if failing else "ok",
            f"{len(failing)} in error: {', '.join(failing)}" if failing else "none in error",
        )
    )
    backups = list_backups(db_path)
    if not backups:
        found.append(Finding("last backup", "warn", "none yet: run `smduty backup`"))
    else:
        made = datetime.fromtimestamp(backups[0].stat().st_mtime, tz=UTC)
        age = now - made
        hours = age.total_seconds() / 3600
        found.append(
            Finding(
                "last backup",
                "warn" if age > timedelta(days=2) else "ok",
                f"{backups[0].name}, {hours:.0f} h ago ({len(backups)} kept)",
            )
        )
    return found
