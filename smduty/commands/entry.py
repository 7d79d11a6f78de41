"""What both doors of `smduty` share (smduty.launch without click, smduty.cli with it):
opening the dashboard, and the one way a failure becomes a line on stderr and an exit code."""

from __future__ import annotations

import gc
import logging
import sqlite3
import sys
from pathlib import Path

# Exit codes, the same for every command: 0 done; 1 refused by the rules, or a job that failed
# (a source that could not be polled, a database busy for too long); 2 bad input: a usage
# error, a value that cannot be read, an unknown name, a file that cannot be read or written,
# a config or database that cannot be used. Bad input writes nothing.
USAGE = 2
REFUSED = 1


def open_dashboard(db_path: Path | None, actor: str | None, verbose: bool) -> None:
    """Open the TUI, after refusing a bad config, name or database in one line while the
    terminal is still the operator's own."""
    from smduty.core.logs import start_logging

    start_logging(verbose)
    path = db_path
    try:
        from smduty.core.config import default_db_path, load_config, resolve_actor
        from smduty.core.store import connect

        settings = load_config()
        who = resolve_actor(actor, settings)
        path = db_path or default_db_path()
        connect(path).close()  # a damaged, foreign or newer database is refused here
        gc.disable()  # until the first screen has settled: see run_app
        try:
            from smduty.tui.app import run_app

            run_app(path, who)
        finally:
            gc.enable()
    except Exception as exc:
        fail(*failure(exc, path))


def say_waiting() -> None:
    from smduty.core.store import WRITE_WAIT_SECONDS

    print(
        f"smduty: waiting for another change to finish (up to {WRITE_WAIT_SECONDS:.0f} s)…",
        file=sys.stderr,
        flush=True,
    )


def failure(exc: Exception, db_path: Path | None) -> tuple[str, int]:
    """The one line and exit code for a failure: the operator's errors plainly, smduty's own
    faults in a sentence with the details in the log."""
    from smduty.core.config import BadActor, ConfigError
    from smduty.core.errors import BadInput, SmdutyError
    from smduty.core.store import StoreError, integrity_problem

    if isinstance(exc, StoreError | ConfigError | BadActor | BadInput):
        return str(exc), USAGE
    if isinstance(exc, SmdutyError):
        return str(exc), REFUSED
    if isinstance(exc, sqlite3.IntegrityError):
        return f"the database refused the change ({exc}); nothing was saved", REFUSED
    if isinstance(exc, sqlite3.DatabaseError):
        problem = integrity_problem(db_path) if db_path else None
        if problem:
            return f"the database is damaged ({problem}); restore it from a backup", USAGE
        logging.getLogger("smduty").exception("database error")
        return f"unexpected database error: {exc}", REFUSED
    from smduty.core.logs import log_file

    logging.getLogger("smduty").exception("command failed")
    return (
        f"something went wrong and was not finished: {type(exc).__name__}: {exc}"
        f" (details in {log_file()})",
        REFUSED,
    )


def fail(message: object, code: int) -> None:
    """One line on stderr, control characters shown escaped (a file or operator name cannot
    retitle or clear the terminal), then exit."""
    from smduty.core.text import escape_controls

    print(f"smduty: {escape_controls(message)}", file=sys.stderr, flush=True)
    sys.exit(code)
