"""The triage queue read: pages of mentions, counts, one mention in detail. Nothing here writes.

States: new -> in_progress (assigned to an officer) -> an outcome (responded, referred,
no_engagement, escalated) or dismissed; snoozed hides a mention until a time, then it is new
again (the changes themselves are in `outcomes`).

The queue is read a page at a time with keyset queries in the order rating high to low, then
oldest first, so a page costs the same at row 20 and at row 900,000.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from heapq import merge

import msgspec

from smduty.core.clock import now_utc, parse_stamp, utc_text
from smduty.core.errors import InvalidInput, NotFound
from smduty.core.monitoring.flag_verdict import RATING_RANK, RATINGS
from smduty.core.monitoring.imports import not_pending, pending_ranges
from smduty.core.text import clean_line
from smduty.core.triage.targets import Targets

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

_COLUMNS = (
    "id, source, author, title, text, url, published, ingested_at, categories, risk, rating,"
    " rating_rank, status, assigned_to, snoozed_until, outcome, published_unknown"
)


class QueueItem(msgspec.Struct, frozen=True):
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
    published_unknown: bool = False  # no readable date: `published` is when it was first seen

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
            "published": None if self.published_unknown else self.published,
            "first_seen": self.ingested_at,
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
    return parse_stamp(text)


def _item(row: sqlite3.Row | tuple) -> QueueItem:
    (mid, source, author, title, text, url, published, ingested, cats, risk, rating, rank) = row[
        :12
    ]
    status, assigned, snoozed, outcome, unknown = row[12:17]
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
        bool(unknown),
    )


# --- reading the queue -----------------------------------------------------------------------


NOBODY = "none"  # Filters.assigned: mentions nobody has taken on


def assignee_for(value: str, actor: str) -> str:
    """An assignee filter as given ("me", "none", a name) as Filters.assigned takes it."""
    value = value.strip()
    if value.casefold() == "me":
        return actor
    if value.casefold() in ("none", "nobody"):
        return NOBODY
    return value


def view_filters(view, actor: str) -> Filters:
    """A named view from the settings (config.QueueView, the same fields as Filters) as filters
    for `actor`; InvalidInput when it names a status or rating that does not exist."""
    import msgspec

    fields = msgspec.structs.asdict(view)
    found = Filters(**{**fields, "assigned": assignee_for(view.assigned, actor)})
    found.statuses(), found.ranks()  # refuse a status or rating that is not one
    return found


class Filters(msgspec.Struct, frozen=True):
    """What the queue shows. status: a group (open, new, closed, all) or a state; rating: a
    group (flagged, any) or one rating; overdue: only open items past their response target."""

    status: str = "open"
    rating: str = "flagged"
    category: str = ""
    source: str = ""
    search: str = ""
    overdue: bool = False
    assigned: str = ""  # "" anyone, NOBODY for unassigned, else the officer's name

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
        for first, last in pending_ranges(db):  # an import still being written: not yet shown
            self.sql.append("id NOT BETWEEN ? AND ?")
            self.args += [first, last]
        if filters.category:
            self.sql.append("(',' || categories || ',') LIKE ?")
            self.args.append(f"%,{filters.category},%")
        if filters.source:
            self.sql.append(
                "(source = ? COLLATE NOCASE OR id IN"
                " (SELECT mention_id FROM mention_sources WHERE source = ? COLLATE NOCASE))"
            )
            self.args += [filters.source, filters.source]
        if filters.assigned == NOBODY:
            self.sql.append("assigned_to IS NULL")
        elif filters.assigned:
            self.sql.append("assigned_to = ? COLLATE NOCASE")
            self.args.append(filters.assigned)
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


def unflagged_count(
    db: sqlite3.Connection, filters: Filters, *, cap: int = 10_000, now: datetime | None = None
) -> int:
    """How many unflagged mentions the same filters leave out of a flagged-only queue (none
    when the queue already shows every rating): the queue says so, so none is hidden."""
    if filters.rating != "flagged" or filters.overdue:
        return 0
    return count(db, msgspec.structs.replace(filters, rating="none"), cap=cap, now=now)


class RatingCounts(msgspec.Struct, frozen=True):
    rating: str
    new: int
    open: int
    overdue: int


def dashboard_counts(
    db: sqlite3.Connection, targets: Targets, now: datetime | None = None
) -> list[RatingCounts]:
    """New, open and overdue mentions for each flagged rating, highest first."""
    now = now or now_utc()
    counts = []
    hidden, hidden_args = not_pending(db)  # an import still being written: not yet counted
    for name in RATING_GROUPS["flagged"]:
        rank = RATING_RANK[name]
        by_status = dict(
            db.execute(
                "SELECT status, count(*) FROM mentions WHERE status IN ('new', 'in_progress')"
                f" AND rating_rank = ?{hidden} GROUP BY status",
                (rank, *hidden_args),
            ).fetchall()
        )
        cut = targets.cutoff(name, now)
        overdue = 0
        if cut is not None:
            overdue = db.execute(
                "SELECT count(*) FROM mentions WHERE status IN ('new', 'in_progress')"
                f" AND rating_rank = ? AND max(published, ingested_at) <= ?{hidden}",
                (rank, utc_text(cut), *hidden_args),
            ).fetchone()[0]
        counts.append(RatingCounts(name, by_status.get("new", 0), sum(by_status.values()), overdue))
    return counts


def get_item(db: sqlite3.Connection, mention_id: int) -> QueueItem:
    row = db.execute(f"SELECT {_COLUMNS} FROM mentions WHERE id = ?", (mention_id,)).fetchone()
    if row is None:
        raise NotFound(f"no mention with id {mention_id}")
    return _item(row)


def age_text(minutes: int) -> str:
    """45m, 3h 20m, 2d 4h: short enough for a table column."""
    if minutes < 60:
        return f"{minutes}m"
    hours, mins = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {mins:02d}m" if mins else f"{hours}h"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h" if hours else f"{days}d"
