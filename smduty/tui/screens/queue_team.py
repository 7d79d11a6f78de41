"""The triage queue's team keys: take a mention on yourself in one key, mark rows for bulk
assign, snooze, refer or dismiss, and open or copy a mention's link."""

from __future__ import annotations

from textual import work

from smduty.core.errors import SmdutyError
from smduty.core.triage import outcomes
from smduty.tui.screens.modals import ConfirmModal
from smduty.tui.widgets.queue_table import QueueTable


class QueueTeamKeys:
    """Mixed into QueueScreen, which provides `_current`, `selected`, `Done` and `reload`."""

    def action_take(self) -> None:
        """Assign to me: the acting officer takes the highlighted mention on."""
        item = self._current()
        if item is None:
            return
        if item.assigned_to == self.app.actor and item.status == "in_progress":
            self.notify(f"#{item.id} is already yours.", markup=False)
            return
        self._take(item.id)

    @work(thread=True, group="queue-write", exit_on_error=False)
    def _take(self, mention_id: int) -> None:
        actor = self.app.actor
        try:
            done = outcomes.assign(self.app.store.connection(), actor, mention_id, actor)
        except SmdutyError as exc:
            self.post_message(self.Done(f"Not taken: {exc}", error=True))
            return
        taken = done.outcome.get("taken_from")
        self.post_message(
            self.Done(
                f"#{done.id} is yours" + (f" (taken from {taken}: tell them)" if taken else "")
            )
        )

    def action_open_link(self) -> None:
        item = self._current()
        if item is None or not item.url.startswith(("https://", "http://")):
            self.notify("This mention has no web link.", severity="warning", markup=False)
            return
        self.app.open_url(item.url)
        self.notify(f"Opened {item.url[:80]}", markup=False)

    def action_copy_link(self) -> None:
        item = self._current()
        if item is None or not item.url:
            self.notify("This mention has no link to copy.", severity="warning", markup=False)
            return
        self.app.copy_to_clipboard(item.url)
        self.notify("Link copied.", markup=False)

    # --- bulk dismiss ----------------------------------------------------------------

    def action_select(self) -> None:
        item = self._current()
        if item is None:
            return
        self.selected ^= {item.id}
        table = self.query_one(QueueTable)
        table.mark_row(table.cursor_row, item.id in self.selected)
        self._show_status()
        table.action_cursor_down()

    def action_dismiss_selected(self) -> None:
        if not self.selected:
            self.notify("Space marks low-risk mentions first.", severity="warning", markup=False)
            return
        count = len(self.selected)

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._dismiss_many(sorted(self.selected))

        self.app.push_screen(
            ConfirmModal(f"Dismiss {count} selected mentions as not relevant?", "Dismiss"),
            callback=confirmed,
        )

    @work(thread=True, group="queue-write", exit_on_error=False)
    def _dismiss_many(self, ids: list[int]) -> None:
        try:
            count = outcomes.dismiss_many(self.app.store.connection(), self.app.actor, ids)
        except SmdutyError as exc:
            self.post_message(self.Done(str(exc), error=True))
            return
        self.post_message(self.Done(f"Dismissed {count} mentions", cleared=ids))
