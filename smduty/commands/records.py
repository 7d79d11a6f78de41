"""Records: the audit trail (listing, verifying, anchoring), backups, restore and health."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click
from msgspec.structs import asdict

from smduty.commands.session import (
    DATE,
    Session,
    echo,
    emit_json,
    json_option,
    pass_session,
    print_table,
)
from smduty.core.records import audit, backups, chain

_ENTITY = click.option(
    "--entity", help="Only this kind of record (channel, mention, incident, source, ...)."
)
_ID = click.option("--id", "entity_id", help="Only this record (with --entity).")
_SINCE = click.option("--since", type=DATE, help="Only changes on or after this day (YYYY-MM-DD).")
_LIMIT = click.option("--limit", type=click.IntRange(1, 100_000), default=50, show_default=True)


def _list(session: Session, entity, entity_id, since: date | None, limit: int, as_json) -> None:
    if entity_id is not None and entity is None:
        raise click.UsageError("--id needs --entity (the kind of record the id belongs to)")
    rows = audit.entries(session.open(), entity, entity_id, limit, since=since)
    if as_json:
        emit_json([asdict(r) for r in rows])
        return
    print_table(
        ("When (UTC)", "Who", "Login", "Action", "Record"),
        ((r.at, r.actor, r.login, r.action, f"{r.entity} {r.entity_id or ''}") for r in rows),
    )


@click.group("audit", invoke_without_command=True)
@_ENTITY
@_ID
@_SINCE
@_LIMIT
@json_option
@click.pass_context
def audit_group(ctx: click.Context, entity, entity_id, since, limit, as_json) -> None:
    """The audit trail, newest first: who changed what, when (and `verify`, `anchor`)."""
    if ctx.invoked_subcommand is None:
        _list(ctx.find_object(Session), entity, entity_id, since, limit, as_json)


@audit_group.command("verify")
@click.option(
    "--anchor",
    "anchor_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Anchors file to check against (default: the one in the data folder).",
)
@json_option
@pass_session
def verify(session: Session, anchor_file: Path | None, as_json: bool) -> None:
    """Check the audit trail's hash chain and its anchors: exit 0 when intact, 1 naming the
    first row altered, removed or inserted."""
    if anchor_file is not None and not anchor_file.is_file():
        raise click.BadParameter(f"{anchor_file}: no such file", param_hint="--anchor")
    verdict = chain.verify(session.open(), anchor_file)
    if as_json:
        emit_json(verdict.as_dict())
    elif verdict.ok:
        echo(
            f"Audit trail intact: {verdict.rows} rows, head {verdict.head_id} "
            f"({verdict.head_hash[:12]}), {verdict.anchors_checked} anchors checked."
        )
        for note in verdict.notes:
            echo(f"Note: {note}")
    else:
        echo(f"Audit trail NOT intact: {verdict.problem}", err=True)
    if not verdict.ok:
        sys.exit(1)


@audit_group.command("anchor")
@click.argument("file", required=False, type=click.Path(path_type=Path, dir_okay=False))
@json_option
@pass_session
def anchor(session: Session, file: Path | None, as_json: bool) -> None:
    """Write the audit trail's head (row id and hash) to FILE, outside the database (default:
    the anchors file in the data folder). Keep a copy somewhere else too."""
    made = chain.anchor(session.open(), file)
    if as_json:
        emit_json(asdict(made))
        return
    echo(f"Anchored audit row {made.id} ({made.hash[:12]}) in {file or chain.default_anchors()}")


@click.command()
@_ENTITY
@_ID
@_SINCE
@_LIMIT
@json_option
@pass_session
def history(session: Session, entity, entity_id, since, limit, as_json) -> None:
    """The audit trail, newest first (the same as `smduty audit`)."""
    _list(session, entity, entity_id, since, limit, as_json)


@click.command()
@click.argument("dest", required=False, type=click.Path(path_type=Path, dir_okay=False))
@json_option
@pass_session
def backup(session: Session, dest: Path | None, as_json: bool) -> None:
    """Back the database up while everyone goes on working: to DEST, or to a dated file in the
    data folder's backups/ (the newest `backups_keep` are kept)."""
    made = backups.backup(
        session.open(), session.db_path, dest, session.actor, session.config.backups_keep
    )
    if as_json:
        emit_json(asdict(made))
        return
    echo(
        f"Backed up to {made.path} ({made.bytes / 1_048_576:.1f} MB, audit trail to row "
        f"{made.audit_rows}, anchor beside it)."
    )
    for old in made.removed:
        echo(f"Removed the old backup {old}")


