"""`smduty rota | leave | check | checks | handover`: the duty rota and the daily check."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import click

from smduty.commands.session import (
    DATE,
    ID,
    Session,
    date_span,
    echo,
    emit_json,
    json_option,
    pass_session,
    print_table,
)
from smduty.core.clock import local_text, today
from smduty.core.rota import checks as checks_core
from smduty.core.rota import cover as rota_cover
from smduty.core.rota import handover as handover_core
from smduty.core.rota import people as rota_people
from smduty.core.rota import reports as rota_reports
from smduty.core.rota import roster as rota_core
from smduty.core.rota.duty_calendar import DutyCalendar
from smduty.core.rota.misses import misses
from smduty.core.staff import get_staff


def calendar_of(session: Session) -> DutyCalendar:
    return DutyCalendar.from_config(session.config)


def _show_days(duties: list[rota_core.DutyDay], as_json: bool) -> None:
    if as_json:
        emit_json([d.as_dict() for d in duties])
        return
    print_table(
        ("Date", "Day", "Holiday", "Check officer", "Weekend duty", "Block"),
        (
            (
                d.date,
                f"{d.date:%a}",
                d.bank_holiday or "",
                d.check_officer or "UNCOVERED",
                d.weekend_duty or "UNCOVERED",
                f"{d.weekend_start} to {d.weekend_end}",
            )
            for d in duties
        ),
    )


@click.group()
def rota() -> None:
    """The duty rota: check officers, weekend duty blocks, swaps, reports."""


@rota.command()
@click.option("--date", "on", type=DATE, help="The date (default today).")
@json_option
@pass_session
def show(session: Session, on, as_json: bool) -> None:
    """Who is on duty on a date, and the weekend duty block around or after it."""
    duty = rota_core.day_view(session.open(), calendar_of(session), on or today())
    if as_json:
        emit_json(duty.as_dict())
        return
    kind = "working day" if duty.working_day else "duty block"
    echo(
        f"{duty.date:%A %-d %B %Y} ({kind}"
        + (f", {duty.bank_holiday})" if duty.bank_holiday else ")")
    )
    echo(f"Check officer: {duty.check_officer or 'nobody (a gap in the rota)'}")
    echo(
        f"Weekend duty:  {duty.weekend_duty or 'nobody (a gap in the rota)'}"
        f" ({duty.weekend_start:%a %-d %b} to {duty.weekend_end:%a %-d %b})"
    )


@rota.command("list")
@click.option("--from", "start", type=DATE, required=True)
@click.option("--to", "end", type=DATE, required=True)
@json_option
@pass_session
def list_(session: Session, start, end, as_json: bool) -> None:
    """One line a day between two dates."""
    first, last = date_span(start, end, default_start=today(), default_days=56)
    _show_days(rota_core.days_view(session.open(), calendar_of(session), first, last), as_json)


@rota.command()
@click.option("--from", "start", type=DATE, help="First date (default today).")
@click.option("--weeks", type=click.IntRange(1, 104), default=8, show_default=True)
@click.option(
    "--replan",
    "replan_from",
    type=DATE,
    metavar="FROM",
    help="Choose generated days from FROM on again (says what changes and asks first).",
)
@click.option("--yes", is_flag=True, help="With --replan: do not ask.")
@json_option
@pass_session
def generate(session: Session, start, weeks: int, replan_from, yes: bool, as_json: bool) -> None:
    """Fill the days not yet planned, fairly; planned days, swaps and the past never change
    (unless --replan FROM)."""
    db, cal = session.open(), calendar_of(session)
    first = start or today()
    if replan_from is not None and not yes:
        preview = rota_core.generate(
            db, session.actor, cal, first, weeks, today(), replan_from=replan_from, dry_run=True
        )
        planned = {d: c for d, c in preview.changed.items() if c[0] is not None}
        if planned:
            echo(f"Re-planning from {replan_from} changes {len(planned)} planned day(s):")
            for day, (old, new) in sorted(planned.items()):
                echo(f"  {day:%a %-d %b %Y}: {old} -> {new or 'nobody (a gap)'}")
            if not click.confirm("Change them?", default=False):
                raise click.exceptions.Exit(1)
    result = rota_core.generate(
        db, session.actor, cal, first, weeks, today(), replan_from=replan_from
    )
    if as_json:
        emit_json(
            {
                "assigned": result.assigned,
                "kept": result.kept,
                "gaps": [d.isoformat() for d in result.gaps],
                "changed": {
                    d.isoformat(): {"from": old, "to": new}
                    for d, (old, new) in sorted(result.changed.items())
                },
            }
        )
        return
    moved = sum(1 for old, _ in result.changed.values() if old is not None)
    echo(
        f"Rostered {result.assigned} day(s) not yet planned; kept {result.kept} planned"
        f" (past days, swaps and earlier plans){f'; changed {moved}' if moved else ''}."
    )
    for gap in result.gaps:
        echo(f"GAP: {gap:%a %-d %b %Y}: nobody is free to cover it")


@rota.command()
@click.argument("on", type=DATE, metavar="DATE")
@click.option("--to", "to_name", required=True, metavar="NAME")
@click.option("--reason", required=True)
@click.option("--force", is_flag=True, help="Override leave or eligibility (recorded).")
@click.option("--day-only", is_flag=True, help="Only this day of a weekend or holiday block.")
@pass_session
def swap(session: Session, on, to_name: str, reason: str, force: bool, day_only: bool) -> None:
    """Give a duty to someone else (a weekend date moves its whole block unless --day-only)."""
    moved = rota_core.swap(
        session.open(),
        session.actor,
        calendar_of(session),
        on,
        to_name,
        reason,
        force,
        whole_block=not day_only,
    )
    span = f"{moved[0]}" if len(moved) == 1 else f"{moved[0]} to {moved[-1]}"
    echo(f"{to_name} now has the duty for {span}.")


@rota.command()
@click.argument("on", type=DATE, metavar="[DATE]", required=False)
@click.option("--from", "start", type=DATE)
@click.option("--to", "end", type=DATE)
@click.option("--apply", "apply_", is_flag=True, help="Give DATE's duty to the proposed cover.")
@click.option("--officer", "to_name", metavar="NAME", help="With --apply: this officer instead.")
@json_option
@pass_session
def cover(session: Session, on, start, end, apply_: bool, to_name, as_json: bool) -> None:
    """Planned duties whose officer is on leave or has left, with who is free to cover
    (fairest first); `cover DATE --apply` gives that duty to the proposal."""
    db, cal = session.open(), calendar_of(session)
    if apply_ or to_name:
        if on is None:
            raise click.UsageError("say which duty: smduty rota cover DATE --apply")
        need, chosen = rota_cover.apply_cover(db, session.actor, cal, on, to_name, today=today())
        echo(f"{chosen} now covers {need.span()} for {need.officer} ({need.why}).")
        return
    first, last = _range(on or start, on or end)
    needs = rota_cover.cover_needs(db, cal, first, last)
    if as_json:
        emit_json([n.as_dict() for n in needs])
        return
    if not needs:
        echo("Every planned duty has an officer who can do it.")
        return
    print_table(
        ("Days", "Rostered", "Why not", "Proposed cover", "Also free"),
        (
            (n.span(), n.officer, n.why, n.proposal or "nobody free", ", ".join(n.candidates[1:4]))
            for n in needs
        ),
    )
    echo(f"Apply one: smduty rota cover {needs[0].days[0]} --apply [--officer NAME]")


def _range(start, end) -> tuple[date, date]:
    return date_span(start, end, default_start=today(), default_days=56)


@rota.command()
@click.option("--from", "start", type=DATE)
@click.option("--to", "end", type=DATE)
@json_option
@pass_session
def gaps(session: Session, start, end, as_json: bool) -> None:
    """Uncovered days, officers rostered on leave or after leaving, channels without cover."""
    found = rota_reports.gaps(session.open(), calendar_of(session), *_range(start, end))
    if as_json:
        emit_json([g.as_dict() for g in found])
        return
    if not found:
        echo("No gaps.")
    print_table(("Kind", "Date", "Problem"), ((g.kind, g.date or "", g.message) for g in found))


@rota.command()
@click.option("--from", "start", type=DATE)
@click.option("--to", "end", type=DATE)
@json_option
@pass_session
def fairness(session: Session, start, end, as_json: bool) -> None:
    """Per officer: weekday checks, weekend blocks, weekend days, bank-holiday days."""
    first, last = date_span(
        start,
        end or today() + timedelta(weeks=8),
        default_start=today() - timedelta(days=365),
        default_days=0,
    )
    rows = rota_reports.fairness(session.open(), calendar_of(session), first, last)
    if as_json:
        emit_json([r.as_dict() for r in rows])
        return
    print_table(
        ("Officer", "Weekday checks", "Weekend blocks", "Weekend days", "Bank-holiday days"),
        (
            (r.officer, r.weekday_checks, r.weekend_blocks, r.weekend_days, r.bank_holiday_days)
            for r in rows
        ),
    )


@rota.command()
@click.option("--ics", "ics_file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--csv", "csv_file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--officer", metavar="NAME", help="Only this officer's duties.")
@click.option("--from", "start", type=DATE)
@click.option("--to", "end", type=DATE)
@pass_session
def export(session: Session, ics_file, csv_file, officer, start, end) -> None:
    """Write the rota as a calendar (ICS) and/or a CSV for overtime and payroll."""
    if not ics_file and not csv_file:
        raise click.UsageError("give --ics FILE and/or --csv FILE")
    first, last = _range(start, end)
    db, cal = session.open(), calendar_of(session)
    if officer:
        officer = get_staff(db, officer).name  # an unknown name exits 2, naming it
    if ics_file:
        count = rota_reports.export_ics(db, cal, ics_file, first, last, officer)
        echo(f"Wrote {count} event(s) to {ics_file}.")
    if csv_file:
        count = rota_reports.export_csv(db, cal, csv_file, first, last, officer)
        echo(f"Wrote {count} day(s) to {csv_file}.")


@rota.command()
@click.argument("name")
@click.option("--weekday/--no-weekday", default=True, help="May do weekday checks.")
@click.option("--weekend/--no-weekend", default=True, help="May do weekend duty.")
@pass_session
def officer(session: Session, name: str, weekday: bool, weekend: bool) -> None:
    """Put someone on the rota, or change which duties they may do."""
    o = rota_people.set_officer(session.open(), session.actor, name, weekday, weekend)
    echo(
        f"{o.name}: weekday checks {'yes' if o.weekday else 'no'}, "
        f"weekend duty {'yes' if o.weekend else 'no'}."
    )


@rota.command()
@json_option
@pass_session
def officers(session: Session, as_json: bool) -> None:
    """Everyone on the rota and which duties they may do."""
    found = rota_people.officers(session.open())
    if as_json:
        emit_json(
            [
                {
                    "name": o.name,
                    "weekday": o.weekday,
                    "weekend": o.weekend,
                    "left_on": o.left_on.isoformat() if o.left_on else None,
                }
                for o in found
            ]
        )
        return
    print_table(
        ("Officer", "Weekday checks", "Weekend duty"),
        ((o.name, "yes" if o.weekday else "no", "yes" if o.weekend else "no") for o in found),
    )


@click.group()
def leave() -> None:
    """Leave and absence: the rota never puts someone on duty while away."""


@leave.command("add")
@click.argument("name")
@click.option("--from", "start", type=DATE, required=True)
@click.option("--to", "end", type=DATE, required=True)
@click.option("--reason", default="")
@pass_session
def leave_add(session: Session, name: str, start, end, reason: str) -> None:
    entry = rota_people.add_leave(session.open(), session.actor, name, start, end, reason)
    echo(f"Recorded leave for {entry.name}: {entry.start} to {entry.end}.")


@leave.command("list")
@click.option("--from", "start", type=DATE)
@click.option("--to", "end", type=DATE)
@json_option
@pass_session
def leave_list(session: Session, start, end, as_json: bool) -> None:
    first, last = date_span(
        start, end, default_start=today() - timedelta(days=30), default_days=400
    )
    found = rota_people.leave_between(session.open(), first, last)
    if as_json:
        emit_json([x.as_dict() for x in found])
        return
    print_table(
        ("Officer", "From", "To", "Reason"), ((x.name, x.start, x.end, x.reason) for x in found)
    )


@click.command()
@click.argument("channel")
@click.option(
    "--outcome",
    type=click.Choice(tuple(checks_core.OUTCOMES)),
    default="nothing_to_action",
    show_default=True,
)
@click.option("--note", default="")
@pass_session
def check(session: Session, channel: str, outcome: str, note: str) -> None:
    """Record that you checked a channel."""
    done = checks_core.record_check(session.open(), session.actor, channel, outcome, note)
    echo(f"Checked {channel} at {done.checked_at:%H:%M} UTC ({outcome}).")


def _deadline(session: Session, day: date):
    cfg = session.config
    cal = calendar_of(session)
    return checks_core.deadline_for(
        day, cal.is_working_day(day), cfg.check_deadline_working, cfg.check_deadline_duty
    )


@click.group(invoke_without_command=True)
@click.option("--date", "on", type=DATE, help="The duty date (default today).")
@json_option
@click.pass_context
def checks(ctx: click.Context, on, as_json: bool) -> None:
    """Today's checks: every active channel, checked or not."""
    if ctx.invoked_subcommand is not None:
        return
    session: Session = ctx.obj
    day = on or today()
    states = checks_core.check_states(session.open(), day)
    if as_json:
        emit_json([s.as_dict() for s in states])
        return
    due = _deadline(session, day)
    done = sum(s.checked for s in states)
    from smduty.core.election import GUIDANCE, in_force

    election = in_force(session.open(), day)
    if election is not None:
        echo(f"PRE-ELECTION PERIOD ({election.name}, to {election.end}): {GUIDANCE}")
    echo(f"{day:%A %-d %B}: {done}/{len(states)} checked; due by {due:%H:%M}.")
    print_table(
        ("Channel", "Checked", "By", "At (UTC)", "Outcome"),
        (
            (
                s.channel,
                "yes" if s.checked else "NO",
                s.by or "",
                f"{s.at:%H:%M}" if s.at else "",
                s.outcome or "",
            )
            for s in states
        ),
    )


