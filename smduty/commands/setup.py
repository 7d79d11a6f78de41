"""Setting up: a new database and the demo council."""

from __future__ import annotations

from pathlib import Path

import click

from smduty.commands.session import Session, echo, pass_session
from smduty.core.config import demo_db_path
from smduty.core.demo import load_demo
from smduty.core.register.channels import register_is_empty
from smduty.core.store import connect


@click.command()
@click.option("--demo", is_flag=True, help="Load the fictional demo council.")
@pass_session
def init(session: Session, demo: bool) -> None:
    """Create the database (and with --demo, fill it with the demo council)."""
    db = session.open()
    if demo:
        if not register_is_empty(db):
            raise click.ClickException(f"{session.db_path} already has channels; not loading demo")
        counts = load_demo(db)
        echo(f"Loaded the demo council: {counts['channels']} channels, {counts['staff']} staff.")
    echo(f"Database ready: {session.db_path}")


def _remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def build_demo(reset: bool = False) -> Path:
    """The demo database, built from data/ on first use (or again with reset)."""
    path = demo_db_path()
    if reset:
        _remove_database(path)
    db = connect(path)
    try:
        if register_is_empty(db):
            load_demo(db)
    finally:
        db.close()
    return path


@click.command()
@click.option("--reset", is_flag=True, help="Throw the demo database away and build it afresh.")
@click.option("--no-open", is_flag=True, hidden=True, help="Build the demo database only.")
@pass_session
def demo(session: Session, reset: bool, no_open: bool) -> None:
    """Open the dashboard on the demo council (built in the user data folder on first use)."""
    path = build_demo(reset)
    if no_open:
        echo(f"Demo database ready: {path}")
        return
    from smduty.tui.app import run_app

    run_app(path, session.actor)


COMMANDS = (init, demo)
