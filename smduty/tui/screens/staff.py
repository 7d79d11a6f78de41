"""Staff and contacts: everyone behind the channels, the rota and escalation, and who to call.

The people table: add, edit (a wrong phone number, roles, the deputy), record a leaver. The
contacts table answers "who do I ring for this, now?": each role's people, whether they can be
reached today, and the deputy (or the deputy's deputy) when they cannot; the duty officers of
today sit above it. Every change goes through the core (the same rules and audit as the CLI).
"""

from __future__ import annotations

import sqlite3
from typing import Any

import msgspec
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from smduty.core import staff as staff_core
from smduty.core.clock import today
from smduty.core.errors import InvalidInput, NotFound, changed_meanwhile
from smduty.core.incidents.contacts import Contact, contacts_for
from smduty.core.register.channels import list_channels
from smduty.core.rota import roster
from smduty.core.rota.duty_calendar import DutyCalendar
from smduty.core.rota.people import RotaOfficer, officers, set_officer
from smduty.core.staff import ROLES, StaffMember
from smduty.core.store import transaction
from smduty.tui.screens.base import MainScreen
from smduty.tui.screens.form import Field, FormModal
from smduty.tui.theme import literal, severity_style
from smduty.tui.widgets.table import Table


class StaffSnapshot(msgspec.Struct, frozen=True):
    people: list[StaffMember]
    contacts: list[Contact]
    on_duty: roster.DutyDay
    rota: dict[str, RotaOfficer]  # who is on the rota, by name, and for which duties


def load_staff(db: sqlite3.Connection, cal: DutyCalendar) -> StaffSnapshot:
    return StaffSnapshot(
        staff_core.list_staff(db),
        contacts_for(db, tuple(ROLES), today()),
        roster.day_view(db, cal, today()),
        {o.name: o for o in officers(db)},
    )


def _duties(officer: RotaOfficer | None) -> str:
    if officer is None:
        return ""
    return ", ".join(
        d for d, on in (("weekday", officer.weekday), ("weekend", officer.weekend)) if on
    )


