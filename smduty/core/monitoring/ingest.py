"""Reading one location (a file or a URL) into mentions: the one place that does it.

`ingest_location` serves `smduty ingest`, the Import screen and the poller alike. A location is
read (fetched, decoded, parsed), then written through an import (`imports`): a batch at a time
in short transactions, visible only when all of it is in. A location that fails part way
writes nothing, and its error names the file and, where it applies, the line. Other locations
are not affected. Every import is in the audit log with who ran it and what it found.
"""

from __future__ import annotations

import contextlib
import io
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import msgspec

from smduty.core.clock import now_utc
from smduty.core.errors import ReadFailed
from smduty.core.files import UnreadableFile, open_input, read_small_bytes
from smduty.core.monitoring import imports
from smduty.core.monitoring.encodings import detect_encoding, sniff_format
from smduty.core.monitoring.exports import file_records, records
from smduty.core.monitoring.feeds import NotAFeed, entry_mentions, parse_feed
from smduty.core.monitoring.fetch import DEFAULT_LIMITS, Fetched, FetchFailed, FetchLimits, fetch
from smduty.core.monitoring.flagging import RuleSet
from smduty.core.monitoring.mentions import Counts, MentionWriter, RawMention
from smduty.core.monitoring.presets import ReadNotes, parse_map
from smduty.core.monitoring.reader_process import Job, ReaderProcess
from smduty.core.store import bulk_writing
from smduty.core.text import clean_line

FILE_FEED_CAP = 100 * 1024 * 1024
# From this size an export is read by a second process while this one writes (see reader_process).
READ_ELSEWHERE_FROM = 4 * 1024 * 1024
Progress = Callable[[int, int], None]  # (bytes done, bytes in all)


class LocationSummary(msgspec.Struct):
    location: str
    source: str
    counts: Counts = msgspec.field(default_factory=Counts)
    error: str | None = None
    warning: str | None = None
    status: str = "ok"
    # What a poller keeps to ask next time only for what changed.
    etag: str | None = None
    last_modified: str | None = None  # HTTP Last-Modified, or a file's mtime:size

    @property
    def errors(self) -> int:
        return 1 if self.error else 0

    @property
    def not_modified(self) -> bool:
        return self.status == "not modified"

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
            "status": self.status,
        }


class Seen(msgspec.Struct):
    """What a source was like when last read: a poller's conditional request."""

    etag: str | None = None
    last_modified: str | None = None


def is_url(location: str) -> bool:
    return location.lower().startswith(("http://", "https://"))


def default_source_name(location: str) -> str:
    if is_url(location):
        return urlsplit(location).netloc or location
    return Path(location).name or location


def describe_failure(exc: Exception, location: str) -> str:
    """An error in words, naming the location once."""
    if isinstance(exc, ReadFailed | NotAFeed | FetchFailed | UnreadableFile):
        text = str(exc)
    elif isinstance(exc, FileNotFoundError):
        text = "no such file"
    elif isinstance(exc, IsADirectoryError):
        text = "is a folder, not a file"
    elif isinstance(exc, PermissionError):
        text = "permission denied"
    elif isinstance(exc, UnicodeDecodeError):
        text = f"the text does not decode as {exc.encoding} ({exc.reason})"
    elif isinstance(exc, imports.ImportBusy):
        text = str(exc)
    else:
        text = f"unexpected {type(exc).__name__}: {exc}"
    return text if text.startswith(location) else f"{location}: {text}"


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
    actor: str = "smduty",
    seen: Seen | None = None,
    fetched: Fetched | None = None,
    waiting: Callable[[str], None] | None = None,
) -> LocationSummary:
    """Read `location` and store its mentions. `seen` makes it conditional (a poller: nothing
    is read when nothing changed); `fetched` is a feed's body already fetched (polling fetches
    several at once, then writes them one by one)."""
    summary = LocationSummary(location, clean_line(source or default_source_name(location), 200))
    try:
        overrides = parse_map(column_map)
        if is_url(location):
            got = fetched or fetch(location, *(_conditions(seen)), limits=limits)
            summary.etag, summary.last_modified = got.etag, got.last_modified
            if got.not_modified:
                summary.status = "not modified"
                return summary
            _write_bytes(db, rules, summary, got, location, fmt, preset, overrides, actor, waiting,
                         limits.max_file_bytes)  # fmt: skip
        else:
            path = Path(location).expanduser()
            version = _file_version(path, limits.max_file_bytes)
            summary.last_modified = version
            if seen is not None and seen.last_modified == version:
                summary.status = "not modified"
                return summary
            _write_file(db, rules, summary, path, fmt, preset, overrides, progress, actor, waiting,
                        limits.max_file_bytes)  # fmt: skip
    except Exception as exc:  # one bad location must never stop the others
        summary.error = describe_failure(exc, location)
    if summary.error:
        summary.counts = Counts()
        summary.status = "error"
    return summary


