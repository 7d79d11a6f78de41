"""The incident walkthrough: the steps down the side, the chosen step's guidance, contacts and form.

Everything recorded goes to the database at once (each save is one transaction), so the screen
can be closed at any moment and reopened at the same step. Reads are a handful of small queries
and run on the UI thread; writes run in a worker, as they may wait for another desk's lock.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.timer import Timer
from textual.widgets import (
    DataTable,
    Input,
    Label,
    OptionList,
    Select,
    Static,
    TextArea,
)
from textual.widgets.option_list import Option

from smduty.core.clock import local_text, minutes_since, today
from smduty.core.errors import InvalidInput, Refused, SmdutyError
from smduty.core.incidents import lifecycle as incidents
from smduty.core.incidents import steps as incident_steps
from smduty.core.incidents.contacts import Contact, contacts_for
from smduty.core.store import transaction
from smduty.core.triage.queue import age_text
from smduty.tui.screens.base import MainScreen
from smduty.tui.screens.incident_forms import step_fields
from smduty.tui.screens.incident_keys import IncidentRecordKeys
from smduty.tui.theme import literal, severity_style
from smduty.tui.widgets.form_fields import FormFields
from smduty.tui.widgets.table import Table


class IncidentScreen(IncidentRecordKeys, MainScreen):
    HELP_TITLE = "Incident walkthrough"
    HELP_TEXT = (
        "Work down the steps: each shows what to do, who to call and what to record. ctrl+s "
        "saves the step as done; s skips it with a reason; t records who was told; ctrl+n adds "
        "a note at any moment. Everything is saved as you go."
    )
    BINDINGS = [
        Binding("ctrl+s", "done", "Step done", id="incident.done", tooltip="Save the facts"),
        Binding(
            "ctrl+n",
            "note",
            "Note",
            id="incident.note",
            priority=True,
            tooltip="Add a note to the timeline (works anywhere)",
        ),
        Binding("n", "note", "Note", show=False, id="incident.note2"),
        Binding("t", "told", "Who was told", id="incident.told", tooltip="Record who, how, when"),
        Binding("s", "skip", "Skip", id="incident.skip", tooltip="Skip this step, saying why"),
        Binding(
            "p",
            "posts",
            "Stop/resume posts",
            id="incident.posts",
            tooltip="Stop all scheduled posts, or lift the stop",
        ),
        Binding("m", "monitoring", "Open/monitoring", show=False, id="incident.status"),
        Binding("h", "history", "History", id="incident.history", tooltip="Its audit trail"),
        Binding("v", "review", "Review", id="incident.review", tooltip="Post-incident review"),
        Binding("c", "close_incident", "Close", id="incident.close", tooltip="Close the incident"),
        Binding(
            "x",
            "export",
            "Export record",
            id="incident.export",
            tooltip="Write the full record as Markdown",
        ),
        Binding("escape", "back", "Back", id="incident.back", tooltip="Steps, then leave"),
    ]

    class Written(Message):
        """A write finished: what to say, and whether it was refused."""

        def __init__(self, text: str, error: bool = False, problems: dict | None = None) -> None:
            super().__init__()
            self.text = text
            self.error = error
            self.problems = problems or {}

    def __init__(self, incident_id: int) -> None:
        super().__init__()
        self.incident_id = incident_id
        self.incident: incidents.Incident | None = None
        self._form_for: tuple | None = None  # the step, state and save the form was built for
        self._typing_in: str | None = None  # the step whose form has text not yet saved
        self.shown_step = ""
        self.contacts: list[Contact] = []
        self._draft_timer: Timer | None = None

    def compose_body(self) -> ComposeResult:
        yield Static(id="incident-title", classes="screen-title")
        with Horizontal(id="incident-body"):
            yield OptionList(id="steps")
            with VerticalScroll(id="step-pane"):
                yield Static(id="step-head")
                yield Static(id="step-warning")
                yield Static(id="step-guidance")
                yield Table(id="step-contacts", show_cursor=False, zebra_stripes=True)
                yield Static(id="step-told")
                yield Vertical(id="step-form")
                yield Label("", id="step-error", markup=False)
                yield Static(id="step-timeline")

    def on_mount(self) -> None:
        self.query_one("#step-contacts", DataTable).add_columns(
            "Contact", "Name", "Phone", "Out of hours", "Note", "Email"
        )
        self.query_one("#step-contacts", DataTable).can_focus = False
        self.load(follow=True)

    def every_quarter_minute(self) -> None:
        self._show_title()

    # --- reading ------------------------------------------------------------------------------

    def reload(self) -> None:
        """Another desk, a poll or a reminder changed something: show it, but leave the form
        being typed in alone unless its step itself changed."""
        self.load(keep_form=True)

    def load(self, follow: bool = False, keep_form: bool = False) -> None:
        """Read the incident; `follow` moves to its current step."""
        db = self.app.store.connection()
        self.incident = incidents.get_incident(db, self.incident_id)
        current = self.incident.current
        if follow or not self.shown_step:
            self.shown_step = current.step.id if current else self.incident.steps[-1].step.id
        steps = self.query_one("#steps", OptionList)
        steps.clear_options()
        for number, record in enumerate(self.incident.steps, start=1):
            mark = "▶" if record is current else incidents.STATE_MARKS[record.state]
            style = "dim" if record.state == "not_applicable" else ""
            steps.add_option(
                Option(Text(f"{mark:>3} {number}. {record.step.title}", style), id=record.step.id)
            )
        steps.highlighted = steps.get_option_index(self.shown_step)
        self._show_title()
        self.call_later(self._show_step, keep_form)

    def _show_title(self) -> None:
        found = self.incident
        if found is None:
            return
        opened = minutes_since(found.opened_at)
        quiet = minutes_since(found.last_activity)
        text = Text(f"Incident {found.id}: ", "bold")
        text.append(found.title)
        text.append(
            f"   {found.status} · {found.severity} · opened {local_text(found.opened_at)}"
            f" ({age_text(opened)} ago)"
        )
        late = quiet >= self.app.settings.incident_update_minutes and found.status != "closed"
        text.append(
            f" · last entry {age_text(quiet)} ago",
            severity_style(self.app, "amber") if late else "",
        )
        self.query_one("#incident-title", Static).update(text)

    async def _show_step(self, keep_form: bool = False) -> None:
        found = self.incident
        if found is None:
            return
        record = found.record(self.shown_step)
        step = record.step
        number = [s.step.id for s in found.steps].index(step.id) + 1
        head = Text(f"Step {number} of {len(found.steps)}: {step.title}\n", "bold")
        state = f"{incidents.STATE_MARKS[record.state]} {record.state.replace('_', ' ')}"
        head.append(f"State: {state}", "not bold")
        if record.updated_at and record.state != "pending":
            head.append(f" ({local_text(record.updated_at)} by {record.updated_by})", "not bold")
        decided_by = record.facts.get("decided_by") if record.state == "not_applicable" else None
        if record.reason and decided_by:
            head.append(f"\nRuled not applicable by {decided_by}: {record.reason}", "not bold")
        elif record.reason:
            head.append(f"\nSkipped because: {record.reason}", "not bold")
        if step.mandatory:
            head.append("\nMandatory: do it, or a named decision-maker rules it out", "bold")
        head.append(f"\nPolicy {step.policy} · responsible: {step.role}", "dim not bold")
        if step.when:
            head.append(f" · applies when {step.when}", "dim not bold")
        self.query_one("#step-head", Static).update(head)
        warning = self.query_one("#step-warning", Static)
        warning.display = bool(step.warning)
        warning.update(Text(step.warning))
        self.query_one("#step-guidance", Static).update(Text(step.guidance))
        self._show_contacts(step.contacts)
        self._show_told(step)
        version = _version(record)
        if keep_form and self._form_for != version and self._typing_in == step.id:
            # Saved at another desk while this officer types: their text stays, and they are
            # told; the next ctrl+s saves theirs over it, knowingly (both are on the record).
            self._form_for = version
            self.query_one("#step-error", Label).update(
                f"{record.updated_by} saved this step at {local_text(record.updated_at)} while"
                " you were typing: your text is kept; ctrl+s saves it over theirs (the timeline"
                " keeps both)"
            )
        elif not (keep_form and self._form_for == version):
            await self._build_form(record)
        self._show_timeline()

    def _show_contacts(self, roles: tuple[str, ...]) -> None:
        db = self.app.store.connection()
        self.contacts = contacts_for(db, roles, today()) if roles else []
        table = self.query_one("#step-contacts", DataTable)
        table.clear()
        table.display = bool(self.contacts)
        amber = severity_style(self.app, "amber")
        for c in self.contacts:
            note = f"{c.away}: call the deputy" if c.away else ""
            if c.deputy_for:
                note = f"deputy for {c.deputy_for}" + (f"; {note}" if note else "")
            table.add_row(
                literal(c.role_label),
                literal(c.name or "nobody holds this role", "bold"),
                literal(c.phone),
                literal(c.out_of_hours_phone or "–"),
                literal(note, amber if c.away else ""),
                literal(c.email),
            )

    def _show_told(self, step) -> None:
        db = self.app.store.connection()
        told = [n for n in incidents.notifications(db, self.incident_id) if n.step_id == step.id]
        text = Text()
        if step.notify or told:
            text.append("Told so far\n", "bold")
        for n in told:
            text.append(f"  {n.person} by {n.how} at {local_text(n.told_at)}\n")
        if step.notify and not told:
            text.append(
                "  nobody recorded yet: press t for each person you tell\n",
                severity_style(self.app, "amber"),
            )
        self.query_one("#step-told", Static).update(text)

    def _show_timeline(self) -> None:
        entries = incidents.timeline(self.app.store.connection(), self.incident_id)[-8:]
        text = Text("Timeline (latest)\n", "bold")
        for e in entries:
            text.append(f"  {local_text(e.at)[16:25]}  {e.actor}: ", "dim")
            text.append(f"{e.text}\n")
        self.query_one("#step-timeline", Static).update(text)

    async def _build_form(self, record: incidents.StepRecord) -> None:
        self._form_for = _version(record)
        self._typing_in = None
        form = self.query_one("#step-form", Vertical)
        # Cleared before the awaits: a refusal shown while the form is rebuilt must stay.
        self.query_one("#step-error", Label).update("")
        await form.remove_children()
        closed = self.incident is not None and self.incident.status == "closed"
        if closed or record.state == "not_applicable":
            return
        verb = "amend" if record.state == "done" else "mark it done"
        skip = "s if it does not apply" if record.step.mandatory else "s to skip with a reason"
        await form.mount_all(
            [
                FormFields(step_fields(record.step, record.facts), wide_labels=True),
                Label(
                    f"ctrl+s to save and {verb} · {skip}",
                    classes="muted",
                    markup=False,
                ),
            ]
        )

    @on(OptionList.OptionHighlighted, "#steps")
    def _step_chosen(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id and event.option.id != self.shown_step:
            self.save_draft()
            self.shown_step = event.option.id
            self.call_later(self._show_step)

    @on(OptionList.OptionSelected, "#steps")
    def _into_form(self) -> None:
        fields = self.query("#step-form Input, #step-form Select, #step-form TextArea")
        if fields:
            fields.first().focus()

    # --- writing ------------------------------------------------------------------------------

    @work(thread=True, group="incident-write", exit_on_error=False)
    def _write(self, job: Callable[[sqlite3.Connection], str]) -> None:
        try:
            text = job(self.app.store.connection())
        except InvalidInput as exc:
            self.post_message(self.Written(str(exc), True, exc.problems))
        except SmdutyError as exc:
            self.post_message(self.Written(str(exc), True))
        else:
            self.post_message(self.Written(text))

    @on(Written)
    def _written(self, message: Written) -> None:
        if message.error:
            self._show_problems(message.problems, message.text)
            self.notify(message.text, severity="error", markup=False)
            self.load(keep_form=True)  # what is saved now (a form being typed in stays)
            return
        self.notify(message.text, markup=False)
        self.app.refresh_posts_state()
        self.load(follow=True)
        # Back on the steps, where the footer's keys work; Enter goes into the next form.
        self.query_one("#steps", OptionList).focus()

    def _show_problems(self, problems: dict, summary: str) -> None:
        found = self.query("#step-form FormFields")
        loose = found.first(FormFields).show_problems(problems) if found else summary
        self.query_one("#step-error", Label).update(f"Not saved: {loose or summary}")

    def _form_values(self) -> dict[str, Any]:
        found = self.query("#step-form FormFields")
        if self.incident is None or not found:
            return {}
        return {k: "" if v is None else v for k, v in found.first(FormFields).values().items()}

    def save_draft(self, *, wait: bool = False) -> None:
        """Keep what is typed into a step not yet done: half a second after each change, on
        leaving the step and on quitting, so closing the laptop mid-step loses nothing."""
        if self.incident is None or self.incident.status == "closed" or not self.shown_step:
            return
        record = self.incident.record(self.shown_step)
        values = self._form_values()
        if record.state != "pending" or not values:
            return
        if wait:
            self._keep_draft(record.step.id, values)
        else:
            self.run_worker(
                lambda: self._keep_draft(record.step.id, values),
                thread=True,
                group="incident-draft",
                exclusive=True,
                exit_on_error=False,
            )

    def _keep_draft(self, step_id: str, values: dict[str, Any]) -> None:
        # Closed meanwhile by another desk, or the database is gone: nothing to keep.
        with contextlib.suppress(SmdutyError, sqlite3.Error):
            db = self.app.store.connection()
            incident_steps.save_draft(db, self.app.actor, self.incident_id, step_id, values)

    @on(Input.Changed, "#step-form Input")
    @on(Select.Changed, "#step-form Select")
    @on(TextArea.Changed, "#step-form TextArea")
    def _typed(self) -> None:
        self._typing_in = self.shown_step  # unsaved text: a reload must not replace it
        if self._draft_timer is not None:
            self._draft_timer.stop()
        self._draft_timer = self.set_timer(0.5, self.save_draft)

    def action_done(self) -> None:
        if self.incident is None:
            return
        record = self.incident.record(self.shown_step)
        values = self._form_values()
        for fields in self.query("#step-form FormFields").results(FormFields):
            fields.clear_problems()
        actor, incident_id, step_id = self.app.actor, self.incident_id, self.shown_step
        seen = self._form_for

        def job(db: sqlite3.Connection) -> str:
            with transaction(db):  # saved over the version this officer last saw, or refused
                now = incidents.get_incident(db, incident_id).record(step_id)
                if seen is not None and seen[0] == step_id and seen != _version(now):
                    raise Refused(
                        f"{now.updated_by} saved this step at {local_text(now.updated_at)} while"
                        " this form was open; nothing was saved: look at it, then ctrl+s again"
                        " to save yours over it"
                    )
                after = incident_steps.complete_step(db, actor, incident_id, step_id, values)
            nxt = after.current
            done = f"Step done: {record.step.title}."
            return f"{done} Next: {nxt.step.title}" if nxt else f"{done} Every step is answered."

        self._write(job)

    def action_back(self) -> None:
        if not isinstance(self.focused, OptionList):
            self.query_one("#steps", OptionList).focus()
        else:
            self.app.pop_screen()

    @on(Input.Submitted, "#step-form Input")
    def _submitted(self) -> None:
        self.action_done()

    def action_history(self) -> None:
        from smduty.tui.screens.history import HistoryScreen

        title = self.incident.title if self.incident is not None else f"incident {self.incident_id}"
        self.app.push_screen(HistoryScreen("incident", self.incident_id, title))


def _version(record: incidents.StepRecord) -> tuple:
    """What a step's form was built from: another desk's save changes it (a time stamp alone
    does not tell two saves in one second apart). A pending step's facts are a draft, this
    desk's own typing kept every half second: no one's decision, so not part of it."""
    if record.state == "pending":
        return (record.step.id, record.state, record.updated_at, record.updated_by)
    facts = json.dumps(record.facts, sort_keys=True, default=str)
    return (record.step.id, record.state, record.updated_at, record.updated_by, facts)