class StaffScreen(MainScreen):
    HELP_TITLE = "Staff and contacts"
    HELP_TEXT = (
        "Everyone on the staff list, with roles, phone numbers and deputies. Enter or e edits "
        "the highlighted person; a adds someone; l records that they left. c shows contacts by "
        "role: who can be reached today and, for anyone away, the deputy to ring instead."
    )
    DEFAULT_CSS = """
    StaffScreen #staff-people { height: 1fr; }
    StaffScreen #staff-detail { height: auto; padding: 0 1; background: $panel; }
    StaffScreen #staff-contacts { height: 1fr; }
    StaffScreen #staff-contacts.hidden { display: none; }
    """
    BINDINGS = [
        Binding("a", "add", "Add", id="staff.add", tooltip="Add someone to the staff list"),
        Binding("e", "edit", "Edit", id="staff.edit", tooltip="Change their details or roles"),
        Binding("l", "leaver", "Leaver", id="staff.left", tooltip="Record that they left"),
        Binding("c", "toggle_contacts", "Contacts", id="staff.contacts", tooltip="By role"),
        Binding("r", "reload", "Refresh", id="staff.reload", tooltip="Read them again"),
        Binding("escape", "app.open_dashboard", "Back", id="staff.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.snapshot: StaffSnapshot | None = None

    def compose_body(self) -> ComposeResult:
        yield Static(id="staff-title", classes="screen-title")
        yield Table(id="staff-people", cursor_type="row", zebra_stripes=True)
        yield Static(id="staff-detail")
        yield Table(id="staff-contacts", cursor_type="row", zebra_stripes=True, classes="hidden")

    def on_mount(self) -> None:
        self.query_one("#staff-people", DataTable).add_columns(
            "Name", "Phone", "Out of hours", "Deputy", "Rota", "Roles", "Email"
        )
        self.query_one("#staff-contacts", DataTable).add_columns(
            "Role", "Person", "Phone", "Out of hours", "Today"
        )
        self.reload()

    def on_screen_resume(self) -> None:
        self.reload()

    def reload(self) -> None:
        cal = DutyCalendar.from_config(self.app.settings)
        snap = self.snapshot = load_staff(self.app.store.connection(), cal)
        gone = sum(1 for p in snap.people if not p.active)
        duty = snap.on_duty
        title = Text(f"Staff: {len(snap.people) - gone} people", "bold")
        if gone:
            title.append(f" ({gone} left)", "dim")
        title.append(
            f"   On duty today: check officer {duty.check_officer or 'nobody'}, "
            f"weekend duty {duty.weekend_duty or 'nobody'}",
            "not bold",
        )
        self.query_one("#staff-title", Static).update(title)
        self._fill_people(snap.people)
        self._fill_contacts(snap.contacts)
        self._show_detail()

    def _fill_people(self, people: list[StaffMember]) -> None:
        table = self.query_one("#staff-people", DataTable)
        row = table.cursor_row
        table.clear()
        for p in people:
            style = "dim" if not p.active else ""
            name = p.name + (f" (left {p.left_on:%-d %b %Y})" if p.left_on else "")
            name += " (candidate)" if p.standing and p.active else ""
            table.add_row(
                literal(name, style),
                literal(p.phone, style),
                literal(p.out_of_hours_phone, style),
                literal(p.deputy or "", style),
                literal(_duties(self.snapshot.rota.get(p.name)) if self.snapshot else "", style),
                literal(", ".join(r.replace("_", " ") for r in p.roles), style),
                literal(p.email, style),
                key=p.name,
            )
        if table.row_count:
            table.move_cursor(row=max(0, min(row, table.row_count - 1)), animate=False)

    def _fill_contacts(self, contacts: list[Contact]) -> None:
        table = self.query_one("#staff-contacts", DataTable)
        table.clear()
        away_style = severity_style(self.app, "amber")
        last_role = ""
        for c in contacts:
            label = c.role_label if c.role != last_role else ""
            last_role = c.role
            person = c.name + (f" (for {c.deputy_for})" if c.deputy_for else "")
            table.add_row(
                literal(label, "bold"),
                literal(person),
                literal(c.phone),
                literal(c.out_of_hours_phone),
                literal(c.away or "can be reached", away_style if c.away else "dim"),
            )

    def _current(self) -> StaffMember | None:
        if self.snapshot is None or not self.snapshot.people:
            return None
        table = self.query_one("#staff-people", DataTable)
        if table.cursor_row >= len(self.snapshot.people):
            return None
        return self.snapshot.people[table.cursor_row]

    @on(DataTable.RowHighlighted, "#staff-people")
    def _show_detail(self) -> None:
        person = self._current()
        if person is None:
            return
        db = self.app.store.connection()
        chain = staff_core.deputy_chain(db, person.name)
        detail = Text(f"{person.name}", "bold")
        detail.append(f"  {person.team}" if person.team else "")
        detail.append("\n" + (", ".join(ROLES.get(r, r) for r in person.roles) or "no roles"))
        if chain:
            detail.append("\nDeputies: " + " → ".join(d.name for d in chain), "not bold")
        managed = [
            f"{c.name} ({f'trained {m.trained_on}' if m.trained_on else 'not trained'})"
            for c in list_channels(db, ("proposed", "active", "dormant", "closing"))
            for m in c.managers
            if m.staff_id == person.id
        ]
        if managed:
            detail.append("\nManages: " + "; ".join(managed), "not bold")
        if person.notes:
            detail.append(f"\n{person.notes}", "dim")
        self.query_one("#staff-detail", Static).update(detail)

    @on(DataTable.RowSelected, "#staff-people")
    def _selected(self) -> None:
        self.action_edit()

    def action_toggle_contacts(self) -> None:
        self.query_one("#staff-contacts").toggle_class("hidden")

    def _after(self, result: Any) -> None:
        if result:
            self.notify(str(result), markup=False)
            self.reload()

    def _others(self, person: StaffMember | None) -> list[tuple[str, str]]:
        people = self.snapshot.people if self.snapshot else []
        return [(p.name, p.name) for p in people if p.active and p != person]

    def action_add(self) -> None:
        actor = self.app.actor

        def submit(db: sqlite3.Connection, values: dict[str, Any]) -> str:
            with transaction(db):  # the person, their rota duties and standing, or none
                member = staff_core.add_staff(
                    db,
                    actor,
                    values["name"],
                    values["roles"] or (),
                    values["deputy"] or "",
                    **{f: values[f] for f in _CONTACT_FIELDS},
                )
                if values["weekday"] or values["weekend"]:
                    set_officer(db, actor, member.name, values["weekday"], values["weekend"])
                if values["standing"]:
                    staff_core.edit_staff(db, actor, member.name, standing=True)
            return f"Added {member.name}"

        self.app.push_screen(
            FormModal(
                "Add a member of staff",
                [Field("name", "Name"), *_person_fields(None, self._others(None), None)],
                submit,
                save_label="Add",
                tall=True,
            ),
            callback=self._after,
        )

    def action_edit(self) -> None:
        person = self._current()
        if person is None:
            return
        actor = self.app.actor
        officer = self.snapshot.rota.get(person.name) if self.snapshot else None

        def submit(db: sqlite3.Connection, values: dict[str, Any]) -> str:
            with transaction(db):  # the details and the deputy, or neither
                _unchanged(db, person, officer)
                member = staff_core.edit_staff(
                    db,
                    actor,
                    person.name,
                    new_name=values["name"],
                    roles=values["roles"] or (),
                    standing=bool(values["standing"]),
                    **{f: values[f] for f in _CONTACT_FIELDS},
                )
                deputy = values["deputy"] or None
                if deputy != member.deputy:
                    member = staff_core.set_deputy(db, actor, member.name, deputy)
                duties = (bool(values["weekday"]), bool(values["weekend"]))
                was = (officer.weekday, officer.weekend) if officer else (False, False)
                if member.active and duties != was:
                    set_officer(db, actor, member.name, *duties)
            return f"Saved {member.name}"

        self.app.push_screen(
            FormModal(
                f"Edit {person.name}",
                [
                    Field("name", "Name", value=person.name),
                    *_person_fields(person, self._others(person), officer),
                ],
                submit,
                intro="Changes are recorded with who made them and what they were before.",
                tall=True,
            ),
            callback=self._after,
        )

    def action_leaver(self) -> None:
        person = self._current()
        if person is None:
            return
        if not person.active:
            self.notify(f"{person.name} left on {person.left_on}.", markup=False)
            return
        actor = self.app.actor

        def submit(db: sqlite3.Connection, values: dict[str, Any]) -> str:
            if not values["on"]:
                raise InvalidInput({"on": "their last day is needed"})
            with transaction(db):
                _unchanged(db, person)
                member = staff_core.mark_left(db, actor, person.name, values["on"])
            return f"Recorded that {member.name} left on {member.left_on}"

        self.app.push_screen(
            FormModal(
                f"{person.name} is leaving",
                [Field("on", "Last day", "date", today().isoformat())],
                submit,
                intro="They come off the rota from that day; channels they could reach need "
                "new passwords (004 §4.2.4): the register marks them.",
                save_label="Record",
            ),
            callback=self._after,
        )


_CONTACT_FIELDS = ("email", "phone", "out_of_hours_phone", "team", "notes")


def _unchanged(
    db: sqlite3.Connection, person: StaffMember, officer: RotaOfficer | None | bool = False
) -> None:
    """Refuse to save over someone's details (or rota duties) changed since the form opened."""
    try:
        now = staff_core.get_staff(db, person.name)
    except NotFound:
        raise changed_meanwhile(person.name) from None  # renamed or removed meanwhile
    if now.as_dict() != person.as_dict():
        raise changed_meanwhile(person.name)
    if officer is not False:
        duties = next((o for o in officers(db) if o.staff_id == person.id), None)
        shown = (officer.weekday, officer.weekend) if officer else (False, False)
        if shown != ((duties.weekday, duties.weekend) if duties else (False, False)):
            raise changed_meanwhile(f"{person.name}'s rota duties")


def _person_fields(
    person: StaffMember | None, others: list[tuple[str, str]], officer: RotaOfficer | None
) -> list[Field]:
    value = (lambda name: getattr(person, name)) if person else (lambda name: "")
    return [
        Field(
            "roles",
            "Roles",
            "multi",
            list(person.roles) if person else [],
            [(label, role) for role, label in ROLES.items()],
        ),
        Field("phone", "Phone", value=value("phone")),
        Field("out_of_hours_phone", "Out of hours", value=value("out_of_hours_phone")),
        Field("email", "Email", value=value("email")),
        Field("team", "Team", value=value("team")),
        Field(
            "deputy",
            "Deputy",
            "select",
            person.deputy if person and person.deputy else "",
            [*others, ("(no deputy)", "")] if person and person.deputy else others,
        ),
        Field(
            "weekday", "Rota", "checkbox", bool(officer and officer.weekday), (), "weekday checks"
        ),
        Field("weekend", "", "checkbox", bool(officer and officer.weekend), (), "weekend duty"),
        Field(
            "standing",
            "Election",
            "checkbox",
            bool(person and person.standing),
            (),
            "standing as a candidate",
        ),  # fmt: skip
        Field("notes", "Notes", "area", value("notes")),
    ]
