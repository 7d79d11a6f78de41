"""`smduty queue | triage | moderation`: working flagged mentions from the command line."""

from __future__ import annotations

from datetime import timedelta

import click
from msgspec.structs import replace

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
from smduty.core.clock import now_utc, today
from smduty.core.errors import InvalidInput
from smduty.core.monitoring.flag_verdict import RATINGS
from smduty.core.triage import moderation as moderation_core
from smduty.core.triage import outcomes
from smduty.core.triage import queue as core
from smduty.core.triage.assessment import current_guide
from smduty.core.triage.breaches import breaches, breaches_for
from smduty.core.triage.targets import load_targets

STATUS_CHOICES = [*core.STATUS_GROUPS, *core.STATES]
RATING_CHOICES = [*core.RATING_GROUPS, *RATINGS[::-1]]


@click.command("breaches")
@click.option("--from", "start", type=DATE, help="First day (default: 30 days ago).")
@click.option("--to", "end", type=DATE, help="Last day (default: today).")
@json_option
@pass_session
def breaches_command(session: Session, start, end, as_json: bool) -> None:
    """Response targets missed, as recorded when they were missed (kept after the mention
    was handled, with when and how)."""
    last = end or today()
    first, last = date_span(start, last, default_start=last - timedelta(days=30), default_days=0)
    db = session.open()
    session.record_facts()  # what came due, on the record before it is listed
    found = breaches(db, first, last)
    if as_json:
        emit_json([b.as_dict() for b in found])
        return
    if not found:
        echo("No response targets missed.")
        return
    print_table(
        ("Mention", "Rating", "Target", "Due (UTC)", "Handled (UTC)", "As"),
        ((b.mention_id, b.rating, b.target, b.due_at, b.handled_at or "still open",
          b.handled_as or "") for b in found),
    )  # fmt: skip


