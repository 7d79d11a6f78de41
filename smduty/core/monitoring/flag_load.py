"""Building the rule set a database flags with: the rules file, the register's channel names
(a post naming one is about the council) and the council's own published contacts (a post
quoting them is not exposing personal data)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from smduty.core.config import Config, load_config
from smduty.core.monitoring.flag_rules import load_rules_file
from smduty.core.monitoring.flagging import RuleSet


def load_rules(path: Path | None = None) -> RuleSet:
    """Read and check a rules file (any problem is refused with its line and reason)."""
    found = load_rules_file(path)
    return RuleSet(
        found.categories,
        found.rules,
        found.watch_terms,
        found.path,
        found.modifiers,
        (),
        found.first_names,
        found.election,
    )


def register_watch_terms(db: sqlite3.Connection) -> list[str]:
    """The handles and names of every channel in the register mark a mention as ours."""
    terms: list[str] = []
    for handle, name in db.execute("SELECT handle, name FROM channels WHERE status != 'closed'"):
        for value in (handle, name):
            if value and len(value.strip()) >= 4:
                terms.append(value.strip())
    return terms


def council_contacts(db: sqlite3.Connection, config: Config | None = None) -> list[str]:
    """The council's own contact details: its staff's work phones and e-mail addresses, and
    `published_contacts` in config. A post quoting them is not exposing personal data."""
    found = [
        value
        for row in db.execute("SELECT email, phone FROM staff")
        for value in row
        if value and value.strip()
    ]
    return found + list((config or load_config()).published_contacts)


def ruleset_for(
    db: sqlite3.Connection,
    path: Path | None = None,
    config: Config | None = None,
    *,
    election: bool | None = None,
) -> RuleSet:
    """The rules this database flags with today. While a pre-election period is in force
    (unless `election` says otherwise) the rules file's `[election]` categories are raised."""
    rules = load_rules(path)
    if election is None:
        from smduty.core.clock import today
        from smduty.core.election import in_force

        election = in_force(db, today()) is not None
    rules.in_election = election
    return rules.compile(register_watch_terms(db), council_contacts(db, config))
