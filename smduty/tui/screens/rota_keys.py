"""The rota screen's change keys: swap, add leave, cover and generate. Each opens a form whose
save calls the core (the same rules and audit as the CLI); the screen reloads after."""

from __future__ import annotations

import sqlite3
from datetime import date
from typing import Any

from smduty.core.clock import today
from smduty.core.errors import InvalidInput, changed_meanwhile
from smduty.core.rota import roster as rota_core
from smduty.core.rota.cover import apply_cover
from smduty.core.rota.people import add_leave
from smduty.core.store import transaction
from smduty.core.values import parse_date, parse_int
from smduty.tui.screens.form import Field, FormModal


def _planned(db: sqlite3.Connection, first: date, last: date) -> dict:
    """Who is planned for each day, and each day's revision: what a form was opened on."""
    return {
        d: (r["officer_id"], r["revision"])
        for d, r in rota_core.assignments(db, first, last).items()
    }


def _still(db: sqlite3.Connection, opened: dict, first: date, last: date, what: str) -> None:
    if _planned(db, first, last) != opened:
        raise changed_meanwhile(what)


class RotaChangeKeys:
    """Mixed into RotaScreen, which provides `calendar`, `snapshot`, `_cursor_date` and
    `_after_change`."""

    def action_swap(self) -> None:
        day = self._cursor_date()
        if day is None or self.snapshot is None:
            return
        cal, actor = self.calendar, self.app.actor
        block = cal.block_of(day)
        duty = "weekend duty block" if block else "weekday check"
        eligible = [
            (o.name, o.name)
            for o in self.snapshot.officers
            if (o.weekend if block else o.weekday) and o.active_on(day)
        ]
        others = [(f"{o.name} (not on this rota)", o.name) for o in self.snapshot.officers]
        options = eligible + [o for o in others if o[1] not in {e[1] for e in eligible}]
        first, last = block or (day, day)
        opened = _planned(self.app.store.connection(), first, last)

        def submit(db: sqlite3.Connection, values: dict[str, Any]) -> str:
            if not values["to"]:
                raise InvalidInput({"to": "choose who takes the duty"})
            with transaction(db):  # over the plan the form was opened on, or not at all
                _still(db, opened, first, last, f"The {duty} of {first:%a %-d %b}")
                moved = rota_core.swap(
                    db,
                    actor,
                    cal,
                    day,
                    values["to"],
                    values["reason"],
                    force=values["force"],
                    whole_block=not values.get("day_only"),
                )
            return f"{values['to']} now has the {duty} of {moved[0]:%a %-d %b}" + (
                f" to {moved[-1]:%a %-d %b}" if len(moved) > 1 else ""
            )

        span = f"{block[0]:%a %-d %b} to {block[1]:%a %-d %b}" if block else f"{day:%A %-d %B}"
        self.app.push_screen(
            FormModal(
                f"Swap the {duty}: {span}",
                [
                    Field("to", "Give it to", "select", options=options),
                    Field("reason", "Reason", placeholder="why the duty changes hands"),
                    Field(
                        "force",
                        "Override",
                        "checkbox",
                        placeholder="on leave or not on this rota: swap anyway",
                    ),
                    *(
                        [
                            Field(
                                "day_only",
                                "Split",
                                "checkbox",
                                placeholder=f"only {day:%a %-d %b}, not the whole block",
                            )
                        ]
                        if block and block[0] != block[1]
                        else []
                    ),
                ],
                submit,
                intro="The original officer stays in the history. Someone on leave or not on "
                "this rota is refused unless 'Override' is ticked (the reason is recorded).",
                save_label="Swap",
            ),
            callback=self._after_change,
        )

    def action_add_leave(self) -> None:
        actor = self.app.actor
        day = self._cursor_date() or today()
        staff = [(name, name) for name in self.snapshot.staff] if self.snapshot else []

        def submit(db: sqlite3.Connection, values: dict[str, Any]) -> str:
            if not values["name"]:
                raise InvalidInput({"name": "choose who is away"})
            leave = add_leave(
                db, actor, values["name"], values["from"], values["to"], values["reason"]
            )
            return f"Leave recorded: {leave.name}, {leave.start:%-d %b} to {leave.end:%-d %b}"

        self.app.push_screen(
            FormModal(
                "Add leave or absence",
                [
                    Field("name", "Who", "select", options=staff),
                    Field("from", "From", value=day.isoformat(), placeholder="YYYY-MM-DD"),
                    Field("to", "To", value=day.isoformat(), placeholder="YYYY-MM-DD"),
                    Field("reason", "Reason", placeholder="annual leave, training, sick…"),
                ],
                submit,
                intro="Duties already rostered stay; a duty its officer can no longer do is "
                "marked, with the proposed cover (v applies it).",
            ),
            callback=self._after_change,
        )

    def action_cover(self) -> None:
        """The highlighted duty's officer is away: give it to the proposed cover (or another
        officer free for those days)."""
        day = self._cursor_date()
        need = self.snapshot.cover.get(day) if self.snapshot and day else None
        if need is None:
            self.notify(
                "This duty needs no cover: its officer is neither on leave nor gone.",
                markup=False,
            )
            return
        if not need.candidates:
            self.notify(
                f"Nobody on the rota is free for {need.span()}: swap it (o) with an override.",
                severity="warning",
                markup=False,
            )
            return
        actor, cal = self.app.actor, self.calendar
        opened = _planned(self.app.store.connection(), need.days[0], need.days[-1])

        def submit(db: sqlite3.Connection, values: dict[str, Any]) -> str:
            with transaction(db):  # over the plan the form was opened on, or not at all
                _still(db, opened, need.days[0], need.days[-1], f"The duty of {need.span()}")
                done, chosen = apply_cover(db, actor, cal, day, values["to"] or None, today=today())
            return f"{chosen} now covers {done.span()} for {done.officer}"

        self.app.push_screen(
            FormModal(
                f"Cover {need.span()}: {need.officer} is {need.why}",
                [
                    Field(
                        "to",
                        "Give it to",
                        "select",
                        need.proposal or "",
                        [(name, name) for name in need.candidates],
                    )
                ],
                submit,
                intro="Free for every one of those days, fairest first. Only these days move; "
                "the rest of the rota stays as planned. The reason is recorded.",
                save_label="Cover",
            ),
            callback=self._after_change,
        )

    def action_generate(self) -> None:
        actor, cal = self.app.actor, self.calendar

        def submit(db: sqlite3.Connection, values: dict[str, Any]) -> str:
            problems: dict[str, str] = {}
            start = parse_date(values["start"], "start", problems)
            weeks = parse_int(values["weeks"], "weeks", problems)
            replan = parse_date(values["replan"], "replan", problems) if values["replan"] else None
            if problems or start is None or weeks is None:
                raise InvalidInput(problems or {"start": "a date is needed"})
            if replan is not None and not values["sure"]:
                preview = rota_core.generate(
                    db, actor, cal, start, weeks, today(), replan_from=replan, dry_run=True
                )
                moved = sorted((d, c) for d, c in preview.changed.items() if c[0] is not None)
                if moved:
                    listed = "; ".join(
                        f"{d:%a %-d %b} {old} -> {new or 'nobody'}" for d, (old, new) in moved[:6]
                    )
                    more = f" and {len(moved) - 6} more" if len(moved) > 6 else ""
                    raise InvalidInput(
                        {
                            "sure": f"re-planning changes {len(moved)} planned day(s): {listed}"
                            f"{more}. Tick to change them"
                        }
                    )
            result = rota_core.generate(db, actor, cal, start, weeks, today(), replan_from=replan)
            gap_note = f"; {len(result.gaps)} day(s) nobody can cover" if result.gaps else ""
            moved = sum(1 for old, _ in result.changed.values() if old is not None)
            changed = f", changed {moved}" if moved else ""
            return (
                f"Rostered {result.assigned} day(s) not yet planned, kept {result.kept}"
                f"{changed}{gap_note}"
            )

        self.app.push_screen(
            FormModal(
                "Generate the rota",
                [
                    Field("start", "From", value=today().isoformat(), placeholder="YYYY-MM-DD"),
                    Field("weeks", "Weeks", value="8"),
                    Field("replan", "Re-plan from", placeholder="optional: YYYY-MM-DD"),
                    Field("sure", "Re-plan", "checkbox", placeholder="yes, change planned days"),
                ],
                submit,
                intro="Fills the days not yet planned, fairly across weekday checks, weekend "
                "blocks and bank holidays, counting past duty and leave. Planned days stay as "
                "they are unless you re-plan from a date (you are shown what would change first).",
                save_label="Generate",
            ),
            callback=self._after_change,
        )
