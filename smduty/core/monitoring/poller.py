"""Polling sources that are due: feeds fetched several at once, then each source read and
stored through `ingest_location`, one at a time; one failing source never stops the others, and
a failing source backs off (the interval doubles, up to 6 hours).

Several pollers may run (a `smduty watch` and open TUIs): each source is claimed before it is
fetched, and the TUI's poller stands down while a watcher's heartbeat is fresh.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

from smduty.core.clock import now_utc, parse_stamp, utc_text
from smduty.core.monitoring.fetch import DEFAULT_LIMITS, Fetched, FetchLimits
from smduty.core.monitoring.flagging import RuleSet
from smduty.core.monitoring.ingest import (
    LocationSummary,
    Seen,
    describe_failure,
    ingest_location,
    read_feed_bodies,
)
from smduty.core.monitoring.sources import (
    Source,
    claim,
    due_sources,
    record_failure,
    record_success,
)
from smduty.core.store import transaction

HEARTBEAT_KEY = "watcher_heartbeat"
POLL_WORKERS = 4  # feeds fetched at once
HEARTBEAT_FRESH = timedelta(minutes=3)


def poll_source(
    db: sqlite3.Connection,
    rules: RuleSet,
    source: Source,
    limits: FetchLimits = DEFAULT_LIMITS,
    actor: str = "smduty poller",
    fetched: Fetched | Exception | None = None,
) -> LocationSummary:
    """Read one source through `ingest_location` (asking only for what changed since the last
    poll) and keep the result on the source: its status, or its error and the back-off."""
    seen = Seen(source.etag, source.last_modified)
    if isinstance(fetched, Exception):
        summary = LocationSummary(source.location, source.name, status="error")
        summary.error = describe_failure(fetched, source.location)
    elif isinstance(fetched, Fetched) and fetched.not_modified:
        summary = LocationSummary(source.location, source.name, status="not modified")
        summary.etag, summary.last_modified = source.etag, source.last_modified
    else:
        summary = ingest_location(
            db,
            rules,
            source.location,
            source=source.name,
            fmt=source.format,
            preset=source.preset or None,
            column_map=source.column_map,
            limits=limits,
            actor=actor,
            seen=seen,
            fetched=fetched if isinstance(fetched, Fetched) else None,
        )
    if summary.error:
        # The source's own row names its location; its error need not say it again.
        record_failure(db, source, summary.error.removeprefix(f"{source.location}: "), actor)
    else:
        status = "not modified" if summary.not_modified else _status(summary)
        with transaction(db):
            record_success(
                db, source, status, summary.warning, summary.etag, summary.last_modified, actor
            )
    return summary


def _status(summary: LocationSummary) -> str:
    base = f"ok: {summary.counts.new} new"
    return base + (" (with warnings)" if summary.warning else "")


def poll_due(
    db: sqlite3.Connection,
    rules: RuleSet,
    now: datetime | None = None,
    names: list[str] | None = None,
    limits: FetchLimits = DEFAULT_LIMITS,
    actor: str = "smduty poller",
    workers: int = POLL_WORKERS,
) -> list[LocationSummary]:
    """Poll every due source: feeds fetched several at once, then each written in turn (one
    import writes at a time). One failing source never stops the others."""
    now = now or now_utc()
    claimed = [s for s in due_sources(db, now, names) if claim(db, s, now)]
    feeds = [s for s in claimed if s.kind == "feed"]
    bodies: dict[str, Fetched | Exception] = dict(
        read_feed_bodies(
            [(s.location, Seen(s.etag, s.last_modified)) for s in feeds], limits, workers
        )
    ) if feeds else {}  # fmt: skip
    return [
        poll_source(
            db, rules, s, limits, actor, bodies.get(s.location) if s.kind == "feed" else None
        )
        for s in claimed
    ]


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
