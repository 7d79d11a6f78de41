"""Bad input, hostile text and a busy database (issue 15): each case the issue lists, as a user
meets it. Every refusal exits 2 (bad input) or 1 (refused, failed), names what is wrong, and
writes nothing; no case crashes, hangs or prints a raw control byte."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from datetime import datetime

import pytest
from click.testing import CliRunner

from smduty.cli import main
from smduty.core import store
from smduty.core.clock import council_moment
from smduty.core.config import ConfigError, load_config
from smduty.core.demo import load_demo
from smduty.core.incidents.log import parse_told_at
from smduty.core.store import connect
from smduty.core.triage.outcomes import parse_until

HOSTILE_ACTOR = "\x1b]0;pwned\x07\x1b[2Jmallory"


@pytest.fixture
def demo_path(db_path):
    db = connect(db_path)
    load_demo(db)
    db.close()
    return db_path


def audit_rows(path) -> int:
    db = sqlite3.connect(path)
    try:
        return db.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    finally:
        db.close()


def cli(db_path, *args, env=None):
    return CliRunner().invoke(main, ["--db", str(db_path), *args], env=env)


def refused(db_path, code: int, *args, says: str = "", env=None):
    """Run a command that must be refused: the exit code, the reason, nothing written."""
    before = audit_rows(db_path)
    result = cli(db_path, *args, env=env)
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    assert "Traceback" not in result.output
    if says:
        assert says in result.output, result.output
    assert audit_rows(db_path) == before, "a refused command wrote to the database"
    return result


# --- tracebacks that were ------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("rota", "show", "--date", "9999-12-31"),
        ("rota", "list", "--from", "0001-01-01", "--to", "9999-12-31"),
        ("checks", "missed", "--from", "0001-01-01", "--to", "9999-12-31"),
        ("checks", "--date", "2026-02-30"),
        ("rota", "list", "--from", "2026-12-10", "--to", "2026-12-01"),
        ("rota", "list", "--from", "2026-01-01", "--to", "2030-01-01"),
        ("history", "--limit", "-1"),
        ("incident", "show", "99999999999999999999999"),
        ("rota", "generate", "--weeks", "100000"),
    ],
)
def test_impossible_dates_and_numbers_are_usage_errors(demo_path, args):
    refused(demo_path, 2, *args)


def test_rota_export_to_a_path_that_cannot_be_written(demo_path, tmp_path):
    refused(demo_path, 2, "rota", "export", "--ics", "/nonexistent/x.ics", says="does not exist")
    if os.path.exists("/dev/full"):
        refused(demo_path, 2, "rota", "export", "--csv", "/dev/full", says="No space left")
    (tmp_path / "adir").mkdir()
    refused(demo_path, 2, "rota", "export", "--csv", str(tmp_path / "adir"))


def test_exporting_into_a_pipe_nobody_reads_is_refused_at_once(demo_path, fifo):
    began = time.monotonic()
    refused(demo_path, 2, "rota", "export", "--csv", str(fifo), says="nobody is reading")
    started = cli(demo_path, "incident", "start", "--title", "Wrong date posted")
    assert started.exit_code == 0, started.output
    refused(demo_path, 2, "incident", "report", "1", "-o", str(fifo), says="nobody is reading")
    assert time.monotonic() - began < 5


def test_config_that_is_a_folder_is_refused(demo_path, smduty_home):
    (smduty_home / "config" / "config.toml").mkdir(parents=True)
    refused(demo_path, 2, "channels", "list", says="config.toml")


# --- special files -------------------------------------------------------------------------


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("command", [("rules", "check"), ("channels", "import"), ("ingest",)])
@pytest.mark.parametrize("special", ["/dev/zero", "fifo", "folder"])
def test_special_files_are_refused_at_once(demo_path, tmp_path, fifo, command, special):
    target = {"/dev/zero": "/dev/zero", "fifo": str(fifo), "folder": str(tmp_path)}[special]
    began = time.monotonic()
    result = refused(demo_path, 2, *command, target)
    assert time.monotonic() - began < 5
    assert target in result.output


def test_a_file_over_the_size_cap_is_refused(demo_path, tmp_path, monkeypatch):
    from smduty.core import files

    monkeypatch.setattr(files, "MAX_SETTINGS_BYTES", 1000)
    monkeypatch.setattr("smduty.core.config.MAX_SETTINGS_BYTES", 1000)
    big = tmp_path / "rules.toml"
    big.write_text("# " + "x" * 5000 + "\n", encoding="utf-8")
    refused(demo_path, 2, "rules", "check", str(big), says="MB smduty reads")


def test_the_import_screen_refuses_dev_zero_at_once(demo_path):
    from smduty.core.monitoring.flag_load import ruleset_for
    from smduty.core.monitoring.ingest import ingest_location

    db = connect(demo_path)
    began = time.monotonic()
    summary = ingest_location(db, ruleset_for(db), "/dev/zero")
    db.close()
    assert time.monotonic() - began < 2
    assert summary.error and "device" in summary.error


def test_a_source_that_is_a_folder_is_refused(demo_path, tmp_path):
    refused(demo_path, 2, "sources", "add", "Dir", str(tmp_path), says="not a regular file")


# --- wrong answers -------------------------------------------------------------------------


def test_malformed_values_exit_2_like_every_usage_error(demo_path):
    refused(demo_path, 2, "channels", "add", "Foo", "--platform", "x", "--authorised-on",
            "2026-02-30", says="authorised_on")  # fmt: skip


def test_a_bad_deputy_creates_nobody(demo_path):
    refused(demo_path, 2, "staff", "add", "Zed", "--deputy", "Nobody", says="Nobody")
    assert "Zed" not in cli(demo_path, "staff", "list").output


def test_empty_name_missing_reason_and_bad_email_are_refused(demo_path):
    refused(demo_path, 2, "channels", "edit", "Castlemere Council", "--name", "", says="name")
    refused(demo_path, 2, "channels", "close", "Castlemere Council", says="--reason")
    refused(demo_path, 2, "channels", "close", "Castlemere Council", "--reason", "  ")
    refused(demo_path, 2, "channels", "edit", "Castlemere Council", says="say what to change")
    refused(demo_path, 2, "staff", "add", "Bob", "--email", "not an email", says="e-mail")


def test_a_swap_on_a_past_date_needs_force(demo_path):
    refused(demo_path, 1, "rota", "swap", "2026-11-02", "--to", "Priya Raman", "--reason", "x",
            says="in the past")  # fmt: skip


def test_posts_stop_for_an_incident_that_does_not_exist(demo_path):
    result = refused(demo_path, 2, "posts", "stop", "--incident", "99999", "--reason", "x")
    assert "no incident 99999" in result.output and "damaged" not in result.output


# --- local times around the clock changes --------------------------------------------------


def test_the_skipped_hour_is_refused_and_the_repeated_one_asked_about():
    with pytest.raises(ValueError, match="does not exist"):
        council_moment(datetime(2026, 3, 29, 1, 30))
    with pytest.raises(ValueError, match=r"happens twice.*\+01:00.*\+00:00"):
        council_moment(datetime(2026, 10, 25, 1, 30))
    plain = council_moment(datetime(2026, 7, 1, 9, 0))
    assert plain.utcoffset().total_seconds() == 3600
    with pytest.raises(ValueError, match="does not exist"):
        parse_until("2026-03-29T01:30")
    assert parse_until("2026-10-25T01:30+00:00").hour == 1
    from smduty.core.errors import InvalidInput

    with pytest.raises(InvalidInput, match="happens twice"):
        parse_told_at("2026-10-25T01:30")


def test_moderation_at_a_time_that_does_not_exist(demo_path):
    refused(demo_path, 2, "moderation", "add", "--channel", "Castlemere Council", "--action",
            "hide", "--user", "x", "--content", "y", "--breach", "abuse", "--evidence", "z",
            "--at", "2026-03-29T01:30", says="does not exist")  # fmt: skip


# --- config ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('closure_days = "2026-12-29"', "closure_days"),
        ('closure_days = ["2026-02-30"]', "closure_days[0]"),
        ('check_deadline_working = "25:00"', "check_deadline_working"),
        ('opertor = "Priya"', "did you mean 'operator'"),
        ("dormant_after_days = 0", "dormant_after_days"),
        ('nation = "wales"', "nation"),
        ('operator = "\\u001b[2J"', "operator"),
        ("response_targets = 3", "response_targets"),
    ],
)
def test_config_errors_name_the_file_key_and_reason(demo_path, smduty_home, text, says):
    path = smduty_home / "config" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(path) in str(caught.value) and says in str(caught.value)
    result = refused(demo_path, 2, "channels", "list", says=says)
    assert str(path) in result.output


def test_config_times_as_hh_mm_are_taken(smduty_home):
    path = smduty_home / "config.toml"
    smduty_home.mkdir(parents=True, exist_ok=True)
    path.write_text('check_deadline_working = "09:30"\noperator = "Jo  Bloggs"\n', "utf-8")
    config = load_config(path)
    assert config.check_deadline_working.hour == 9 and config.operator == "Jo Bloggs"


# --- names with escape sequences -----------------------------------------------------------


def test_an_actor_with_escape_sequences_is_cleaned_at_entry(demo_path):
    done = cli(demo_path, "--as", HOSTILE_ACTOR, "check", "Castlemere Council")
    assert done.exit_code == 0, done.output
    history = cli(demo_path, "history", "--entity", "channel_check", "--limit", "1")
    assert "\x1b" not in history.output and "\x07" not in history.output
    assert "mallory" in history.output
    via_env = cli(demo_path, "check", "Castlemere Council", env={"SMDUTY_USER": "\x1b[2J\x07"})
    assert via_env.exit_code == 2 and "SMDUTY_USER" in via_env.output


def test_stored_control_characters_are_printed_escaped(demo_path):
    db = sqlite3.connect(demo_path)
    db.execute("UPDATE audit_log SET actor = ? WHERE id = 1", ("\x1b]0;x\x07eve",))
    db.commit()
    db.close()
    out = cli(demo_path, "history", "--limit", "500").output
    assert "\x1b" not in out and "\\x1b" in out
    as_json = cli(demo_path, "history", "--limit", "500", "--json").output
    assert "\x1b" not in as_json


def test_old_databases_have_their_names_cleaned(db_path):
    db = connect(db_path, migrate_to=8)
    with store.transaction(db):
        db.execute(
            "INSERT INTO audit_log (at, actor, action, entity) VALUES ('x', ?, 'a', 'b')",
            (HOSTILE_ACTOR,),
        )
    db.close()
    db = connect(db_path)
    [actor] = db.execute("SELECT actor FROM audit_log").fetchone()
    db.close()
    assert actor == "mallory"


# --- a busy database -----------------------------------------------------------------------


def hold_the_write_lock(path, seconds: float) -> threading.Thread:
    """Another process's long write (an import, a backup), played by a thread."""
    ready = threading.Event()

    def hold() -> None:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        ready.set()
        time.sleep(seconds)
        other.execute("COMMIT")
        other.close()

    thread = threading.Thread(target=hold)
    thread.start()
    ready.wait()
    return thread


def test_a_write_waits_for_another_and_then_saves(demo_path):
    holder = hold_the_write_lock(demo_path, 1.5)
    began = time.monotonic()
    result = cli(demo_path, "check", "Castlemere Council")
    holder.join()
    assert result.exit_code == 0, result.output
    assert time.monotonic() - began >= 1.0
    assert "waiting for another change" in result.output


def test_a_write_that_cannot_wait_longer_says_so_and_saves_nothing(demo_path, monkeypatch):
    monkeypatch.setattr(store.Connection, "write_wait_seconds", 0.5)
    holder = hold_the_write_lock(demo_path, 2.0)
    try:
        result = cli(demo_path, "check", "Castlemere Council")
    finally:
        holder.join()
    assert result.exit_code == 1, result.output
    assert "nothing was saved" in result.output and "damaged" not in result.output
    assert "Traceback" not in result.output


def test_damaged_is_said_only_of_a_damaged_file(demo_path):
    assert store.integrity_problem(demo_path) is None
    size = os.path.getsize(demo_path)
    with open(demo_path, "r+b") as f:
        f.seek(size // 2)
        f.write(os.urandom(4096 * 4))
    problem = store.integrity_problem(demo_path)
    assert problem
