"""The triage queue: mentions worked from new to an outcome, each step audited with its facts.

States: new -> in_progress (assigned to an officer) -> an outcome (responded, referred,
no_engagement, escalated) or dismissed; snoozed hides a mention until a time, then it is new
again. Reopen takes any closed or snoozed mention back to new. Each outcome needs its facts
(004 Appendix, 000 Appendix 1); a missing fact is refused with what is missing.

The queue is read a page at a time with keyset queries in the order rating high to low, then
oldest first, so a page costs the same at row 20 and at row 900,000.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from heapq import merge

from smduty.core import audit
from smduty.core.assessment import Guide
from smduty.core.clock import now_utc
from smduty.core.errors import InvalidInput, NotFound, Refused
from smduty.core.flagging import RATING_RANK, RATINGS
from smduty.core.mentions import mention_matches, mention_sources, utc_text
from smduty.core.staff import get_staff
from smduty.core.store import transaction
from smduty.core.targets import Targets
from smduty.core.text import clean_block, clean_line

STATES = (
    "new",
    "in_progress",
    "responded",
    "referred",
    "no_engagement",
    "escalated",
    "dismissed",
    "snoozed",
)
OPEN = ("new", "in_progress")
CLOSED = ("responded", "referred", "no_engagement", "escalated", "dismissed")
STATE_LABELS = {
    "new": "new",
    "in_progress": "in progress",
    "responded": "responded",
    "referred": "referred",
    "no_engagement": "no engagement",
    "escalated": "escalated",
    "dismissed": "dismissed",
    "snoozed": "snoozed",
}
# What the --status filter accepts: a group or one state.
STATUS_GROUPS = {"open": OPEN, "new": ("new",), "closed": CLOSED, "all": STATES}
# What the --rating filter accepts besides one rating.
RATING_GROUPS = {"flagged": ("critical", "high", "medium", "low"), "any": RATINGS[::-1]}
BULK_DISMISS_MAX_RATING = "low"

_COLUMNS = (
    "id, source, author, title, text, url, published, ingested_at, categories, risk, rating,"
    " rating_rank, status, assigned_to, snoozed_until, outcome"
)


@dataclass(frozen=True)
class QueueItem:
    id: int
    source: str
    author: str
    title: str
    text: str
    url: str
    published: str
    ingested_at: str
    categories: tuple[str, ...]
    risk: int
    rating: str
    rating_rank: int
    status: str
    assigned_to: str | None
    snoozed_until: str | None
    outcome: dict

    @property
    def cursor(self) -> tuple[int, str, int]:
        return (self.rating_rank, self.published, self.id)

    @property
    def waiting_since(self) -> datetime:
        """When the response clock started: published, or first seen if that was later."""
        return _parse(max(self.published, self.ingested_at))

    def age_minutes(self, now: datetime | None = None) -> int:
        return max(0, int(((now or now_utc()) - _parse(self.published)).total_seconds() // 60))

    def due(self, targets: Targets) -> datetime | None:
        if self.status not in OPEN:
            return None
        return targets.due(self.rating, self.waiting_since)

    def overdue(self, targets: Targets, now: datetime | None = None) -> bool:
        due = self.due(targets)
        return due is not None and due <= (now or now_utc())

    def first_line(self) -> str:
        for candidate in (self.text, self.title):
            for line in candidate.splitlines():
                if line.strip():
                    return line.strip()
        return self.url

    def as_json(self, now: datetime | None = None) -> dict:
        return {
            "id": self.id,
            "source": self.source,
            "author": self.author,
            "title": self.title,
            "text": self.text,
            "url": self.url,
            "published": self.published,
            "categories": list(self.categories),
            "risk": self.risk,
            "rating": self.rating,
            "status": self.status,
            "assigned_to": self.assigned_to,
            "age_minutes": self.age_minutes(now),
            "snoozed_until": self.snoozed_until,
            "outcome": self.outcome,
        }


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _item(row: sqlite3.Row | tuple) -> QueueItem:
    (mid, source, author, title, text, url, published, ingested, cats, risk, rating, rank) = row[
        :12
    ]
    status, assigned, snoozed, outcome = row[12:16]
    return QueueItem(
        mid,
        source,
        author,
        title,
        text,
        url,
        published,
        ingested,
        tuple(c for c in cats.split(",") if c),
        risk,
        rating,
        rank,
        status,
        assigned,
        snoozed,
        json.loads(outcome or "{}"),
    )


# --- reading the queue -----------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """What the queue shows. status: a group (open, new, closed, all) or a state; rating: a
    group (flagged, any) or one rating; overdue: only open items past their response target."""

    status: str = "open"
    rating: str = "flagged"
    category: str = ""
    source: str = ""
    search: str = ""
    overdue: bool = False

    def statuses(self) -> tuple[str, ...]:
        if self.status in STATUS_GROUPS:
            return STATUS_GROUPS[self.status]
        if self.status in STATES:
            return (self.status,)
        raise InvalidInput(
            {"status": f"use one of {', '.join([*STATUS_GROUPS, *STATES])}"}, "queue filter"
        )

    def ranks(self) -> tuple[int, ...]:
        if self.rating in RATING_GROUPS:
            names = RATING_GROUPS[self.rating]
        elif self.rating in RATINGS:
            names = (self.rating,)
        else:
            raise InvalidInput(
                {"rating": f"use one of {', '.join([*RATING_GROUPS, *RATINGS[::-1]])}"},
                "queue filter",
            )
        return tuple(sorted((RATING_RANK[n] for n in names), reverse=True))


def fts_query(text: str) -> str:
    """Free text -> an FTS5 query that cannot be a syntax error: every word quoted, all needed,
    the last one also matching as a prefix (so results appear while typing)."""
    words = [w.replace('"', '""') for w in clean_line(text, 200).split()]
    if not words:
        return ""
    quoted = [f'"{w}"' for w in words]
    quoted[-1] += "*"
    return " ".join(quoted)


FTS_DRIVEN_MAX = 20_000  # fewer search hits than this: read them directly, else walk the index


def _search_hits(db: sqlite3.Connection, match: str) -> int:
    """Put a search's hits in a temp table, once per search and per batch of new mentions;
    answer how many there are. Few: the page reads them; many: the page walks the queue index
    and checks each row with one primary-key probe."""
    newest = db.execute("SELECT max(id) FROM mentions").fetchone()[0] or 0
    db.execute("CREATE TEMP TABLE IF NOT EXISTS search_hits (id INTEGER PRIMARY KEY)")
    db.execute(
        "CREATE TEMP TABLE IF NOT EXISTS search_hits_for (match TEXT, newest INTEGER, hits INTEGER)"
    )
    cached = db.execute("SELECT match, newest, hits FROM temp.search_hits_for").fetchone()
    if cached is not None and (cached[0], cached[1]) == (match, newest):
        return cached[2]
    db.execute("DELETE FROM temp.search_hits")
    db.execute("DELETE FROM temp.search_hits_for")
    hits = db.execute(
        "INSERT INTO temp.search_hits SELECT rowid FROM mentions_fts WHERE mentions_fts MATCH ?",
        (match,),
    ).rowcount
    db.execute("INSERT INTO temp.search_hits_for VALUES (?, ?, ?)", (match, newest, hits))
    return hits


class _Where:
    """The filter's residual conditions, shared by page and count queries.

    A search with few hits is read from the hits (`hits_driven`); one with many walks the
    queue index and probes a temp table of hits.
    """

    def __init__(self, db: sqlite3.Connection, filters: Filters, targets: Targets | None, now):
        self.filters = filters
        self.sql: list[str] = []
        self.args: list = []
        self.cutoffs: dict[int, str | None] = {}
        if filters.category:
            self.sql.append("(',' || categories || ',') LIKE ?")
            self.args.append(f"%,{filters.category},%")
        if filters.source:
            self.sql.append(
                "(source = ? COLLATE NOCASE OR id IN"
                " (SELECT mention_id FROM mention_sources WHERE source = ? COLLATE NOCASE))"
            )
            self.args += [filters.source, filters.source]
        if filters.overdue:
            if targets is None:
                raise ValueError("an overdue filter needs the response targets")
            for rank, name in enumerate(RATINGS):
                cut = targets.cutoff(name, now)
                self.cutoffs[rank] = utc_text(cut) if cut else None
        self.match = fts_query(filters.search) if filters.search else ""
        self.hits_driven = False
        if filters.search and not self.match:
            self.sql.append("0")
        elif self.match:
            self.hits_driven = _search_hits(db, self.match) <= FTS_DRIVEN_MAX
            if not self.hits_driven:
                self.sql.append(
                    "EXISTS (SELECT 1 FROM temp.search_hits h WHERE h.id = mentions.id)"
                )

    def for_rank(self, rank: int) -> tuple[list[str], list] | None:
        """Conditions for one rating; None when that rating can show nothing."""
        if self.filters.category and rank == 0:
            return None  # unflagged mentions have no categories
        sql, args = list(self.sql), list(self.args)
        if self.cutoffs:
            cut = self.cutoffs.get(rank)
            if cut is None:
                return None
            sql.append("max(published, ingested_at) <= ?")
            args.append(cut)
        return sql, args

    def from_hits(self, select: str, statuses, ranks) -> tuple[list[str], list]:
        """The start of a query that reads the search hits and then their mentions."""
        query = [
            f"SELECT {select} FROM (SELECT id AS rid FROM temp.search_hits) AS h"
            " CROSS JOIN mentions ON mentions.id = h.rid",
            f"WHERE status IN ({','.join('?' * len(statuses))})",
            f"AND rating_rank IN ({','.join('?' * len(ranks))})",
        ]
        params: list = [*statuses, *ranks]
        query += ["AND " + c for c in self.sql]
        params += self.args
        if self.filters.category:
            query.append("AND rating_rank > 0")
        if self.cutoffs:
            cases = " ".join(
                f"WHEN {rank} THEN ?" for rank, cut in self.cutoffs.items() if cut is not None
            )
            query.append(f"AND max(published, ingested_at) <= CASE rating_rank {cases} END")
            params += [cut for cut in self.cutoffs.values() if cut is not None]
        return query, params


def page(
    db: sqlite3.Connection,
    filters: Filters = Filters(),
    after: tuple[int, str, int] | None = None,
    limit: int = 100,
    *,
    targets: Targets | None = None,
    now: datetime | None = None,
) -> list[QueueItem]:
    """The next `limit` items after `after` (a QueueItem.cursor), in queue order."""
    now = now or now_utc()
    statuses, ranks = filters.statuses(), filters.ranks()
    where = _Where(db, filters, targets, now)
    if where.hits_driven:
        query, params = where.from_hits(_COLUMNS, statuses, ranks)
        if after is not None:
            query.append("AND (rating_rank < ? OR (rating_rank = ? AND (published, id) > (?, ?)))")
            params += [after[0], after[0], after[1], after[2]]
        query.append("ORDER BY rating_rank DESC, published, id LIMIT ?")
        return [_item(r) for r in db.execute(" ".join(query), [*params, limit])]
    found: list[QueueItem] = []
    for rank in ranks:
        if after is not None and rank > after[0]:
            continue
        conditions = where.for_rank(rank)
        if conditions is None:
            continue
        sql, args = conditions
        keyset = after if after is not None and rank == after[0] else None
        runs = []
        for status in statuses:
            query = [f"SELECT {_COLUMNS} FROM mentions WHERE status = ? AND rating_rank = ?"]
            params: list = [status, rank]
            if keyset is not None:
                query.append("AND (published, id) > (?, ?)")
                params += [keyset[1], keyset[2]]
            for condition in sql:
                query.append("AND " + condition)
            params += args
            query.append("ORDER BY published, id LIMIT ?")
            params.append(limit - len(found))
            runs.append([_item(r) for r in db.execute(" ".join(query), params)])
        for item in merge(*runs, key=lambda i: (i.published, i.id)):
            found.append(item)
            if len(found) >= limit:
                return found
    return found


def count(
    db: sqlite3.Connection,
    filters: Filters = Filters(),
    *,
    cap: int = 10_000,
    targets: Targets | None = None,
    now: datetime | None = None,
) -> int:
    """How many items the filter shows, counting no further than `cap` (shown as "cap+")."""
    now = now or now_utc()
    statuses, ranks = filters.statuses(), filters.ranks()
    where = _Where(db, filters, targets, now)
    if where.hits_driven:
        query, params = where.from_hits("1", statuses, ranks)
        sql = f"SELECT count(*) FROM ({' '.join(query)} LIMIT ?)"
        return db.execute(sql, [*params, cap + 1]).fetchone()[0]
    total = 0
    for rank in ranks:
        conditions = where.for_rank(rank)
        if conditions is None:
            continue
        sql, args = conditions
        query = (
            f"SELECT count(*) FROM (SELECT 1 FROM mentions WHERE status IN"
            f" ({','.join('?' * len(statuses))}) AND rating_rank = ?"
            + "".join(" AND " + c for c in sql)
            + " LIMIT ?)"
        )
        total += db.execute(query, [*statuses, rank, *args, cap - total + 1]).fetchone()[0]
        if total > cap:
            return total
    return total


@dataclass(frozen=True)
class RatingCounts:
    rating: str
    new: int
    open: int
    overdue: int


def dashboard_counts(
    db: sqlite3.Connection, targets: Targets, now: datetime | None = None
) -> list[RatingCounts]:
    """New, open and overdue mentions for each flagged rating, highest first."""
    now = now or now_utc()
    wake_snoozed(db, now)
    counts = []
    for name in RATING_GROUPS["flagged"]:
        rank = RATING_RANK[name]
        by_status = dict(
            db.execute(
                "SELECT status, count(*) FROM mentions WHERE status IN ('new', 'in_progress')"
                " AND rating_rank = ? GROUP BY status",
                (rank,),
            ).fetchall()
        )
        cut = targets.cutoff(name, now)
        overdue = 0
        if cut is not None:
            overdue = db.execute(
                "SELECT count(*) FROM mentions WHERE status IN ('new', 'in_progress')"
                " AND rating_rank = ? AND max(published, ingested_at) <= ?",
                (rank, utc_text(cut)),
            ).fetchone()[0]
        counts.append(RatingCounts(name, by_status.get("new", 0), sum(by_status.values()), overdue))
    return counts


def get_item(db: sqlite3.Connection, mention_id: int) -> QueueItem:
    row = db.execute(f"SELECT {_COLUMNS} FROM mentions WHERE id = ?", (mention_id,)).fetchone()
    if row is None:
        raise NotFound(f"no mention with id {mention_id}")
    return _item(row)


@dataclass(frozen=True)
class HistoryEntry:
    at: str
    actor: str
    action: str
    status: str
    facts: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Detail:
    item: QueueItem
    sources: list[str]
    matches: list[dict]
    history: list[HistoryEntry]


def detail(db: sqlite3.Connection, mention_id: int) -> Detail:
    item = get_item(db, mention_id)
    history = []
    for entry in reversed(audit.entries(db, entity="mention", entity_id=str(mention_id))):
        after = dict(entry.after or {})
        status = after.pop("status", "")
        after.pop("assigned_to", None)
        history.append(HistoryEntry(entry.at, entry.actor, entry.action, status, after))
    return Detail(item, mention_sources(db, mention_id), mention_matches(db, mention_id), history)


# --- changing state --------------------------------------------------------------------------

_KEEP = object()


def _change(
    db: sqlite3.Connection,
    actor: str,
    mention_id: int,
    action: str,
    to_status: str,
    *,
    allowed_from: Sequence[str],
    facts: dict | None = None,
    assigned_to: object = _KEEP,
    snoozed_until: str | None = None,
    when: datetime | None = None,
) -> QueueItem:
    with transaction(db):
        item = get_item(db, mention_id)
        if item.status not in allowed_from:
            hint = " (reopen it first)" if item.status in CLOSED else ""
            raise Refused(
                f"mention {mention_id} is {STATE_LABELS[item.status]}: cannot "
                f"{action.replace('_', ' ')} it{hint}"
            )
        assigned = item.assigned_to if assigned_to is _KEEP else assigned_to
        outcome = facts or {}
        stamp = utc_text(when or now_utc())
        db.execute(
            "UPDATE mentions SET status = ?, assigned_to = ?, outcome = ?, snoozed_until = ?,"
            " updated_at = ? WHERE id = ?",
            (
                to_status,
                assigned,
                json.dumps(outcome, ensure_ascii=False),
                snoozed_until,
                stamp,
                mention_id,
            ),
        )
        audit.record(
            db,
            actor,
            f"mention.{action}",
            "mention",
            mention_id,
            {"status": item.status, "assigned_to": item.assigned_to},
            {"status": to_status, "assigned_to": assigned, **outcome},
        )
    return replace(
        item,
        status=to_status,
        assigned_to=assigned,
        outcome=outcome,
        snoozed_until=snoozed_until,
    )


def _note(note: str) -> dict:
    return {"note": clean_block(note, 2000)} if note.strip() else {}


def _refuse_missing(problems: dict[str, str], mention_id: int) -> None:
    if problems:
        raise InvalidInput(problems, f"mention {mention_id}")


def assign(
    db: sqlite3.Connection, actor: str, mention_id: int, officer: str, note: str = ""
) -> QueueItem:
    officer = clean_line(officer, 100)
    if not officer:
        _refuse_missing({"officer": "say who will work on it"}, mention_id)
    person = get_staff(db, officer)
    if person.left_on:
        raise Refused(f"{person.name} has left the council: assign someone else")
    facts = _note(note)
    return _change(
        db,
        actor,
        mention_id,
        "assign",
        "in_progress",
        allowed_from=("new", "in_progress", "snoozed"),
        facts=facts,
        assigned_to=person.name,
    )


OUTCOME_FROM = ("new", "in_progress", "snoozed")


def respond(
    db: sqlite3.Connection,
    actor: str,
    mention_id: int,
    response: str,
    checks: Iterable[str],
    guide: Guide,
    note: str = "",
) -> QueueItem:
    """Record the council's response (its text or a link to it); every "before you respond"
    check in the guide must be confirmed."""
    response = clean_block(response, 5000)
    confirmed = set(checks)
    problems = {}
    if not response:
        problems["response"] = "give the response as sent, or a link to it"
    missing = [c.label for c in guide.before_you_respond if c.id not in confirmed]
    if missing:
        problems["checks"] = "confirm the 'before you respond' checks: " + ", ".join(missing)
    _refuse_missing(problems, mention_id)
    facts = {"response": response, "checks": [c.id for c in guide.before_you_respond]}
    if note.strip():
        facts["note"] = clean_block(note, 2000)
    return _change(
        db, actor, mention_id, "respond", "responded", allowed_from=OUTCOME_FROM, facts=facts
    )


def refer(db: sqlite3.Connection, actor: str, mention_id: int, to: str, note: str) -> QueueItem:
    """Refer to a service, team or staff member, with a note of what was passed on."""
    to, note = clean_line(to, 200), clean_block(note, 2000)
    problems = {}
    if not to:
        problems["to"] = "say who it is referred to (a service, team or staff member)"
    if not note:
        problems["note"] = "add a note of what was passed on"
    _refuse_missing(problems, mention_id)
    return _change(
        db,
        actor,
        mention_id,
        "refer",
        "referred",
        allowed_from=OUTCOME_FROM,
        facts={"to": to, "note": note},
    )


def no_engagement(
    db: sqlite3.Connection,
    actor: str,
    mention_id: int,
    reason: str,
    guide: Guide,
    note: str = "",
) -> QueueItem:
    known = {c.id: c.label for c in guide.no_engagement_reasons}
    reason = reason.strip()
    if reason not in known:
        options = "; ".join(f"{k} ({v})" for k, v in known.items())
        problems = {"reason": f"give one of the assessment's reasons: {options}"}
        if not reason:
            problems["reason"] = "say why there is no engagement: " + options
        _refuse_missing(problems, mention_id)
    facts = {"reason": reason, "reason_label": known[reason]}
    if note.strip():
        facts["note"] = clean_block(note, 2000)
    return _change(
        db,
        actor,
        mention_id,
        "no_engagement",
        "no_engagement",
        allowed_from=OUTCOME_FROM,
        facts=facts,
    )


def escalate(
    db: sqlite3.Connection,
    actor: str,
    mention_id: int,
    note: str,
    incident_id: int | None = None,
) -> QueueItem:
    """Escalate: the mention goes to the incident procedure. Until an incident is linked the
    intent is recorded with the reason."""
    note = clean_block(note, 2000)
    if not note and incident_id is None:
        _refuse_missing({"note": "say what has gone wrong, for the incident record"}, mention_id)
    facts: dict = {"note": note}
    if incident_id is not None:
        facts["incident"] = incident_id
    else:
        facts["intent"] = "incident to be opened"
    return _change(
        db,
        actor,
        mention_id,
        "escalate",
        "escalated",
        allowed_from=OUTCOME_FROM,
        facts=facts,
    )


def dismiss(db: sqlite3.Connection, actor: str, mention_id: int, note: str = "") -> QueueItem:
    """Not relevant (an unrelated post that matched a word, say)."""
    facts = _note(note)
    return _change(
        db, actor, mention_id, "dismiss", "dismissed", allowed_from=OUTCOME_FROM, facts=facts
    )


def dismiss_many(
    db: sqlite3.Connection, actor: str, mention_ids: Iterable[int], note: str = ""
) -> int:
    """Dismiss several low-risk mentions in one transaction: all of them or none."""
    ids = sorted(set(mention_ids))
    limit = RATING_RANK[BULK_DISMISS_MAX_RATING]
    with transaction(db):
        for mention_id in ids:
            item = get_item(db, mention_id)
            if item.rating_rank > limit:
                raise Refused(
                    f"mention {mention_id} is rated {item.rating}: bulk dismiss is for "
                    f"{BULK_DISMISS_MAX_RATING}-risk mentions only; triage it on its own"
                )
            dismiss(db, actor, mention_id, note or "dismissed in bulk")
    return len(ids)


def snooze(
    db: sqlite3.Connection,
    actor: str,
    mention_id: int,
    until: datetime,
    note: str = "",
    *,
    now: datetime | None = None,
) -> QueueItem:
    now = now or now_utc()
    if until.tzinfo is None:
        raise ValueError("snooze needs an aware datetime")
    if until <= now:
        _refuse_missing({"until": "snooze until a time in the future"}, mention_id)
    facts = {"until": utc_text(until)}
    if note.strip():
        facts["note"] = clean_block(note, 2000)
    return _change(
        db,
        actor,
        mention_id,
        "snooze",
        "snoozed",
        allowed_from=("new", "in_progress", "snoozed"),
        facts=facts,
        snoozed_until=utc_text(until),
    )


def reopen(db: sqlite3.Connection, actor: str, mention_id: int, note: str = "") -> QueueItem:
    facts = _note(note)
    return _change(
        db,
        actor,
        mention_id,
        "reopen",
        "new",
        allowed_from=(*CLOSED, "snoozed", "in_progress"),
        facts=facts,
        assigned_to=None,
    )


def wake_snoozed(db: sqlite3.Connection, now: datetime | None = None) -> int:
    """Snoozed mentions whose time has come go back to new (audited as smduty's own act)."""
    now_text = utc_text(now or now_utc())
    due = [
        r[0]
        for r in db.execute(
            "SELECT id FROM mentions WHERE snoozed_until IS NOT NULL AND snoozed_until <= ?"
            " AND status = 'snoozed'",
            (now_text,),
        )
    ]
    if not due:
        return 0
    with transaction(db):
        for mention_id in due:
            item = get_item(db, mention_id)
            if item.status == "snoozed":
                _change(
                    db,
                    "smduty",
                    mention_id,
                    "wake",
                    "new",
                    allowed_from=("snoozed",),
                    facts={"note": f"snooze ended at {item.snoozed_until}"},
                )
    return len(due)


_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def parse_until(text: str, now: datetime | None = None) -> datetime:
    """When a snooze ends: "2h", "30m", "3d", "tomorrow" or a weekday (09:00 local), or an ISO
    date or date-time (local time unless it says otherwise). ValueError names what it wants."""
    from datetime import time, timedelta

    from smduty.core.clock import COUNCIL_TZ

    now = now or now_utc()
    value = text.strip().lower()
    units = {"m": 1, "h": 60, "d": 24 * 60}
    if len(value) > 1 and value[:-1].isdigit() and value[-1] in units:
        return now + timedelta(minutes=int(value[:-1]) * units[value[-1]])
    local = now.astimezone(COUNCIL_TZ)
    if value == "tomorrow" or value in _WEEKDAYS:
        days = 1
        if value in _WEEKDAYS:
            days = (_WEEKDAYS.index(value) - local.weekday()) % 7 or 7
        day = local.date() + timedelta(days=days)
        return datetime.combine(day, time(9, 0), COUNCIL_TZ).astimezone(UTC)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r} is not a time: use 2h, 30m, 3d, tomorrow, a weekday, or 2026-11-23T09:00"
        ) from None
    if len(text.strip()) == 10:  # a bare date: 09:00 that day
        moment = moment.replace(hour=9)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=COUNCIL_TZ)
    return moment.astimezone(UTC)


def age_text(minutes: int) -> str:
    """45m, 3h 20m, 2d 4h: short enough for a table column."""
    if minutes < 60:
        return f"{minutes}m"
    hours, mins = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {mins:02d}m" if mins else f"{hours}h"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h" if hours else f"{days}d"
