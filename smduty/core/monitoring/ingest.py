"""Reading one location (a file or a URL) into mentions, in one transaction.

A location that fails part way writes nothing: its transaction rolls back and its error names
the file and, where it applies, the line. Other locations are not affected.
"""

from __future__ import annotations

import contextlib
import io
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from smduty.core.clock import now_utc
from smduty.core.errors import ReadFailed
from smduty.core.files import MAX_EXPORT_BYTES, UnreadableFile, open_input, read_small_bytes
from smduty.core.monitoring.encodings import detect_encoding, sniff_format
from smduty.core.monitoring.exports import file_records, records
from smduty.core.monitoring.feeds import NotAFeed, entry_mentions, parse_feed
from smduty.core.monitoring.fetch import DEFAULT_LIMITS, FetchFailed, FetchLimits, fetch
from smduty.core.monitoring.flagging import RuleSet
from smduty.core.monitoring.mentions import Counts, MentionWriter
from smduty.core.monitoring.presets import parse_map
from smduty.core.monitoring.reader_process import Job, ReaderProcess
from smduty.core.store import transaction
from smduty.core.text import clean_line

FILE_FEED_CAP = 100 * 1024 * 1024
# From this size an export is read by a second process while this one writes (see reader_process).
READ_ELSEWHERE_FROM = 4 * 1024 * 1024
Progress = Callable[[int, int], None]  # (bytes done, bytes in all)


@dataclass
class LocationSummary:
    location: str
    source: str
    counts: Counts = field(default_factory=Counts)
    error: str | None = None
    warning: str | None = None
    status: str = "ok"

    @property
    def errors(self) -> int:
        return 1 if self.error else 0

    def as_dict(self) -> dict:
        return {
            "location": self.location,
            "source": self.source,
            "read": self.counts.read,
            "new": self.counts.new,
            "duplicates": self.counts.duplicates,
            "flagged": self.counts.flagged,
            "skipped": self.counts.skipped,
            "errors": self.errors,
            "error": self.error,
            "warning": self.warning,
        }


def is_url(location: str) -> bool:
    return location.lower().startswith(("http://", "https://"))


def default_source_name(location: str) -> str:
    if is_url(location):
        return urlsplit(location).netloc or location
    return Path(location).name or location


def ingest_location(
    db: sqlite3.Connection,
    rules: RuleSet,
    location: str,
    *,
    source: str | None = None,
    fmt: str = "auto",
    preset: str | None = None,
    column_map: str | None = None,
    progress: Progress | None = None,
    limits: FetchLimits = DEFAULT_LIMITS,
) -> LocationSummary:
    summary = LocationSummary(location, clean_line(source or default_source_name(location), 200))
    try:
        overrides = parse_map(column_map)
        if is_url(location):
            fetched = fetch(location, limits=limits)
            ingest_bytes(db, rules, summary, fetched.body, location, fmt, preset, overrides)
        else:
            ingest_file(db, rules, summary, Path(location), fmt, preset, overrides, progress)
    except (ReadFailed, NotAFeed, FetchFailed, UnreadableFile) as exc:
        summary.error = f"{location}: {exc}" if not str(exc).startswith(location) else str(exc)
    except FileNotFoundError:
        summary.error = f"{location}: no such file"
    except IsADirectoryError:
        summary.error = f"{location}: is a folder, not a file"
    except PermissionError:
        summary.error = f"{location}: permission denied"
    except UnicodeDecodeError as exc:
        summary.error = f"{location}: the text does not decode as {exc.encoding} ({exc.reason})"
    except Exception as exc:  # one bad location must never stop the others
        summary.error = f"{location}: unexpected {type(exc).__name__}: {exc}"
    if summary.error:
        summary.counts = Counts()
        summary.status = "error"
    return summary


def _write(db, rules, summary, records, fetched_at: datetime | None = None) -> MentionWriter:
    writer = MentionWriter(db, rules, summary.source, fetched_at or now_utc())
    with transaction(db):
        for record in records:
            writer.add(record)
        writer.close()
    summary.counts = writer.counts
    return writer


def ingest_bytes(db, rules, summary, body: bytes, where, fmt, preset, overrides) -> None:
    path = urlsplit(where).path.lower()
    chosen = fmt if fmt != "auto" else sniff_format(body[:4096], path)
    if chosen == "csv" and fmt == "auto" and not path.endswith((".csv", ".tsv")):
        chosen = "feed"
    if chosen == "feed":
        # Over HTTP, text that is not clearly JSON is expected to be a feed.
        feed = parse_feed(body)
        summary.warning = feed.warning
        _write(db, rules, summary, entry_mentions(feed))
        return
    stream = io.BytesIO(body)
    encoding = detect_encoding(stream, where)
    _write(db, rules, summary, records(chosen, lambda: stream, encoding, where, preset, overrides))


def ingest_file(db, rules, summary, path: Path, fmt, preset, overrides, progress) -> None:
    with open_input(path, MAX_EXPORT_BYTES, "the export") as probe:
        head = probe.read(4096)
        total = os.fstat(probe.fileno()).st_size
    chosen = fmt if fmt != "auto" else sniff_format(head, path.name)
    if chosen == "feed":
        feed = parse_feed(read_small_bytes(path, FILE_FEED_CAP))
        summary.warning = feed.warning
        _write(db, rules, summary, entry_mentions(feed))
        if progress:
            progress(total, total)
        return
    if total >= READ_ELSEWHERE_FROM and _write_read_elsewhere(
        db, rules, summary, path, chosen, preset, overrides, progress
    ):
        return
    report = (lambda done: progress(done, total)) if progress else None
    with contextlib.closing(file_records(path, chosen, preset, overrides, report)) as found:
        _write(db, rules, summary, found)


def _write_read_elsewhere(db, rules, summary, path: Path, fmt, preset, overrides, progress) -> bool:
    """A big export: a second process reads and flags it while this one writes. False when no
    second process could start here (the caller then reads the file itself)."""
    fetched_at = now_utc()
    job = Job(str(path), fmt, preset, overrides, rules, summary.source, fetched_at)
    try:
        reader = ReaderProcess(job)
    except OSError:
        return False
    writer = MentionWriter(db, rules, summary.source, fetched_at)
    total = os.path.getsize(path)
    with reader, transaction(db):
        for done, read, skipped, batch in reader:
            writer.add_prepared(batch, read, skipped)
            if progress:
                progress(done, total)
        writer.close()
    summary.counts = writer.counts
    return True
