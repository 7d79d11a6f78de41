"""The triage queue's outcome keys: assign, respond, refer, no engagement, escalate, dismiss,
snooze, reopen, moderation and the response assessment. Each opens a form whose save runs the
core function in the form's worker; the queue reloads after."""

from __future__ import annotations

import sqlite3
from typing import Any

from textual import work

from smduty.core.clock import COUNCIL_TZ
from smduty.core.election import GUIDANCE
from smduty.core.errors import InvalidInput, Refused, SmdutyError
from smduty.core.register.channels import list_channels
from smduty.core.staff import list_staff
from smduty.core.store import transaction
from smduty.core.triage import moderation as moderation_core
from smduty.core.triage import outcomes
from smduty.core.triage.assessed import record_assessment
from smduty.core.triage.assessment import Outcome
from smduty.core.triage.queue import STATE_LABELS, QueueItem, get_item
from smduty.tui.screens.assessment import AssessmentModal
from smduty.tui.screens.form import Field, FormModal


class QueueOutcomeKeys:
    """Mixed into QueueScreen, which provides `_current`, `guide` and `reload`."""

    def _after(self, result: Any) -> None:
        if result:
            self.notify(str(result), markup=False)
            self.reload()

    def _form(
        self,
        title: str,
        fields: list[Field],
        submit,
        intro: str = "",
        label: str = "Save",
        aliases: dict[str, str] | None = None,
        bulk: bool = False,
    ):
        """The form for the highlighted mention, or (`bulk`, with rows marked) for every
        marked mention at once: the same facts for each, all saved or none."""
        if bulk and self.selected:
            marked = sorted(self.selected)
            self.app.push_screen(
                FormModal(
                    f"{title}: {len(marked)} marked mentions",
                    fields,
                    lambda db, values: _for_each(db, marked, lambda item: submit(db, item, values)),
                    intro=intro,
                    save_label=f"{label} all {len(marked)}",
                    aliases=aliases,
                ),
                callback=self._after_bulk,
            )
            return
        item = self._current()
        if item is None:
            self.notify("No mention is highlighted.", severity="warning", markup=False)
            return
        self.app.push_screen(
            FormModal(
                f"{title}: #{item.id} {item.first_line()[:50]}",
                fields,
                lambda db, values: _unless_changed(db, item, lambda: submit(db, item, values)),
                intro=intro,
                save_label=label,
                aliases=aliases,
            ),
            callback=self._after,
        )

    def _after_bulk(self, result: Any) -> None:
        if result:
            self.selected.clear()
        self._after(result)

    def action_assign(self) -> None:
        actor = self.app.actor
        names = [s.name for s in list_staff(self.app.store.connection(), include_left=False)]
        default = actor if actor in names else ""

        def submit(db: sqlite3.Connection, item, values: dict) -> str:
            done = outcomes.assign(db, actor, item.id, values["officer"] or "", values["note"])
            taken = done.outcome.get("taken_from")
            return f"#{done.id} is in progress with {done.assigned_to}" + (
                f" (taken from {taken}: tell them)" if taken else ""
            )

        current = self._current()
        holder = current.assigned_to if current is not None else None
        self._form(
            "Assign",
            [
                Field("officer", "Officer", "select", default, [(n, n) for n in names]),
                Field("note", "Note", placeholder="optional"),
            ],
            submit,
            intro=(
                f"{holder} is working on this now: assigning it to someone else takes it from"
                " them, and the record says so."
                if holder and not self.selected
                else ""
            ),
            label="Assign",
            bulk=True,
        )

    def action_respond(self, prefill: Outcome | None = None) -> None:
        actor, guide = self.app.actor, self.guide
        fields = [
            Field("response", "Response sent", "area", placeholder="The reply, or a link to it"),
        ]
        for number, check in enumerate(guide.before_you_respond):
            fields.append(
                Field(
                    f"check_{check.id}",
                    "Before you respond" if number == 0 else "",
                    "checkbox",
                    False,
                    placeholder=f"{check.label}: {check.detail}",
                )
            )
        election = self.app.election
        if election is not None:  # 004 §4.2.6: the desk confirms it every time
            fields.append(
                Field(
                    "pre_election",
                    "Pre-election",
                    "checkbox",
                    False,
                    placeholder=f"{election.name}: {GUIDANCE}",
                )
            )
        fields.append(Field("note", "Note", placeholder="optional"))

        def submit(db: sqlite3.Connection, item, values: dict) -> str:
            checks = [c.id for c in guide.before_you_respond if values[f"check_{c.id}"]]
            done = outcomes.respond(
                db, actor, item.id, values["response"], checks, guide, values["note"],
                bool(values.get("pre_election")),
            )  # fmt: skip
            return f"#{done.id}: response recorded"

        intro = prefill.advice if prefill else "Confirm each check before you record it."
        last_check = f"check_{guide.before_you_respond[-1].id}"
        self._form(
            "Respond", fields, submit, intro=intro, label="Record", aliases={"checks": last_check}
        )

    def action_refer(self, prefill: Outcome | None = None) -> None:
        actor = self.app.actor

        def submit(db: sqlite3.Connection, item, values: dict) -> str:
            done = outcomes.refer(db, actor, item.id, values["to"], values["note"])
            return f"#{done.id}: referred to {done.outcome['to']}"

        self._form(
            "Refer",
            [
                Field("to", "Referred to", placeholder="service, team or staff member"),
                Field("note", "Note", "area", placeholder="what was passed on, and how"),
            ],
            submit,
            intro=prefill.advice if prefill else "",
            label="Refer",
            bulk=prefill is None,
        )

    def action_no_engagement(self, prefill: Outcome | None = None) -> None:
        actor, guide = self.app.actor, self.guide
        reasons = [(c.label, c.id) for c in guide.no_engagement_reasons]

        def submit(db: sqlite3.Connection, item, values: dict) -> str:
            done = outcomes.no_engagement(
                db, actor, item.id, values["reason"] or "", guide, values["note"]
            )
            return f"#{done.id}: no engagement ({done.outcome['reason_label']})"

        self._form(
            "No engagement",
            [
                Field("reason", "Reason", "select", prefill.reason if prefill else "", reasons),
                Field("note", "Note", placeholder="optional"),
            ],
            submit,
            intro=prefill.advice
            if prefill
            else "Official accounts must not ignore people: record why this one needs no reply.",
            label="Record",
        )

    def action_escalate(self, prefill: Outcome | None = None) -> None:
        """Something went wrong: open an incident on this mention (it becomes escalated and
        linked), then walk the procedure."""
        item = self._current()
        if item is None:
            self.notify("No mention is highlighted.", severity="warning", markup=False)
            return
        # The mention's own words may hold personal data: the title names it instead.
        self.app.action_start_incident(
            item.id, f"Mention #{item.id} ({item.rating}, {item.source})"
        )

    def action_dismiss_one(self) -> None:
        actor = self.app.actor

        def submit(db: sqlite3.Connection, item, values: dict) -> str:
            done = outcomes.dismiss(db, actor, item.id, values["note"])
            return f"#{done.id}: dismissed"

        self._form(
            "Dismiss as not relevant",
            [Field("note", "Note", placeholder="optional: why it is not relevant")],
            submit,
            label="Dismiss",
            bulk=True,
        )

    def action_snooze(self) -> None:
        actor = self.app.actor

        def submit(db: sqlite3.Connection, item, values: dict) -> str:
            try:
                until = outcomes.parse_until(values["until"] or "")
            except ValueError as exc:
                raise InvalidInput({"until": str(exc)}) from None
            done = outcomes.snooze(db, actor, item.id, until, values["note"])
            back = until.astimezone(COUNCIL_TZ)
            return f"#{done.id}: snoozed until {back:%a %d %b %H:%M}"

        self._form(
            "Snooze",
            [
                Field("until", "Until", "text", "tomorrow", placeholder="2h, tomorrow, monday"),
                Field("note", "Note", placeholder="optional"),
            ],
            submit,
            label="Snooze",
            bulk=True,
        )

    def action_reopen(self) -> None:
        actor = self.app.actor

        def submit(db: sqlite3.Connection, item, values: dict) -> str:
            done = outcomes.reopen(db, actor, item.id, values["note"])
            return f"#{done.id}: reopened"

        self._form("Reopen", [Field("note", "Why", placeholder="optional")], submit, label="Reopen")

    def action_moderate(self) -> None:
        actor, guide = self.app.actor, self.guide
        item = self._current()
        channels = [c.name for c in list_channels(self.app.store.connection())]

        def submit(db: sqlite3.Connection, item, values: dict) -> str:
            entry = moderation_core.record(
                db,
                actor,
                guide,
                channel=values["channel"] or "",
                action=values["action"] or "",
                user_name=values["user"],
                content=values["content"],
                breach=values["breach"] or "",
                evidence=values["evidence"],
                note=values["note"],
                mention_id=item.id,
            )
            return f"Moderation record {entry.id}: {entry.action} on {entry.channel}"

        self._form(
            "Record moderation",
            [
                Field("channel", "Council channel", "select", "", [(n, n) for n in channels]),
                Field("action", "Action", "select", "", [(a, a) for a in moderation_core.ACTIONS]),
                Field("user", "User", value=item.author if item else ""),
                Field("content", "Content captured", "area", item.text if item else ""),
                Field("breach", "Breach", "select", "", [(b.label, b.id) for b in guide.breaches]),
                Field("evidence", "Evidence", placeholder="screenshot path or URL"),
                Field("note", "Note", placeholder="optional"),
            ],
            submit,
            intro="Warning: " + moderation_core.WARNING,
            label="Record",
        )

    @work(thread=True, group="queue-write", exit_on_error=False)
    def _record_assessment(self, mention_id: int, answers: list[str]) -> None:
        """The walk goes on the mention's record whatever is done next."""
        try:
            record_assessment(
                self.app.store.connection(), self.app.actor, mention_id, self.guide, answers
            )
        except SmdutyError as exc:
            self.app.call_from_thread(
                self.notify,
                f"The assessment was not recorded: {exc}",
                severity="error",
                markup=False,
            )

    def action_guide(self) -> None:
        item = self._current()
        if item is None:
            return

        def walked(result: tuple[Outcome, list[str]] | None) -> None:
            if result is None:
                return
            outcome, answers = result
            self._record_assessment(item.id, answers)
            if outcome.recommend == "respond":
                self.action_respond(outcome)
            elif outcome.recommend == "refer":
                self.action_refer(outcome)
            elif outcome.recommend == "no_engagement":
                self.action_no_engagement(outcome)
            elif outcome.recommend == "escalate":
                self.action_escalate(outcome)
            else:
                self.action_dismiss_one()

        self.app.push_screen(
            AssessmentModal(self.guide, f"#{item.id} {item.first_line()[:80]}"), callback=walked
        )


def _unless_changed(db: sqlite3.Connection, seen: QueueItem, save):
    """Save only if nobody has moved the mention on since the form was opened (another officer
    at another desk): otherwise say what it is now, and keep the form open."""
    with transaction(db):
        now = get_item(db, seen.id)
        if (now.status, now.assigned_to, now.outcome) != (
            seen.status,
            seen.assigned_to,
            seen.outcome,
        ):
            who = f", with {now.assigned_to}" if now.assigned_to else ""
            raise Refused(
                f"#{seen.id} changed while this form was open: it is now"
                f" {STATE_LABELS[now.status]}{who}. Nothing was saved: close the form (esc) and"
                " look at it again"
            )
        return save()


def _for_each(db: sqlite3.Connection, ids: list[int], save) -> str:
    """One save per marked mention, in one transaction: all of them, or (a refusal for any,
    named) none."""
    with transaction(db):
        said = []
        for mention_id in ids:
            try:
                said.append(save(get_item(db, mention_id)))
            except SmdutyError as exc:
                raise Refused(f"#{mention_id}: {exc}; nothing was saved") from None
    return f"{len(ids)} mentions: " + "; ".join(said[:3]) + (" …" if len(said) > 3 else "")
