"""The policy report for a period (issue 21): how the daily checks went, the register, mentions
and their triage, moderation, incidents and the sources' health, for the people who oversee the
policy (000 §5, 001 recommendation 2, 003 §6.1).

Every figure is read from facts recorded when they happened (checks, missed checks, breaches,
the audit log), never worked out again from today's state. Staff names are replaced by
"officer 1", "officer 2"... unless personal data is asked for; no mention's words are included.
"""

from __future__ import annotations

import sqlite3
import statistics
from collections import Counter
from datetime import date, datetime, timedelta

import msgspec

from smduty.core.clock import COUNCIL_TZ, parse_stamp, stamp, utc_text
from smduty.core.register.compliance import Limits, register
from smduty.core.rota.checks import deadline_for
from smduty.core.rota.duty_calendar import DutyCalendar, days

PERIODS = {"week": 7, "month": 30, "quarter": 91}
# What counts as a mention's first action: anything an officer does with it.
FIRST_ACTIONS = (
    "mention.assign",
    "mention.respond",
    "mention.refer",
    "mention.no_engagement",
    "mention.escalate",
    "mention.dismiss",
    "mention.snooze",
)
OUTCOMES = ("respond", "refer", "no_engagement", "escalate", "dismiss")
RATINGS = ("critical", "high", "medium", "low")


def period_of(kind: str | None, start: date | None, end: date | None, today: date):
    """The period asked for: --from/--to, or a week, month or quarter ending `end` (today)."""
    last = end or today
    if start is not None:
        return start, last
    return last - timedelta(days=PERIODS[kind or "month"] - 1), last


class Report(msgspec.Struct):
    start: date
    end: date
    generated_at: str
    personal_data: bool
    checks: dict = msgspec.field(default_factory=dict)
    register: dict = msgspec.field(default_factory=dict)
    mentions: dict = msgspec.field(default_factory=dict)
    moderation: dict = msgspec.field(default_factory=dict)
    incidents: dict = msgspec.field(default_factory=dict)
    sources: dict = msgspec.field(default_factory=dict)
    election: list = msgspec.field(default_factory=list)  # pre-election periods within the period

    def as_json(self) -> dict:
        data = msgspec.structs.asdict(self)
        data["start"], data["end"] = self.start.isoformat(), self.end.isoformat()
        return data


class _Names:
    """Staff names as the report shows them: as they are, or "officer N" in first-seen order."""

    def __init__(self, personal: bool) -> None:
        self.personal = personal
        self.seen: dict[str, str] = {}

    def __call__(self, name: str | None) -> str:
        if not name:
            return ""
        if self.personal:
            return name
        return self.seen.setdefault(name, f"officer {len(self.seen) + 1}")


def build_report(
    db: sqlite3.Connection,
    cal: DutyCalendar,
    settings,
    start: date,
    end: date,
    *,
    now: datetime,
    personal_data: bool = False,
) -> Report:
    names = _Names(personal_data)
    since = utc_text(datetime.combine(start, datetime.min.time(), COUNCIL_TZ))
    until = utc_text(datetime.combine(end + timedelta(days=1), datetime.min.time(), COUNCIL_TZ))
    report = Report(start, end, stamp(), personal_data)
    report.checks = _checks(db, cal, settings, start, min(end, now.astimezone(COUNCIL_TZ).date()),
                            now, names)  # fmt: skip
    report.register = _register(db, settings, since, until)
    report.mentions = _mentions(db, since, until)
    report.moderation = _moderation(db, since, until)
    report.incidents = _incidents(db, since, until, now)
    report.sources = _sources(db, since, until)
    from smduty.core.election import periods_between

    report.election = [p.as_dict() for p in periods_between(db, start, end)]
    return report


