"""`smduty election ...`: the pre-election period (004 §4.2.6), set, cleared and shown."""

from __future__ import annotations

import click

from smduty.commands.session import DATE, Session, echo, emit_json, json_option, pass_session
from smduty.core import election as core


@click.group()
def election() -> None:
    """The pre-election period: while it holds, every screen says so and a response needs the
    election guidance confirmed."""


@election.command("set")
@click.option("--from", "start", type=DATE, required=True)
@click.option("--to", "end", type=DATE, required=True)
@click.option("--name", default="", help='e.g. "County council elections, 6 May 2027".')
@pass_session
def election_set(session: Session, start, end, name: str) -> None:
    found = core.set_period(session.open(), session.actor, start, end, name)
    echo(f"{found.name}: {found.start} to {found.end}.")


@election.command("clear")
@pass_session
def election_clear(session: Session) -> None:
    found = core.clear_period(session.open(), session.actor)
    echo(f"Cleared: {found.name} ({found.start} to {found.end}).")


@election.command("show")
@json_option
@pass_session
def election_show(session: Session, as_json: bool) -> None:
    found = core.current_period(session.open())
    if as_json:
        emit_json(found.as_dict() if found else None)
        return
    if found is None:
        echo("No pre-election period is set.")
        return
    echo(f"{found.name}: {found.start} to {found.end} (set by {found.set_by}, {found.set_at}).")
    echo(f"The guidance: {core.GUIDANCE}.")


COMMANDS = (election,)
