"""`smduty rules`: the flag rules in use, a check of a copy, and what an edit does: one post
explained, a labelled file measured, open mentions flagged again."""

from __future__ import annotations

from datetime import datetime, time
from pathlib import Path

import click

from smduty.commands.session import (
    DATE,
    Session,
    echo,
    emit_json,
    json_option,
    pass_session,
)
from smduty.core.clock import council_moment
from smduty.core.monitoring.flag_load import load_rules, ruleset_for
from smduty.core.monitoring.flagging import rules_path

_rules_file = click.option(
    "--rules",
    "rules_file",
    type=click.Path(path_type=Path),
    help="A rules file to try instead of the one in force.",
)


@click.group()
def rules() -> None:
    """The flag rules: where they are, whether they load, what they make of posts."""


@rules.command("path")
def rules_where() -> None:
    """The rules file in use (a copy in the config folder replaces the shipped one)."""
    echo(rules_path())


@rules.command("check")
@click.argument("file", required=False, type=click.Path(path_type=Path))
def rules_check(file: Path | None) -> None:
    """Load a rules file and say what is wrong with it, if anything."""
    ruleset = load_rules(file)
    words = sum(len(r.words) for r in ruleset.rules)
    patterns = sum(1 for r in ruleset.rules if r.pattern)
    echo(
        f"{ruleset.path}: {len(ruleset.rules)} rules ({words} terms, {patterns} patterns, "
        f"{len(ruleset.modifiers)} modifiers) in {len(ruleset.categories)} categories"
    )


@rules.command("test")
@click.argument("text")
@_rules_file
@json_option
@pass_session
def rules_test(session: Session, text: str, rules_file: Path | None, as_json: bool) -> None:
    """How the rules rate one post today, and why: each match, its context and L x C (raised
    while a pre-election period is in force)."""
    verdict = ruleset_for(session.open(), rules_file, session.config).scan({"text": text})
    if as_json:
        emit_json(
            {
                "rating": verdict.rating,
                "risk": verdict.risk,
                "categories": verdict.categories,
                "about_council": verdict.about_council,
                "matches": [_match(m) for m in verdict.matches],
                "not_counted": [_match(m) for m in verdict.cancelled],
                "explanation": verdict.explain(),
            }
        )
        return
    echo(f"{verdict.rating} (risk {verdict.risk})" + (": " + ", ".join(verdict.categories)
         if verdict.categories else ""))  # fmt: skip
    for line in verdict.explain():
        echo(f"  {line}")


def _match(m) -> dict:
    return {
        "rule": m.rule,
        "category": m.category,
        "matched": m.matched,
        "start": m.start,
        "end": m.end,
        "likelihood": m.likelihood,
        "consequence": m.consequence,
        "score": m.score,
        "why": m.why,
    }


@rules.command("eval")
@click.argument("file", type=click.Path(path_type=Path))
@_rules_file
@click.option("--worst", default=10, show_default=True, type=click.IntRange(0, 1000))
@json_option
@pass_session
def rules_eval(
    session: Session, file: Path, rules_file: Path | None, worst: int, as_json: bool
) -> None:
    """Measure the rules on a labelled file (JSON Lines: text, expect high|none, category):
    recall of high-risk posts, false alarms on harmless ones, by category, worst misses.
    Posts are rated as outside a pre-election period, whether or not one is in force."""
    from smduty.core.monitoring.flag_eval import evaluate, read_labelled

    posts = read_labelled(file)
    rules_ = ruleset_for(session.open(), rules_file, session.config, election=False)
    result = evaluate(rules_, posts)
    if as_json:
        emit_json({"file": str(file), **result.as_dict(worst)})
        return
    overall = result.overall
    echo(f"{file}: {overall.posts} posts, {overall.high} high-risk, {overall.harmless} harmless")
    echo(f"  recall of high-risk posts at high or critical: {_pct(result.recall)}"
         f" ({overall.caught} of {overall.high}; target 90%)")  # fmt: skip
    echo(f"  harmless posts rated high or critical: {_pct(result.false_positive_rate)}"
         f" ({overall.false_alarms} of {overall.harmless}; target at most 5%)")  # fmt: skip
    echo("  by category:")
    for name, figures in sorted(result.by_category.items()):
        parts = []
        if figures.high:
            parts.append(f"recall {_pct(figures.caught / figures.high)} "
                         f"({figures.caught}/{figures.high})")  # fmt: skip
        if figures.harmless:
            parts.append(f"false alarms {_pct(figures.false_alarms / figures.harmless)} "
                         f"({figures.false_alarms}/{figures.harmless})")  # fmt: skip
        echo(f"    {name}: " + ", ".join(parts))
    for title, cases in (("worst misses", result.misses), ("false alarms", result.false_alarms)):
        if cases and worst:
            echo(f"  {title}:")
            for post, verdict in cases[:worst]:
                echo(f"    line {post.line} [{post.category}] rated {verdict.rating}: {post.text}")
                for line in verdict.explain()[:3]:
                    echo(f"        {line}")


def _pct(share: float | None) -> str:
    return "n/a" if share is None else f"{share * 100:.1f}%"


@rules.command("rescan")
@click.option("--since", type=DATE, help="Only mentions first seen on or after this date.")
@json_option
@pass_session
def rules_rescan(session: Session, since, as_json: bool) -> None:
    """Flag every open mention again with the rules in force (after an edit); audited."""
    from smduty.core.monitoring.rescan import rescan

    db = session.open()
    moment = council_moment(datetime.combine(since, time())) if since else None
    result = rescan(db, session.actor, ruleset_for(db, None, session.config), moment)
    if as_json:
        emit_json(result.as_dict())
        return
    echo(
        f"Flagged {result.scanned} open mentions again: {result.changed} changed "
        f"({result.raised} raised, {result.lowered} lowered)."
    )
    for rating in ("critical", "high", "medium", "low", "none"):
        if result.before[rating] or result.after[rating]:
            echo(f"  {rating}: {result.before[rating]} before, {result.after[rating]} after")


COMMANDS = (rules,)
