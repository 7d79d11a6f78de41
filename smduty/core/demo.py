"""Builds the fictional demo council from data/demo/council.toml.

Dates in the file are whole numbers of days before today, so the demo looks the same whenever
it is built: the planted compliance problems stay planted.
"""

from __future__ import annotations

import sqlite3
import tomllib
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from smduty.core.channel_fields import FIELDS
from smduty.core.channels import add_channel, record_training
from smduty.core.checks import record_check
from smduty.core.clock import COUNCIL_TZ, today
from smduty.core.config import shipped_data_dir
from smduty.core.staff import add_staff, mark_left
from smduty.core.store import transaction

DEMO_ACTOR = "smduty demo"


def _days_ago(value: Any) -> Any:
    return (today() - timedelta(days=value)).isoformat() if isinstance(value, int) else value


def load_demo(db: sqlite3.Connection, path: Path | None = None) -> dict[str, int]:
    """Load the demo council into an empty database, in one transaction."""
    path = path or shipped_data_dir() / "demo" / "council.toml"
    council = tomllib.loads(path.read_text(encoding="utf-8"))
    with transaction(db):
        left = []
        for person in council["staff"]:
            person = dict(person)
            left_days = person.pop("left_days_ago", None)
            add_staff(
                db,
                DEMO_ACTOR,
                person["name"],
                person.get("roles", ()),
                **{k: v for k, v in person.items() if k not in ("name", "roles")},
            )
            if left_days is not None:
                left.append((person["name"], _days_ago(left_days)))
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
        # Leavers are marked after the channels exist, as happens in life.
        for name, on in left:
            mark_left(db, DEMO_ACTOR, name, on)
    return {"staff": len(council["staff"]), "channels": len(council["channels"])}
