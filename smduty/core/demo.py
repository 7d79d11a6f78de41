"""Builds the fictional demo council from data/demo/council.toml.

Dates in the file are whole numbers of days before today, so the demo looks the same whenever
it is built: the planted compliance problems stay planted.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from smduty.core.clock import COUNCIL_TZ, now_utc, today
from smduty.core.config import load_config, read_toml, shipped_data_dir
from smduty.core.register.channels import add_channel, record_training
from smduty.core.register.fields import FIELDS
from smduty.core.rota.checks import record_check
from smduty.core.rota.duty_calendar import DutyCalendar
from smduty.core.rota.handover import leave_handover
from smduty.core.rota.misses import record_misses
from smduty.core.rota.people import add_leave, set_officer
from smduty.core.rota.roster import day_view, generate
from smduty.core.staff import add_staff, mark_left, set_deputy
from smduty.core.store import transaction

DEMO_ACTOR = "smduty demo"


def _days_ago(value: Any) -> Any:
    return (today() - timedelta(days=value)).isoformat() if isinstance(value, int) else value


def load_demo(db: sqlite3.Connection, path: Path | None = None) -> dict[str, int]:
    """Load the demo council into an empty database, in one transaction."""
    path = path or shipped_data_dir() / "demo" / "council.toml"
    council = read_toml(path)[1]
    with transaction(db):
        left, deputies = [], []
        for person in council["staff"]:
            person = dict(person)
            left_days = person.pop("left_days_ago", None)
            if "deputy" in person:
                deputies.append((person["name"], person.pop("deputy")))
            add_staff(
                db,
                DEMO_ACTOR,
                person["name"],
                person.get("roles", ()),
                **{k: v for k, v in person.items() if k not in ("name", "roles")},
            )
            if left_days is not None:
                left.append((person["name"], _days_ago(left_days)))
        for name, deputy in deputies:
            set_deputy(db, DEMO_ACTOR, name, deputy)
        for entry in council["channels"]:
            entry = dict(entry)
            managers = entry.pop("managers", [])
            checks = entry.pop("checked_days_ago", [])
            step = entry.pop("proposal_step", None)
            fields = {k: _days_ago(v) if FIELDS[k].kind == "date" else v for k, v in entry.items()}
            channel = add_channel(db, DEMO_ACTOR, fields, [m["name"] for m in managers])
            for m in managers:
                if "trained_days_ago" in m:
                    record_training(
                        db, DEMO_ACTOR, channel.id, m["name"], _days_ago(m["trained_days_ago"])
                    )
            if step:  # a proposal part-way through set-up
                db.execute("UPDATE channels SET proposal_step = ? WHERE id = ?", (step, channel.id))
            for days in checks:
                when = datetime.combine(today() - timedelta(days=days), time(9, 15), COUNCIL_TZ)
                record_check(db, "Priya Raman", channel.id, at=when)
        # The council's channels were set up long ago (their misses count from then on).
        db.execute(
            "UPDATE channels SET created_at = ? WHERE created_at > ?",
            (_days_ago(365) + "T09:00:00Z", _days_ago(365)),
        )
        # Leavers are marked after the channels exist, as happens in life.
        for name, on in left:
            mark_left(db, DEMO_ACTOR, name, on)
        _load_rota(db, council.get("rota", {}), council.get("leave", []))
        _load_sources(db, path.parent, council.get("sources", []))
        # The misses of the fortnight before, on the record as an upgraded database has them.
        config = load_config()
        record_misses(db, DutyCalendar.from_config(config), config, now_utc())
    return {"staff": len(council["staff"]), "channels": len(council["channels"])}


def _load_rota(db: sqlite3.Connection, rota_data: dict, leave: list[dict]) -> None:
    if not rota_data:
        return
    for officer in rota_data["officers"]:
        set_officer(db, DEMO_ACTOR, officer["name"], officer["weekday"], officer["weekend"])
    for entry in leave:
        add_leave(
            db,
            DEMO_ACTOR,
            entry["name"],
            _days_ago(-entry["from"]),
            _days_ago(-entry["to"]),
            entry.get("reason", ""),
        )
    cal = DutyCalendar.from_config(load_config())
    start = today() - timedelta(weeks=rota_data["generate_weeks_before"])
    weeks = rota_data["generate_weeks_before"] + rota_data["generate_weeks_after"] + 1
    generate(db, DEMO_ACTOR, cal, start, weeks, today=start)
    now = now_utc()
    midnight = datetime.combine(today(), time(0, 1), COUNCIL_TZ)
    for minutes, name in enumerate(reversed(rota_data.get("checked_today", []))):
        officer = day_view(db, cal, today()).check_officer or DEMO_ACTOR
        at = max(midnight, now - timedelta(minutes=20 + 7 * minutes))
        record_check(db, officer, name, at=at)
    if rota_data.get("handover"):
        before_block = cal.next_block(today())[0] - timedelta(days=1)
        author = day_view(db, cal, before_block).check_officer or DEMO_ACTOR
        leave_handover(db, author, cal, today(), rota_data["handover"])


def _load_sources(db: sqlite3.Connection, folder: Path, entries: list[dict]) -> None:
    """Register the sample sources and read each once, as a first poll would."""
    from smduty.core.monitoring.flag_load import ruleset_for
    from smduty.core.monitoring.poller import poll_source
    from smduty.core.monitoring.sources import add_source

    if not entries:
        return
    rules = ruleset_for(db)
    for entry in entries:
        # `file` is beside the demo data; `location` is anywhere (a share that is not there).
        where = entry.get("location") or str(folder / entry["file"])
        source = add_source(db, DEMO_ACTOR, entry["name"], where, entry.get("every", 15))
        poll_source(db, rules, source)
    # The demo team has been polling all along: each mention was seen when it was published,
    # so ages and response targets (some already missed) read as they would on a real morning.
    with transaction(db):
        db.execute("UPDATE mentions SET ingested_at = published WHERE published < ingested_at")
