"""`smduty channels ...`: the register from the command line."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click
from rich.text import Text

from smduty.commands.session import Session, echo, emit_json, json_option, pass_session, print_table
from smduty.core.register import channels as register_core
from smduty.core.register.channel_import import import_channels
from smduty.core.register.compliance import Limits, RegisterEntry, register
from smduty.core.register.fields import FIELDS, PROPOSAL_STEP_LABELS, STATUSES


def field_options(func: Callable) -> Callable:
    """One option per channel field (except name), generated from the shared field list."""
    for name, spec in reversed(list(FIELDS.items())):
        if name == "name":
            continue
        flag = name.replace("_", "-")
        if spec.kind == "bool":
            option = click.option(f"--{flag}/--no-{flag}", name, default=None, help=spec.label)
        elif spec.kind == "choice":
            option = click.option(
                f"--{flag}", name, type=click.Choice(spec.choices), help=spec.label
            )
        else:
            metavar = "YYYY-MM-DD" if spec.kind == "date" else None
            option = click.option(f"--{flag}", name, metavar=metavar, help=spec.label)
        func = option(func)
    return func


def _given(values: dict) -> dict:
    return {k: v for k, v in values.items() if v is not None and k in FIELDS}


def _state_text(entry: RegisterEntry) -> Text:
    style = {"red": "bold red", "amber": "yellow", "ok": "green"}.get(entry.state, "dim")
    return Text(entry.state, style=style)


@click.group()
def channels() -> None:
    """The register of official channels."""


@channels.command("list")
@click.option("--status", type=click.Choice(STATUSES), multiple=True, help="Only these statuses.")
@json_option
@pass_session
def list_(session: Session, status: tuple[str, ...], as_json: bool) -> None:
    """Every channel with its managers and compliance problems."""
    entries = register(session.open(), status or None, Limits.from_config(session.config))
    if as_json:
        emit_json([e.as_dict() for e in entries])
        return
    rows = []
    for e in entries:
        c = e.channel
        stage = c.status
        if c.status == "proposed":
            done, total = c.proposal_progress
            stage = f"proposed {done}/{total}"
        rows.append(
            (
                c.name,
                c.platform,
                c.handle,
                c.service,
                stage,
                ", ".join(m.name for m in c.managers),
                _state_text(e),
                len(e.problems),
            )
        )
    print_table(
        ("Channel", "Platform", "Handle", "Service", "Status", "Managers", "State", "Problems"),
        rows,
    )


@channels.command()
@click.option("--strict", is_flag=True, help="Exit 1 when any problem is red.")
@json_option
@pass_session
def audit(session: Session, strict: bool, as_json: bool) -> None:
    """Every compliance problem in the register, with its policy reference."""
    entries = register(session.open(), None, Limits.from_config(session.config))
    problems = [(e.channel, p) for e in entries for p in e.problems]
    if as_json:
        emit_json([{"channel": c.name, **p.as_dict()} for c, p in problems])
    elif problems:
        print_table(
            ("Channel", "Severity", "Rule", "Problem", "Policy"),
            (
                (
                    c.name,
                    Text(p.severity, style="bold red" if p.severity == "red" else "yellow"),
                    p.rule,
                    p.message,
                    p.policy,
                )
                for c, p in problems
            ),
        )
    else:
        echo("No compliance problems.")
    if strict and any(p.severity == "red" for _, p in problems):
        sys.exit(1)


@channels.command()
@click.argument("name")
@click.option(
    "--manager",
    "managers",
    multiple=True,
    metavar="STAFF",
    help="A designated manager (repeat for each).",
)
@field_options
@pass_session
def add(session: Session, name: str, managers: tuple[str, ...], **values) -> None:
    """Register a channel."""
    channel = register_core.add_channel(
        session.open(), session.actor, {"name": name, **_given(values)}, list(managers)
    )
    echo(f"Added {channel.name} (id {channel.id}, {channel.status}).")


@channels.command()
@click.argument("channel")
@click.option("--name", "new_name", help="Rename the channel.")
@click.option(
    "--manager",
    "managers",
    multiple=True,
    metavar="STAFF",
    help="Replace the managers with these (repeat for each).",
)
@field_options
@pass_session
def edit(
    session: Session, channel: str, new_name: str | None, managers: tuple[str, ...], **values
) -> None:
    """Change a channel's fields or managers."""
    fields = _given(values)
    if new_name is not None:
        fields["name"] = new_name
    if not fields and not managers:
        raise click.UsageError("say what to change: an option such as --name or --manager")
    updated = register_core.edit_channel(
        session.open(), session.actor, channel, fields, list(managers) if managers else None
    )
    echo(f"Updated {updated.name}.")


@channels.command()
@click.argument("channel")
@click.option("--reason", required=True, help="Why it is closing (kept in its notes).")
@pass_session
def close(session: Session, channel: str, reason: str) -> None:
    """Close a channel: it leaves the daily check and the compliance audit."""
    closed = register_core.close_channel(session.open(), session.actor, channel, reason)
    echo(f"Closed {closed.name}.")


@channels.command()
@click.argument("channel")
@click.argument("staff")
@click.option("--on", "trained_on", required=True, metavar="YYYY-MM-DD")
@pass_session
def train(session: Session, channel: str, staff: str, trained_on: str) -> None:
    """Record the date a manager was trained for a channel."""
    register_core.record_training(session.open(), session.actor, channel, staff, trained_on)
    echo(f"Recorded {staff}'s training on {trained_on}.")


@channels.command()
@click.argument("channel")
@click.option("--reason", required=True, help="Why it is turned down (kept on the record).")
@pass_session
def reject(session: Session, channel: str, reason: str) -> None:
    """Turn a proposed channel down, saying why."""
    turned_down = register_core.reject_proposal(session.open(), session.actor, channel, reason)
    echo(f"Turned down {turned_down.name}.")


@channels.command()
@click.argument("channel")
@click.option("--authorised-by", default="", help="Needed for the authorisation step.")
@click.option("--line-manager", default="", help="Needed for the line manager's step.")
@pass_session
def advance(session: Session, channel: str, authorised_by: str, line_manager: str) -> None:
    """Complete the next set-up step of a proposed channel."""
    updated = register_core.advance_proposal(
        session.open(), session.actor, channel, authorised_by, line_manager
    )
    done, total = updated.proposal_progress
    label = PROPOSAL_STEP_LABELS[updated.proposal_step or ""]
    echo(f"{updated.name}: step {done}/{total} done: {label}.")


@channels.command("import")
@click.argument("csv_file", type=click.Path(path_type=Path, dir_okay=False))
@pass_session
def import_(session: Session, csv_file: Path) -> None:
    """Add channels from a CSV file whose header row names the fields.

    A `managers` column lists staff separated by ';', each optionally with '=YYYY-MM-DD' for
    the date they were trained. Nothing is written if any row is bad.
    """
    count = import_channels(session.open(), session.actor, csv_file)
    echo(f"Imported {count} channel(s) from {csv_file}.")


COMMANDS = (channels,)
