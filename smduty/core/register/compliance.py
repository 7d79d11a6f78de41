"""What in the register fails council policy: named rules, each with a severity and its source.

Rules apply to live channels (active or dormant); proposals are tracked by their set-up step,
closing and closed channels need no checks.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator
from datetime import date
from typing import TYPE_CHECKING

import msgspec

from smduty.core.clock import COUNCIL_TZ, parse_stamp, today
from smduty.core.register.channels import Channel, list_channels

if TYPE_CHECKING:
    from smduty.core.election import ElectionPeriod

LIVE_STATUSES = ("active", "dormant")


class Problem(msgspec.Struct, frozen=True):
    rule: str
    severity: str  # "red" must be fixed now; "amber" needs attention
    message: str
    policy: str

    def as_dict(self) -> dict[str, str]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "policy": self.policy,
        }


class Limits(msgspec.Struct, frozen=True):
    """How long things may go: from the operator's config (these are its defaults)."""

    dormant_after_days: int = 28
    password_change_months: int = 12
    admin_check_months: int = 6

    @classmethod
    def from_config(cls, config) -> Limits:
        return cls(
            config.dormant_after_days, config.password_change_months, config.admin_check_months
        )


class RuleContext(msgspec.Struct, frozen=True):
    today: date
    last_checked: dict[int, date]
    limits: Limits = Limits()
    election: ElectionPeriod | None = None  # a pre-election period in force today

    @property
    def dormant_after_days(self) -> int:
        return self.limits.dormant_after_days


