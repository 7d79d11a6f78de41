"""Mention sources: feeds polled over HTTP and export files read from disk, with their health."""

from __future__ import annotations

import re
import sqlite3
from datetime import datetime, timedelta

import msgspec

from smduty.core.clock import now_utc, stamp, utc_text
from smduty.core.errors import InvalidInput, NotFound, ReadFailed, Refused
from smduty.core.files import not_a_file
from smduty.core.records import audit
from smduty.core.store import transaction
from smduty.core.text import clean_line

DEFAULT_EVERY = 15
MAX_BACKOFF = timedelta(hours=6)
_EVERY = re.compile(r"^\s*(\d+)\s*(m|min|mins|minutes|h|hr|hours?|)\s*$", re.IGNORECASE)


class Source(msgspec.Struct, frozen=True):
    id: int
    name: str
    kind: str
    location: str
    format: str
    preset: str
    column_map: str
    interval_minutes: int
    enabled: bool
    last_polled: str | None
    last_status: str | None
    last_error: str | None
    last_warning: str | None
    failures: int
    next_poll: str | None
    etag: str | None
    last_modified: str | None

    @property
    def in_error(self) -> bool:
        return self.failures > 0

    def as_dict(self) -> dict:
        return msgspec.structs.asdict(self)


def _from_row(row: sqlite3.Row) -> Source:
    return Source(
        row["id"],
        row["name"],
        row["kind"],
        row["location"],
        row["format"],
        row["preset"],
        row["column_map"],
        row["interval_minutes"],
        bool(row["enabled"]),
        row["last_polled"],
        row["last_status"],
        row["last_error"],
        row["last_warning"],
        row["failures"],
        row["next_poll"],
        row["etag"],
        row["last_modified"],
    )


def parse_every(value: object) -> int:
    """'15m', '2h', '30' -> minutes."""
    if isinstance(value, int):
        minutes = value
    else:
        found = _EVERY.match(str(value or ""))
        if not found:
            raise InvalidInput({"every": f"{value!r}: use minutes or hours, like 15m or 2h"})
        minutes = int(found.group(1)) * (60 if found.group(2).lower().startswith("h") else 1)
    if not 1 <= minutes <= 24 * 60:
        raise InvalidInput({"every": "between 1 minute and 24 hours"})
    return minutes


def kind_of(location: str) -> str:
    return "feed" if re.match(r"^[a-z][a-z0-9+.-]*://", location, re.IGNORECASE) else "file"


def _check(values: dict) -> dict:
    problems: dict[str, str] = {}
    if "name" in values:
        values["name"] = clean_line(values["name"], 100)
        if not values["name"]:
            problems["name"] = "a name is needed"
    if "location" in values:
        values["location"] = clean_line(values["location"], 2000)
        if not values["location"]:
            problems["location"] = "a URL or a file path is needed"
        elif kind_of(values["location"]) == "feed" and not values["location"].lower().startswith(
            ("http://", "https://")
        ):
            problems["location"] = "web addresses must start with http:// or https://"
        elif kind_of(values["location"]) == "file":
            problem = not_a_file(values["location"])
            if problem:
                problems["location"] = problem
        values["kind"] = kind_of(values["location"])
    # The readers are loaded to check a source's settings, not to list sources (the dashboard).
    from smduty.core.monitoring.exports import FORMATS
    from smduty.core.monitoring.presets import parse_map, preset_names

    if values.get("format") not in (None, *FORMATS):
        problems["format"] = f"one of {', '.join(FORMATS)}"
    if values.get("preset") not in (None, "", *preset_names()):
        problems["preset"] = f"one of {', '.join(preset_names())}"
    if values.get("column_map"):
        try:
            parse_map(values["column_map"])
        except ReadFailed as exc:
            problems["map"] = str(exc).removeprefix("--map: ")
    if "interval_minutes" in values:
        try:
            values["interval_minutes"] = parse_every(values["interval_minutes"])
        except InvalidInput as exc:
            problems.update(exc.problems)
    if problems:
        raise InvalidInput(problems)
    return values


