"""Where smduty keeps its files and what the operator has configured, resolved late.

Every path can be redirected with SMDUTY_HOME (tests and demos use it), the database alone with
SMDUTY_DB. Nothing here touches the disk until a function is called.
"""

from __future__ import annotations

import getpass
import os
import tomllib
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path

import platformdirs

APP_NAME = "smduty"
# UK nations and the `holidays` package's subdivision for each.
NATIONS = {"england_wales": "ENG", "scotland": "SCT", "northern_ireland": "NIR"}


class ConfigError(Exception):
    """The operator's config file cannot be used; the message names the file and the reason."""


def read_toml(path: Path) -> tuple[str, dict]:
    """A TOML file's text (for finding line numbers) and its data; ConfigError names the file."""
    try:
        text = path.read_text(encoding="utf-8")
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None


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


@dataclass(frozen=True)
class Config:
    """The operator's settings; every field has a default so an absent file is fine."""

    operator: str | None = None
    dormant_after_days: int = 28
    review_interval_months: int = 6
    nation: str = "england_wales"  # or "scotland", "northern_ireland"
    closure_days: tuple[date, ...] = ()  # extra council closure days (for example 29 Dec)
    check_deadline_working: time = time(10, 0)
    check_deadline_duty: time = time(11, 0)
    # When the last weekday check officer is reminded to leave a handover note for the block.
    handover_reminder_at: time = time(15, 30)
    # While an incident is open, remind the operator after this many minutes of no timeline entry.
    incident_update_minutes: int = 30
    extra: dict = field(default_factory=dict)


def load_config(path: Path | None = None) -> Config:
    path = path or config_file()
    if not path.exists():
        return Config()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    known = {
        "operator",
        "dormant_after_days",
        "review_interval_months",
        "nation",
        "closure_days",
        "check_deadline_working",
        "check_deadline_duty",
        "handover_reminder_at",
        "incident_update_minutes",
    }
    values = {k: v for k, v in raw.items() if k in known}
    if values.get("nation", "england_wales") not in NATIONS:
        raise ConfigError(f"{path}: nation must be one of {', '.join(NATIONS)}")
    try:
        values["closure_days"] = tuple(
            d if isinstance(d, date) else date.fromisoformat(str(d))
            for d in values.get("closure_days", ())
        )
        for key in ("check_deadline_working", "check_deadline_duty", "handover_reminder_at"):
            if key in values and not isinstance(values[key], time):
                values[key] = time.fromisoformat(str(values[key]))
    except ValueError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    for key in ("dormant_after_days", "review_interval_months", "incident_update_minutes"):
        if key in values and (not isinstance(values[key], int) or values[key] < 1):
            raise ConfigError(f"{path}: {key} must be a whole number of at least 1")
    if "operator" in values and not isinstance(values["operator"], str):
        raise ConfigError(f"{path}: operator must be a name in quotes")
    return Config(**values, extra={k: v for k, v in raw.items() if k not in known})


def resolve_actor(explicit: str | None, config: Config) -> str:
    """Who is acting: --as, else SMDUTY_USER, else the config's operator, else the OS login."""
    for candidate in (explicit, os.environ.get("SMDUTY_USER"), config.operator):
        if candidate and candidate.strip():
            return candidate.strip()
    try:
        return getpass.getuser()
    except Exception:  # getuser raises a bare OSError/KeyError when no login name is known
        return "unknown"