@click.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_session
def restore(session: Session, file: Path, yes: bool) -> None:
    """Replace the database with a backup: checked first (integrity, audit trail), and the
    database as it is now is backed up before it is replaced."""
    checked = backups.check_backup(file)
    anchored = "its own anchor" if checked.anchored else "no anchor beside it"
    echo(
        f"{file}: integrity ok, audit trail intact ({checked.audit.rows} rows, {anchored}), "
        f"schema {checked.schema}."
    )
    if not yes:
        if not sys.stdin.isatty():
            raise click.UsageError("restore replaces the database: add --yes to confirm")
        click.confirm(f"Replace {session.db_path} with it?", abort=True)
    _, before = backups.restore(
        session.open(), session.db_path, file, session.actor, session.config.backups_keep
    )
    echo(f"Restored. The database as it was is in {before.path}")


@click.command()
@json_option
@pass_session
def doctor(session: Session, as_json: bool) -> None:
    """Health: integrity, schema, audit trail, write-ahead log, file mode, sources, backups.
    Exit 1 when something fails."""
    found = backups.doctor(session.open(), session.db_path)
    if as_json:
        emit_json([asdict(f) for f in found])
    else:
        print_table(("Check", "State", "Detail"), ((f.check, f.state, f.detail) for f in found))
    if any(f.state == "fail" for f in found):
        sys.exit(1)


@click.command()
@click.option("--dry-run", is_flag=True, help="Say how many would be redacted; change nothing.")
@json_option
@pass_session
def purge(session: Session, dry_run: bool, as_json: bool) -> None:
    """Redact the words and authors of mentions handled more than `retention_days` ago (config,
    default 90); ratings, outcomes and counts stay. The TUI and `watch` do it daily."""
    from smduty.core.clock import now_utc
    from smduty.core.records.retention import purge as purge_core

    days = session.config.retention_days
    done = purge_core(session.open(), session.actor, now_utc(), days, dry_run)
    if as_json:
        emit_json(done.as_dict())
        return
    verb = "would be redacted" if dry_run else "redacted"
    echo(f"{done.mentions} mention(s) handled before {done.cutoff} {verb} ({days}-day retention).")


@click.command()
@click.option("--period", type=click.Choice(["week", "month", "quarter"]), default="month",
              show_default=True, help="Ending --to (default today).")  # fmt: skip
@click.option("--from", "start", type=DATE, help="The first day (instead of --period).")
@click.option("--to", "end", type=DATE, help="The last day (default today).")
@click.option("--format", "fmt", type=click.Choice(["md", "csv", "json", "html"]),
              default="md", show_default=True,
              help="html: one self-contained page with charts, for a committee paper.")  # fmt: skip
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--include-personal-data", is_flag=True, help="Name the officers.")
@pass_session
def report(
    session: Session, period: str, start, end, fmt: str, output: Path | None,
    include_personal_data: bool,
) -> None:  # fmt: skip
    """The policy report for a period: checks, register, mentions and triage, moderation,
    incidents, sources. Officers are numbered unless --include-personal-data."""
    import csv
    import io
    import json as json_lib

    from smduty.core.clock import now_utc, today
    from smduty.core.errors import InvalidInput
    from smduty.core.files import write_output
    from smduty.core.records.report import (
        build_report,
        period_of,
        report_markdown,
        report_rows,
    )
    from smduty.core.rota.duty_calendar import DutyCalendar

    first, last = period_of(period, start, end, today())
    if last < first:
        raise InvalidInput({"from": f"{first} is after {last}"}, "report")
    found = build_report(
        session.open(), DutyCalendar.from_config(session.config), session.config, first, last,
        now=now_utc(), personal_data=include_personal_data,
    )  # fmt: skip
    if fmt == "json":
        text = json_lib.dumps(found.as_json(), indent=2, ensure_ascii=False) + "\n"
    elif fmt == "csv":
        handle = io.StringIO(newline="")
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["section", "item", "detail", "value"])
        writer.writerows(report_rows(found))
        text = handle.getvalue()
    elif fmt == "html":
        from smduty.core.records.report_html import report_html

        text = report_html(found)
    else:
        text = report_markdown(found)
    if output is None:
        echo(text, nl=False)  # control characters shown escaped, never obeyed
        return
    write_output(output, text)
    echo(f"Wrote {output}")


COMMANDS = (audit_group, history, backup, restore, doctor, purge, report)
