"""`smduty sources | ingest | poll | watch`: mention monitoring from the command line."""

from __future__ import annotations

import logging
import sys
from contextlib import contextmanager
from pathlib import Path

import click

from smduty.commands.session import Session, echo, emit_json, json_option, pass_session, print_table
from smduty.core.monitoring import sources as sources_core
from smduty.core.monitoring.exports import FORMATS
from smduty.core.monitoring.fetch import limits_for
from smduty.core.monitoring.flag_load import ruleset_for
from smduty.core.monitoring.ingest import LocationSummary, ingest_location, is_url
from smduty.core.monitoring.mentions import Counts
from smduty.core.monitoring.poller import beat, poll_due, stop_beating
from smduty.core.text import escape_controls

BIG_FILE = 5 * 1024 * 1024


@click.group()
def sources() -> None:
    """Feeds and export files that bring mentions in."""


def _source_row(s: sources_core.Source) -> dict:
    return {
        "name": s.name,
        "kind": s.kind,
        "location": s.location,
        "format": s.format,
        "preset": s.preset or None,
        "every_minutes": s.interval_minutes,
        "enabled": s.enabled,
        "last_polled": s.last_polled,
        "last_status": s.last_status,
        "last_error": s.last_error,
        "last_warning": s.last_warning,
        "failures": s.failures,
        "next_poll": s.next_poll,
    }


@sources.command("list")
@json_option
@pass_session
def sources_list(session: Session, as_json: bool) -> None:
    """Every source with its health."""
    found = sources_core.list_sources(session.open())
    if as_json:
        emit_json([_source_row(s) for s in found])
        return
    print_table(
        ("Name", "Location", "Every", "On", "Last polled", "Status", "Next poll"),
        (
            (
                s.name,
                s.location,
                f"{s.interval_minutes}m",
                "yes" if s.enabled else "no",
                s.last_polled or "never",
                s.last_error or s.last_status or "",
                s.next_poll or "now",
            )
            for s in found
        ),
    )


_format = click.option("--format", "fmt", type=click.Choice(FORMATS), help="Override detection.")


