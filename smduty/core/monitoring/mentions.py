"""Mentions: normalised, deduplicated and stored with the reasons they were flagged.

A mention's key is the source's own id when it has one, else its URL, else a hash of its
normalised text, author and date. The same URL reaching smduty from another source is the same
mention: it is stored once and remembers every source that brought it.
"""

from __future__ import annotations

import functools
import hashlib
import sqlite3
import time
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import msgspec

from smduty.core.clock import utc_text
from smduty.core.monitoring.flagging import RATING_RANK, RuleSet
from smduty.core.monitoring.imports import Lease, heartbeat
from smduty.core.store import someone_waiting, transaction, waiting_marker
from smduty.core.text import clean_line, strip_controls

CAPS = {"source_item_id": 500, "url": 2000, "title": 500, "text": 10_000, "author": 200}
_ID_CAP, _URL_CAP, _TITLE_CAP, _TEXT_CAP, _AUTHOR_CAP = CAPS.values()


class RawMention(msgspec.Struct):
    """One post as a reader found it: decoded, not yet cleaned (`Preparer` cleans it)."""

    source_item_id: str = ""
    url: str = ""
    title: str = ""
    text: str = ""
    author: str = ""
    published: datetime | str | None = None  # a str is a UTC stamp, "2026-11-21T08:30:00Z"
    # What the post is when neither an id nor its link says (a feed item as written): keyed on
    # this, and its link is then not taken to name it.
    basis: str = ""


# Query parameters that say how a link was shared, not which post it is.
_TRACKING = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "igshid",
        "igsh",
        "mibextid",
        "ref_src",
        "ref_url",
        "si",
        "feature",
        "cmpid",
        "mc_cid",
        "mc_eid",
        "_ga",
        "__tn__",
        "share_id",
        "sharing_id",
        "rdid",
        "sfnsn",
        "wtsrc",
        "smid",
        "smtyp",
    }
)
_TRACKING_PREFIXES = ("utm_", "__cft__", "_hs")
# Hosts that are one site: the short or mobile name folds to the one the site uses now.
_HOSTS = {"twitter.com": "x.com", "fb.com": "facebook.com", "fb.watch": "facebook.com"}
_MOBILE = ("www.", "m.", "mobile.", "mbasic.", "touch.", "amp.")
# Sites whose posts need nothing from the query (what follows "?" is how it was shared).
_NO_QUERY = frozenset({"x.com", "instagram.com", "tiktok.com", "threads.net", "linkedin.com"})


@functools.lru_cache(maxsize=4096)  # an export names a few hosts thousands of times
def _host(netloc: str) -> str:
    host = netloc.lower().rsplit("@", 1)[-1].removesuffix(":443").removesuffix(":80")
    for prefix in _MOBILE:
        if host.startswith(prefix) and host.count(".") >= 2:
            host = host[len(prefix) :]
            break
    return _HOSTS.get(host, host)


def url_key(url: str) -> str:
    """The URL as the post's name: https, the host folded (twitter.com and x.com, mobile.,
    m. and www. forms are one), no fragment, no trailing slash, and none of the parameters
    that only say how the link was shared (utm_*, fbclid, si, X's ?s=20&t=...). A relative
    link ("/news/1") names nothing on its own: "" (each feed's "/news/1" is its own)."""
    if not url:
        return ""
    url = url.strip()
    if "?" not in url and "#" not in url and url.startswith(("https://", "http://")):
        # Fast path (most links): fold the host, drop a trailing slash.
        _, _, rest = url.partition("://")
        netloc, slash, path = rest.partition("/")
        path = ("/" + path).rstrip("/") if slash else ""
        return f"https://{_host(netloc)}{path or '/'}"
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if not parts.scheme:
        return ""
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return url
    host = _host(parts.netloc)
    path = parts.path.rstrip("/") or "/"
    query = []
    if host == "youtu.be" and path != "/":
        host, query, path = "youtube.com", [("v", path.strip("/"))], "/watch"
    elif host not in _NO_QUERY:
        keep_only = {"v"} if host == "youtube.com" and path == "/watch" else None
        for k, v in parse_qsl(parts.query, keep_blank_values=True):
            name = k.lower()
            if keep_only is not None and name not in keep_only:
                continue
            if name in _TRACKING or name.startswith(_TRACKING_PREFIXES):
                continue
            query.append((k, v))
    return urlunsplit(("https", host, path, urlencode(sorted(query)), ""))