def _checks(db, cal, settings, start, last, now, names) -> dict:
    """Per day: channels checked by the deadline, checked late, missed (from the recorded
    misses); working days and duty blocks apart; every miss with its channel and officer."""
    rows = []
    totals = {"working": Counter(), "duty": Counter()}
    for day in days(start, last) if start <= last else ():
        working = cal.is_working_day(day)
        due_at = utc_text(
            deadline_for(
                day, working, settings.check_deadline_working, settings.check_deadline_duty
            )
        )
        on_time = db.execute(
            "SELECT count(DISTINCT channel_id) FROM channel_checks"
            " WHERE duty_date = ? AND checked_at <= ?",
            (day.isoformat(), due_at),
        ).fetchone()[0]
        missed, late = db.execute(
            "SELECT count(*), count(checked_late_at) FROM missed_checks WHERE duty_date = ?",
            (day.isoformat(),),
        ).fetchone()
        settled = utc_text(now) >= due_at  # before the deadline the day is still open
        kind = "working" if working else "duty"
        totals[kind].update({"days": 1, "on_time": on_time, "missed": missed, "late": late})
        rows.append(
            {
                "date": day.isoformat(),
                "kind": kind,
                "due_passed": settled,
                "on_time": on_time,
                "missed": missed,
                "checked_late": late,
                "completion": _share(on_time, on_time + missed),
            }
        )
    misses = [
        {"date": r[0], "channel": r[1], "officer": names(r[2]), "checked_late": bool(r[3])}
        for r in db.execute(
            "SELECT duty_date, channel, officer, checked_late_at FROM missed_checks"
            " WHERE duty_date BETWEEN ? AND ? ORDER BY duty_date, channel",
            (start.isoformat(), last.isoformat()),
        )
    ]
    summary = {
        kind: {
            "days": t["days"],
            "on_time": t["on_time"],
            "missed": t["missed"],
            "checked_late": t["late"],
            "completion": _share(t["on_time"], t["on_time"] + t["missed"]),
        }
        for kind, t in totals.items()
    }
    return {"days": rows, "summary": summary, "misses": misses}


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _audit_count(db, action: str, since: str, until: str, where: str = "", args=()) -> int:
    return db.execute(
        f"SELECT count(*) FROM audit_log WHERE action = ? AND at >= ? AND at < ? {where}",
        (action, since, until, *args),
    ).fetchone()[0]


def _register(db, settings, since: str, until: str) -> dict:
    entries = register(db, None, Limits.from_config(settings))
    states = Counter(e.state for e in entries)
    return {
        "now": {
            "live": states["red"] + states["amber"] + states["ok"],
            "red": states["red"],
            "amber": states["amber"],
            "ok": states["ok"],
            "proposed": states["proposed"],
        },
        "proposals_opened": _audit_count(
            db,
            "channel.add",
            since,
            until,
            "AND json_extract(after_json, '$.status') = ?",
            ("proposed",),
        ),  # fmt: skip
        "authorised": _audit_count(
            db,
            "channel.proposal_step",
            since,
            until,
            "AND json_extract(after_json, '$.proposal_step') = ?",
            ("authorised",),
        ),  # fmt: skip
        "rejected": _audit_count(db, "channel.reject", since, until),
        "closed": _audit_count(
            db,
            "channel.edit",
            since,
            until,
            "AND json_extract(after_json, '$.status') = 'closed'"
            " AND json_extract(before_json, '$.status') NOT IN ('closed', 'proposed')",
        ),  # fmt: skip
    }


