"""The incident's record-keeping keys on the walkthrough: skip, note, who was told, review,
scheduled posts, status, close and export. Each write runs in the screen's write worker."""

from __future__ import annotations

import sqlite3

from textual import work

from smduty.core.clock import local_text, now_utc
from smduty.core.config import data_dir
from smduty.core.errors import SmdutyError
from smduty.core.files import write_output
from smduty.core.incidents import lifecycle as incidents
from smduty.core.incidents import log as incident_log
from smduty.core.incidents import posts
from smduty.core.incidents import steps as incident_steps
from smduty.core.incidents.report import report_markdown
from smduty.tui.screens.incident_forms import not_applicable_form, review_form, told_form
from smduty.tui.screens.modals import ConfirmModal, TextPromptModal


class IncidentRecordKeys:
    """Mixed into IncidentScreen, which provides `_write`, `Written` and the shown incident."""

    def action_skip(self) -> None:
        actor, incident_id, step_id = self.app.actor, self.incident_id, self.shown_step
        if self.incident is not None and self.incident.record(step_id).step.mandatory:
            step = self.incident.record(step_id).step
            self.app.push_screen(
                not_applicable_form(actor, incident_id, step), callback=self._after_form
            )
            return

        def skip(reason: str | None) -> None:
            if reason:
                self._write(lambda db: _skipped(db, actor, incident_id, step_id, reason))

        self.app.push_screen(
            TextPromptModal(f"Skip step {step_id!r}: why?", "the reason goes on the record", True),
            callback=skip,
        )

    def action_note(self) -> None:
        actor, incident_id = self.app.actor, self.incident_id

        def note(text: str | None) -> None:
            if text:
                self._write(lambda db: _noted(db, actor, incident_id, text))

        self.app.push_screen(TextPromptModal("Note for the timeline", "what happened, now"), note)

    def action_told(self) -> None:
        form = told_form(self.app.actor, self.incident_id, self.shown_step, self.contacts)
        self.app.push_screen(form, callback=self._after_form)

    def action_review(self) -> None:
        if self.incident is not None:
            self.app.push_screen(review_form(self.app.actor, self.incident), self._after_form)

    def _after_form(self, result: str | None) -> None:
        if result:
            self.post_message(self.Written(result))

    def action_posts(self) -> None:
        actor, incident_id = self.app.actor, self.incident_id
        held = self.app.posts_stop
        if held is None:

            def stop(reason: str | None) -> None:
                if reason:
                    self._write(lambda db: _stopped(db, actor, reason, incident_id))

            self.app.push_screen(
                TextPromptModal("Stop ALL scheduled posts on every channel: why?", "", True), stop
            )
            return

        def resume(yes: bool | None) -> None:
            if yes:
                self._write(lambda db: _resumed(db, actor))

        question = (
            f"Lift the stop on scheduled posts (stopped {local_text(held.stopped_at)} "
            f"by {held.stopped_by})?"
        )
        self.app.push_screen(ConfirmModal(question, "Resume posts"), resume)

    def action_monitoring(self) -> None:
        if self.incident is None:
            return
        actor, incident_id = self.app.actor, self.incident_id
        to = "open" if self.incident.status == "monitoring" else "monitoring"
        self._write(lambda db: _status(db, actor, incident_id, to))

    def action_close_incident(self) -> None:
        actor, incident_id = self.app.actor, self.incident_id

        def close(yes: bool | None) -> None:
            if yes:
                self._write(lambda db: _closed(db, actor, incident_id))

        self.app.push_screen(
            ConfirmModal(
                f"Close incident {incident_id}? Its record can no longer change.", "Close incident"
            ),
            close,
        )

    @work(thread=True, group="incident-export", exit_on_error=False)
    def action_export(self) -> None:
        db = self.app.store.connection()
        folder = data_dir() / "reports"
        path = folder / f"incident-{self.incident_id}-{now_utc():%Y%m%d-%H%M%S}.md"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            write_output(path, report_markdown(db, self.incident_id))
        except OSError as exc:
            self.post_message(self.Written(f"Could not write {path}: {exc.strerror}", True))
            return
        except SmdutyError as exc:
            self.post_message(self.Written(f"Could not write the record: {exc}", True))
            return
        self.post_message(self.Written(f"Record written to {path}"))


def _skipped(db: sqlite3.Connection, actor: str, incident_id: int, step: str, why: str) -> str:
    incident_steps.skip_step(db, actor, incident_id, step, why)
    return f"Step {step} skipped"


def _noted(db: sqlite3.Connection, actor: str, incident_id: int, text: str) -> str:
    entry = incident_log.add_note(db, actor, incident_id, text)
    return f"Noted at {local_text(entry.at)}"


def _stopped(db: sqlite3.Connection, actor: str, reason: str, incident_id: int) -> str:
    posts.stop_posts(db, actor, reason, incident_id)
    return "Scheduled posts stopped: hold them in every scheduling tool now"


def _resumed(db: sqlite3.Connection, actor: str) -> str:
    posts.resume_posts(db, actor)
    return "Scheduled posts may go out again"


def _status(db: sqlite3.Connection, actor: str, incident_id: int, status: str) -> str:
    incidents.set_status(db, actor, incident_id, status)
    return f"Incident {incident_id} is now {status}"


def _closed(db: sqlite3.Connection, actor: str, incident_id: int) -> str:
    incidents.close(db, actor, incident_id)
    return f"Incident {incident_id} closed. x writes its record."