def _conditions(seen: Seen | None) -> tuple[str | None, str | None]:
    return (seen.etag, seen.last_modified) if seen is not None else (None, None)


def _file_version(path: Path, max_bytes: int) -> str:
    """The file's version (for polling: unchanged means not read again); refuses at once what
    is not a regular file or is bigger than smduty reads."""
    with open_input(path, max_bytes, "the export") as stream:
        info = os.fstat(stream.fileno())
    return f"{info.st_mtime_ns}:{info.st_size}"


def _store(db, rules, summary, found: Iterable[RawMention], actor, waiting, notes=None) -> None:
    """Write one location's mentions through an import: all of them, or none."""
    lease = imports.begin(db, actor, summary.location, summary.source, waiting)
    writer = MentionWriter(db, rules, summary.source, now_utc(), lease)
    try:
        for raw in found:
            writer.add(raw)
        writer.close()
    except BaseException as exc:
        with contextlib.suppress(Exception):
            imports.fail(db, actor, lease, describe_failure(exc, summary.location))
        raise
    summary.counts = writer.counts
    if notes is not None:
        summary.warning = _joined(summary.warning, notes.warning())
    imports.finish(db, actor, lease, _counts(writer.counts), summary.warning)


def _joined(*said: str | None) -> str | None:
    return "; ".join(s for s in said if s) or None


def _counts(counts: Counts) -> dict:
    return {
        "read": counts.read,
        "new": counts.new,
        "duplicates": counts.duplicates,
        "flagged": counts.flagged,
        "skipped": counts.skipped,
    }


def _write_bytes(
    db, rules, summary, got, where, fmt, preset, overrides, actor, waiting, max_bytes
) -> None:
    body = got.body
    path = urlsplit(where).path.lower()
    chosen = fmt if fmt != "auto" else sniff_format(body[:4096], path)
    if chosen in ("zip", "xlsx", "binary"):  # a workbook or an archive: read from a file
        with tempfile.TemporaryDirectory(prefix="smduty-") as folder:
            copy = Path(folder) / (Path(path).name or "download")
            copy.write_bytes(body)
            _write_file(
                db, rules, summary, copy, fmt, preset, overrides, None, actor, waiting, max_bytes
            )
        return
    if chosen == "csv" and fmt == "auto" and not path.endswith((".csv", ".tsv")):
        chosen = "feed"  # over HTTP, text that is not clearly JSON is expected to be a feed
    if chosen == "feed":
        feed = parse_feed(body, got.content_type)
        summary.warning = feed.warning
        _store(db, rules, summary, entry_mentions(feed), actor, waiting)
        return
    stream = io.BytesIO(body)
    encoding = detect_encoding(stream, where)
    notes = ReadNotes()
    found = records(chosen, lambda: stream, encoding, where, preset, overrides, None, notes)
    _store(db, rules, summary, found, actor, waiting, notes=notes)


def _write_file(
    db, rules, summary, path, fmt, preset, overrides, progress, actor, waiting, max_bytes
) -> None:
    with open_input(path, max_bytes, "the export") as probe:
        head = probe.read(4096)
        total = os.fstat(probe.fileno()).st_size
    chosen = fmt if fmt != "auto" else sniff_format(head, path.name)
    if chosen == "binary":
        raise ReadFailed(
            str(path),
            "not an export this version can read (a binary file: export CSV, XLSX or JSON)",
        )
    if chosen == "zip":
        with tempfile.TemporaryDirectory(prefix="smduty-") as folder:
            inner = unzip_one_export(path, Path(folder), max_bytes)
            _write_file(
                db, rules, summary, inner, fmt, preset, overrides, progress, actor, waiting,
                max_bytes,
            )  # fmt: skip
        return
    if chosen == "xlsx":
        notes = ReadNotes()
        found = file_records(path, "xlsx", preset, overrides, None, notes)
        with contextlib.closing(found):
            _store(db, rules, summary, found, actor, waiting, notes=notes)
        if progress:
            progress(total, total)
        return
    if chosen == "feed":
        feed = parse_feed(read_small_bytes(path, FILE_FEED_CAP))
        summary.warning = feed.warning
        _store(db, rules, summary, entry_mentions(feed), actor, waiting)
        if progress:
            progress(total, total)
        return
    if total >= READ_ELSEWHERE_FROM and _write_read_elsewhere(
        db, rules, summary, path, chosen, preset, overrides, progress, actor, waiting
    ):
        return
    report = (lambda done: progress(done, total)) if progress else None
    notes = ReadNotes()
    reading = file_records(path, chosen, preset, overrides, report, notes)
    with contextlib.closing(reading) as found:
        _store(db, rules, summary, found, actor, waiting, notes=notes)