def _mentions(db, since: str, until: str) -> dict:
    between = "ingested_at >= ? AND ingested_at < ?"
    by_source = dict(
        db.execute(
            f"SELECT source, count(*) FROM mentions WHERE {between} GROUP BY source"
            " ORDER BY count(*) DESC, source",
            (since, until),
        ).fetchall()
    )
    by_rating = dict(
        db.execute(
            f"SELECT rating, count(*) FROM mentions WHERE {between} AND rating != 'none'"
            " GROUP BY rating",
            (since, until),
        ).fetchall()
    )
    by_category: Counter = Counter()
    for (categories,) in db.execute(
        f"SELECT categories FROM mentions WHERE {between} AND categories != ''", (since, until)
    ):
        by_category.update(c for c in categories.split(",") if c)
    outcomes = {name: _audit_count(db, f"mention.{name}", since, until) for name in OUTCOMES}
    # Time to the first action, per rating, for the flagged mentions that came in the period.
    marks = ",".join("?" * len(FIRST_ACTIONS))
    waits: dict[str, list[float]] = {}
    for rating, ingested, first in db.execute(
        f"SELECT m.rating, m.ingested_at, (SELECT min(a.at) FROM audit_log a"
        f" WHERE a.entity = 'mention' AND a.entity_id = CAST(m.id AS TEXT)"
        f" AND a.action IN ({marks})) FROM mentions m"
        " WHERE m.ingested_at >= ? AND m.ingested_at < ? AND m.rating != 'none'",
        (*FIRST_ACTIONS, since, until),
    ):
        if first:
            minutes = (parse_stamp(first) - parse_stamp(ingested)).total_seconds() / 60
            waits.setdefault(rating, []).append(max(minutes, 0.0))
    first_action = {
        rating: {
            "acted_on": len(found),
            "median_minutes": round(statistics.median(found), 1),
            "p90_minutes": round(_percentile(found, 90), 1),
        }
        for rating, found in sorted(waits.items())
    }
    breaches = dict(
        db.execute(
            "SELECT rating, count(*) FROM response_breaches WHERE due_at >= ? AND due_at < ?"
            " GROUP BY rating",
            (since, until),
        ).fetchall()
    )
    per_day = [
        {
            "date": r[0],
            "ingested": r[1],
            "flagged": r[2],
            **{rating: r[3 + n] for n, rating in enumerate(RATINGS)},
        }
        for r in db.execute(
            "SELECT substr(ingested_at, 1, 10), count(*), sum(rating != 'none'),"
            + ",".join(f" sum(rating = '{rating}')" for rating in RATINGS)
            + f" FROM mentions WHERE {between} GROUP BY 1 ORDER BY 1",
            (since, until),
        )
    ]
    return {
        "per_day": per_day,  # by UTC date
        "ingested": sum(by_source.values()),
        "by_source": by_source,
        "flagged": sum(by_rating.values()),
        "by_rating": by_rating,
        "by_category": dict(sorted(by_category.items())),
        "outcomes": outcomes,
        "first_action": first_action,
        "breaches": breaches,
        "breaches_total": sum(breaches.values()),
    }


