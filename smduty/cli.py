"""The front door: bare `smduty` opens the TUI; subcommands do headless jobs (most with --json)."""

from __future__ import annotations

import gc
import logging
import os
import sqlite3
import sys
from pathlib import Path

import click

from smduty import __version__
from smduty.commands.session import Session
from smduty.core.config import BadActor, ConfigError
from smduty.core.errors import BadInput, SmdutyError
from smduty.core.store import StoreError, integrity_problem
from smduty.core.text import escape_controls

# Exit codes, the same for every command: 0 done; 1 refused by the rules, or a job that failed
# (a source that could not be polled, a database busy for too long); 2 bad input: a usage
# error, a value that cannot be read, an unknown name, a file that cannot be read or written,
# a config or database that cannot be used. Bad input writes nothing.
USAGE = 2
REFUSED = 1

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
        except (StoreError, ConfigError, BadActor, BadInput) as exc:
            _fail(exc, USAGE)
        except SmdutyError as exc:
            _fail(exc, REFUSED)
        except sqlite3.IntegrityError as exc:
            _fail(f"the database refused the change ({exc}); nothing was saved", REFUSED)
        except sqlite3.DatabaseError as exc:
            session = ctx.obj if isinstance(ctx.obj, Session) else None
            problem = integrity_problem(session.db_path) if session else None
            if problem:
                _fail(f"the database is damaged ({problem}); restore it from a backup", USAGE)
            logging.getLogger("smduty").exception("database error")
            _fail(f"unexpected database error: {exc}", REFUSED)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except BrokenPipeError:  # `smduty queue | head`: the reader has what it wanted
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)
        except Exception as exc:  # a fault of smduty's: one sentence here, the rest in the log
            from smduty.core.logs import log_file

            logging.getLogger("smduty").exception("command failed")
            _fail(
                f"something went wrong and was not finished: {type(exc).__name__}: {exc}"
                f" (details in {log_file()})",
                REFUSED,
            )


def _fail(message: object, code: int) -> None:
    click.echo(f"smduty: {escape_controls(message)}", err=True)
    sys.exit(code)


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
    from smduty.core.logs import start_logging

    start_logging(verbose)
    ctx.obj = Session(db_path, actor)
    ctx.call_on_close(ctx.obj.close)
    ctx.obj.actor  # noqa: B018 - a bad config file or --as name is refused before any work
    if ctx.invoked_subcommand is None:
        ctx.obj.open()  # refuse a bad database here, before the screen is taken over
        gc.disable()  # until the first screen has settled: see run_app
        try:
            from smduty.tui.app import run_app

            run_app(ctx.obj.db_path, ctx.obj.actor)
        finally:
            gc.enable()
