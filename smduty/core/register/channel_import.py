"""Importing channels from a CSV file: every row is checked first; one bad row writes nothing."""

from __future__ import annotations

import csv
import io
import sqlite3
from pathlib import Path

import msgspec

from smduty.core.errors import BadInput, InvalidInput, NotFound
from smduty.core.files import read_small_text
from smduty.core.register.channels import add_channel, record_training
from smduty.core.register.fields import FIELDS, validate_fields
from smduty.core.staff import get_staff
from smduty.core.store import transaction
from smduty.core.values import parse_date

MANAGERS_COLUMN = "managers"


class RowError(msgspec.Struct, frozen=True):
    line: int
    message: str


class ImportFailed(BadInput):
    def __init__(self, path: Path, errors: list[RowError]) -> None:
        self.path = path
        self.errors = errors
        lines = "\n".join(f"  {path.name}, line {e.line}: {e.message}" for e in errors)
        super().__init__(f"{path}: {len(errors)} bad row(s), nothing imported\n{lines}")


def _parse_managers(cell: str) -> list[tuple[str, str | None]]:
    """'Ann Smith=2025-03-01; Bob Jones' -> [(name, trained_on or None), ...]."""
    found = []
    for part in cell.split(";"):
        name, _, trained = part.partition("=")
        if name.strip():
            found.append((name.strip(), trained.strip() or None))
    return found


def import_channels(db: sqlite3.Connection, actor: str, path: Path) -> int:
    """Add every channel in the file, or none; returns how many were added."""
    handle = io.StringIO(read_small_text(path), newline="")
    errors: list[RowError] = []
    rows: list[tuple[int, dict, list[tuple[str, str | None]]]] = []
    with handle:
        try:
            reader = csv.DictReader(handle)
            header = [h.strip() for h in reader.fieldnames or []]
            reader.fieldnames = header
            unknown = [h for h in header if h not in FIELDS and h != MANAGERS_COLUMN]
            if not header or "name" not in header or "platform" not in header:
                raise ImportFailed(
                    path, [RowError(1, "the header row must name at least 'name' and 'platform'")]
                )
            if unknown:
                raise ImportFailed(
                    path,
                    [
                        RowError(
                            1,
                            f"unknown column(s) {', '.join(unknown)};"
                            f" known: {', '.join(FIELDS)}, managers",
                        )
                    ],
                )
            seen: dict[str, int] = {}
            for raw in reader:
                line = reader.line_num
                if None in raw:
                    errors.append(RowError(line, "more cells than the header has columns"))
                    continue
                managers = _parse_managers(raw.pop(MANAGERS_COLUMN, "") or "")
                fields = {k: v for k, v in raw.items() if v is not None}
                problem = _check_row(db, fields, managers, seen, line)
                if problem:
                    errors.append(RowError(line, problem))
                else:
                    rows.append((line, fields, managers))
        except UnicodeDecodeError:
            raise ImportFailed(
                path, [RowError(0, "not UTF-8 text; save the file as CSV UTF-8")]
            ) from None
        except csv.Error as exc:
            raise ImportFailed(
                path, [RowError(reader.line_num, f"not valid CSV ({exc})")]
            ) from None
    if errors:
        raise ImportFailed(path, errors)
    with transaction(db):
        for _, fields, managers in rows:
            channel = add_channel(db, actor, fields, [name for name, _ in managers])
            for name, trained in managers:
                if trained:
                    record_training(db, actor, channel.id, name, trained)
    return len(rows)


def _check_row(
    db: sqlite3.Connection,
    fields: dict,
    managers: list[tuple[str, str | None]],
    seen: dict[str, int],
    line: int,
) -> str | None:
    try:
        values = validate_fields(fields, require_all=True)
    except InvalidInput as exc:
        return str(exc)
    key = values["name"].lower()
    if key in seen:
        return f"name {values['name']!r} repeats line {seen[key]}"
    seen[key] = line
    if db.execute("SELECT 1 FROM channels WHERE name = ?", (values["name"],)).fetchone():
        return f"a channel called {values['name']!r} is already registered"
    for name, trained in managers:
        try:
            member = get_staff(db, name)
        except NotFound:
            return f"managers: {name!r} is not on the staff list"
        if not member.active:
            return f"managers: {member.name} left on {member.left_on}"
        problems: dict[str, str] = {}
        if trained and parse_date(trained, "trained", problems) is None:
            return f"managers: {name}: {problems.get('trained', 'bad date')}"
    return None
