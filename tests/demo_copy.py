"""The demo council for tests, loaded once a session and copied after that.

Loading it takes half a second (a year of rota, the register, a month of mentions), and two
hundred tests start from it. A copy made with SQLite's backup API is the same database, page
for page; it is made again whenever the pinned clock, the settings or the demo's own files
differ from the copy's.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from pathlib import Path

from smduty.core.config import config_file, shipped_data_dir
from smduty.core.demo import load_demo
from smduty.core.store import connect

_TEMPLATES: dict[tuple, Path] = {}


def _key() -> tuple:
    settings = config_file()
    demo = shipped_data_dir() / "demo"
    return (
        os.environ.get("SMDUTY_NOW", ""),
        settings.read_text(encoding="utf-8") if settings.exists() else "",
        tuple(sorted((p.name, p.stat().st_mtime_ns) for p in demo.iterdir())),
    )


def _template() -> Path:
    key = _key()
    found = _TEMPLATES.get(key)
    if found is None:
        found = Path(tempfile.mkdtemp(prefix="smduty-demo-")) / "demo.db"
        db = connect(found)
        load_demo(db)
        db.close()
        _TEMPLATES[key] = found
    return found


def demo_into(db: sqlite3.Connection) -> None:
    """The demo council into an open database (replacing what it holds)."""
    source = sqlite3.connect(_template())
    try:
        source.backup(db)
    finally:
        source.close()


def make_demo(path) -> None:
    """A new database at `path` holding the demo council."""
    db = connect(path)
    try:
        demo_into(db)
    finally:
        db.close()