@checks.command()
@click.option("--from", "start", type=DATE)
@click.option("--to", "end", type=DATE)
@json_option
@pass_session
def missed(session: Session, start, end, as_json: bool) -> None:
    """Channels not checked by a date's deadline, as recorded when the deadline passed (a late
    check shows as late; the miss stays on the record)."""
    last = end or today()
    first, last = date_span(start, last, default_start=last - timedelta(days=30), default_days=0)
    session.open()
    session.record_facts()  # what came due since anyone last looked, before listing
    found = misses(session.open(), first, last)
    if as_json:
        emit_json([
            {"date": m.duty_date, "channel": m.channel, "deadline": m.deadline,
             "officer": m.officer, "checked_late_at": m.checked_late_at,
             "recorded_at": m.recorded_at, "reconstructed": m.reconstructed,
             "acknowledged_by": m.acknowledged_by}
            for m in found
        ])  # fmt: skip
        return
    if not found:
        echo("No missed checks.")
        return
    print_table(
        ("Date", "Channel", "Deadline", "On duty", "Checked late"),
        ((m.duty_date, m.channel, m.deadline, m.officer, m.checked_late_at or "")
         for m in found),
    )  # fmt: skip


@click.group()
def handover() -> None:
    """The handover note from the last weekday check officer to the weekend duty officer."""