def _write_read_elsewhere(
    db, rules, summary, path: Path, fmt, preset, overrides, progress, actor, waiting
) -> bool:
    """A big export: a second process reads and flags it while this one writes. False when no
    second process could start here (the caller then reads the file itself)."""
    fetched_at = now_utc()
    job = Job(str(path), fmt, preset, overrides, rules, summary.source, fetched_at)
    try:
        reader = ReaderProcess(job)
    except OSError:
        return False
    total = os.path.getsize(path)
    with reader, bulk_writing(db):
        lease = imports.begin(db, actor, summary.location, summary.source, waiting)
        writer = MentionWriter(db, rules, summary.source, fetched_at, lease)
        try:
            for done, read, skipped, batch in reader:
                writer.add_prepared(batch, read, skipped)
                if progress:
                    progress(done, total)
            writer.close()
        except BaseException as exc:
            with contextlib.suppress(Exception):
                imports.fail(db, actor, lease, describe_failure(exc, summary.location))
            raise
    summary.counts = writer.counts
    summary.warning = _joined(summary.warning, reader.warning)
    imports.finish(db, actor, lease, _counts(writer.counts), summary.warning)
    return True


EXPORT_SUFFIXES = (".csv", ".tsv", ".txt", ".json", ".ndjson", ".jsonl", ".xlsx", ".xml", ".rss")


def unzip_one_export(path: Path, folder: Path, max_bytes: int) -> Path:
    """The one export a zip holds, copied into `folder` (no bigger than smduty reads). A zip
    of several exports, of none, or of something else is refused, saying what it holds."""
    import zipfile

    try:
        with open_input(path, max_bytes, "the zip") as stream, zipfile.ZipFile(stream) as zf:
            members = [
                m
                for m in zf.infolist()
                if not m.is_dir()
                and not m.filename.startswith(("__MACOSX/", "."))
                and "/." not in m.filename
            ]
            exports = [m for m in members if m.filename.lower().endswith(EXPORT_SUFFIXES)]
            if len(exports) != 1:
                names = ", ".join(m.filename for m in members[:5]) or "nothing"
                raise ReadFailed(
                    str(path),
                    "not an export this version can read (a zip holding "
                    f"{len(exports)} exports: {names}); unzip it and import one file",
                )
            member = exports[0]
            if member.file_size > max_bytes:
                raise ReadFailed(str(path), f"{member.filename} is too big to read")
            target = folder / Path(member.filename).name
            with zf.open(member) as src, target.open("wb") as out:
                copied = 0
                while chunk := src.read(1 << 20):
                    copied += len(chunk)
                    if copied > max_bytes:
                        raise ReadFailed(str(path), f"{member.filename} is too big to read")
                    out.write(chunk)
            return target
    except zipfile.BadZipFile as exc:
        raise ReadFailed(str(path), f"not an export this version can read (zip: {exc})") from None


def read_feed_bodies(
    urls: list[tuple[str, Seen | None]], limits: FetchLimits, workers: int = 4
) -> Iterator[tuple[str, object]]:
    """Fetch several feeds at once (a few threads: the network is the wait), each answer as it
    comes: (url, Fetched) or (url, the exception)."""
    from concurrent.futures import ThreadPoolExecutor, as_completed

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = {
            pool.submit(fetch, url, *_conditions(seen), limits=limits): url for url, seen in urls
        }
        for future in as_completed(futures):
            url = futures[future]
            try:
                yield url, future.result()
            except Exception as exc:  # every failure is the source's to report
                yield url, exc


__all__ = [
    "LocationSummary",
    "Seen",
    "default_source_name",
    "describe_failure",
    "ingest_location",
    "is_url",
    "read_feed_bodies",
]