class Rule(msgspec.Struct, frozen=True):
    name: str
    severity: str
    policy: str
    title: str
    test: Callable[[Channel, RuleContext], Iterator[str]]


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate_day in (day.day, 30, 29, 28):
        try:
            return date(year, month, candidate_day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _no_manager(c: Channel, _: RuleContext) -> Iterator[str]:
    if not c.managers:
        yield "no designated manager"


def _single_manager(c: Channel, _: RuleContext) -> Iterator[str]:
    if len(c.managers) == 1:
        yield f"only {c.managers[0].name} manages it: no cover for weekends or holidays"


def _no_admin(c: Channel, _: RuleContext) -> Iterator[str]:
    if not c.comms_admin_access:
        yield "the comms team has no admin access"


def _untrained(c: Channel, _: RuleContext) -> Iterator[str]:
    for m in c.managers:
        if m.trained_on is None:
            yield f"{m.name} has no recorded training"


def _not_authorised(c: Channel, _: RuleContext) -> Iterator[str]:
    if not c.authorised_by or c.authorised_on is None:
        yield "no record of authorisation"


def _live_since(c: Channel) -> date:
    """When the channel went live: its authorisation, else when it was registered."""
    return c.authorised_on or parse_stamp(c.created_at).astimezone(COUNCIL_TZ).date()


def _review_overdue(c: Channel, ctx: RuleContext) -> Iterator[str]:
    if c.last_reviewed_on is None:
        # A channel that has just gone live is not overdue: its first review falls one
        # interval after it went live.
        due = add_months(_live_since(c), c.review_interval_months)
        if due < ctx.today:
            yield f"never reviewed; the first review was due on {due}"
        return
    due = add_months(c.last_reviewed_on, c.review_interval_months)
    if due < ctx.today:
        yield f"review was due on {due} (last reviewed {c.last_reviewed_on})"


def _passwords_due(c: Channel, ctx: RuleContext) -> Iterator[str]:
    months = ctx.limits.password_change_months
    since = c.passwords_changed_on or _live_since(c)
    due = add_months(since, months)
    if due < ctx.today:
        last = f"last changed {c.passwords_changed_on}" if c.passwords_changed_on else "no change"
        yield f"passwords are changed every {months} months: {last}, due {due}"


def _admin_unconfirmed(c: Channel, ctx: RuleContext) -> Iterator[str]:
    if not c.comms_admin_access:
        return  # "Comms lacks admin" says it already
    months = ctx.limits.admin_check_months
    if c.admin_verified_on is None:
        yield "nobody has recorded checking that the comms team still holds admin access"
        return
    due = add_months(c.admin_verified_on, months)
    if due < ctx.today:
        yield (
            f"the comms team's admin access was last confirmed on {c.admin_verified_on}"
            f" (every {months} months)"
        )


def _passwords_stale(c: Channel, _: RuleContext) -> Iterator[str]:
    for m in c.all_managers:
        if m.staff_left_on is None:
            continue
        # Only people who still had access when they left matter.
        if m.removed_on is not None and m.removed_on < m.staff_left_on:
            continue
        if c.passwords_changed_on is None or c.passwords_changed_on < m.staff_left_on:
            changed = c.passwords_changed_on or "never"
            yield (
                f"{m.name} had access and left on {m.staff_left_on}; "
                f"passwords last changed {changed}"
            )


def _im_not_notified(c: Channel, _: RuleContext) -> Iterator[str]:
    if c.im_notified_on is None:
        yield "Information Manager not notified of this channel"


def _dormant(c: Channel, ctx: RuleContext) -> Iterator[str]:
    if c.status != "active":
        return
    last = ctx.last_checked.get(c.id)
    since = last or parse_stamp(c.created_at).date()
    idle = (ctx.today - since).days
    if idle > ctx.dormant_after_days:
        what = f"last check {last}" if last else "never checked"
        yield f"{what} ({idle} days ago): a candidate for closure"


# A channel that posts about elected members' activities, by its name, handle or purpose.
ABOUT_MEMBERS = re.compile(
    r"\b(cllrs?|councillors?|mayor|lord mayor|leader of the council|council leader"
    r"|cabinet members?|ward members?|elected members?|members' news)\b",
    re.IGNORECASE,
)


def _candidate_manager(c: Channel, ctx: RuleContext) -> Iterator[str]:
    if ctx.election is None:
        return
    for m in c.managers:
        if m.current and m.standing:
            yield (
                f"{m.name} is standing as a candidate and manages this channel during"
                f" {ctx.election.name} (to {ctx.election.end:%-d %b}): hand it to another"
                " manager until the period ends"
            )


def _about_members(c: Channel, ctx: RuleContext) -> Iterator[str]:
    if ctx.election is None:
        return
    found = ABOUT_MEMBERS.search(" ".join((c.name, c.handle, c.purpose)))
    if found:
        yield (
            f"posts about elected members ({found.group(0)!r}): during {ctx.election.name}"
            f" (to {ctx.election.end:%-d %b}) nothing about candidates' activities"
        )


RULES: tuple[Rule, ...] = (
    Rule("no_manager", "red", "004 §4.2.3; 000 A.3.5", "No designated manager", _no_manager),
    Rule("single_manager", "amber", "000 A.3.5", "Only one manager", _single_manager),
    Rule("no_comms_admin", "red", "000 A.3.7; 004 §4.2.4", "Comms lacks admin", _no_admin),
    Rule("manager_untrained", "red", "002 §3.2.3; 004 §4.2.3", "Manager not trained", _untrained),
    Rule("not_authorised", "red", "004 §4.2.2; 002 §3.1.1", "Not authorised", _not_authorised),
    Rule("review_overdue", "amber", "004 §4.2.3", "Review overdue", _review_overdue),
    Rule("passwords_not_changed", "red", "004 §4.2.4", "Passwords not changed", _passwords_stale),
    Rule("passwords_due", "amber", "004 §4.2.4", "Passwords due a change", _passwords_due),
    Rule(
        "admin_unconfirmed",
        "amber",
        "000 A.3.7; 004 §4.2.4",
        "Admin access not confirmed",
        _admin_unconfirmed,
    ),
    Rule(
        "im_not_notified", "amber", "002 §4.2.2", "Information Manager not told", _im_not_notified
    ),
    Rule("dormant", "amber", "000 Appendix 1; 001 rationalisation", "Dormant", _dormant),
    Rule(
        "candidate_manager",
        "red",
        "004 §4.2.6; 000 Appendix 1",
        "Managed by a candidate (pre-election)",
        _candidate_manager,
    ),  # fmt: skip
    Rule(
        "about_members",
        "amber",
        "004 §4.2.6; 000 Appendix 1",
        "About elected members (pre-election)",
        _about_members,
    ),  # fmt: skip
)


def problems_for(channel: Channel, ctx: RuleContext) -> list[Problem]:
    if channel.status not in LIVE_STATUSES:
        return []
    return [
        Problem(rule.name, rule.severity, message, rule.policy)
        for rule in RULES
        for message in rule.test(channel, ctx)
    ]


def last_checked_dates(db: sqlite3.Connection) -> dict[int, date]:
    found: dict[int, date] = {}
    for row in db.execute(
        "SELECT channel_id, max(checked_at) AS last FROM channel_checks GROUP BY channel_id"
    ):
        moment = parse_stamp(row["last"])
        found[row["channel_id"]] = moment.astimezone(COUNCIL_TZ).date()
    return found


def context(db: sqlite3.Connection, limits: Limits | None = None) -> RuleContext:
    from smduty.core.election import in_force

    day = today()
    return RuleContext(day, last_checked_dates(db), limits or Limits(), in_force(db, day))


class RegisterEntry(msgspec.Struct, frozen=True):
    """A channel with what fails policy: the unit the register screens and reports show."""

    channel: Channel
    problems: tuple[Problem, ...]

    @property
    def state(self) -> str:
        """red, amber or ok (or the channel's status when no rules apply)."""
        if self.channel.status not in LIVE_STATUSES:
            return self.channel.status
        severities = {p.severity for p in self.problems}
        return "red" if "red" in severities else "amber" if severities else "ok"

    def as_dict(self) -> dict:
        data = self.channel.as_dict()
        data["problems"] = [p.as_dict() for p in self.problems]
        data["compliance"] = self.state
        return data


def register(
    db: sqlite3.Connection,
    statuses: tuple[str, ...] | None = None,
    limits: Limits | None = None,
) -> list[RegisterEntry]:
    ctx = context(db, limits)
    return [RegisterEntry(c, tuple(problems_for(c, ctx))) for c in list_channels(db, statuses)]
