"""The front door: bare `smduty` opens the TUI; subcommands do headless jobs (most with --json)."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import click

from smduty import __version__
from smduty.commands.session import Session
from smduty.core.config import ConfigError
from smduty.core.errors import SmdutyError
from smduty.core.store import StoreError


class SmdutyGroup(click.Group):
    """Turns the operator's errors into one plain line instead of a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (StoreError, ConfigError) as exc:
            click.echo(f"smduty: {exc}", err=True)
            sys.exit(2)
        except sqlite3.DatabaseError as exc:
            click.echo(
                f"smduty: the database is damaged or not an smduty database ({exc})", err=True
            )
            sys.exit(2)
        except SmdutyError as exc:
            click.echo(f"smduty: {exc}", err=True)
            sys.exit(1)


@click.group(
    cls=SmdutyGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option(
    "--db",
    "db_path",
    type=click.Path(path_type=Path),
    envvar="SMDUTY_DB",
    help="Database file (default: smduty.db in the user data folder).",
)
@click.option(
    "--as",
    "actor",
    metavar="NAME",
    envvar="SMDUTY_USER",
    help="Who is acting, for the audit log (default: config operator, else login).",
)
@click.version_option(__version__, prog_name="smduty")
@click.pass_context
def main(ctx: click.Context, db_path: Path | None, actor: str | None) -> None:
    """smduty: the social media duty desk. With no command, opens the dashboard."""
    ctx.obj = Session(db_path, actor)
    ctx.call_on_close(ctx.obj.close)
    if ctx.invoked_subcommand is None:
        ctx.obj.open()  # refuse a bad database here, before the screen is taken over
        from smduty.tui.app import run_app

        run_app(ctx.obj.db_path, ctx.obj.actor)


def _register() -> None:
    from smduty.commands import channels, duty, monitor, setup, staff, triage

    for module in (setup, channels, staff, duty, monitor, triage):
        for command in module.COMMANDS:
            main.add_command(command)


_register()
