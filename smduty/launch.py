"""The `smduty` command's first step.

Bare `smduty` (with at most --db, --as and --verbose) opens the dashboard without loading click
and the group's options: the first frame is measured against a bare Textual app (issue 23,
bench/bench_tui_start.py) and click was a tenth of the difference. Anything else, --help and
--version included, goes to the click group in smduty.cli, which opens the dashboard the same
way and turns failures into exits the same way (smduty.commands.entry).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path


def main() -> None:
    options = dashboard_options(sys.argv[1:], os.environ)
    if options is None:
        from smduty.cli import main as cli_main

        cli_main()
        return
    from smduty.commands.entry import open_dashboard

    open_dashboard(*options)


def dashboard_options(
    args: list[str], env: Mapping[str, str]
) -> tuple[Path | None, str | None, bool] | None:
    """(db, actor, verbose) when `args` only open the dashboard; None for anything else, left
    to click: a command, --help, an unknown or incomplete option. Read as click reads them:
    `--db PATH` or `--db=PATH`, else SMDUTY_DB; `--as NAME`, else SMDUTY_USER."""
    given: dict[str, str] = {}
    verbose = False
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        if arg == "--verbose":
            verbose = True
            continue
        name, equals, value = arg.partition("=")
        if name not in ("--db", "--as"):
            return None
        if not equals:
            if not rest:
                return None
            value = rest.pop(0)
        if not value or name in given:
            return None  # click's own message says what is wrong
        given[name] = value
    db = given.get("--db") or env.get("SMDUTY_DB") or None
    actor = given.get("--as") or env.get("SMDUTY_USER") or None
    return (Path(db) if db else None, actor, verbose)