def get_source(db: sqlite3.Connection, name: str) -> Source:
    row = db.execute("SELECT * FROM sources WHERE name = ?", (name.strip(),)).fetchone()
    if row is None:
        raise NotFound(f"no source called {name!r}")
    return _from_row(row)


def failed_first_time(db: sqlite3.Connection, name: str) -> bool:
    """The source has just failed after working (or for the first time): worth telling."""
    row = db.execute("SELECT failures FROM sources WHERE name = ?", (name,)).fetchone()
    return row is not None and row[0] == 1


def list_sources(db: sqlite3.Connection) -> list[Source]:
    return [_from_row(r) for r in db.execute("SELECT * FROM sources ORDER BY name")]


def add_source(
    db: sqlite3.Connection,
    actor: str,
    name: str,
    location: str,
    every: object = DEFAULT_EVERY,
    fmt: str = "auto",
    preset: str = "",
    column_map: str = "",
) -> Source:
    values = _check(
        {
            "name": name,
            "location": location,
            "interval_minutes": every,
            "format": fmt or "auto",
            "preset": preset or "",
            "column_map": column_map or "",
        }
    )
    with transaction(db):
        if db.execute("SELECT 1 FROM sources WHERE name = ?", (values["name"],)).fetchone():
            raise InvalidInput({"name": f"a source called {values['name']!r} already exists"})
        cur = db.execute(
            "INSERT INTO sources (name, kind, location, format, preset, column_map,"
            " interval_minutes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                values["name"],
                values["kind"],
                values["location"],
                values["format"],
                values["preset"],
                values["column_map"],
                values["interval_minutes"],
                stamp(),
            ),
        )
        source = _from_row(
            db.execute("SELECT * FROM sources WHERE id = ?", (cur.lastrowid,)).fetchone()
        )
        audit.record(db, actor, "source.add", "source", source.id, None, _settings(source))
    return source


def _settings(source: Source) -> dict:
    keys = ("name", "kind", "location", "format", "preset", "column_map", "interval_minutes")
    return {k: getattr(source, k) for k in keys} | {"enabled": source.enabled}


def edit_source(db: sqlite3.Connection, actor: str, name: str, /, **changes) -> Source:
    allowed = {"name", "location", "interval_minutes", "format", "preset", "column_map", "enabled"}
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidInput({k: "cannot be changed" for k in unknown})
    values = _check({k: v for k, v in changes.items() if v is not None})
    with transaction(db):
        before = get_source(db, name)
        if "name" in values and values["name"].casefold() != before.name.casefold():
            taken = db.execute("SELECT 1 FROM sources WHERE name = ?", (values["name"],))
            if taken.fetchone():
                raise InvalidInput({"name": f"a source called {values['name']!r} already exists"})
        columns = {k: v for k, v in values.items() if k in allowed | {"kind"}}
        if "enabled" in columns:
            columns["enabled"] = int(bool(columns["enabled"]))
        if "location" in columns and columns["location"] != before.location:
            # A new location starts afresh: no cached validators, poll soon.
            columns |= {"etag": None, "last_modified": None, "next_poll": None, "failures": 0}
        if columns:
            assignments = ", ".join(f"{k} = ?" for k in columns)
            db.execute(
                f"UPDATE sources SET {assignments} WHERE id = ?", (*columns.values(), before.id)
            )
        after = _from_row(db.execute("SELECT * FROM sources WHERE id = ?", (before.id,)).fetchone())
        audit.record(
            db, actor, "source.edit", "source", before.id, _settings(before), _settings(after)
        )
    return after


def set_enabled(db: sqlite3.Connection, actor: str, name: str, enabled: bool) -> Source:
    return edit_source(db, actor, name, enabled=enabled)


