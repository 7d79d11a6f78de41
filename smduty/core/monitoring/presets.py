"""Which column of a tool's export holds which part of a post: the presets and the mapping.

The presets are data (`data/export-presets.toml`; a copy in the config folder replaces it). A
preset is chosen from a file's header row unless one is named, and `--map` overrides any column.
A `Mapping` is the choice made for one file: for each field, the file's own columns to try.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import msgspec

from smduty.core.config import ConfigError, config_dir, read_toml, shipped_data_dir
from smduty.core.errors import ReadFailed
from smduty.core.monitoring.dates import DateReader, header_zone
from smduty.core.monitoring.mentions import RawMention

FIELDS = ("id", "url", "title", "text", "author", "published")


class _PresetFile(msgspec.Struct, forbid_unknown_fields=True):
    signature: list[str]
    time: str = ""
    id: list[str] = []
    url: list[str] = []
    title: list[str] = []
    text: list[str] = []
    author: list[str] = []
    published: list[str] = []


@dataclass(frozen=True)
class Preset:
    name: str
    signature: frozenset[str]  # header names that identify the tool's export (casefolded)
    columns: dict[str, tuple[str, ...]]  # field -> candidate column names, best first
    time_column: str = ""  # a separate time-of-day column joined to the date


def presets_path() -> Path:
    user = config_dir() / "export-presets.toml"
    return user if user.exists() else shipped_data_dir() / "export-presets.toml"


def parse_presets(raw: dict, where: str) -> dict[str, Preset]:
    """Presets from the file's tables; ConfigError names the file, the preset and the reason."""
    found: dict[str, Preset] = {}
    for name, table in raw.items():
        try:
            spec = msgspec.convert(table, _PresetFile)
        except msgspec.ValidationError as exc:
            raise ConfigError(f"{where}: [{name}]: {exc}") from None
        columns = {
            f: tuple(c.casefold() for c in getattr(spec, f)) for f in FIELDS if getattr(spec, f)
        }
        if "text" not in columns and "title" not in columns:
            raise ConfigError(f"{where}: [{name}]: name the text (or title) columns")
        found[name] = Preset(
            name,
            frozenset(s.casefold() for s in spec.signature),
            columns,
            spec.time.casefold(),
        )
    if "generic" not in found:
        raise ConfigError(f"{where}: a [generic] preset is needed, for files no tool signs")
    return found


def load_presets() -> dict[str, Preset]:
    """The presets in force: read once, and again when the file changes."""
    path = presets_path()
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        stamp = 0
    return _read_presets(path, stamp)


@cache
def _read_presets(path: Path, stamp: int) -> dict[str, Preset]:
    _, raw = read_toml(path)
    return parse_presets(raw, str(path))


def preset_names() -> tuple[str, ...]:
    return tuple(load_presets())


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


@dataclass
class ReadNotes:
    """What reading a file found worth saying: dates that could not be read, and a text
    column empty in every row (the posts are kept by their title or link)."""

    dates: DateReader = field(default_factory=DateReader)
    rows: int = 0
    no_text: int = 0
    text_column: str = ""
    what: str = "line"  # "line" for CSV and NDJSON, "item" for JSON

    def warning(self) -> str | None:
        said = []
        if self.rows and self.no_text == self.rows and self.text_column:
            said.append(
                f"the text column {self.text_column!r} was empty in every row: posts were kept"
                " by their title or link (name the text column with --map text=COLUMN?)"
            )
        dates = self.dates.warning(self.what)
        if dates:
            said.append(dates)
        return "; ".join(said) or None


