"""Settings and logs (issue 20): `config path|show|init|edit`, a bad key or value refused by
every command, the TUI's theme kept, and a log file holding what the one-line error leaves out."""

from __future__ import annotations

import json

from click.testing import CliRunner
from tui_helpers import make_demo, settle

from smduty.cli import main
from smduty.core.config import config_file, load_config
from smduty.core.logs import log_file
from smduty.tui.app import SmdutyApp


def run(*args, **kwargs):
    return CliRunner().invoke(main, list(args), **kwargs)


def test_config_path_init_show_and_a_misspelt_key_refused_everywhere(smduty_home):
    assert run("config", "path").output.strip() == str(config_file())
    assert run("config", "init").exit_code == 0
    assert load_config() == load_config(config_file())  # all commented out: the defaults
    again = run("config", "init")
    assert again.exit_code == 2 and "exists" in again.output
    shown = json.loads(run("config", "show", "--json").output)
    assert shown["retention_days"] == 90 and shown["theme"] is None
    config_file().write_text("retention_dayz = 30\n", encoding="utf-8")
    for command in (["config", "show"], ["queue"], ["rota", "show"]):
        refused = run(*command)
        assert refused.exit_code == 2, command
        assert "retention_dayz" in refused.output and "retention_days" in refused.output


def test_config_edit_checks_what_was_written(smduty_home, monkeypatch):
    def bad_editor(filename=None, editor=None, **_):
        with open(filename, "a", encoding="utf-8") as handle:
            handle.write("backups_keep = 0\n")

    monkeypatch.setattr("click.edit", bad_editor)
    result = run("config", "edit")
    assert result.exit_code == 2 and "backups_keep" in result.output
    assert "backups_keep = 0" in config_file().read_text(encoding="utf-8")  # kept as left


def test_an_unexpected_failure_is_one_sentence_with_the_detail_in_the_log(db_path, monkeypatch):
    from smduty.core.triage import queue as triage

    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug [b]here[/b]")

    monkeypatch.setattr(triage, "page", broken)
    result = run("--db", str(db_path), "queue")
    assert result.exit_code == 1
    assert "ZeroDivisionError: a bug [b]here[/b]" in result.output
    assert "Traceback" not in result.output and str(log_file()) in result.output
    logged = log_file().read_text(encoding="utf-8")
    assert "Traceback" in logged and "ZeroDivisionError" in logged
    assert oct(log_file().stat().st_mode & 0o777) == "0o600"


async def test_the_theme_chosen_in_the_tui_is_kept(db_path, smduty_home):
    make_demo(db_path)
    app = SmdutyApp(db_path, "Tester", background_poll=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.theme = "nord"
        await settle(pilot)
    assert load_config().theme == "nord"
    again = SmdutyApp(db_path, "Tester", background_poll=False)
    async with again.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert again.theme == "nord"


def test_named_views_in_the_settings_for_the_cli_and_the_palette(db_path, smduty_home):
    make_demo(db_path)
    config_file().parent.mkdir(parents=True, exist_ok=True)
    config_file().write_text(
        '[views."overdue critical"]\nrating = "critical"\noverdue = true\n\n'
        '[views.mine]\nassigned = "me"\nstatus = "all"\n',
        encoding="utf-8",
    )
    critical = json.loads(run("--db", str(db_path), "queue", "--view", "overdue critical",
                              "--json").output)  # fmt: skip
    assert critical and {i["rating"] for i in critical} == {"critical"}
    assert all(i["overdue"] for i in critical)
    mine = run("--db", str(db_path), "--as", "Priya Raman", "queue", "--view", "mine", "--json")
    assert json.loads(mine.output) == []
    narrowed = run("--db", str(db_path), "queue", "--view", "overdue critical", "--rating",
                   "high", "--json")  # fmt: skip
    assert {i["rating"] for i in json.loads(narrowed.output)} <= {"high"}  # the option wins
    unknown = run("--db", str(db_path), "queue", "--view", "nope")
    assert unknown.exit_code == 2 and "overdue critical" in unknown.output
    config_file().write_text('[views.bad]\nratng = "high"\n', encoding="utf-8")
    assert run("--db", str(db_path), "queue").exit_code == 2  # a misspelt key in a view too


async def test_a_named_view_opens_from_the_palette(db_path, smduty_home):
    from smduty.tui.commands import SmdutyCommands
    from smduty.tui.screens.queue import QueueScreen

    make_demo(db_path)
    config_file().parent.mkdir(parents=True, exist_ok=True)
    config_file().write_text('[views.critical]\nrating = "critical"\n', encoding="utf-8")
    app = SmdutyApp(db_path, "Tester", background_poll=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        provider = SmdutyCommands(app.screen, None)
        titles = {title: run_ for title, _, run_ in provider._commands()}
        assert "View: critical" in titles
        titles["View: critical"]()
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen) and app.screen.filters.rating == "critical"
        assert {i.rating for i in app.screen.items} == {"critical"}


async def test_keys_of_your_own_from_the_settings(db_path, smduty_home):
    from smduty.core.store import connect
    from smduty.core.triage import queue as triage
    from smduty.tui.screens.queue import QueueScreen

    make_demo(db_path)
    config_file().parent.mkdir(parents=True, exist_ok=True)
    config_file().write_text('[keys]\n"queue.take" = "T"\n"queue.tkae" = "x"\n', encoding="utf-8")
    app = SmdutyApp(db_path, "Priya Raman", background_poll=False)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        assert any("queue.tkae" in n.message for n in app._notifications)  # the typo named
        await pilot.press("t")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, QueueScreen)
        first = screen.items[0].id
        await pilot.press("t")  # no longer "take it"
        await settle(pilot)
        assert triage.get_item(app.store.connection(), first).assigned_to is None
        await pilot.press("T")
        await settle(pilot)
    db = connect(db_path)
    assert triage.get_item(db, first).assigned_to == "Priya Raman"
    db.close()
