"""Export files of social media tools: CSV, JSON and NDJSON, read as a stream.

Encodings: UTF-8 with or without BOM, UTF-16 with BOM, cp1252 as the fallback. Presets map each
tool's columns; the preset is chosen from the header row unless one is named, and `--map` overrides
any column. Problems raise `ReadFailed` naming the file and, where it applies, the line.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import itertools
import json
import operator
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import BinaryIO

import ijson

from smduty.core.clock import COUNCIL_TZ
from smduty.core.files import MAX_EXPORT_BYTES, open_input
from smduty.core.monitoring.mentions import RawMention

FIELDS = ("id", "url", "title", "text", "author", "published")
FORMATS = ("auto", "feed", "csv", "json", "ndjson")
SAMPLE = 64 * 1024
csv.field_size_limit(16 * 1024 * 1024)


class ReadFailed(Exception):
    """The file (or one of its lines) cannot be read; nothing from it is stored."""

    def __init__(self, where: str, why: str) -> None:
        super().__init__(f"{where}: {why}")
        self.where, self.why = where, why

    def __reduce__(self):  # crosses from the reader process to the writer intact
        return ReadFailed, (self.where, self.why)


@dataclass(frozen=True)
class Preset:
    name: str
    signature: frozenset[str]  # header names that identify the tool's export
    columns: dict[str, tuple[str, ...]]  # field -> candidate column names, best first
    time_column: str = ""  # a separate time-of-day column joined to the date


def _preset(name, signature, time_column="", **columns) -> Preset:
    return Preset(
        name,
        frozenset(s.casefold() for s in signature),
        {f: tuple(c.casefold() for c in cols) for f, cols in columns.items()},
        time_column.casefold(),
    )


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in [
        _preset(
            "meltwater",
            {"Headline", "Hit Sentence", "Opening Text"},
            time_column="Time",
            id=("Tweet Id", "Document ID"),
            url=("URL",),
            title=("Headline",),
            text=("Hit Sentence", "Opening Text", "Headline"),
            author=("Twitter Screen Name", "Influencer", "Author"),
            published=("Date",),
        ),
        _preset(
            "brandwatch",
            {"Full Text", "Page Type", "Content Id"},
            id=("Content Id", "Resource Id"),
            url=("Url",),
            title=("Title",),
            text=("Full Text", "Snippet"),
            author=("Author", "Full Name"),
            published=("Date",),
        ),
        _preset(
            "hootsuite",
            {"Conversation ID", "Medium", "Channel Display Name"},
            id=("Message ID", "Conversation ID"),
            url=("Permalink", "URL", "Link"),
            title=(),
            text=("Message", "Content", "Text", "Last Message"),
            author=("Author Handle", "Author Name", "From"),
            published=("Created at", "Created At"),
        ),
        _preset(
            "sprout",
            {"Network", "Message Type", "Profile", "Message"},
            id=("Message ID", "Post ID"),
            url=("Link", "Permalink", "Post Link"),
            title=(),
            text=("Message", "Post"),
            author=("From", "Sender", "Author"),
            published=("Date", "Timestamp", "Created Time"),
        ),
        _preset(
            "talkwalker",
            {"published", "domain_url", "content"},
            id=("article_id", "id"),
            url=("url",),
            title=("title",),
            text=("content", "title_snippet", "content_snippet"),
            author=("author_handle", "author_name"),
            published=("published",),
        ),
        _preset(
            "generic",
            set(),
            id=("id", "guid", "post id", "post_id", "message id", "message_id", "content id"),
            url=("url", "link", "permalink", "post url", "post_url", "href"),
            title=("title", "headline", "subject"),
            text=("text", "content", "message", "body", "full text", "snippet", "post", "tweet"),
            author=(
                "author",
                "user",
                "username",
                "user name",
                "screen name",
                "screen_name",
                "handle",
                "from",
                "author name",
                "author_name",
            ),
            published=(
                "published",
                "date",
                "created",
                "created at",
                "created_at",
                "timestamp",
                "datetime",
                "published at",
                "published_at",
                "time",
            ),
        ),
    ]
}


def parse_map(value: str | None) -> dict[str, str]:
    """'text=Body,author=User' -> {'text': 'Body', 'author': 'User'}."""
    if not value:
        return {}
    found: dict[str, str] = {}
    for part in value.split(","):
        name, sep, column = part.partition("=")
        name = name.strip().lower()
        if not sep or name not in FIELDS or not column.strip():
            raise ReadFailed(
                "--map", f"{part.strip()!r}: use FIELD=COLUMN with FIELD one of {FIELDS}"
            )
        found[name] = column.strip()
    return found


# --- encodings -------------------------------------------------------------------------


def detect_encoding(stream: BinaryIO, where: str) -> str:
    """Look at the BOM, else check the whole stream decodes as UTF-8; else cp1252."""
    start = stream.read(4)
    stream.seek(0)
    if start.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := stream.read(1 << 20):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
        encoding = "utf-8"
    except UnicodeDecodeError:
        encoding = "cp1252"
    stream.seek(0)
    return encoding


class CountingReader(io.RawIOBase):
    """Counts the bytes read from a binary stream, for a progress bar."""

    def __init__(self, inner: BinaryIO, progress: Callable[[int], None] | None) -> None:
        self.inner = inner
        self.progress = progress
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.inner.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.count += n
        if self.progress and n:
            self.progress(self.count)
        return n


def text_stream(stream: BinaryIO, encoding: str, progress=None) -> io.TextIOWrapper:
    raw = io.BufferedReader(CountingReader(stream, progress), buffer_size=1 << 16)
    # cp1252 leaves five bytes undefined; replace them rather than fail on one stray byte.
    errors = "replace" if encoding == "cp1252" else "strict"
    return io.TextIOWrapper(raw, encoding=encoding, errors=errors, newline="")


# --- formats ---------------------------------------------------------------------------


def sniff_format(head: bytes, name: str) -> str:
    lower = name.lower()
    for ext, fmt in (
        (".ndjson", "ndjson"),
        (".jsonl", "ndjson"),
        (".json", "json"),
        (".csv", "csv"),
        (".tsv", "csv"),
        (".rss", "feed"),
        (".atom", "feed"),
        (".xml", "feed"),
    ):
        if lower.endswith(ext):
            return fmt
    text = head.lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n").replace(b"\x00", b"")
    if text.startswith(b"<"):
        return "feed"
    if text.startswith(b"["):
        return "json"
    if text.startswith(b"{"):
        first = text.split(b"\n", 1)[0].strip()
        try:
            json.loads(first)
            return "ndjson"
        except ValueError:
            return "json"
    return "csv"


# --- dates -----------------------------------------------------------------------------

_DATE_FORMATS = (
    "%d-%b-%Y %I:%M %p",
    "%d-%b-%Y %I:%M%p",
    "%d-%b-%Y %H:%M",
    "%d-%b-%Y",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%b %d, %Y %I:%M %p",
    "%b %d, %Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%Y-%m-%d %I:%M %p",
)


# A time already in UTC to the second, as many tools write it: stored as written, which skips
# two datetime conversions per post. Fractions of a second go the long way (they are dropped on
# storing, but a hashed key keeps them).
_UTC_STAMP = re.compile(r"(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(?:Z|\+00:?00)")


def published_value(text: str) -> datetime | str | None:
    """An export's date as `RawMention.published`: a UTC stamp ("...Z") when it already is one."""
    if not text:
        return None
    found = _UTC_STAMP.fullmatch(text)
    if found:
        return f"{found[1]}T{found[2]}Z"
    return parse_when(text)


