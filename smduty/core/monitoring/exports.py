"""Export files of social media tools: CSV, JSON and NDJSON, read as a stream of posts.

The encoding and format are found in `encodings`, the columns in `presets`, the dates in
`dates`. Problems raise `ReadFailed` naming the file and, where it applies, the line.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import ijson

from smduty.core.errors import ReadFailed
from smduty.core.files import EXPORT_CEILING, open_input
from smduty.core.monitoring.dates import day_first
from smduty.core.monitoring.encodings import Utf8Reader, detect_encoding, text_stream
from smduty.core.monitoring.mentions import RawMention
from smduty.core.monitoring.presets import Mapping, ReadNotes, build_mapping, choose_preset

__all__ = ["FORMATS", "ReadFailed", "file_records", "records"]

FORMATS = ("auto", "feed", "csv", "json", "ndjson", "xlsx")
SAMPLE = 64 * 1024
csv.field_size_limit(16 * 1024 * 1024)


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


def read_csv(
    text: io.TextIOBase, where: str, preset, overrides, notes: ReadNotes
) -> Iterator[RawMention]:
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
    mapping = build_mapping(headers, preset, overrides, where, notes)
    # Day or month first: decided for the file from the rows in the sample.
    sampled = csv.DictReader(io.StringIO("\n".join(lines[skip:])), delimiter=delimiter)
    with contextlib.suppress(csv.Error):
        notes.dates.dayfirst = day_first(
            mapping.published_values(row) for row in itertools.islice(sampled, 2000)
        )
    record = mapping.for_cells(headers)
    dates = notes.dates
    try:
        for cells in reader:
            # A blank line, or only separators and spaces (the first cell decides most rows).
            if not cells or (not cells[0] or cells[0].isspace()) and not "".join(cells).strip():
                continue
            dates.line = skip + reader.line_num
            yield record(cells)
    except csv.Error as exc:
        raise ReadFailed(f"{where} line {skip + reader.line_num}", str(exc)) from None


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


def read_ndjson(
    text: io.TextIOBase, where: str, preset, overrides, notes: ReadNotes
) -> Iterator[RawMention]:
    mapping: Mapping | None = None
    for number, line in enumerate(text, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise ReadFailed(f"{where} line {number}", f"not valid JSON ({exc})") from None
        row = _flatten(_post(obj))
        if not row:
            raise ReadFailed(f"{where} line {number}", "each line must be a JSON object")
        if mapping is None:
            mapping = build_mapping(list(row), preset, overrides, where, notes)
        notes.dates.line = number
        yield mapping.record(row)


def _post(obj: object) -> object:
    """The post in an item: Talkwalker's API wraps each one as {"data": {...}, ...}."""
    if isinstance(obj, dict) and isinstance(obj.get("data"), dict) and len(obj) <= 4:
        return obj["data"]
    return obj


def _array_prefix(stream: BinaryIO, where: str) -> str:
    """'item' for a top-level array; 'key.item' for an object holding one, at most three
    objects deep ('result_content.data.item', as Talkwalker's API writes it)."""
    try:
        events = ijson.parse(stream)
        prefix, event, _ = next(events)
        if event == "start_array":
            return "item"
        if event == "start_map":
            for prefix, event, _ in events:
                if event == "start_array" and prefix.count(".") < 3 and ".item" not in prefix:
                    return f"{prefix}.item"
    except ijson.JSONError as exc:
        raise ReadFailed(where, f"not valid JSON ({exc})") from None
    except StopIteration:
        pass
    raise ReadFailed(where, "JSON must be an array of posts, or an object holding one")