def mention_key(namespace: str, m: RawMention) -> str:
    if m.source_item_id:
        own = m.source_item_id
        # Ids like "123" are only unique within their source; URIs and URLs are global.
        return f"id:{own}" if ":" in own else f"id:{namespace.casefold()}:{own}"
    if m.basis:
        return "hash:" + hashlib.sha256(m.basis.encode()).hexdigest()[:32]
    named = url_key(m.url) if m.url else ""
    if named:
        return f"url:{named}"
    # No id, no link: the post is what it says, who said it and when (with its title, so that
    # title-only feed items are not all one post).
    basis = "\x1f".join(
        [
            " ".join(m.title.casefold().split()),
            " ".join(m.text.casefold().split()),
            m.author.casefold(),
            _iso(m.published) if m.published else "",
        ]
    )
    return "hash:" + hashlib.sha256(basis.encode()).hexdigest()[:32]


def _iso(published: datetime | str) -> str:
    """As `datetime.isoformat()` gives it in UTC: part of a hashed key, so it must not change."""
    if isinstance(published, str):
        return published.removesuffix("Z") + "+00:00"
    return published.isoformat()


def _stamp(published: datetime | str) -> str:
    return published if isinstance(published, str) else utc_text(published)


class Counts(msgspec.Struct):
    read: int = 0
    new: int = 0
    duplicates: int = 0
    flagged: int = 0
    skipped: int = 0

    def add(self, other: Counts) -> None:
        for name in ("read", "new", "duplicates", "flagged", "skipped"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


BATCH = 500
# An import gives the write lock up between its short transactions, and leaves it free for a
# while when another write waits: GAP_SECONDS, longer than any waiter's look (smduty's own
# `begin_write` looks every 50 ms, sqlite's busy handler every 100 ms at most). smduty's writes
# say they are waiting (`store.note_waiting`), so the import pauses only then; a write that does
# not say so (another program's) is let through after the import has held the lock for
# HOLD_SECONDS in all, so it too waits less than a second.
HOLD_SECONDS = 0.75
GAP_SECONDS = 0.12
# Posts an import writes a transaction: FTS5 flushes its pending terms at every commit, so
# 6,000 rows a transaction write 10% faster than 2,000 (bench/RESULTS.md), and still hold the
# lock for a fifth of a second at most.
IMPORT_BATCH = 6000

# One mention ready to store: everything but its id, worked out without the database, so that a
# second process can do it (see `reader_process`). Plain tuples pickle quickly.
#   key, url_key, source_item_id, url, title, text, author, published,
#   about_council, risk, rating, rating_rank, categories, published_unknown, matches
# A post whose date is unknown (none given, or one that could not be read) keeps the time it
# was read as `published`, so it sorts by when it arrived, and says the date is unknown.
Prepared = tuple
_STORED = 8  # the first eight fields go into the row as they are, then source and ingested_at


class Preparer:
    """Turns what a reader found into a `Prepared` mention: cleaned, keyed and flagged."""

    def __init__(self, rules: RuleSet, source: str, fetched_at: datetime) -> None:
        self.scan = rules.scan
        self.source = strip_controls(source)[:200]
        self.fallback = utc_text(fetched_at)

    def __call__(self, raw: RawMention) -> Prepared | None:
        """None for a post with nothing at all: no text, title, link, id, author or date."""
        # Runs once per post read (200,000 in a big export), so empty fields skip clean_line.
        url = clean_line(raw.url, _URL_CAP) if raw.url else ""
        title = clean_line(raw.title, _TITLE_CAP) if raw.title else ""
        text = clean_line(raw.text, _TEXT_CAP) if raw.text else ""
        if not (text or title or url or raw.source_item_id or raw.basis.strip("\x1f")):
            return None
        m = RawMention(
            clean_line(raw.source_item_id, _ID_CAP) if raw.source_item_id else "",
            url,
            title,
            text,
            clean_line(raw.author, _AUTHOR_CAP) if raw.author else "",
            raw.published,
            raw.basis,
        )
        verdict = self.scan({"title": title, "text": text})
        return (
            mention_key(self.source, m),
            "" if raw.basis else url_key(url),  # a link that does not name the post
            m.source_item_id,
            url,
            title,
            text,
            m.author,
            _stamp(m.published) if m.published else self.fallback,
            int(verdict.about_council),
            verdict.risk,
            verdict.rating,
            RATING_RANK[verdict.rating],
            ",".join(verdict.categories),
            0 if m.published else 1,
            tuple(
                (
                    x.rule,
                    x.category,
                    x.matched[:200],
                    x.field,
                    x.start,
                    x.end,
                    x.likelihood,
                    x.consequence,
                    x.why[:500],
                )
                for x in verdict.matches
            ),
        )


class MentionWriter:
    """Adds mentions in batches; counts what happened to each.

    `add` prepares a post here; `add_prepared` takes posts another process prepared. Each batch
    is written in one short transaction of its own (or in the caller's, when there is one), so
    others' writes wait milliseconds. With an import `lease` (see `imports`) ids start at the
    lease's first id and each batch notes its last id and a heartbeat; `close()` writes the
    rest. Ids are given here: only the lease holder writes mentions.
    """

    def __init__(
        self,
        db: sqlite3.Connection,
        rules: RuleSet,
        source: str,
        fetched_at: datetime,
        lease: Lease | None = None,
    ) -> None:
        self.db = db
        self.prepare = Preparer(rules, source, fetched_at)
        self.source = self.prepare.source
        self.now = utc_text(fetched_at)
        self.counts = Counts()
        self.pending: list[Prepared] = []
        self.lease = lease
        self.next_id: int | None = lease.first_id if lease else None
        self._released = time.monotonic()
        self._held = 0.0  # since the lock was last left free for GAP_SECONDS
        self._marker = waiting_marker(db) if lease is not None else None

    def add(self, raw: RawMention) -> None:
        self.counts.read += 1
        prepared = self.prepare(raw)
        if prepared is None:
            self.counts.skipped += 1
            return
        self.pending.append(prepared)
        if len(self.pending) >= BATCH:
            self.flush()

    def add_prepared(self, batch: list[Prepared], read: int, skipped: int) -> None:
        """Posts prepared elsewhere, with how many were read and skipped to get them."""
        self.counts.read += read
        self.counts.skipped += skipped
        self.pending.extend(batch)
        # Also when the posts come slowly, so the lease's heartbeat never goes quiet for long.
        if len(self.pending) >= IMPORT_BATCH or time.monotonic() - self._released > 30:
            self.flush()

    def close(self) -> None:
        self.flush()

    def flush(self) -> None:
        """Store what is pending in one transaction. With a lease (an import) the duplicates are
        looked up before the lock is taken, and looked up again under it only if another
        process wrote in between, so the lock is held for the inserts alone."""
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        if self.lease is None or self.db.in_transaction:
            with transaction(self.db):
                self._store(self._plan(batch))
            return
        seen = self._data_version()
        plan = self._plan(batch)
        self._give_way()
        began = time.monotonic()
        with transaction(self.db):
            if self._data_version() != seen:  # another process wrote: look again
                plan = self._plan(batch)
            self._store(plan)
            heartbeat(self.db, self.lease, self.next_id - 1)
        self._released = time.monotonic()
        self._held += self._released - began

    def _data_version(self) -> int:
        return self.db.execute("PRAGMA data_version").fetchone()[0]

    def _give_way(self) -> None:
        """Leave the lock free for GAP_SECONDS when a write waits for it, or once it has been
        held HOLD_SECONDS since it was last free that long (see there)."""
        free = time.monotonic() - self._released
        if free >= GAP_SECONDS:
            self._held = 0.0
        elif self._held >= HOLD_SECONDS or someone_waiting(self._marker):
            time.sleep(GAP_SECONDS - free)
            self._held = 0.0

    def _plan(self, batch: list[Prepared]) -> _Plan:
        """What storing `batch` means: the new rows, their matches, the sources that saw a post
        already stored, and how many were duplicates. Reads only."""
        db = self.db
        if self.next_id is None:
            self.next_id = (db.execute("SELECT max(id) FROM mentions").fetchone()[0] or 0) + 1
        keys = list({p[0] for p in batch})
        urls = list({p[1] for p in batch if p[1]})
        by_key: dict[str, tuple[int, str]] = {}
        for start in range(0, len(keys), BATCH):
            part = keys[start : start + BATCH]
            marks = ",".join("?" * len(part))
            for r in db.execute(
                f"SELECT key, id, source FROM mentions WHERE key IN ({marks})", part
            ):
                by_key[r[0]] = (r[1], r[2])
        by_url: dict[str, tuple[int, str]] = {}
        for start in range(0, len(urls), BATCH):
            part = urls[start : start + BATCH]
            marks = ",".join("?" * len(part))
            for r in db.execute(
                f"SELECT url_key, id, source FROM mentions WHERE url_key IN ({marks})"
                " AND url_key != ''",
                part,
            ):
                by_url.setdefault(r[0], (r[1], r[2]))
        plan = _Plan()
        rows, matches, also_seen = plan.rows, plan.matches, plan.also_seen
        source, now, mention_id = self.source, self.now, self.next_id
        import_id = self.lease.import_id if self.lease else None
        for p in batch:
            key, ukey = p[0], p[1]
            existing = by_key.get(key)
            if existing is None and ukey:
                # The same link is the same post when another source brought it, or when the
                # post has no id of its own; a feed's items with ids of their own are
                # different posts even if they all link to one page.
                other = by_url.get(ukey)
                if other is not None and (not p[2] or other[1] != source):
                    existing = other
            if existing is not None:
                plan.duplicates += 1
                if existing[1] != source:
                    also_seen.append((existing[0], source, now, import_id))
                continue
            by_key[key] = (mention_id, source)
            if ukey:
                by_url.setdefault(ukey, (mention_id, source))
            rows.append((mention_id, *p[:_STORED], source, now, *p[_STORED:-1], now))
            if p[-1]:
                plan.flagged += 1
                matches.extend((mention_id, *x) for x in p[-1])
            mention_id += 1
        return plan

    def _store(self, plan: _Plan) -> None:
        db, rows = self.db, plan.rows
        db.executemany(
            "INSERT INTO mentions (id, key, url_key, source_item_id, url, title, text, author,"
            " published, source, ingested_at, about_council, risk, rating, rating_rank,"
            " categories, published_unknown, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        if rows:
            db.execute(
                "INSERT INTO mentions_fts (rowid, title, text, author)"
                " SELECT id, title, text, author FROM mentions WHERE id BETWEEN ? AND ?",
                (rows[0][0], rows[-1][0]),
            )
            self.next_id = rows[-1][0] + 1
        db.executemany(
            "INSERT INTO mention_matches (mention_id, rule, category, matched, field, start,"
            " end, likelihood, consequence, why) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            plan.matches,
        )
        db.executemany(
            "INSERT OR IGNORE INTO mention_sources (mention_id, source, seen_at, import_id)"
            " VALUES (?, ?, ?, ?)",
            plan.also_seen,
        )
        counts = self.counts
        counts.new += len(rows)
        counts.duplicates += plan.duplicates
        counts.flagged += plan.flagged


class _Plan(msgspec.Struct):
    rows: list[tuple] = msgspec.field(default_factory=list)
    matches: list[tuple] = msgspec.field(default_factory=list)
    also_seen: list[tuple] = msgspec.field(default_factory=list)
    duplicates: int = 0
    flagged: int = 0


def mention_sources(db: sqlite3.Connection, mention_id: int) -> list[str]:
    row = db.execute("SELECT source FROM mentions WHERE id = ?", (mention_id,)).fetchone()
    if row is None:
        return []
    others = db.execute(
        "SELECT source FROM mention_sources WHERE mention_id = ? ORDER BY seen_at, source",
        (mention_id,),
    )
    return [row[0], *(r[0] for r in others)]


def source_names_seen(db: sqlite3.Connection, limit: int = 200) -> list[str]:
    """Names mentions were seen under (sources removed since included), for filters."""
    return [r[0] for r in db.execute(f"SELECT DISTINCT source FROM mention_sources LIMIT {limit}")]


def mention_matches(db: sqlite3.Connection, mention_id: int) -> list[dict]:
    rows = db.execute(
        "SELECT rule, category, matched, field, start, end, likelihood, consequence, why"
        " FROM mention_matches WHERE mention_id = ? ORDER BY likelihood * consequence DESC, start",
        (mention_id,),
    )
    return [dict(r) for r in rows]