def remove_source(db: sqlite3.Connection, actor: str, name: str) -> None:
    """The source goes; mentions it brought stay (they are the record)."""
    with transaction(db):
        source = get_source(db, name)
        db.execute("DELETE FROM sources WHERE id = ?", (source.id,))
        audit.record(db, actor, "source.remove", "source", source.id, _settings(source), None)


# --- polling bookkeeping ---------------------------------------------------------------


def due_sources(db: sqlite3.Connection, now: datetime, names: list[str] | None = None):
    rows = db.execute(
        "SELECT * FROM sources WHERE enabled = 1 AND (next_poll IS NULL OR next_poll <= ?)"
        " ORDER BY next_poll IS NOT NULL, next_poll, name",
        (utc_text(now),),
    )
    found = [_from_row(r) for r in rows]
    if names is not None:
        wanted = {n.casefold() for n in names}
        found = [s for s in found if s.name.casefold() in wanted]
    return found


def claim(db: sqlite3.Connection, source: Source, now: datetime) -> bool:
    """Take a due source for polling, so another poller does not fetch it too."""
    lease = utc_text(now + timedelta(minutes=5))
    with transaction(db):
        cur = db.execute(
            "UPDATE sources SET next_poll = ? WHERE id = ? AND enabled = 1"
            " AND (next_poll IS NULL OR next_poll <= ?)",
            (lease, source.id, utc_text(now)),
        )
        return cur.rowcount == 1


def force_due(db: sqlite3.Connection, actor: str, name: str) -> Source:
    with transaction(db):
        source = get_source(db, name)
        if not source.enabled:
            raise Refused(f"{source.name} is disabled; enable it first")
        db.execute("UPDATE sources SET next_poll = NULL WHERE id = ?", (source.id,))
    return get_source(db, name)


def record_success(
    db: sqlite3.Connection,
    source: Source,
    status: str,
    warning: str | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    actor: str = "smduty poller",
) -> None:
    """Runs inside the caller's transaction (with the mentions it stored). A source that was
    failing and reads again is in the audit log (its imports are there already)."""
    now = now_utc()
    if source.failures:
        audit.record(
            db, actor, "source.poll_recovered", "source", source.id,
            {"failures": source.failures, "error": source.last_error}, {"status": status},
        )  # fmt: skip
    db.execute(
        "UPDATE sources SET last_polled = ?, last_status = ?, last_error = NULL,"
        " last_warning = ?, failures = 0, next_poll = ?, etag = ?, last_modified = ?"
        " WHERE id = ?",
        (
            utc_text(now),
            status,
            warning,
            utc_text(now + timedelta(minutes=source.interval_minutes)),
            etag,
            last_modified,
            source.id,
        ),
    )


def backoff(interval_minutes: int, failures: int) -> timedelta:
    """The interval doubles with each failure in a row, up to six hours."""
    return min(timedelta(minutes=interval_minutes) * (2 ** min(failures, 16)), MAX_BACKOFF)


def record_failure(
    db: sqlite3.Connection, source: Source, error: str, actor: str = "smduty poller"
) -> None:
    """A poll that could not read its source, in the audit log with when it is tried next (the
    back-off keeps a source that stays down to a few entries a day)."""
    now = now_utc()
    failures = source.failures + 1
    next_poll = now + backoff(source.interval_minutes, failures)
    with transaction(db):
        audit.record(
            db, actor, "source.poll_failed", "source", source.id,
            {"failures": source.failures},
            {"error": clean_line(error, 500), "failures": failures,
             "next_poll": utc_text(next_poll)},
        )  # fmt: skip
        db.execute(
            "UPDATE sources SET last_polled = ?, last_status = 'error', last_error = ?,"
            " failures = ?, next_poll = ? WHERE id = ?",
            (
                utc_text(now),
                clean_line(error, 500),
                failures,
                utc_text(next_poll),
                source.id,
            ),
        )
