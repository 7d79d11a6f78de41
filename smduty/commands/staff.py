"""`smduty staff ...`: the people behind the channels, the rota and escalation."""

from __future__ import annotations

import click

from smduty.commands.session import Session, echo, emit_json, json_option, pass_session, print_table
from smduty.core import staff as staff_core
from smduty.core.store import transaction


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


@staff.command()
@click.argument("name")
@click.option("--name", "new_name", help="A corrected or new name.")
@click.option(
    "--role",
    "roles",
    multiple=True,
    type=click.Choice(tuple(staff_core.ROLES)),
    help="Their roles, all of them (repeat; replaces the roles held).",
)
@click.option("--no-roles", is_flag=True, help="Take every role away.")
@click.option("--email")
@click.option("--phone")
@click.option("--out-of-hours-phone")
@click.option("--team")
@click.option("--notes")
@click.option("--deputy", help="Who stands in for them ('' clears it).")
@click.option("--standing/--not-standing", default=None,
              help="Standing as a candidate in an election (the register warns during a"
              " pre-election period).")  # fmt: skip
@pass_session
def edit(
    session: Session,
    name: str,
    new_name: str | None,
    roles: tuple[str, ...],
    no_roles: bool,
    deputy: str | None,
    standing: bool | None,
    **fields: str | None,
) -> None:
    """Correct or change someone's details: only what is given changes (audited)."""
    db = session.open()
    given = {k: v for k, v in fields.items() if v is not None}
    if not (given or new_name or roles or no_roles or deputy is not None or standing is not None):
        raise click.UsageError("say what changes (see --help)")
    if roles and no_roles:
        raise click.UsageError("give --role or --no-roles, not both")
    with transaction(db):  # the details and the deputy, or neither
        member = staff_core.edit_staff(
            db,
            session.actor,
            name,
            new_name=new_name,
            roles=() if no_roles else (roles or None),
            standing=standing,
            **given,
        )
        if deputy is not None:
            member = staff_core.set_deputy(db, session.actor, member.name, deputy or None)
    echo(f"Saved {member.name}.")


COMMANDS = (staff,)