@handover.command("add")
@click.argument("text")
@pass_session
def handover_add(session: Session, text: str) -> None:
    note = handover_core.leave_handover(
        session.open(), session.actor, calendar_of(session), today(), text
    )
    echo(f"Handover note {note.id} left for the block starting {note.block_start}.")


@handover.command("show")
@json_option
@pass_session
def handover_show(session: Session, as_json: bool) -> None:
    note = handover_core.current_handover(session.open(), calendar_of(session), today())
    if as_json:
        emit_json(note.as_dict() if note else None)
    elif note:
        echo(f"[{note.id}] from {note.author} at {note.created_at}:\n{note.text}")
    else:
        echo("No handover note waiting.")


@handover.command("list")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@json_option
@pass_session
def handover_list(session: Session, limit: int, as_json: bool) -> None:
    """Past handover notes, newest first, with who acknowledged each."""
    notes = handover_core.past_handovers(session.open(), limit)
    if as_json:
        emit_json([n.as_dict() for n in notes])
        return
    print_table(
        ("Block", "From", "Note", "Acknowledged"),
        (
            (
                f"{n.block_start:%a %-d %b %Y}",
                n.author,
                n.text.splitlines()[0][:60] if n.text else "",
                f"{n.acknowledged_by}, {local_text(n.acknowledged_at)}"
                if n.acknowledged_at
                else "no",
            )
            for n in notes
        ),
    )


@handover.command("ack")
@click.argument("note_id", type=ID)
@pass_session
def handover_ack(session: Session, note_id: int) -> None:
    handover_core.acknowledge(session.open(), session.actor, note_id)
    echo(f"Acknowledged handover note {note_id}.")


COMMANDS = (rota, leave, check, checks, handover)
