"""Where smduty keeps its files and what the operator has configured, resolved late.

Every path can be redirected with SMDUTY_HOME (tests and demos use it), the database alone with
SMDUTY_DB. Nothing here touches the disk until a function is called.
"""

from __future__ import annotations

import getpass
import os
import re
import tomllib
from datetime import date, time
from pathlib import Path
from typing import Annotated, Literal

import msgspec
import platformdirs

from smduty.core.files import MAX_SETTINGS_BYTES, UnreadableFile, read_small_text
from smduty.core.text import clean_line

APP_NAME = "smduty"
# UK nations and the `holidays` package's subdivision for each.
NATIONS = {"england_wales": "ENG", "scotland": "SCT", "northern_ireland": "NIR"}


class ConfigError(Exception):
    """The operator's config file cannot be used; the message names the file and the reason."""


def read_toml(path: Path) -> tuple[str, dict]:
    """A TOML file's text (for finding line numbers) and its data; ConfigError names the file."""
    try:
        text = read_small_text(path, MAX_SETTINGS_BYTES)
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    except UnreadableFile as exc:
        raise ConfigError(str(exc)) from None


def data_dir() -> Path:
    home = os.environ.get("SMDUTY_HOME")
    if home:
        return Path(home) / "data"
    return platformdirs.user_data_path(APP_NAME)


def config_dir() -> Path:
    home = os.environ.get("SMDUTY_HOME")
    if home:
        return Path(home) / "config"
    return platformdirs.user_config_path(APP_NAME)


def config_file() -> Path:
    return config_dir() / "config.toml"


def default_db_path() -> Path:
    env = os.environ.get("SMDUTY_DB")
    if env:
        return Path(env)
    return data_dir() / "smduty.db"


def demo_db_path() -> Path:
    return data_dir() / "demo.db"


def shipped_data_dir() -> Path:
    """The folder of shipped defaults: inside the wheel, or the repository's data/ when editable."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "data", package.parent / "data"):
        if (candidate / "demo").is_dir():
            return candidate
    raise ConfigError(f"shipped data folder not found beside {package}")


TIME_KEYS = ("check_deadline_working", "check_deadline_duty", "handover_reminder_at")


class QueueView(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A named queue view: the filters it sets (the rest stay at their defaults). `assigned`
    is an officer's name, "me" (whoever is acting) or "none" (nobody has it)."""

    status: str = "open"
    rating: str = "flagged"
    category: str = ""
    source: str = ""
    search: str = ""
    overdue: bool = False
    assigned: str = ""


