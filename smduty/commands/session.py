"""What every CLI command shares: the database, the actor and helpers for output."""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import click

from smduty.core.config import Config, default_db_path, load_config, resolve_actor
from smduty.core.store import connect


class Session:
    """Resolved lazily: `smduty --help` must not create a database."""

    def __init__(self, db_path: Path | None, actor: str | None) -> None:
        self._explicit_db = db_path
        self._explicit_actor = actor
        self._config: Config | None = None
        self._db: sqlite3.Connection | None = None

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
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


pass_session = click.make_pass_decorator(Session)


def emit_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def print_table(headers: Sequence[str], rows: Iterable[Sequence[object]], title: str = "") -> None:
    """A table on a terminal, tab-separated lines in a pipe; cells are literal, never markup."""
    if not sys.stdout.isatty():
        click.echo("\t".join(headers))
        for row in rows:
            click.echo("\t".join(str(cell).replace("\t", " ").replace("\n", " ") for cell in row))
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(
        *headers, title=Text(title) if title else None, title_justify="left", header_style="bold"
    )
    for row in rows:
        table.add_row(*(cell if isinstance(cell, Text) else Text(str(cell)) for cell in row))
    Console(highlight=False).print(table)


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON with stable keys.")
