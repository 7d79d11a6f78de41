"""The CLI as a user runs it: JSON keys, exit codes, the actor in the audit log."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from smduty.cli import main


@pytest.fixture
def run(db_path):
    runner = CliRunner()

    def invoke(*args: str, expect: int = 0):
        result = runner.invoke(main, ["--db", str(db_path), *args], catch_exceptions=False)
        assert result.exit_code == expect, result.output
        return result

    return invoke


def test_init_demo_and_channels_list_json(run):
    run("init", "--demo")
    channels = json.loads(run("channels", "list", "--json").output)
    assert len(channels) == 14
    first = channels[0]
    for key in (
        "id",
        "name",
        "platform",
        "handle",
        "url",
        "service",
        "status",
        "managers",
        "comms_admin_access",
        "problems",
    ):
        assert key in first
    assert isinstance(first["managers"], list)
    assert isinstance(first["comms_admin_access"], bool)
    youth = next(c for c in channels if c["name"] == "Castlemere Youth")
    assert youth["problems"] == [
        {
            "rule": "manager_untrained",
            "severity": "red",
            "message": "Owen Price has no recorded training",
            "policy": "002 §3.2.3; 004 §4.2.3",
        }
    ]


def test_audit_strict_exits_1_on_red(run):
    run("init", "--demo")
    result = run("channels", "audit", "--json", "--strict", expect=1)
    problems = json.loads(result.output)
    assert {p["rule"] for p in problems} >= {
        "no_comms_admin",
        "passwords_not_changed",
        "manager_untrained",
        "not_authorised",
    }
    assert "Castlemere Planning" in run("channels", "audit").output


def test_audit_strict_passes_on_a_clean_register(run):
    run("init")
    assert run("channels", "audit", "--strict").output.strip() == "No compliance problems."


def test_add_edit_close_and_the_actor(run):
    run("staff", "add", "Ann Able", "--role", "comms_officer", "--phone", "01632 1")
    run("staff", "add", "Bob Baker", "--role", "comms_officer")
    run(
        "--as",
        "Priya",
        "channels",
        "add",
        "Libraries",
        "--platform",
        "facebook",
        "--service",
        "Libraries",
        "--status",
        "active",
        "--manager",
        "Ann Able",
        "--manager",
        "Bob Baker",
        "--comms-admin-access",
    )
    run("channels", "edit", "Libraries", "--handle", "@libs")
    run("channels", "train", "Libraries", "Ann Able", "--on", "2025-05-01")
    [channel] = json.loads(run("channels", "list", "--json").output)
    assert channel["handle"] == "@libs"
    assert channel["managers"] == ["Ann Able", "Bob Baker"]
    assert channel["comms_admin_access"] is True
    run("channels", "close", "Libraries", "--reason", "merged")
    history = json.loads(run("history", "--entity", "channel", "--json").output)
    actions = [h["action"] for h in history]
    assert actions[-1] == "channel.add" and history[-1]["actor"] == "Priya"
    assert history[0]["actor"] == "Test Officer"  # SMDUTY_USER, from the fixture


def test_bad_values_exit_2_with_the_reason(run):
    run("init")
    result = run("channels", "add", "X", "--platform", "x", "--authorised-on", "tomorrow", expect=2)
    assert "authorised_on" in result.output and "not a date" in result.output


def test_staff_list_and_left(run):
    run("staff", "add", "Ann Able", "--role", "comms_officer", "--role", "line_manager")
    run("staff", "left", "Ann Able", "--on", "2026-11-01")
    [person] = json.loads(run("staff", "list", "--json").output)
    assert person["roles"] == ["comms_officer", "line_manager"]
    assert person["left_on"] == "2026-11-01" and person["active"] is False
    assert json.loads(run("staff", "list", "--active", "--json").output) == []


def test_channels_import_reports_lines(run, tmp_path):
    run("init")
    bad = tmp_path / "bad.csv"
    bad.write_text("name,platform\nOK,facebook\nNope,friendster\n", encoding="utf-8")
    result = run("channels", "import", str(bad), expect=2)
    assert "bad.csv, line 3" in result.output
    assert json.loads(run("channels", "list", "--json").output) == []


def test_demo_builds_in_the_user_data_folder(smduty_home):
    result = CliRunner().invoke(main, ["demo", "--no-open"])
    assert result.exit_code == 0, result.output
    assert (smduty_home / "data" / "demo.db").exists()


def test_every_command_module_is_listed_for_lazy_loading():
    import pkgutil
    from importlib import import_module

    import smduty.commands
    from smduty.cli import LAZY_COMMANDS

    found = {}
    for info in pkgutil.iter_modules(smduty.commands.__path__):
        module = import_module(f"smduty.commands.{info.name}")
        for command in getattr(module, "COMMANDS", ()):
            found[command.name] = info.name
    assert found == LAZY_COMMANDS