class Config(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The operator's settings; every field has a default so an absent file is fine.

    Read with msgspec: an unknown key (a misspelling) or a value of the wrong kind is refused
    with the file, the key and the reason, never ignored.
    """

    operator: str | None = None
    dormant_after_days: Annotated[int, msgspec.Meta(ge=1, le=3650)] = 28
    review_interval_months: Annotated[int, msgspec.Meta(ge=1, le=120)] = 6
    # 004 §4.2.4: "a system for changing passwords regularly"; and how long a confirmation that
    # the comms team still holds admin access on a channel stands.
    password_change_months: Annotated[int, msgspec.Meta(ge=1, le=60)] = 12
    admin_check_months: Annotated[int, msgspec.Meta(ge=1, le=60)] = 6
    nation: Literal["england_wales", "scotland", "northern_ireland"] = "england_wales"
    closure_days: tuple[date, ...] = ()  # extra council closure days (for example 29 Dec)
    check_deadline_working: time = time(10, 0)
    check_deadline_duty: time = time(11, 0)
    # When the last weekday check officer is reminded to leave a handover note for the block.
    handover_reminder_at: time = time(15, 30)
    # While an incident is open, remind the operator after this many minutes of no timeline entry.
    incident_update_minutes: Annotated[int, msgspec.Meta(ge=1, le=24 * 60)] = 30
    # How long a mention of each rating may wait ("1h", "4 working hours", "none").
    response_targets: dict[str, str] = msgspec.field(default_factory=dict)
    working_hours: str | None = None  # "09:00-17:00"
    # The council's own published phone numbers, e-mail addresses and "@domain"s: a post
    # quoting them is not exposing personal data.
    published_contacts: tuple[str, ...] = ()
    # The biggest export file smduty reads, in MB (a feed's own cap is separate).
    max_import_mb: Annotated[int, msgspec.Meta(ge=1, le=65536)] = 2048
    # How many of the daily backups (in the data folder's backups/) are kept.
    backups_keep: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 14
    # Handled mentions have their words and authors redacted this many days after (retention).
    retention_days: Annotated[int, msgspec.Meta(ge=1, le=3650)] = 90
    # The TUI's colour theme (a Textual theme name); kept here when chosen in the TUI.
    theme: str | None = None
    # Keys of your own: a binding's id and the key(s) for it, e.g. { "queue.take" = "T" }
    # (the ids are in the help screen, ?); the TUI names any id it does not know.
    keys: dict[str, str] = msgspec.field(default_factory=dict)
    # Named triage queue views, e.g. [views.mine] assigned = "me"; listed in the TUI's command
    # palette and read by `smduty queue --view NAME`.
    views: dict[str, QueueView] = msgspec.field(default_factory=dict)


def _key_of(error: str) -> str:
    found = re.search(r"at `\$\.([^`\[]+)", error)
    return found.group(1) if found else ""


def _reason(error: str) -> str:
    reason = re.sub(r" - at `[^`]*`$", "", error)
    return {
        "Invalid enum value": "not one of the allowed values",
    }.get(reason.split(" '")[0], reason)


def parse_config(raw: dict, where: str) -> Config:
    """A Config from the file's table; ConfigError names `where`, the key and the reason."""
    values = dict(raw)
    for key in TIME_KEYS:
        value = values.get(key)
        if isinstance(value, str):
            try:
                values[key] = time.fromisoformat(value.strip())
            except ValueError:
                raise ConfigError(
                    f"{where}: {key}: {value!r} is not a time of day (use HH:MM, 00:00-23:59)"
                ) from None
    days = values.get("closure_days")
    if isinstance(days, list):
        for n, day in enumerate(days):
            if isinstance(day, str):
                try:
                    date.fromisoformat(day.strip())
                except ValueError:
                    raise ConfigError(
                        f"{where}: closure_days[{n}]: {day!r} is not a date (use YYYY-MM-DD)"
                    ) from None
    elif isinstance(days, str):
        raise ConfigError(f'{where}: closure_days: a list of dates, like ["{days}"]')
    try:
        config = msgspec.convert(values, Config, strict=False)
    except msgspec.ValidationError as exc:
        text = str(exc)
        unknown = re.match(r"Object contains unknown field `([^`]+)`", text)
        if unknown:
            key = unknown.group(1)
            import difflib  # a misspelt key only

            close = difflib.get_close_matches(key, Config.__struct_fields__, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            known = ", ".join(Config.__struct_fields__)
            raise ConfigError(f"{where}: unknown key {key!r}{hint}; the keys are {known}") from None
        key = _key_of(text)
        raise ConfigError(f"{where}: {key or 'config'}: {_reason(text)}") from None
    if config.operator is not None:
        operator = clean_line(config.operator, 100)
        if not operator:
            raise ConfigError(f"{where}: operator: a name is needed (or leave the key out)")
        config = msgspec.structs.replace(config, operator=operator)
    return config


def load_config(path: Path | None = None) -> Config:
    path = path or config_file()
    if not path.exists():
        return Config()
    _, raw = read_toml(path)
    return parse_config(raw, str(path))


def set_config_value(key: str, value: object, path: Path | None = None) -> Path:
    """Write one key of the config file, keeping everything else in it as written (comments
    too); the file is made if there is none. The result is checked before it is written, so a
    bad value never reaches the file. Returns the file's path."""
    import tomlkit

    path = path or config_file()
    text = read_small_text(path, MAX_SETTINGS_BYTES) if path.exists() else ""
    document = tomlkit.parse(text)
    document[key] = value
    updated = tomlkit.dumps(document)
    parse_config(tomllib.loads(updated), str(path))  # refuses a bad value, naming the key
    path.parent.mkdir(parents=True, exist_ok=True)
    from smduty.core.files import write_output

    write_output(path, updated)
    return path


class BadActor(ValueError):
    """A name given for who is acting that is empty once cleaned."""


def resolve_actor(explicit: str | None, config: Config) -> str:
    """Who is acting: --as, else SMDUTY_USER, else the config's operator, else the OS login.

    The name goes into every audit row and onto every screen, so it is cleaned here, once:
    escape sequences and control characters removed, one line, at most 100 characters.
    """
    for where, candidate in (
        ("--as (or SMDUTY_USER)", explicit),
        ("SMDUTY_USER", os.environ.get("SMDUTY_USER")),
        ("operator in the config", config.operator),
    ):
        if candidate is not None and candidate.strip():
            name = clean_line(candidate, 100)
            if not name:
                raise BadActor(f"{where}: {candidate!r} has no printable name in it")
            return name
    return login_name()


def login_name() -> str:
    """The operating system's name for who runs this process (cleaned), else "unknown"."""
    try:
        return clean_line(getpass.getuser(), 100) or "unknown"
    except Exception:  # getuser raises a bare OSError/KeyError when no login name is known
        return "unknown"
