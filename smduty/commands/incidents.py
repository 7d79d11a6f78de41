"""`smduty incident ...` and `smduty posts ...`: running an incident from the command line."""

from __future__ import annotations

from pathlib import Path

import click

from smduty.commands.session import (
    ID,
    Session,
    echo,
    emit_json,
    json_option,
    pass_session,
    print_table,
)
from smduty.core.clock import local_text, today
from smduty.core.errors import InvalidInput
from smduty.core.files import write_output
from smduty.core.incidents import lifecycle as core
from smduty.core.incidents import log as incident_log
from smduty.core.incidents import posts as posts_core
from smduty.core.incidents import steps as incident_steps
from smduty.core.incidents.contacts import contacts_for
from smduty.core.incidents.playbook import playbook_in_force
from smduty.core.incidents.report import report_json, report_markdown


@click.group()
def incident() -> None:
    """Something went wrong: run the escalation procedure and keep its record."""


@incident.command()
@click.option("--title", required=True, help="A short name for what went wrong.")
@click.option("--description", default="", help="What was reported, in a few sentences.")
@click.option("--mention", "mention_id", type=ID, help="Link this mention (it becomes escalated).")
@click.option("--channel", default="", help="The council channel concerned.")
@click.option("--severity", type=click.Choice(core.SEVERITIES), help="Until the assessment.")
@pass_session
def start(
    session: Session,
    title: str,
    description: str,
    mention_id: int | None,
    channel: str,
    severity: str | None,
) -> None:
    """Open an incident; prints its id. The first step: tell your line manager now."""
    playbook, problem = playbook_in_force()
    if problem:
        echo(f"smduty: warning: {problem}", err=True)
    found = core.start(
        session.open(),
        session.actor,
        title,
        description=description,
        severity=severity or "",
        mention_id=mention_id,
        channel=channel,
        playbook=playbook,
    )
    echo(found.id)
    current = found.current
    if current:
        echo(f"Next step: {current.step.title} (smduty incident show {found.id})", err=True)


@incident.command("list")
@click.option("--open", "only_open", is_flag=True, help="Leave out closed incidents.")
@json_option
@pass_session
def list_(session: Session, only_open: bool, as_json: bool) -> None:
    """Incidents, open ones first."""
    found = core.list_incidents(session.open(), include_closed=not only_open)
    if as_json:
        emit_json([i.summary_json() for i in found])
        return
    print_table(
        ("Id", "Status", "Severity", "Title", "Opened", "Next step"),
        (
            (
                i.id,
                i.status,
                i.severity,
                i.title,
                f"{local_text(i.opened_at)} by {i.opened_by}",
                i.current.step.id if i.current else "",
            )
            for i in found
        ),
    )


@incident.command()
@click.argument("incident_id", type=ID)
@json_option
@pass_session
def show(session: Session, incident_id: int, as_json: bool) -> None:
    """One incident: its steps, the current step's guidance and contacts, and the timeline."""
    db = session.open()
    if as_json:
        emit_json(report_json(db, incident_id, include_personal_data=True))  # the working view
        return
    found = core.get_incident(db, incident_id)
    echo(f"Incident {found.id}: {found.title}  [{found.status}, {found.severity}]")
    echo(f"Opened {local_text(found.opened_at)} by {found.opened_by}")
    for number, record in enumerate(found.steps, start=1):
        mark = core.STATE_MARKS[record.state]
        here = "  <- now" if record is found.current else ""
        echo(f"  {mark:>3} {number}. {record.step.id}: {record.step.title}{here}")
    current = found.current
    if current:
        step = current.step
        echo(f"\nNow: {step.title} ({step.policy}; {step.role})\n{step.guidance}")
        if step.warning:
            echo(f"\nWARNING: {step.warning}")
        for contact in contacts_for(db, step.contacts, today()):
            away = f"  ({contact.away})" if contact.away else ""
            deputy = f" for {contact.deputy_for}" if contact.deputy_for else ""
            echo(
                f"  {contact.role_label}{deputy}: {contact.name or '-'}  {contact.phone}  "
                f"out of hours {contact.out_of_hours_phone or '-'}  {contact.email}{away}"
            )
        if step.facts:
            keys = " ".join(f"--set {f.key}=…" for f in step.facts)
            echo(f"\nRecord it: smduty incident step {found.id} {step.id} --done {keys}")
    echo("\nTimeline:")
    for entry in core.timeline(db, incident_id):
        echo(f"  {local_text(entry.at)}  {entry.actor}: {entry.text}")


@incident.command()
@click.argument("incident_id", type=ID)
@click.argument("step_id")
@click.option("--done", is_flag=True, help="The step is done; give its facts with --set.")
@click.option("--set", "pairs", multiple=True, metavar="KEY=VALUE", help="A fact (repeat).")
@click.option("--skip", "skip_reason", metavar="REASON", help="Skip the step, saying why.")
@click.option(
    "--decided-by",
    default="",
    metavar="NAME",
    help="With --skip: who ruled the step does not apply (needed for a mandatory step).",
)
@pass_session
def step(
    session: Session,
    incident_id: int,
    step_id: str,
    done: bool,
    pairs: tuple[str, ...],
    skip_reason: str | None,
    decided_by: str,
) -> None:
    """Record a step: --done with its facts, or --skip with a reason (a mandatory step: the
    reason it does not apply and --decided-by NAME)."""
    if done == (skip_reason is not None):
        raise click.UsageError("give exactly one of --done or --skip REASON")
    if decided_by and skip_reason is None:
        raise click.UsageError("--decided-by goes with --skip REASON")
    db = session.open()
    if skip_reason is not None:
        found = incident_steps.skip_step(
            db, session.actor, incident_id, step_id, skip_reason, decided_by
        )
    else:
        values = {}
        for pair in pairs:
            key, sep, value = pair.partition("=")
            if not sep:
                raise InvalidInput({pair: "write KEY=VALUE"}, "--set")
            values[key.strip()] = value
        found = incident_steps.complete_step(db, session.actor, incident_id, step_id, values)
    nxt = found.current
    echo(f"Next step: {nxt.step.id}: {nxt.step.title}" if nxt else "Every step is done.")