@click.command()
@click.option(
    "--status",
    type=click.Choice(STATUS_CHOICES),
    default="open",
    show_default=True,
    help="open = new and in progress.",
)
@click.option(
    "--rating",
    type=click.Choice(RATING_CHOICES),
    default="flagged",
    show_default=True,
    help="flagged = low and above; any includes unflagged mentions.",
)
@click.option("--category", default="", help="A flag category (see `smduty rules check`).")
@click.option("--source", default="", help="Only mentions from this source.")
@click.option("--search", default="", help="Words to find in the title, text or author.")
@click.option("--overdue", is_flag=True, help="Only open mentions past their response target.")
@click.option(
    "--assigned-to",
    "assigned",
    default="",
    metavar="NAME|me|none",
    help="Only mentions with this officer; me: the acting officer (--as, the config's operator,"
    " else the login); none: nobody has taken them on.",
)
@click.option("--view", metavar="NAME", help="A named view from the settings ([views.NAME]).")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@json_option
@click.pass_context
def queue(
    ctx: click.Context,
    status: str,
    rating: str,
    category: str,
    source: str,
    search: str,
    overdue: bool,
    assigned: str,
    view: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """The triage queue: highest rating first, then oldest first."""
    session: Session = ctx.obj
    db = session.open()
    now = now_utc()
    outcomes.wake_snoozed(db, now)
    targets = load_targets(session.config)
    assigned = core.assignee_for(assigned, session.actor)
    filters = core.Filters(status, rating, category, source, search, overdue, assigned)
    if view is not None:
        views = session.config.views
        if view not in views:
            known = ", ".join(views) or "none in the settings"
            raise InvalidInput({"view": f"no view called {view!r} (views: {known})"}, "--view")
        base = core.view_filters(views[view], session.actor)
        given = {  # options given on the command line win over the view's
            name: getattr(filters, name)
            for name in ("status", "rating", "category", "source", "search", "overdue", "assigned")
            if ctx.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE
        }
        filters = replace(base, **given)
    session.record_facts()  # what came due, on the record before it is shown
    items = core.page(db, filters, limit=limit, targets=targets, now=now)
    from smduty.core.election import GUIDANCE, in_force

    election = in_force(db, today())
    if election is not None and not as_json:
        echo(f"PRE-ELECTION PERIOD ({election.name}, to {election.end}): {GUIDANCE}", err=True)
    found = breaches_for(db, [i.id for i in items])
    if as_json:
        emit_json([
            dict(i.as_json(now), overdue=i.overdue(targets, now),
                 breach=found[i.id].as_dict() if i.id in found else None)
            for i in items
        ])  # fmt: skip
        return
    print_table(
        ("Id", "Rating", "Age", "Status", "Assignee", "Source", "Author", "Text"),
        (
            (
                i.id,
                i.rating
                + (" OVERDUE" if i.overdue(targets, now) else "")
                + (" (late)" if i.id in found and found[i.id].handled_at else ""),
                core.age_text(i.age_minutes(now)),
                core.STATE_LABELS[i.status],
                i.assigned_to or "",
                i.source,
                i.author,
                i.first_line()[:80],
            )
            for i in items
        ),
    )
    hidden = core.unflagged_count(db, filters, now=now)
    if hidden:
        shown = f"{hidden:,}" if hidden <= 10_000 else "over 10,000"
        echo(f"{shown} unflagged mentions not listed (--rating any lists them after these)")


@click.command()
@click.argument("mention_id", type=ID)
@click.option("--assign", "officer", metavar="NAME", help="Take it on (in progress).")
@click.option("--respond", "response", metavar="TEXT", help="The response sent, or its link.")
@click.option(
    "--checks-done",
    is_flag=True,
    help="Confirm the 'before you respond' checks (needed with --respond).",
)
@click.option(
    "--pre-election-checked",
    is_flag=True,
    help="In a pre-election period: confirm the election guidance (004 §4.2.6), with --respond.",
)
@click.option("--refer", "refer_to", metavar="TO", help="Service, team or person (needs --note).")
@click.option("--no-engagement", "reason", metavar="REASON", help="A reason id from the guide.")
@click.option(
    "--escalate",
    is_flag=True,
    help="Escalate: opens an incident on it (needs --note), or links it to --incident N.",
)
@click.option("--incident", "incident_id", type=ID, help="With --escalate: an open incident.")
@click.option("--dismiss", is_flag=True, help="Not relevant.")
@click.option("--snooze", "until", metavar="UNTIL", help="2h, tomorrow, monday, 2026-11-23T09:00.")
@click.option("--reopen", is_flag=True, help="Back to new.")
@click.option("--note", default="", help="A note for the record.")
@json_option
@pass_session
def triage(
    session: Session,
    mention_id: int,
    officer: str | None,
    response: str | None,
    checks_done: bool,
    pre_election_checked: bool,
    refer_to: str | None,
    reason: str | None,
    escalate: bool,
    dismiss: bool,
    until: str | None,
    reopen: bool,
    note: str,
    incident_id: int | None,
    as_json: bool,
) -> None:
    """Move one mention on: assign, or record its outcome with the facts policy asks for."""
    chosen = [
        name
        for name, given in (
            ("--assign", officer),
            ("--respond", response),
            ("--refer", refer_to),
            ("--no-engagement", reason),
            ("--escalate", escalate),
            ("--dismiss", dismiss),
            ("--snooze", until),
            ("--reopen", reopen),
        )
        if given
    ]
    if len(chosen) != 1:
        raise click.UsageError(
            "give exactly one of --assign, --respond, --refer, --no-engagement, --escalate,"
            " --dismiss, --snooze, --reopen" + (f" (got {', '.join(chosen)})" if chosen else "")
        )
    if incident_id is not None and not escalate:
        raise click.UsageError("--incident goes with --escalate")
    db, actor = session.open(), session.actor
    opened = None
    if officer:
        item = outcomes.assign(db, actor, mention_id, officer, note)
        if item.outcome.get("taken_from"):
            echo(
                f"smduty: warning: mention {mention_id} was assigned to"
                f" {item.outcome['taken_from']}: it is now {item.assigned_to}'s (the record says"
                " who it was taken from; tell them)",
                err=True,
            )
    elif response is not None:
        guide = current_guide()
        checks = [c.id for c in guide.before_you_respond] if checks_done else []
        try:
            item = outcomes.respond(
                db, actor, mention_id, response, checks, guide, note, pre_election_checked
            )
        except InvalidInput as exc:
            if "checks" in exc.problems:
                exc.problems["checks"] += "; when you have, add --checks-done"
            if "pre_election" in exc.problems:
                exc.problems["pre_election"] += "; when you have, add --pre-election-checked"
            raise InvalidInput(exc.problems, exc.where) from None
    elif refer_to is not None:
        item = outcomes.refer(db, actor, mention_id, refer_to, note)
    elif reason is not None:
        item = outcomes.no_engagement(db, actor, mention_id, reason, current_guide(), note)
    elif escalate:
        from smduty.core.incidents.lifecycle import escalate_mention  # only when escalating

        opened = escalate_mention(db, actor, mention_id, note, incident_id)
        item = core.get_item(db, mention_id)
    elif dismiss:
        item = outcomes.dismiss(db, actor, mention_id, note)
    elif until:
        try:
            when = outcomes.parse_until(until)
        except ValueError as exc:
            raise InvalidInput({"until": str(exc)}, f"mention {mention_id}") from None
        item = outcomes.snooze(db, actor, mention_id, when, note)
    else:
        item = outcomes.reopen(db, actor, mention_id, note)
    if as_json:
        emit_json(item.as_json() | ({"incident": opened.summary_json()} if opened else {}))
        return
    who = f", assigned to {item.assigned_to}" if item.assigned_to else ""
    echo(f"mention {item.id}: {core.STATE_LABELS[item.status]}{who}")
    if opened is not None:
        verb = "linked to" if incident_id is not None else "opened:"
        echo(f"incident {opened.id} {verb} {opened.title}")
        if opened.current is not None:
            echo(f"next step: {opened.current.step.title} (smduty incident show {opened.id})")


@click.group()
def moderation() -> None:
    """The moderation log: comments hidden or deleted and users blocked on council channels."""


@moderation.command("add")
@click.option("--channel", required=True, help="The council channel (as in the register).")
@click.option("--action", type=click.Choice(moderation_core.ACTIONS), required=True)
@click.option("--user", "user_name", required=True, help="The user's name or handle.")
@click.option("--content", required=True, help="The content as captured.")
@click.option("--breach", required=True, help="The acceptable-use breach (an id from the guide).")
@click.option("--evidence", required=True, help="Screenshot path or URL.")
@click.option("--platform", default="", help="Default: the channel's platform.")
@click.option("--mention", "mention_id", type=ID, help="The mention this concerns.")
@click.option("--at", "taken_at", help="When it was done (default now), as 2026-11-21T09:15.")
@click.option("--note", default="")
@json_option
@pass_session
def moderation_add(session: Session, as_json: bool, taken_at: str | None, **facts) -> None:
    """Record a hide, delete or block, with the breach that justifies it."""
    when = None
    if taken_at:
        try:
            when = outcomes.parse_until(taken_at, now_utc())
        except ValueError as exc:
            raise InvalidInput({"at": str(exc)}, "moderation record") from None
    echo(f"Warning: {moderation_core.WARNING}", err=True)
    entry = moderation_core.record(
        session.open(), session.actor, current_guide(), taken_at=when, **facts
    )
    if as_json:
        emit_json(entry.as_json())
        return
    echo(f"moderation record {entry.id}: {entry.action} on {entry.channel} recorded")


@moderation.command("list")
@click.option("--channel", default="")
@click.option("--limit", type=click.IntRange(1, 100_000), default=500, show_default=True)
@json_option
@pass_session
def moderation_list(session: Session, channel: str, limit: int, as_json: bool) -> None:
    """Moderation records, newest first."""
    found = moderation_core.list_actions(session.open(), channel=channel, limit=limit)
    if as_json:
        emit_json([e.as_json() for e in found])
        return
    print_table(
        ("Id", "When", "Channel", "Action", "User", "Breach", "Evidence", "By"),
        (
            (
                e.id,
                e.taken_at,
                e.channel,
                e.action,
                e.user_name,
                e.breach,
                e.evidence,
                e.recorded_by,
            )
            for e in found
        ),
    )


@click.command()
@click.argument("mention_id", type=ID)
@click.option(
    "--answer",
    "answers",
    multiple=True,
    metavar="ANSWER",
    help="An answer, in order: its words or its number (repeat). Asked when left out.",
)
@json_option
@pass_session
def assess(session: Session, mention_id: int, answers: tuple[str, ...], as_json: bool) -> None:
    """Walk the response assessment for a mention: each question in turn, then the recommended
    outcome. The walk is stored with the mention and shown in its history."""
    from smduty.core.triage.assessed import record_assessment, walk
    from smduty.core.triage.assessment import Question

    db, guide = session.open(), current_guide()
    core.get_item(db, mention_id)  # an unknown mention exits 2 before any question
    given = list(answers)
    if not given:
        if as_json:
            raise click.UsageError("with --json, give the answers with --answer")
        node = guide.start
        while isinstance(step := guide.step(node), Question):
            echo(f"\n{step.ask}")
            for number, answer in enumerate(step.answers, start=1):
                echo(f"  {number}. {answer.label}")
            choice = click.prompt(
                "Answer", type=click.IntRange(1, len(step.answers)), prompt_suffix=": "
            )
            given.append(str(choice))
            node = step.answers[choice - 1].next
    walk(guide, given)  # a wrong answer exits 2 naming it, before anything is stored
    found = record_assessment(db, session.actor, mention_id, guide, given)
    outcome = guide.outcomes[found.outcome]
    if as_json:
        emit_json(found.as_json())
        return
    for answer in found.answers:
        echo(f"  {answer['ask'].splitlines()[0]} {answer['answer']}")
    echo(f"\n{outcome.title}: {outcome.advice}")
    echo(f"Recorded on mention {mention_id}; next: smduty triage {mention_id} --{_flag(outcome)}")


def _flag(outcome) -> str:
    return {"no_engagement": "no-engagement REASON", "respond": "respond TEXT --checks-done"}.get(
        outcome.recommend, f"{outcome.recommend} --note TEXT"
    )


COMMANDS = (queue, triage, moderation, breaches_command, assess)
