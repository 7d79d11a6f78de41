"""What every CLI command shares: the database, the actor and helpers for output."""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
import sys
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import click

from smduty.commands.entry import say_waiting
from smduty.core.clock import check_range
from smduty.core.config import Config, default_db_path, load_config, resolve_actor
from smduty.core.store import connect
from smduty.core.text import escape_controls


class Session:
    """Resolved lazily: `smduty --help` must not create a database."""

    def __init__(self, db_path: Path | None, actor: str | None) -> None:
        self._explicit_db = db_path
        self._explicit_actor = actor
        self._config: Config | None = None
        self._db: sqlite3.Connection | None = None
        self._facts_recorded = False  # once a command: a listing of facts records them first

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config()
        return self._config

    @property
    def db_path(self) -> Path:
        return self._explicit_db or default_db_path()

    @property
    def actor(self) -> str:
        return resolve_actor(self._explicit_actor, self.config)

    def open(self, path: Path | None = None) -> sqlite3.Connection:
        if self._db is None:
            self._db = connect(path or self.db_path)
            self._db.on_wait = say_waiting
        return self._db

    def record_facts(self) -> None:
        """Facts due since the last command or the app wrote them (a check deadline passed),
        recorded once a command that opened the database has succeeded: a refused command
        writes nothing. Never in the way: busy, or a file this login cannot write (a copy
        being inspected), they are left to the next command."""
        db = self._db
        if db is None or self._facts_recorded:
            return
        self._facts_recorded = True
        from smduty.core.clock import now_utc
        from smduty.core.config import ConfigError
        from smduty.core.rota.duty_calendar import DutyCalendar
        from smduty.core.rota.misses import record_misses
        from smduty.core.store import StoreBusy
        from smduty.core.triage.breaches import record_breaches
        from smduty.core.triage.targets import load_targets

        with contextlib.suppress(StoreBusy, sqlite3.OperationalError):
            record_misses(db, DutyCalendar.from_config(self.config), self.config, now_utc())
        with contextlib.suppress(StoreBusy, ConfigError, sqlite3.OperationalError):
            record_breaches(db, load_targets(self.config), now_utc())

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


pass_session = click.make_pass_decorator(Session)


def echo(message: object = "", *, err: bool = False, nl: bool = True) -> None:
    """click.echo for text that may hold stored strings: control characters are shown
    escaped (\\x1b), never sent to the terminal, so a name cannot retitle or clear it."""
    click.echo(escape_controls(message), err=err, nl=nl)


# JSON escapes C0 controls itself; these it would pass through raw with ensure_ascii=False.
_JSON_RAW = re.compile(r"[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def emit_json(value: Any) -> None:
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    click.echo(_JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text))


def _cell(value: object) -> str:
    return escape_controls(value).replace("\t", " ").replace("\n", " ")


def print_table(headers: Sequence[str], rows: Iterable[Sequence[object]], title: str = "") -> None:
    """A table on a terminal, tab-separated lines in a pipe; cells are literal, never markup,
    and control characters in them are shown escaped."""
    if not sys.stdout.isatty():
        click.echo("\t".join(headers))
        for row in rows:
            click.echo("\t".join(_cell(cell) for cell in row))
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(
        *headers,
        title=Text(escape_controls(title)) if title else None,
        title_justify="left",
        header_style="bold",
    )
    for row in rows:
        table.add_row(
            *(
                Text(escape_controls(cell.plain), style=cell.style)
                if isinstance(cell, Text)
                else Text(escape_controls(cell))
                for cell in row
            )
        )
    Console(highlight=False).print(table)


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON with stable keys.")

# A record's id: SQLite's integers are 64-bit, and a larger number is no id at all.
ID = click.IntRange(1, 2**63 - 1)
# The longest span a listing command takes (about three years of days).
MAX_SPAN_DAYS = 1100


class DateParam(click.ParamType):
    """A date as YYYY-MM-DD within the years smduty keeps (a usage error, exit 2, otherwise)."""

    name = "date"

    def convert(self, value, param, ctx) -> date:
        if isinstance(value, date):
            return value
        try:
            return check_range(date.fromisoformat(str(value).strip()))
        except ValueError as exc:
            reason = str(exc) if "outside" in str(exc) else "use YYYY-MM-DD"
            self.fail(f"{value!r} is not a date smduty takes ({reason})", param, ctx)


DATE = DateParam()


def date_span(
    start: date | None, end: date | None, *, default_start: date, default_days: int
) -> tuple[date, date]:
    """A --from/--to pair: defaults filled in, a reversed or too long span refused (exit 2)."""
    first = start or default_start
    last = end or first + timedelta(days=default_days)
    if last < first:
        raise click.UsageError(f"--to {last} is before --from {first}")
    if (last - first).days > MAX_SPAN_DAYS:
        raise click.UsageError(
            f"{first} to {last} is {(last - first).days} days; ask for at most {MAX_SPAN_DAYS}"
        )
    return first, last