@incident.command()
@click.argument("incident_id", type=ID)
@click.argument("text")
@pass_session
def note(session: Session, incident_id: int, text: str) -> None:
    """Add a note to the timeline."""
    entry = incident_log.add_note(session.open(), session.actor, incident_id, text)
    echo(f"Noted at {local_text(entry.at)}.")


@incident.command()
@click.argument("incident_id", type=ID)
@click.option("--person", required=True, help="Who was told.")
@click.option("--how", type=click.Choice(core.HOW_TOLD, case_sensitive=False), required=True)
@click.option("--role", default="", help="Their role, as the step lists it.")
@click.option("--at", "told_at", metavar="HH:MM|ISO", help="When (default now; council time).")
@click.option("--step", "step_id", help="The step it belongs to (default the current one).")
@click.option("--note", default="")
@pass_session
def notify(
    session: Session,
    incident_id: int,
    person: str,
    how: str,
    role: str,
    told_at: str | None,
    step_id: str | None,
    note: str,
) -> None:
    """Record who was told, how and when."""
    when = incident_log.parse_told_at(told_at) if told_at else None
    incident_log.record_notification(
        session.open(),
        session.actor,
        incident_id,
        person,
        how,
        role=role,
        told_at=when,
        step_id=step_id,
        note=note,
    )
    echo(f"Recorded: {person} told by {how}.")


@incident.command()
@click.argument("incident_id", type=ID)
@click.argument("status", type=click.Choice(("open", "monitoring")))
@pass_session
def status(session: Session, incident_id: int, status: str) -> None:
    """Move an incident between open and monitoring."""
    core.set_status(session.open(), session.actor, incident_id, status)
    echo(f"Incident {incident_id} is {status}.")


@incident.command()
@click.argument("incident_id", type=ID)
@click.option("--what-happened", required=True)
@click.option("--what-worked", default="")
@click.option("--lessons", default="")
@click.option(
    "--action",
    "actions",
    multiple=True,
    metavar="ACTION|OWNER|YYYY-MM-DD",
    help="A follow-up action (repeat).",
)
@pass_session
def review(
    session: Session,
    incident_id: int,
    what_happened: str,
    what_worked: str,
    lessons: str,
    actions: tuple[str, ...],
) -> None:
    """Record the post-incident review."""
    parsed = incident_log.parse_actions(actions)
    incident_log.save_review(
        session.open(),
        session.actor,
        incident_id,
        what_happened=what_happened,
        what_worked=what_worked,
        lessons=lessons,
        actions=parsed,
    )
    echo(f"Review recorded for incident {incident_id}.")


@incident.command()
@click.argument("incident_id", type=ID)
@click.option("--note", default="", help="A closing note for the timeline.")
@pass_session
def close(session: Session, incident_id: int, note: str) -> None:
    """Close an incident (every step done or skipped with a reason)."""
    core.close(session.open(), session.actor, incident_id, note)
    echo(f"Incident {incident_id} closed. Record it: smduty incident report {incident_id}")


@incident.command()
@click.argument("incident_id", type=ID)
@click.option("--format", "fmt", type=click.Choice(("md", "json")), default="md", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--include-personal-data",
    is_flag=True,
    help="Keep the personal data found in linked mentions (masked by default).",
)
@pass_session
def report(
    session: Session, incident_id: int, fmt: str, output: Path | None, include_personal_data: bool
) -> None:
    """The full record: header, every step, the timeline, who was told, the review. Personal
    data the flag rules found in linked mentions is masked unless --include-personal-data."""
    import json

    db = session.open()
    keep = include_personal_data
    if fmt == "json":
        data = report_json(db, incident_id, keep)
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    else:
        text = report_markdown(db, incident_id, keep)
    if output is None:
        echo(text, nl=False)
        return
    write_output(output, text)
    echo(f"Wrote {output}")


@click.group()
def posts() -> None:
    """The council-wide "scheduled posts stopped" state."""


@posts.command("stop")
@click.option("--reason", required=True)
@click.option("--incident", "incident_id", type=ID, help="The incident it is for.")
@pass_session
def posts_stop(session: Session, reason: str, incident_id: int | None) -> None:
    """Stop all scheduled posts: shown on every screen until lifted."""
    posts_core.stop_posts(session.open(), session.actor, reason, incident_id)
    echo("Scheduled posts are stopped. Hold them in every scheduling tool now.")


@posts.command("resume")
@click.option("--note", default="")
@pass_session
def posts_resume(session: Session, note: str) -> None:
    """Lift the stop."""
    posts_core.resume_posts(session.open(), session.actor, note)
    echo("Scheduled posts may go out again.")


@posts.command("status")
@json_option
@pass_session
def posts_status(session: Session, as_json: bool) -> None:
    """Whether scheduled posts are stopped, since when and by whom."""
    held = posts_core.current_stop(session.open())
    if as_json:
        emit_json(held.as_json() if held else {"stopped": False})
        return
    if held is None:
        echo("Scheduled posts are running.")
        return
    echo(
        f"Scheduled posts STOPPED since {local_text(held.stopped_at)} by {held.stopped_by}: "
        f"{held.reason}"
    )


COMMANDS = (incident, posts)
