"""Bare `smduty` opens the dashboard without click (smduty.launch); everything else is click's.
Both doors must refuse the same things with the same line and exit code."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from smduty.cli import main as cli_main
from smduty.launch import dashboard_options


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        ([], {}, (None, None, False)),
        (["--db", "a.db"], {}, (Path("a.db"), None, False)),
        (["--db=a.db", "--as", "Jo Bloggs", "--verbose"], {}, (Path("a.db"), "Jo Bloggs", True)),
        (["--as=Jo"], {"SMDUTY_DB": "env.db"}, (Path("env.db"), "Jo", False)),
        ([], {"SMDUTY_DB": "env.db", "SMDUTY_USER": "Sam"}, (Path("env.db"), "Sam", False)),
        (["--db", "given.db"], {"SMDUTY_DB": "env.db"}, (Path("given.db"), None, False)),
        ([], {"SMDUTY_DB": "", "SMDUTY_USER": ""}, (None, None, False)),  # empty: as unset
    ],
)
def test_only_the_dashboards_options_take_the_fast_door(args, env, expected):
    assert dashboard_options(args, env) == expected


@pytest.mark.parametrize(
    "args",
    [
        ["queue"],
        ["--db", "a.db", "queue", "--json"],
        ["--help"],
        ["-h"],
        ["--version"],
        ["--db"],  # no value: click says so
        ["--db="],
        ["--db", "a.db", "--db", "b.db"],
        ["--bogus"],
        ["--", "queue"],
        ["--verbosE"],
    ],
)
def test_anything_else_is_left_to_click(args):
    assert dashboard_options(args, {}) is None


def _bad_config(home: Path) -> None:
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "config.toml").write_text("operator = [unclosed\n", encoding="utf-8")


def _damaged(path: Path) -> None:
    path.write_bytes(b"garbage" * 200)


def _foreign(path: Path) -> None:
    raw = sqlite3.connect(path)
    raw.execute("CREATE TABLE foreign_thing (x)")
    raw.commit()
    raw.close()


@pytest.mark.parametrize(
    ("case", "extra"),
    [
        ("damaged", []),
        ("foreign", []),
        ("folder", []),
        ("config", []),
        ("actor", ["--as", "\x1b]0;owned\x07"]),  # no printable name in it
    ],
)
def test_both_doors_refuse_alike_before_the_screen_is_taken(tmp_path, case, extra):
    home = tmp_path / "home"
    home.mkdir()
    db = tmp_path / "smduty.db"
    if case == "damaged":
        _damaged(db)
    elif case == "foreign":
        _foreign(db)
    elif case == "folder":
        db.mkdir()
    elif case == "config":
        _bad_config(home)
    env = {**os.environ, "SMDUTY_HOME": str(home)}
    env.pop("SMDUTY_DB", None)
    env.pop("SMDUTY_USER", None)
    fast = subprocess.run(
        [sys.executable, "-m", "smduty", "--db", str(db), *extra],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    clicked = CliRunner().invoke(cli_main, ["--db", str(db), *extra], env=env)
    assert fast.returncode == 2, fast.stderr
    assert clicked.exit_code == 2, clicked.output
    assert "Traceback" not in fast.stderr
    assert len(fast.stderr.strip().splitlines()) == 1
    assert fast.stderr.strip() == clicked.output.strip()
    assert "\x1b" not in fast.stderr


def test_the_fast_door_loads_no_click_before_the_tui():
    script = (
        "import sys\nimport smduty.launch, smduty.commands.entry\nprint('click' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip() == "False", result.stderr
