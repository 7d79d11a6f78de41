"""The front door: bare `smduty` opens the TUI; subcommands do headless jobs (most with --json)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from smduty import __version__
from smduty.commands.entry import fail, failure, open_dashboard
from smduty.commands.session import Session

# Each command's module, imported only when that command runs (or --help lists them all), so
# a headless job such as `smduty queue --json` starts without loading every other command.
LAZY_COMMANDS = {
    "init": "setup",
    "demo": "setup",
    "history": "records",
    "audit": "records",
    "backup": "records",
    "restore": "records",
    "doctor": "records",
    "purge": "records",
    "report": "records",
    "channels": "channels",
    "staff": "staff",
    "rota": "duty",
    "leave": "duty",
    "check": "duty",
    "checks": "duty",
    "handover": "duty",
    "sources": "monitor",
    "ingest": "monitor",
    "poll": "monitor",
    "watch": "monitor",
    "rules": "rules",
    "queue": "triage",
    "triage": "triage",
    "moderation": "triage",
    "breaches": "triage",
    "assess": "triage",
    "incident": "incidents",
    "posts": "incidents",
    "config": "settings",
    "election": "election",
    "serve": "serve",
}


class SmdutyGroup(click.Group):
    """Turns the operator's errors into one plain line instead of a traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in LAZY_COMMANDS and name not in self.commands:
            from importlib import import_module

            module = import_module(f"smduty.commands.{LAZY_COMMANDS[name]}")
            for command in module.COMMANDS:
                self.add_command(command)
        return super().get_command(ctx, name)

    def invoke(self, ctx: click.Context):
        try:
            result = super().invoke(ctx)
            if isinstance(ctx.obj, Session):
                ctx.obj.record_facts()
            return result
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except BrokenPipeError:  # `smduty queue | head`: the reader has what it wanted
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)
        except Exception as exc:
            session = ctx.obj if isinstance(ctx.obj, Session) else None
            fail(*failure(exc, session.db_path if session else None))


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
@click.option("--verbose", is_flag=True, help="Write debug detail to the log file too.")
@click.version_option(__version__, prog_name="smduty")
@click.pass_context
def main(ctx: click.Context, db_path: Path | None, actor: str | None, verbose: bool) -> None:
    """smduty: the social media duty desk. With no command, opens the dashboard."""
    if ctx.invoked_subcommand is None:
        open_dashboard(db_path, actor, verbose)  # as `smduty` does without click (launch.py)
        return
    from smduty.core.logs import start_logging

    start_logging(verbose)
    ctx.obj = Session(db_path, actor)
    ctx.call_on_close(ctx.obj.close)
    ctx.obj.actor  # noqa: B018 - a bad config file or --as name is refused before any work