# A dataclass, unlike smduty's records (msgspec Structs): its notes stay out of comparisons.
@dataclass(frozen=True)
class Mapping:
    preset: str
    columns: dict[str, tuple[str, ...]]  # field -> the file's columns to try, best first
    time_column: str = ""
    notes: ReadNotes = field(default_factory=ReadNotes, compare=False)

    def record(self, row: dict[str, object]) -> RawMention:
        """A JSON or NDJSON object (its keys vary, so look each column up by name)."""
        found: dict[str, str] = {}
        for field_name, columns in self.columns.items():
            for column in columns:
                value = row.get(column)
                if value is not None and str(value).strip():
                    found[field_name] = str(value)
                    break
        clock = row.get(self.time_column) if self.time_column else None
        return self._mention(found, str(clock) if clock else "")

    def _mention(self, found: dict[str, str], clock: str) -> RawMention:
        """Mapped values as a mention; a separate time-of-day column joins the date."""
        published = found.get("published", "")
        if published and clock:
            published = f"{published} {clock}"
        notes = self.notes
        notes.rows += 1
        text = found.get("text", "")
        if not text:
            notes.no_text += 1
        return RawMention(
            found.get("id", ""),
            found.get("url", ""),
            found.get("title", ""),
            text,
            found.get("author", ""),
            notes.dates(published),
        )

    def for_cells(self, headers: list[str]) -> Callable[[list[str]], RawMention]:
        """A reader of CSV rows by position: the hot loop, so no dict per row."""
        where = {h: i for i, h in reversed(list(enumerate(headers)))}
        spots = [[where[c] for c in self.columns.get(f, ()) if c in where] for f in FIELDS]
        time_at = where.get(self.time_column) if self.time_column else None
        size = len(headers)
        notes, dates = self.notes, self.notes.dates
        if time_at is None and all(len(options) <= 1 for options in spots):
            # One column per field (most exports): all six in one call. A field the file lacks
            # reads the empty cell added after the last column.
            pick = operator.itemgetter(*(options[0] if options else size for options in spots))

            def read_direct(cells: list[str]) -> RawMention:
                if len(cells) != size:
                    cells = cells[:size] + [""] * (size - len(cells))
                cells.append("")
                source_id, url, title, text, author, published = pick(cells)
                notes.rows += 1
                if not text:
                    notes.no_text += 1
                return RawMention(source_id, url, title, text, author, dates(published))

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
            notes.rows += 1
            if not values[3]:
                notes.no_text += 1
            return RawMention(*values[:5], dates(published))

        return read

    def published_values(self, row: dict[str, str]) -> str:
        """The date (and time) a row gives, as written: for deciding the file's date order."""
        published = next((row[c] for c in self.columns.get("published", ()) if row.get(c)), "")
        clock = row.get(self.time_column, "") if self.time_column else ""
        return f"{published} {clock}".strip() if published else ""


def _fold(header: str) -> str:
    """A header as presets name it: no time zone, no case, no surrounding space."""
    return header_zone(header)[0].strip().casefold()


def choose_preset(headers: list[str], preset: str | None) -> Preset | None:
    folded = {_fold(h) for h in headers if h}
    if preset:
        return load_presets()[preset]
    for candidate in load_presets().values():
        if candidate.signature and candidate.signature <= folded:
            return candidate
    generic = load_presets()["generic"]
    if any(c in folded for c in generic.columns["text"] + generic.columns["title"]):
        return generic
    return None


def build_mapping(
    headers: list[str],
    preset: str | None,
    overrides: dict[str, str],
    where: str,
    notes: ReadNotes | None = None,
) -> Mapping:
    if preset and preset not in load_presets():
        names = ", ".join(preset_names())
        raise ReadFailed(where, f"unknown preset {preset!r} (one of {names})")
    chosen = choose_preset(headers, preset)
    by_fold = {}
    for h in headers:
        if h:
            by_fold.setdefault(_fold(h), h)
            by_fold.setdefault(h.strip().casefold(), h)
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
    notes = notes or ReadNotes()
    if "published" in columns:
        zone = header_zone(columns["published"][0])[1]
        if time_column and zone is None:
            zone = header_zone(time_column)[1]
        notes.dates.zone = zone or notes.dates.zone
    notes.text_column = columns["text"][0] if "text" in columns else ""
    return Mapping(chosen.name if chosen else "custom", columns, time_column, notes)
