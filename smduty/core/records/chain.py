"""Checking the audit trail: the hash chain row by row, and anchors kept outside the database.

The chain alone shows a row edited, removed from the middle or slipped in with SQL. It cannot
show rows removed from the end, or a chain rewritten whole by someone who knows the hashing: an
anchor can. An anchor is the head of the chain (its last row's id and hash) written to a file
outside the database, by `smduty audit anchor`, daily by the scheduler, and beside each backup.
Each anchor names the database it belongs to (its `database_id`), so one anchors file can
serve several databases and a backup is checked against the anchors of the database it copies.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import msgspec

from smduty.core.clock import stamp
from smduty.core.config import data_dir
from smduty.core.files import UnreadableFile, read_small_text
from smduty.core.records.audit import GENESIS, digest

ANCHORS_NAME = "audit-anchors.jsonl"


def default_anchors() -> Path:
    return data_dir() / ANCHORS_NAME


class Anchor(msgspec.Struct, frozen=True):
    database: str
    id: int
    hash: str
    at: str


class Verdict(msgspec.Struct):
    """What `verify` found: `ok`, or the first problem in words and the row it is at."""

    rows: int = 0
    head_id: int = 0
    head_hash: str = GENESIS
    problem: str = ""
    row: int | None = None
    anchors_checked: int = 0
    anchor_file: str | None = None
    notes: list[str] = msgspec.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problem

    def as_dict(self) -> dict:
        return {**msgspec.structs.asdict(self), "ok": self.ok}


def database_id(db: sqlite3.Connection) -> str:
    row = db.execute("SELECT value FROM meta WHERE key = 'database_id'").fetchone()
    return row[0] if row else ""


def head(db: sqlite3.Connection) -> tuple[int, str]:
    row = db.execute("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    return (row[0], row[1] or "") if row else (0, GENESIS)


def verify(db: sqlite3.Connection, anchors: Path | None = None) -> Verdict:
    """Walk the chain from the first row; then check every anchor of this database in
    `anchors` (the default anchors file when None; a missing default file is no anchors)."""
    verdict = Verdict()
    previous_id, previous = 0, GENESIS
    rows = db.execute(
        "SELECT id, at, actor, login, action, entity, entity_id, before_json, after_json, hash"
        " FROM audit_log ORDER BY id"
    )
    for r in rows:
        content = tuple(r)[:9]
        expected = digest(previous, content)
        if r[9] != expected:
            verdict.row = r[0]
            if r[0] != previous_id + 1:
                gone = (
                    f"row {previous_id + 1}"
                    if r[0] == previous_id + 2
                    else f"rows {previous_id + 1}-{r[0] - 1}"
                )
                verdict.problem = f"{gone} of the audit trail removed (the chain breaks at {r[0]})"
            else:
                verdict.problem = (
                    f"audit row {r[0]} was altered or inserted: its hash does not match its"
                    " content and the row before it"
                )
            rows.close()
            return verdict
        previous_id, previous = r[0], expected
        verdict.rows += 1
    verdict.head_id, verdict.head_hash = previous_id, previous
    _check_anchors(db, verdict, anchors)
    return verdict


def _check_anchors(db: sqlite3.Connection, verdict: Verdict, path: Path | None) -> None:
    explicit = path is not None
    path = path if explicit else default_anchors()
    verdict.anchor_file = str(path)
    if not explicit and not path.exists():
        verdict.notes.append("no anchors file yet: rows removed from the end would not show")
        return
    try:
        found = read_anchors(path)
    except (UnreadableFile, ValueError) as exc:
        verdict.problem = f"{path}: cannot read the anchors: {exc}"
        return
    mine = [a for a in found if a.database == database_id(db)]
    if not mine:
        verdict.notes.append(f"{path} holds no anchor for this database")
    for anchor in sorted(mine, key=lambda a: a.id):
        verdict.anchors_checked += 1
        if anchor.id == 0:
            continue
        row = db.execute("SELECT hash FROM audit_log WHERE id = ?", (anchor.id,)).fetchone()
        if row is None:
            verdict.problem = (
                f"the audit trail ends at row {verdict.head_id}, before row {anchor.id} anchored"
                f" at {anchor.at}: rows were removed from the end"
            )
            verdict.row = anchor.id
            return
        if row[0] != anchor.hash:
            verdict.problem = (
                f"audit row {anchor.id} differs from its anchor of {anchor.at}: the trail was"
                " rewritten"
            )
            verdict.row = anchor.id
            return


def read_anchors(path: Path) -> list[Anchor]:
    """Every anchor in the file; ValueError naming the line for one that is not an anchor."""
    text = read_small_text(path, 64 * 1024 * 1024)
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            found.append(Anchor(str(raw["database"]), int(raw["id"]), str(raw["hash"]),
                                str(raw["at"])))  # fmt: skip
        except (ValueError, KeyError, TypeError):
            raise ValueError(f"line {number} is not an anchor") from None
    return found


def anchor(db: sqlite3.Connection, path: Path | None = None) -> Anchor:
    """Append the chain's head to the anchors file (created private, 0600)."""
    path = path or default_anchors()
    head_id, head_hash = head(db)
    made = Anchor(database_id(db), head_id, head_hash, stamp())
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as out:
        out.write(json.dumps(msgspec.structs.asdict(made)) + "\n")
        out.flush()
        os.fsync(out.fileno())
    return made