def read_json(
    stream: BinaryIO, where: str, preset, overrides, notes: ReadNotes
) -> Iterator[RawMention]:
    notes.what = "item"
    prefix = _array_prefix(stream, where)
    stream.seek(0)
    mapping: Mapping | None = None
    number = 0
    try:
        for number, obj in enumerate(ijson.items(stream, prefix, use_float=True), start=1):
            row = _flatten(_post(obj))
            if not row:
                raise ReadFailed(f"{where} item {number}", "each post must be a JSON object")
            if mapping is None:
                mapping = build_mapping(list(row), preset, overrides, where, notes)
            notes.dates.line = number
            yield mapping.record(row)
    except ijson.JSONError as exc:
        raise ReadFailed(f"{where} after item {number}", f"not valid JSON ({exc})") from None


def _cell(value: object) -> object:
    """A spreadsheet cell as a CSV cell would be: text (dates stay dates, for the date reader;
    whole numbers lose the ".0" a spreadsheet gives them)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        return value
    if hasattr(value, "isoformat"):  # datetime, date, time
        return value
    return str(value)


def read_xlsx(path: Path, where: str, preset, overrides, notes: ReadNotes) -> Iterator[RawMention]:
    """The first sheet of a workbook (python-calamine), read like a CSV file."""
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        sheet = workbook.get_sheet_by_index(0)
        rows = sheet.to_python(skip_empty_area=True)
    except Exception as exc:  # calamine's own errors: a damaged or protected workbook
        raise ReadFailed(where, f"not a workbook smduty can read ({exc})") from None
    rows = [[_cell(c) for c in row] for row in rows]
    texts = [[c if isinstance(c, str) else "" for c in row] for row in rows[:40]]
    skip = next(
        (i for i, cells in enumerate(texts) if choose_preset(cells, None) is not None),
        next((i for i, cells in enumerate(texts) if sum(bool(c) for c in cells) >= 2), 0),
    )
    if skip >= len(rows):
        return
    headers = [str(h) for h in rows[skip]]
    mapping = build_mapping(headers, preset, overrides, where, notes)
    published = [
        str(v)
        for row in rows[skip + 1 : skip + 2001]
        for v in [mapping.published_values(dict(zip(headers, map(str, row), strict=False)))]
        if v
    ]
    notes.dates.dayfirst = day_first(published)
    record = mapping.for_cells(headers)
    for number, cells in enumerate(rows[skip + 1 :], start=skip + 2):
        if not any(str(c).strip() for c in cells):
            continue
        notes.dates.line = number
        yield record(list(cells))


def file_records(
    path: Path,
    fmt: str,
    preset,
    overrides,
    report: Callable[[int], None] | None = None,
    notes: ReadNotes | None = None,
) -> Iterator[RawMention]:
    """The posts of an export file, read as a stream; its handles close when reading ends."""
    where = str(path)
    if fmt == "xlsx":
        yield from read_xlsx(path, where, preset, overrides, notes or ReadNotes())
        return
    with open_input(path, EXPORT_CEILING, "the export") as stream:
        encoding = detect_encoding(stream, where)
    opened: list[BinaryIO] = []

    def opener() -> BinaryIO:
        handle = open_input(path, EXPORT_CEILING, "the export")
        opened.append(handle)
        return handle

    try:
        yield from records(fmt, opener, encoding, where, preset, overrides, report, notes)
    finally:
        for handle in opened:
            handle.close()


def records(
    fmt, opener, encoding, where, preset, overrides, report=None, notes: ReadNotes | None = None
) -> Iterator[RawMention]:
    """The posts of an export file in `fmt`; `opener()` gives its bytes from the top. What the
    reading finds worth saying (unreadable dates, an empty text column) goes into `notes`."""
    notes = notes if notes is not None else ReadNotes()
    if fmt == "csv":
        return read_csv(text_stream(opener(), encoding, report), where, preset, overrides, notes)
    if fmt == "ndjson":
        text = text_stream(opener(), encoding, report)
        return read_ndjson(text, where, preset, overrides, notes)
    if fmt == "json":
        return read_json(_Reopenable(opener, encoding, report), where, preset, overrides, notes)
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