def _percentile(values: list[float], pct: int) -> float:
    """The nearest-rank percentile (of the values as they are: no interpolation)."""
    ordered = sorted(values)
    rank = max(1, -(-pct * len(ordered) // 100))  # ceil
    return ordered[rank - 1]


def _moderation(db, since: str, until: str) -> dict:
    rows = db.execute(
        "SELECT action, breach FROM moderation_actions WHERE taken_at >= ? AND taken_at < ?",
        (since, until),
    ).fetchall()
    return {
        "actions": len(rows),
        "by_action": dict(Counter(r[0] for r in rows)),
        "by_reason": dict(Counter(r[1] for r in rows)),
    }


def _incidents(db, since: str, until: str, now: datetime) -> dict:
    opened = db.execute(
        "SELECT id, severity, opened_at, closed_at FROM incidents"
        " WHERE opened_at >= ? AND opened_at < ? ORDER BY opened_at",
        (since, until),
    ).fetchall()
    closed = db.execute(
        "SELECT opened_at, closed_at FROM incidents WHERE closed_at >= ? AND closed_at < ?",
        (since, until),
    ).fetchall()
    hours = [(parse_stamp(c[1]) - parse_stamp(c[0])).total_seconds() / 3600 for c in closed]
    # Scheduled posts stopped: the minutes of each stop that fall inside the period.
    start, end = parse_stamp(since), min(parse_stamp(until), now)
    stopped = 0.0
    for stopped_at, resumed_at in db.execute(
        "SELECT stopped_at, resumed_at FROM posting_stops WHERE stopped_at < ?"
        " AND (resumed_at IS NULL OR resumed_at >= ?)",
        (until, since),
    ):
        began = max(parse_stamp(stopped_at), start)
        ended = min(parse_stamp(resumed_at), end) if resumed_at else end
        stopped += max((ended - began).total_seconds() / 60, 0)
    return {
        "opened": len(opened),
        "closed": len(closed),
        "by_severity": dict(Counter(r[1] for r in opened)),
        "median_hours_to_close": round(statistics.median(hours), 1) if hours else None,
        "longest_hours_to_close": round(max(hours), 1) if hours else None,
        "posts_stopped_minutes": round(stopped),
        "opened_list": [{"id": r[0], "severity": r[1], "opened_at": r[2]} for r in opened],
    }


def _sources(db, since: str, until: str) -> dict:
    health: dict[str, dict] = {}
    for action, key in (
        ("source.poll_failed", "failures"),
        ("source.poll_recovered", "recoveries"),
    ):
        for (name,) in db.execute(
            "SELECT coalesce(s.name, 'source ' || a.entity_id) FROM audit_log a"
            " LEFT JOIN sources s ON CAST(s.id AS TEXT) = a.entity_id"
            " WHERE a.action = ? AND a.at >= ? AND a.at < ?",
            (action, since, until),
        ):
            health.setdefault(name, {"failures": 0, "recoveries": 0})[key] += 1
    for name, status in db.execute("SELECT name, last_status FROM sources ORDER BY name"):
        health.setdefault(name, {"failures": 0, "recoveries": 0})["now"] = status or ""
    return health


# --- as words -------------------------------------------------------------------------------


class Table(msgspec.Struct):
    headers: list[str]
    rows: list[list[object]]
    what: str = ""  # what a row is ("missed checks"): a long table may be folded under it


# A section: its heading, then its blocks in order: paragraphs (str), tables, and the keys of
# the charts that belong there (Chart("...") in report_charts), which Markdown leaves out.
class Section(msgspec.Struct):
    heading: str
    blocks: list = msgspec.field(default_factory=list)


class ChartSlot(msgspec.Struct):
    key: str


def report_title(report: Report) -> str:
    return f"Social media report, {report.start:%-d %b %Y} to {report.end:%-d %b %Y}"


def report_document(report: Report) -> tuple[list[str], list[Section]]:
    """The report as words: its opening paragraphs and its sections, for any writer."""
    c, r, m = report.checks, report.register, report.mentions
    opening = [
        f"Made {report.generated_at}."
        + ("" if report.personal_data else " Officers are named by number (personal data masked).")
    ]
    opening += [
        f"Pre-election period: {p['name']}, {p['from']} to {p['to']}"
        + (" (cleared early)" if p["cleared_at"] else "")
        + "."
        for p in report.election
    ]
    checks = Section("Daily checks")
    checks.blocks.append(
        Table(
            ["days", "checked by the deadline", "missed", "of which checked late", "completion"],
            [
                [
                    f"{t['days']} {label}",
                    t["on_time"],
                    t["missed"],
                    t["checked_late"],
                    _pct(t["completion"]),
                ]  # fmt: skip
                for t, label in (
                    (c["summary"]["working"], "working days"),
                    (c["summary"]["duty"], "duty blocks"),
                )
            ],
        )
    )
    checks.blocks.append(ChartSlot("checks"))
    if c["misses"]:
        checks.blocks += [
            "Missed checks:",
            Table(
                ["date", "channel", "officer on duty", "checked late"],
                [
                    [x["date"], x["channel"], x["officer"], "yes" if x["checked_late"] else "no"]
                    for x in c["misses"]
                ],
                "missed checks",
            ),
        ]
    now = r["now"]
    register_ = Section(
        "The register",
        [
            f"Live channels now: {now['live']} ({now['red']} red, {now['amber']} amber,"
            f" {now['ok']} ok); proposals waiting: {now['proposed']}. In the period:"
            f" {r['proposals_opened']} proposed, {r['authorised']} authorised,"
            f" {r['rejected']} turned down, {r['closed']} closed."
        ],
    )
    mentions = Section("Mentions", [f"{m['ingested']} came in, {m['flagged']} flagged."])
    mentions.blocks.append(ChartSlot("mentions"))
    by_source = [[k, v] for k, v in m["by_source"].items()]
    mentions.blocks.append(Table(["source", "mentions"], by_source))
    rating_rows = []
    for rating in RATINGS:
        first = m["first_action"].get(rating, {})
        rating_rows.append(
            [
                rating,
                m["by_rating"].get(rating, 0),
                first.get("acted_on", 0),
                _minutes(first.get("median_minutes")),
                _minutes(first.get("p90_minutes")),
                m["breaches"].get(rating, 0),
            ]  # fmt: skip
        )
    mentions.blocks.append(
        Table(
            [
                "rating",
                "flagged",
                "acted on",
                "first action, median",
                "90th percentile",
                "target missed",
            ],  # fmt: skip
            rating_rows,
        )
    )
    mentions.blocks.append(ChartSlot("first-action"))
    if m["by_category"]:
        mentions.blocks.append(
            "By category: " + ", ".join(f"{k} {v}" for k, v in m["by_category"].items())
        )
    mentions.blocks.append(
        "Outcomes recorded: "
        + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in m["outcomes"].items())
    )
    mentions.blocks.append(ChartSlot("outcomes"))
    moderation = Section(
        "Moderation",
        [
            f"{report.moderation['actions']} actions"
            + "".join(f"; {k}: {v}" for k, v in report.moderation["by_reason"].items())
        ],
    )
    i = report.incidents
    incidents = Section(
        "Incidents",
        [
            f"{i['opened']} opened, {i['closed']} closed"
            + (f"; median {i['median_hours_to_close']} h to close" if i["closed"] else "")
            + f"; scheduled posts stopped for {i['posts_stopped_minutes']} minutes."
            + (
                " By severity: " + ", ".join(f"{k} {v}" for k, v in i["by_severity"].items())
                if i["by_severity"]
                else ""
            )  # fmt: skip
        ],
    )
    sources = Section(
        "Sources",
        [
            Table(
                ["source", "failed polls", "recovered", "now"],
                [
                    [k, v["failures"], v["recoveries"], v.get("now", "")]
                    for k, v in report.sources.items()
                ],
            )
        ],
    )
    return opening, [checks, register_, mentions, moderation, incidents, sources]


def report_markdown(report: Report) -> str:
    """The report as Markdown: a committee paper's tables, one section each."""
    opening, sections = report_document(report)
    out = [f"# {report_title(report)}", ""]
    for line in opening:
        bold = line.startswith("Pre-election period:")
        out += [line.replace("Pre-election period:", "**Pre-election period:**") if bold else line]
        out.append("")
    for section in sections:
        out += [f"## {section.heading}", ""]
        for block in section.blocks:
            if isinstance(block, ChartSlot):
                continue
            if isinstance(block, Table):
                out.append("| " + " | ".join(block.headers) + " |")
                out.append("|" + " --- |" * len(block.headers))
                out += ["| " + " | ".join(_md(v) for v in row) + " |" for row in block.rows]
            else:
                out.append(block)
            out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def report_rows(report: Report) -> list[tuple[str, str, str, object]]:
    """The report as (section, item, detail, value) rows: a CSV for a spreadsheet."""
    rows: list[tuple[str, str, str, object]] = []
    for day in report.checks["days"]:
        for key in ("on_time", "missed", "checked_late", "completion"):
            rows.append(("checks", day["date"], key, day[key]))
    for kind, t in report.checks["summary"].items():
        for key, value in t.items():
            rows.append(("checks", kind, key, value))
    for x in report.checks["misses"]:
        rows.append(("missed check", x["date"], x["channel"], x["officer"]))
    for key, value in report.register["now"].items():
        rows.append(("register", "now", key, value))
    for key in ("proposals_opened", "authorised", "rejected", "closed"):
        rows.append(("register", "period", key, report.register[key]))
    m = report.mentions
    rows += [("mentions", "ingested", "", m["ingested"]), ("mentions", "flagged", "", m["flagged"])]
    for group in ("by_source", "by_rating", "by_category", "outcomes", "breaches"):
        rows += [("mentions", group, k, v) for k, v in m[group].items()]
    for rating, first in m["first_action"].items():
        rows += [("first action", rating, k, v) for k, v in first.items()]
    mod = report.moderation
    rows.append(("moderation", "actions", "", mod["actions"]))
    rows += [("moderation", "by_reason", k, v) for k, v in mod["by_reason"].items()]
    inc = report.incidents
    for key in ("opened", "closed", "median_hours_to_close", "posts_stopped_minutes"):
        rows.append(("incidents", key, "", inc[key]))
    rows += [("incidents", "by_severity", k, v) for k, v in inc["by_severity"].items()]
    for name, health in report.sources.items():
        rows += [("sources", name, k, v) for k, v in health.items()]
    return rows


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:g}%"


def _minutes(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:g} min" if value < 120 else f"{value / 60:.1f} h"


def _md(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")
