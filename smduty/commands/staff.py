"""`smduty staff ...`: the people behind the channels, the rota and escalation."""

from __future__ import annotations

import click

from smduty.commands.session import Session, echo, emit_json, json_option, pass_session, print_table
from smduty.core import staff as staff_core


@click.group()
def staff() -> None:
    """Council staff and their roles."""


@staff.command("list")
@click.option("--active", is_flag=True, help="Leave out people who have left.")
@json_option
@pass_session
def list_(session: Session, active: bool, as_json: bool) -> None:
    """Everyone, with roles and whether they have left."""
    people = staff_core.list_staff(session.open(), include_left=not active)
    if as_json:
        emit_json([p.as_dict() for p in people])
        return
    print_table(
        ("Name", "Team", "Roles", "Phone", "Email", "Deputy", "Left"),
        (
            (p.name, p.team, ", ".join(p.roles), p.phone, p.email, p.deputy or "", p.left_on or "")
            for p in people
        ),
    )


@staff.command()
@click.argument("name")
@click.option(
    "--role",
    "roles",
    multiple=True,
    type=click.Choice(tuple(staff_core.ROLES)),
    help="A role (repeat for each).",
)
@click.option("--email", default="")
@click.option("--phone", default="")
@click.option("--out-of-hours-phone", default="")
@click.option("--team", default="")
@click.option("--deputy", default="", help="Who stands in when they cannot be reached.")
@pass_session
def add(session: Session, name: str, roles: tuple[str, ...], deputy: str, **fields: str) -> None:
    """Add a member of staff."""
    member = staff_core.add_staff(session.open(), session.actor, name, roles, deputy, **fields)
    echo(f"Added {member.name}.")


@staff.command()
@click.argument("name")
@click.argument("deputy", required=False)
@pass_session
def deputy(session: Session, name: str, deputy: str | None) -> None:
    """Name NAME's deputy for escalation contacts (leave DEPUTY out to clear it)."""
    member = staff_core.set_deputy(session.open(), session.actor, name, deputy)
    echo(f"{member.name}'s deputy: {member.deputy or 'none'}.")


@staff.command()
@click.argument("name")
@click.option("--on", "left_on", required=True, metavar="YYYY-MM-DD", help="Their last day.")
@pass_session
def left(session: Session, name: str, left_on: str) -> None:
    """Record that someone left: channels they had access to need new passwords."""
    member = staff_core.mark_left(session.open(), session.actor, name, left_on)
    echo(f"Recorded that {member.name} left on {member.left_on}.")


COMMANDS = (staff,)
