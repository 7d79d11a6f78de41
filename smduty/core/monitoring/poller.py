"""Polling sources that are due: each fetched, parsed and stored on its own; one failing source
never stops the others, and a failing source backs off (the interval doubles, up to 6 hours).

Several pollers may run (a `smduty watch` and open TUIs): each source is claimed before it is
fetched, and the TUI's poller stands down while a watcher's heartbeat is fresh.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

from smduty.core.clock import now_utc, parse_stamp, utc_text
from smduty.core.monitoring.feeds import NotAFeed
from smduty.core.monitoring.fetch import DEFAULT_LIMITS, FetchFailed, FetchLimits, fetch
from smduty.core.monitoring.flagging import RuleSet
from smduty.core.monitoring.ingest import LocationSummary, ingest_bytes, ingest_file
from smduty.core.monitoring.mentions import Counts
from smduty.core.monitoring.presets import parse_map
from smduty.core.monitoring.sources import (
    Source,
    claim,
    due_sources,
    record_failure,
    record_success,
)
from smduty.core.store import transaction

HEARTBEAT_KEY = "watcher_heartbeat"
HEARTBEAT_FRESH = timedelta(minutes=3)


def poll_source(
    db: sqlite3.Connection, rules: RuleSet, source: Source, limits: FetchLimits = DEFAULT_LIMITS
) -> LocationSummary:
    summary = LocationSummary(source.location, source.name)
    try:
        overrides = parse_map(source.column_map)
        preset = source.preset or None
        if source.kind == "feed":
            fetched = fetch(source.location, source.etag, source.last_modified, limits)
            if fetched.not_modified:
                summary.status = "not modified"
                with transaction(db):
                    record_success(
                        db, source, "not modified", None, source.etag, source.last_modified
                    )
                return summary
            with transaction(db):
                ingest_bytes(
                    db,
                    rules,
                    summary,
                    fetched.body,
                    source.location,
                    source.format,
                    preset,
                    overrides,
                )
                record_success(
                    db,
                    source,
                    _status(summary),
                    summary.warning,
                    fetched.etag,
                    fetched.last_modified,
                )
        else:
            path = Path(source.location).expanduser()
            stat = os.stat(path)
            version = f"{stat.st_mtime_ns}:{stat.st_size}"
            if version == source.last_modified:
                summary.status = "not modified"
                with transaction(db):
                    record_success(db, source, "not modified", None, None, version)
                return summary
            with transaction(db):
                ingest_file(db, rules, summary, path, source.format, preset, overrides, None)
                record_success(db, source, _status(summary), summary.warning, None, version)
    except Exception as exc:  # every failure is stored on the source; the poller carries on
        summary.error = _words(exc, source)
        summary.status = "error"
        summary.counts = Counts()
        record_failure(db, source, summary.error)
    return summary


def _status(summary: LocationSummary) -> str:
    base = f"ok: {summary.counts.new} new"
    return base + (" (with warnings)" if summary.warning else "")


def _words(exc: Exception, source: Source) -> str:
    if isinstance(exc, FetchFailed | NotAFeed):
        return str(exc)
    if isinstance(exc, FileNotFoundError):
        return f"file not found: {source.location}"
    if isinstance(exc, PermissionError):
        return f"permission denied: {source.location}"
    text = str(exc)
    return text if text.startswith(source.location) else f"{type(exc).__name__}: {text}"


def poll_due(
    db: sqlite3.Connection,
    rules: RuleSet,
    now: datetime | None = None,
    names: list[str] | None = None,
    limits: FetchLimits = DEFAULT_LIMITS,
) -> list[LocationSummary]:
    now = now or now_utc()
    results = []
    for source in due_sources(db, now, names):
        if claim(db, source, now):
            results.append(poll_source(db, rules, source, limits))
    return results


def beat(db: sqlite3.Connection) -> None:
    with transaction(db):
        db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?)"
            " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (HEARTBEAT_KEY, utc_text(now_utc())),
        )


def watcher_alive(db: sqlite3.Connection, now: datetime | None = None) -> bool:
    row = db.execute("SELECT value FROM meta WHERE key = ?", (HEARTBEAT_KEY,)).fetchone()
    if row is None:
        return False
    last = parse_stamp(row[0])
    return (now or now_utc()) - last < HEARTBEAT_FRESH


def stop_beating(db: sqlite3.Connection) -> None:
    with transaction(db):
        db.execute("DELETE FROM meta WHERE key = ?", (HEARTBEAT_KEY,))
