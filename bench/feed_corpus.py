"""Every file of a folder of feeds through smduty's ingest: nothing lost, nothing hangs.

    python bench/feed_corpus.py FOLDER [--db PATH]

FOLDER is any pile of feed files, for example feedparser's own test feeds (`git clone
https://github.com/kurtmckee/feedparser` then `tests/`). Each file is ingested as its own
location into a fresh database (as `smduty ingest FILE` would), then this prints: files read and
refused, entries feedparser finds, distinct posts among them (smduty's own rule: the entry's id,
else its link when the link names one post, else its title, body, author and date as written),
posts stored, and the slowest file. Stored should equal distinct: fewer means posts lost as
"duplicates" or dropped as empty. It also counts distinct posts as feedparser alone sees them
(title, body, author and date after its default sanitising), a second opinion.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import feedparser

from smduty.core.monitoring.feeds import entry_mentions, parse_feed
from smduty.core.monitoring.flag_load import ruleset_for
from smduty.core.monitoring.ingest import ingest_location
from smduty.core.monitoring.mentions import url_key
from smduty.core.store import connect


def distinct_key(source: str, raw) -> str:
    """The post an entry is, as smduty's keys define it (per source for ids). An entry with
    nothing at all (no words, link, id, author or date) is no post."""
    if raw.source_item_id:
        own = raw.source_item_id
        return f"id:{own}" if ":" in own else f"id:{source}:{own}"
    if raw.basis:
        return "as-written:" + raw.basis
    if raw.url and url_key(raw.url):
        return f"url:{url_key(raw.url)}"
    body = "\x1f".join([raw.title, raw.text, raw.author, str(raw.published)])
    return "hash:" + hashlib.sha256(body.encode()).hexdigest()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--db", type=Path)
    parser.add_argument("--errors", action="store_true", help="print each refusal")
    args = parser.parse_args()
    files = sorted(p for p in args.folder.rglob("*") if p.is_file() and p.suffix != ".py")
    db_path = args.db or Path(tempfile.mkdtemp()) / "corpus.db"
    db = connect(db_path)
    rules = ruleset_for(db)
    outcomes: Counter[str] = Counter()
    entries = 0
    distinct: set[str] = set()
    plain: set[tuple[str, ...]] = set()
    slowest = (0.0, "")
    began = time.monotonic()
    for path in files:
        body = path.read_bytes()
        try:
            feed = parse_feed(body)
            found = list(entry_mentions(feed))
        except Exception:  # counted as refused below, by ingest's own wording
            found = []
        alone = feedparser.parse(body).entries
        entries += len(alone)
        for e in alone:
            content = (e.get("content") or [{}])[0].get("value", "")
            when = e.get("published", "") or e.get("updated", "")
            plain.add(
                (e.get("title", ""), content or e.get("summary", ""), e.get("author", ""), when)
            )
        # smduty names a file's source after the file: ids are per source.
        distinct.update(
            distinct_key(path.name, raw)
            for raw in found
            if raw.title or raw.text or raw.url or raw.source_item_id or raw.basis.strip("\x1f")
        )
        start = time.monotonic()
        summary = ingest_location(db, rules, str(path), source=path.name)
        took = time.monotonic() - start
        slowest = max(slowest, (took, str(path)))
        outcomes[summary.status] += 1
        if summary.error and args.errors:
            print(f"  {summary.error}")
    stored = db.execute("SELECT count(*) FROM mentions").fetchone()[0]
    print(f"files: {len(files)} ({dict(outcomes)}) in {time.monotonic() - began:.1f} s")
    print(f"entries (feedparser): {entries}")
    print(f"distinct posts: {len(distinct)} (feedparser alone: {len(plain)})")
    print(f"stored: {stored}")
    print(f"slowest file: {slowest[0] * 1000:.0f} ms ({slowest[1]})")
    return 0 if stored >= len(distinct) else 1


if __name__ == "__main__":
    sys.exit(main())
