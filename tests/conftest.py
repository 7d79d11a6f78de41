"""Every test gets its own smduty home (data, config, database) and a pinned clock."""

from __future__ import annotations

import pytest
from demo_copy import demo_into

from smduty.core.store import connect

PINNED_NOW = "2026-11-21T08:30:00+00:00"  # a Saturday


@pytest.fixture(autouse=True)
def smduty_home(tmp_path, monkeypatch):
    monkeypatch.setenv("SMDUTY_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SMDUTY_NOW", PINNED_NOW)
    monkeypatch.setenv("SMDUTY_USER", "Test Officer")
    monkeypatch.delenv("SMDUTY_DB", raising=False)
    return tmp_path / "home"


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "smduty.db"


@pytest.fixture
def db(db_path):
    conn = connect(db_path)
    yield conn
    conn.close()


@pytest.fixture
def demo_db(db):
    demo_into(db)  # loaded once a session, copied after (see demo_copy)
    return db
