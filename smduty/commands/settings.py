"""`smduty config ...`: where the settings file is, what is in force, a commented starting file,
and editing it (checked when saved)."""

from __future__ import annotations

import os
import shlex

import click
import msgspec

from smduty.commands.session import Session, echo, emit_json, json_option, pass_session
from smduty.core.config import Config, ConfigError, config_file, load_config

# What each setting is for, in the starting file `config init` writes.
ABOUT = {
    "operator": "your name, for the audit log (else your login is used)",
    "nation": "UK bank holidays: england_wales, scotland or northern_ireland",
    "closure_days": 'extra council closure days, e.g. ["2026-12-29", "2026-12-30"]',
    "check_deadline_working": "daily checks due by, on a working day",
    "check_deadline_duty": "daily checks due by, on a weekend or bank holiday",
    "handover_reminder_at": "when the last weekday officer is reminded to leave a handover note",
    "dormant_after_days": "a channel not checked for this long is a candidate for closure",
    "review_interval_months": "a channel's review falls due this often",
    "password_change_months": "passwords are changed this often (004 §4.2.4)",
    "admin_check_months": "confirm the comms team still holds admin access this often",
    "incident_update_minutes": "remind while an incident's timeline is quiet this long",
    "response_targets": 'how long a mention may wait, e.g. { critical = "1h", high = "4h" }',
    "working_hours": 'for targets in working hours, e.g. "09:00-17:00"',
    "published_contacts": "the council's own phone numbers and addresses (not personal data)",
    "max_import_mb": "the biggest export file read, in MB",
    "backups_keep": "daily backups kept",
    "retention_days": "handled mentions' words are redacted after this many days",
    "theme": "the TUI's colour theme (kept when you choose one in the TUI, ctrl+p)",
    "keys": 'your own keys, a binding id and keys, e.g. { "queue.take" = "T" } (ids: ? in the TUI)',
    "views": 'named queue views, e.g. [views.mine] assigned = "me"',
}


# What an unset setting could be, in the starting file.
EXAMPLES = {"operator": "Your Name", "working_hours": "09:00-17:00", "theme": "textual-dark"}


@click.group()
def config() -> None:
    """The settings file: its path, what is in force, a starting file, editing it."""


@config.command("path")
def config_path() -> None:
    """Print the settings file's path (it may not exist yet)."""
    echo(str(config_file()))


@config.command("show")
@json_option
@pass_session
def config_show(session: Session, as_json: bool) -> None:
    """The settings in force: the file's, and the defaults for the rest."""
    values = msgspec.to_builtins(session.config)
    if as_json:
        emit_json(values)
        return
    echo(f"# {config_file()}{'' if config_file().exists() else ' (not made yet: defaults)'}")
    for key, value in values.items():
        echo(f"{key} = {_toml(value)}")


@config.command("init")
@click.option("--force", is_flag=True, help="Replace a settings file that exists.")
def config_init(force: bool) -> None:
    """Write a starting settings file: every setting, commented out at its default."""
    path = config_file()
    if path.exists() and not force:
        raise click.UsageError(f"{path} exists; edit it (smduty config edit) or use --force")
    defaults = msgspec.to_builtins(Config())
    lines = ["# smduty settings. Remove the # before a setting to change it.", ""]
    for key, value in defaults.items():
        lines.append(f"# {ABOUT.get(key, key)}")
        lines.append(f"# {key} = {_toml(EXAMPLES.get(key, value) if value is None else value)}")
        lines.append("")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    echo(f"Wrote {path}")


@config.command("edit")
def config_edit() -> None:
    """Open the settings file in $VISUAL or $EDITOR; it is checked when you close it."""
    path = config_file()
    if not path.exists():
        config_init.callback(force=False)  # type: ignore[misc]
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    click.edit(filename=str(path), editor=shlex.quote(editor) if editor else None)
    try:
        load_config(path)
    except ConfigError as exc:
        raise ConfigError(
            f"{exc}; the file is kept as you left it: fix it and run this again"
        ) from None
    echo(f"{path} is sound.")


def _toml(value: object) -> str:
    if value is None:
        return '""  # not set'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    return _toml(str(value))


COMMANDS = (config,)