def parse_when(value: object) -> datetime | None:
    """A date as export tools write it; naive times are UK local time."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if value > 1e11 else value
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    text = str(value).strip()
    if not text:
        return None
    moment: datetime | None = None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        if text.isdigit():
            return parse_when(int(text))
        for fmt in _DATE_FORMATS:
            try:
                moment = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        else:
            try:
                moment = parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError):
                return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=COUNCIL_TZ)
    return moment.astimezone(UTC)


# --- column mapping --------------------------------------------------------------------


@dataclass(frozen=True)
class Mapping:
    preset: str
    columns: dict[str, tuple[str, ...]]  # field -> the file's columns to try, best first
    time_column: str = ""

    def record(self, row: dict[str, object]) -> RawMention:
        """A JSON or NDJSON object (its keys vary, so look each column up by name)."""
        found: dict[str, str] = {}
        for field, columns in self.columns.items():
            for column in columns:
                value = row.get(column)
                if value is not None and str(value).strip():
                    found[field] = str(value)
                    break
        clock = row.get(self.time_column) if self.time_column else None
        return _mention(found, str(clock) if clock else "")

    def for_cells(self, headers: list[str]) -> Callable[[list[str]], RawMention]:
        """A reader of CSV rows by position: the hot loop, so no dict per row."""
        where = {h: i for i, h in reversed(list(enumerate(headers)))}
        spots = [[where[c] for c in self.columns.get(f, ()) if c in where] for f in FIELDS]
        time_at = where.get(self.time_column) if self.time_column else None
        size = len(headers)
        if time_at is None and all(len(options) <= 1 for options in spots):
            # One column per field (most exports): all six in one call. A field the file lacks
            # reads the empty cell added after the last column.
            pick = operator.itemgetter(*(options[0] if options else size for options in spots))

            def read_direct(cells: list[str]) -> RawMention:
                if len(cells) != size:
                    cells = cells[:size] + [""] * (size - len(cells))
                cells.append("")
                source_id, url, title, text, author, published = pick(cells)
                return RawMention(source_id, url, title, text, author, published_value(published))

            return read_direct

        def read(cells: list[str]) -> RawMention:
            if len(cells) < size:
                cells = cells + [""] * (size - len(cells))
            values = []
            for options in spots:  # the first column of each field's with something in it
                value = ""
                for i in options:
                    if cells[i] and not cells[i].isspace():
                        value = cells[i]
                        break
                values.append(value)
            published = values[5]
            if published and time_at is not None and cells[time_at]:
                published = f"{published} {cells[time_at]}"
            return RawMention(*values[:5], published_value(published))

        return read


def _mention(found: dict[str, str], clock: str) -> RawMention:
    """Mapped values as a mention; a separate time-of-day column joins the date."""
    published = found.get("published", "")
    if published and clock:
        published = f"{published} {clock}"
    return RawMention(
        found.get("id", ""),
        found.get("url", ""),
        found.get("title", ""),
        found.get("text", ""),
        found.get("author", ""),
        published_value(published),
    )


def choose_preset(headers: list[str], preset: str | None) -> Preset | None:
    folded = {h.strip().casefold() for h in headers if h}
    if preset:
        return PRESETS[preset]
    for candidate in PRESETS.values():
        if candidate.signature and candidate.signature <= folded:
            return candidate
    generic = PRESETS["generic"]
    if any(c in folded for c in generic.columns["text"] + generic.columns["title"]):
        return generic
    return None


def build_mapping(
    headers: list[str], preset: str | None, overrides: dict[str, str], where: str
) -> Mapping:
    if preset and preset not in PRESETS:
        raise ReadFailed(where, f"unknown preset {preset!r} (one of {', '.join(PRESETS)})")
    chosen = choose_preset(headers, preset)
    by_fold = {h.strip().casefold(): h for h in headers if h}
    columns: dict[str, tuple[str, ...]] = {}
    if chosen:
        for field, candidates in chosen.columns.items():
            present = tuple(by_fold[c] for c in candidates if c in by_fold)
            if present:
                columns[field] = present
    for field, column in overrides.items():
        actual = by_fold.get(column.casefold())
        if actual is None:
            raise ReadFailed(where, f"--map {field}={column}: the file has no column {column!r}")
        columns[field] = (actual,)
    if "text" not in columns and "title" not in columns:
        shown = ", ".join(h for h in headers[:12] if h)
        raise ReadFailed(
            where,
            f"cannot tell which column holds the text (columns: {shown}); "
            "name a preset with --preset or map it with --map text=COLUMN",
        )
    time_column = ""
    if chosen and chosen.time_column and chosen.time_column in by_fold:
        time_column = by_fold[chosen.time_column]
    return Mapping(chosen.name if chosen else "custom", columns, time_column)


# --- readers ---------------------------------------------------------------------------


def _header_row(lines: list[str]) -> tuple[int, str]:
    """Find the header row (Brandwatch puts metadata lines first) and its delimiter."""
    best: tuple[int, str] | None = None
    for index, line in enumerate(lines[:40]):
        for delimiter in (",", "\t", ";"):
            cells = next(csv.reader([line], delimiter=delimiter), [])
            if len(cells) < 2:
                continue
            if choose_preset(cells, None) is not None:
                return index, delimiter
            if best is None and len(cells) >= 3:
                best = (index, delimiter)
    return best or (0, ",")


def read_csv(text: io.TextIOBase, where: str, preset, overrides) -> Iterator[RawMention]:
    head = text.read(SAMPLE)
    head += text.readline()  # end the sample on a line boundary
    lines = head.splitlines()
    if not lines:
        return
    skip, delimiter = _header_row(lines)
    sample = "\n".join(lines[skip : skip + 50])
    with contextlib.suppress(csv.Error):
        delimiter = csv.Sniffer().sniff(sample, delimiters=",\t;").delimiter
    rest = io.StringIO(head)
    for _ in range(skip):
        rest.readline()
    reader = csv.reader(itertools.chain(rest, text), delimiter=delimiter)
    try:
        headers = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        raise ReadFailed(f"{where} line {skip + 1}", str(exc)) from None
    record = build_mapping(headers, preset, overrides, where).for_cells(headers)
    try:
        for cells in reader:
            if not "".join(cells).strip():  # a blank line, or only separators and spaces
                continue
            yield record(cells)
    except csv.Error as exc:
        raise ReadFailed(f"{where} line {skip + reader.line_num}", str(exc)) from None


class Utf8Reader(io.RawIOBase):
    """A binary UTF-8 stream over a text stream (ijson reads bytes; files may be UTF-16)."""

    def __init__(self, text: io.TextIOBase) -> None:
        self.text = text
        self.pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while len(self.pending) < len(buffer):
            chunk = self.text.read(1 << 15)
            if not chunk:
                break
            self.pending += chunk.encode("utf-8")
        n = min(len(buffer), len(self.pending))
        buffer[:n] = self.pending[:n]
        self.pending = self.pending[n:]
        return n


def _flatten(obj: object) -> dict[str, object]:
    if not isinstance(obj, dict):
        return {}
    flat: dict[str, object] = {}
    for key, value in obj.items():
        if isinstance(value, dict):
            for inner, v in value.items():
                if not isinstance(v, dict | list):
                    flat[f"{key}.{inner}"] = v
        elif not isinstance(value, list):
            flat[str(key)] = value
    return flat


def read_ndjson(text: io.TextIOBase, where: str, preset, overrides) -> Iterator[RawMention]:
    mapping: Mapping | None = None
    for number, line in enumerate(text, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise ReadFailed(f"{where} line {number}", f"not valid JSON ({exc})") from None
        row = _flatten(obj)
        if not row:
            raise ReadFailed(f"{where} line {number}", "each line must be a JSON object")
        if mapping is None:
            mapping = build_mapping(list(row), preset, overrides, where)
        yield mapping.record(row)


def _array_prefix(stream: BinaryIO, where: str) -> str:
    """'item' for a top-level array; 'key.item' for an object holding one."""
    try:
        events = ijson.parse(stream)
        prefix, event, _ = next(events)
        if event == "start_array":
            return "item"
        if event == "start_map":
            for prefix, event, _ in events:
                if event == "start_array" and "." not in prefix:
                    return f"{prefix}.item"
    except ijson.JSONError as exc:
        raise ReadFailed(where, f"not valid JSON ({exc})") from None
    except StopIteration:
        pass
    raise ReadFailed(where, "JSON must be an array of posts, or an object holding one")


def read_json(stream: BinaryIO, where: str, preset, overrides) -> Iterator[RawMention]:
    prefix = _array_prefix(stream, where)
    stream.seek(0)
    mapping: Mapping | None = None
    number = 0
    try:
        for number, obj in enumerate(ijson.items(stream, prefix, use_float=True), start=1):
            row = _flatten(obj)
            if not row:
                raise ReadFailed(f"{where} item {number}", "each post must be a JSON object")
            if mapping is None:
                mapping = build_mapping(list(row), preset, overrides, where)
            yield mapping.record(row)
    except ijson.JSONError as exc:
        raise ReadFailed(f"{where} after item {number}", f"not valid JSON ({exc})") from None


def file_records(
    path: Path, fmt: str, preset, overrides, report: Callable[[int], None] | None = None
) -> Iterator[RawMention]:
    """The posts of an export file, read as a stream; its handles close when reading ends."""
    where = str(path)
    with open_input(path, MAX_EXPORT_BYTES, "the export") as stream:
        encoding = detect_encoding(stream, where)
    opened: list[BinaryIO] = []

    def opener() -> BinaryIO:
        handle = open_input(path, MAX_EXPORT_BYTES, "the export")
        opened.append(handle)
        return handle

    try:
        yield from records(fmt, opener, encoding, where, preset, overrides, report)
    finally:
        for handle in opened:
            handle.close()


def records(fmt, opener, encoding, where, preset, overrides, report=None) -> Iterator[RawMention]:
    """The posts of an export file in `fmt`; `opener()` gives its bytes from the top."""
    if fmt == "csv":
        return read_csv(text_stream(opener(), encoding, report), where, preset, overrides)
    if fmt == "ndjson":
        return read_ndjson(text_stream(opener(), encoding, report), where, preset, overrides)
    if fmt == "json":
        return read_json(_Reopenable(opener, encoding, report), where, preset, overrides)
    raise ReadFailed(where, f"unknown format {fmt!r}")


class _Reopenable:
    """A UTF-8 byte stream for ijson that can start again from the top (`seek(0)`)."""

    def __init__(self, opener, encoding: str, report) -> None:
        self.opener = opener
        self.encoding = encoding
        self.report = report
        self._open()

    def _open(self) -> None:
        # Keep the text wrapper alive: collecting it would close the file under ijson.
        self.text = text = text_stream(self.opener(), self.encoding, self.report)
        self.stream = Utf8Reader(text) if self.encoding != "utf-8" else text.buffer

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = 1 << 20
        return self.stream.read(size)

    def seek(self, offset: int) -> None:
        self._open()