def _known_preset(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from smduty.core.monitoring.presets import preset_names

    if value is not None and value not in preset_names():
        raise click.BadParameter(f"{value!r} is not one of {', '.join(preset_names())}")
    return value


_preset = click.option("--preset", callback=_known_preset, help="Export tool's columns.")
_map = click.option("--map", "column_map", help="Override columns: text=COLUMN,author=COLUMN,...")


@sources.command("add")
@click.argument("name")
@click.argument("location")
@click.option("--every", default="15m", show_default=True, help="Poll interval (15m, 2h).")
@_format
@_preset
@_map
@pass_session
def sources_add(session: Session, name, location, every, fmt, preset, column_map) -> None:
    """Add a feed (an http(s) URL) or an export file (a path)."""
    s = sources_core.add_source(
        session.open(), session.actor, name, location, every, fmt or "auto", preset, column_map
    )
    echo(f"Added {s.kind} source {s.name}, polled every {s.interval_minutes} minutes.")


@sources.command("edit")
@click.argument("name")
@click.option("--name", "new_name", help="Rename it.")
@click.option("--location")
@click.option("--every")
@_format
@_preset
@_map
@pass_session
def sources_edit(session: Session, name, new_name, location, every, fmt, preset, column_map):
    """Change a source's settings."""
    s = sources_core.edit_source(
        session.open(),
        session.actor,
        name,
        name=new_name,
        location=location,
        interval_minutes=every,
        format=fmt,
        preset=preset,
        column_map=column_map,
    )
    echo(f"Saved {s.name}.")


@sources.command("disable")
@click.argument("name")
@pass_session
def sources_disable(session: Session, name) -> None:
    """Stop polling a source (its mentions stay)."""
    s = sources_core.set_enabled(session.open(), session.actor, name, False)
    echo(f"{s.name} is disabled.")


@sources.command("enable")
@click.argument("name")
@pass_session
def sources_enable(session: Session, name) -> None:
    """Poll a disabled source again."""
    s = sources_core.set_enabled(session.open(), session.actor, name, True)
    echo(f"{s.name} is enabled.")


@sources.command("remove")
@click.argument("name")
@pass_session
def sources_remove(session: Session, name) -> None:
    """Remove a source; the mentions it brought stay on the record."""
    sources_core.remove_source(session.open(), session.actor, name)
    echo(f"Removed {name}.")


def _summary_line(s: LocationSummary) -> str:
    if s.error:
        return f"FAILED {s.error}"
    c = s.counts
    line = (
        f"{s.location}: read {c.read}, new {c.new}, duplicates {c.duplicates}, "
        f"flagged {c.flagged}, skipped {c.skipped}"
    )
    return line + (f" (warning: {s.warning})" if s.warning else "")


@click.command()
@click.argument("locations", nargs=-1, required=True)
@click.option("--source", help="Name the mentions' source (default: the file or host name).")
@_format
@_preset
@_map
@json_option
@pass_session
def ingest(session: Session, locations, source, fmt, preset, column_map, as_json) -> None:
    """Read files or URLs into mentions; each location is its own transaction.

    Exit 0 when every location was read, 1 when some failed, 2 when none could be read.
    """
    db = session.open()
    rules = ruleset_for(db)
    results: list[LocationSummary] = []
    show_progress = not as_json and sys.stderr.isatty()
    for location in locations:
        big = not is_url(location) and Path(location).is_file()
        big = big and Path(location).stat().st_size > BIG_FILE
        with _progress_bar(location if show_progress and big else None) as progress:
            results.append(
                ingest_location(
                    db,
                    rules,
                    location,
                    source=source,
                    fmt=fmt or "auto",
                    preset=preset,
                    column_map=column_map,
                    progress=progress,
                    actor=session.actor,
                    waiting=_say_import_waits,
                    limits=limits_for(session.config),
                )
            )
    total = Counts()
    for r in results:
        total.add(r.counts)
    failed = sum(r.errors for r in results)
    if as_json:
        emit_json(
            {
                "locations": [r.as_dict() for r in results],
                "total": {
                    "read": total.read,
                    "new": total.new,
                    "duplicates": total.duplicates,
                    "flagged": total.flagged,
                    "skipped": total.skipped,
                    "errors": failed,
                },
            }
        )
    else:
        for r in results:
            echo(_summary_line(r), err=bool(r.error))
        if len(results) > 1:
            echo(
                f"Total: read {total.read}, new {total.new}, duplicates {total.duplicates}, "
                f"flagged {total.flagged}, skipped {total.skipped}, errors {failed}"
            )
    if failed:
        sys.exit(2 if failed == len(results) else 1)


def _say_import_waits(other: str) -> None:
    echo(f"Waiting for another import to finish ({other})…", err=True)


@contextmanager
def _progress_bar(location: str | None):
    """A rich progress bar on stderr for a big file; None (no bar) otherwise."""
    if location is None:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        name = escape_controls(Path(location).name[:40])
        task = bar.add_task(name, total=Path(location).stat().st_size)
        yield lambda done, total: bar.update(task, completed=done)


@click.command()
@click.option("--source", "names", multiple=True, help="Only this source (repeatable).")
@click.option("--now", is_flag=True, help="Poll the named sources even if they are not due.")
@json_option
@pass_session
def poll(session: Session, names, now: bool, as_json: bool) -> None:
    """Poll every source that is due, once. Exit 1 when any source failed."""
    db = session.open()
    if now:
        if not names:
            raise click.UsageError("--now needs --source NAME (which sources to poll)")
        for name in names:
            sources_core.force_due(db, session.actor, name)
    results = poll_due(
        db,
        ruleset_for(db),
        names=list(names) or None,
        actor=session.actor,
        limits=limits_for(session.config),
    )
    if as_json:
        emit_json([r.as_dict() for r in results])
    else:
        if not results:
            echo("No source is due.")
        for r in results:
            echo(f"{r.source}: {r.error or r.status} ({r.counts.new} new)", err=bool(r.error))
    if any(r.error for r in results):
        sys.exit(1)


@click.command()
@click.option("--tick", default=60, show_default=True, help="Seconds between looks at due sources.")
@pass_session
def watch(session: Session, tick: int) -> None:
    """Poll due sources on schedule in the foreground until Ctrl-C.

    Open TUIs stand their own poller down while this runs. Exit 1 if any poll failed.
    """
    log = logging.getLogger("smduty.watch")
    stderr = logging.StreamHandler()  # what it does, on the terminal (and in the log file)
    stderr.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    log.addHandler(stderr)
    log.setLevel(logging.INFO)
    try:
        _watch(session, tick, log)
    finally:
        log.removeHandler(stderr)


def _watch(session: Session, tick: int, log: logging.Logger) -> None:
    import signal
    import time

    from apscheduler.schedulers.background import BackgroundScheduler

    from smduty.core.clock import COUNCIL_TZ
    from smduty.core.store import connect

    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    path = session.db_path
    session.open()  # refuse a bad database before starting

    failures: list[str] = []

    def job() -> None:
        db = connect(path)
        try:
            beat(db)
            limits = limits_for(session.config)
            for r in poll_due(db, ruleset_for(db), actor=session.actor, limits=limits):
                log.info("%s: %s (%d new)", r.source, r.error or r.status, r.counts.new)
                if r.error:
                    failures.append(r.source)
        except Exception:  # the watcher keeps going; the next tick tries again
            log.exception("poll failed")
            failures.append("poll")
        finally:
            db.close()

    def keep_records() -> None:
        """The daily backup (and the audit trail's anchor with it), then the purge, when due."""
        from smduty.core.records.backups import backup, backup_due

        if not backup_due(path):
            return
        db = connect(path)
        try:
            made = backup(db, path, actor=f"{session.actor} (daily backup)",
                          keep=session.config.backups_keep)  # fmt: skip
            log.info("backed up to %s", made.path)
            from smduty.core.clock import now_utc
            from smduty.core.records.retention import purge

            done = purge(db, f"{session.actor} (daily retention)", now_utc(),
                         session.config.retention_days)  # fmt: skip
            log.info("retention: %d mention(s) redacted", done.mentions)
        except Exception:  # the watcher keeps going; the next look tries again
            log.exception("daily backup failed")
        finally:
            db.close()

    # The jobs run on the scheduler's threads; the main thread only waits for Ctrl-C or a
    # TERM. The signal handler just notes the signal: a KeyboardInterrupt raised inside the
    # scheduler's own loop could leave one of its locks held and the shutdown waiting forever.
    stop: list[int] = []

    def note(signum, _frame) -> None:
        stop.append(signum)

    previous = {sig: signal.signal(sig, note) for sig in (signal.SIGINT, signal.SIGTERM)}
    scheduler = BackgroundScheduler(timezone=COUNCIL_TZ)
    scheduler.add_job(job, "interval", seconds=max(tick, 5), coalesce=True, max_instances=1)
    scheduler.add_job(keep_records, "interval", hours=1, coalesce=True, max_instances=1)
    scheduler.add_job(job)  # once now
    log.info("watching sources in %s every %d s; Ctrl-C stops", path, tick)
    try:
        scheduler.start()
        while not stop:
            time.sleep(0.2)
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=False)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        db = connect(path)
        stop_beating(db)
        db.close()
        log.info("stopped")
    if failures:
        log.info("%d poll(s) failed while watching: %s", len(failures), ", ".join(failures[:5]))
        sys.exit(1)


COMMANDS = (sources, ingest, poll, watch)
