"""Build a database of N mentions (default 1,000,000) for the queue benchmarks.

Deterministic (seeded). Three years of mentions; 5% flagged (low 40%, medium 35%, high 20%,
critical 5% of those). Flagged mentions older than a fortnight have outcomes; newer ones are
new or in progress. Unflagged mentions stay new, as nobody triages them. Rows go straight in
with SQL (the ingest pipeline has its own benchmark); each batch is indexed for search as
MentionWriter does it.

    python bench/make_queue_db.py /tmp/queue-1m.db [--count 1000000]
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from smduty.core.demo import load_demo
from smduty.core.store import connect, transaction

NOW = datetime(2026, 11, 21, 8, 30, tzinfo=UTC)
WORDS = [
    "council",
    "bins",
    "road",
    "library",
    "school",
    "park",
    "flood",
    "parking",
    "tax",
    "housing",
    "planning",
    "market",
    "bus",
    "street",
    "lights",
    "potholes",
    "recycling",
    "leisure",
    "centre",
    "noise",
    "licence",
    "youth",
    "care",
    "grant",
    "event",
    "consultation",
    "meeting",
    "councillor",
    "ward",
    "budget",
    "repair",
    "waste",
    "garden",
    "festival",
    "walk",
    "bridge",
]
RISKY = [
    ("useless", "complaint", 2, 2, "medium"),
    ("disgrace", "complaint", 1, 2, "low"),
    ("flooding", "emergency", 3, 4, "high"),
    ("journalist", "media", 3, 3, "high"),
    ("threat", "threat", 4, 5, "critical"),
    ("leaked", "personal_data", 2, 1, "low"),
]
SOURCES = [
    "Castlemere Echo (RSS)",
    "Alert service (Atom)",
    "Meltwater export",
    "Brandwatch export",
    "Hootsuite inbox",
]
RANK = {"none": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
CLOSED = ["responded", "referred", "no_engagement", "dismissed", "escalated"]


def rating_for(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.40:
        return "low"
    if roll < 0.75:
        return "medium"
    if roll < 0.95:
        return "high"
    return "critical"


def build(path: Path, count: int, seed: int = 7) -> None:
    if path.exists():
        path.unlink()
    db = connect(path)
    load_demo(db)
    db.execute("DELETE FROM mentions")
    rng = random.Random(seed)
    span = 3 * 365 * 24 * 60
    stamp = NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
    began = time.perf_counter()
    batch: list[tuple] = []

    def flush() -> None:
        if not batch:  # the count was a whole number of batches
            return
        db.executemany(
            "INSERT INTO mentions (id, key, url_key, url, title, text, author, published, source,"
            " ingested_at, about_council, risk, rating, rating_rank, categories, status,"
            " assigned_to, updated_at) VALUES (?, ?, ?, ?, '', ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?,"
            " ?, ?)",
            batch,
        )
        db.execute(
            "INSERT INTO mentions_fts (rowid, title, text, author)"
            " SELECT id, title, text, author FROM mentions WHERE id BETWEEN ? AND ?",
            (batch[0][0], batch[-1][0]),
        )
        batch.clear()

    with transaction(db):
        for n in range(1, count + 1):
            age = int(span * (n / count) ** 3)  # more recent mentions than old ones
            published = NOW - timedelta(minutes=span - age)
            words = rng.choices(WORDS, k=rng.randint(8, 30))
            rating, category, risk = "none", "", 0
            if rng.random() < 0.05:
                word, category, likelihood, consequence, rating = rng.choice(RISKY)
                rating = rating_for(rng)
                risk = likelihood * consequence
                words.insert(rng.randrange(len(words)), word)
            status, assigned = "new", None
            if rating != "none":
                if NOW - published > timedelta(days=14):
                    status = rng.choice(CLOSED)
                elif rng.random() < 0.3:
                    status, assigned = "in_progress", "Priya Raman"
            url = f"https://social.example/p/{n}"
            batch.append(
                (
                    n,
                    f"bench:{n}",
                    url,
                    url,
                    "@CastlemereBC " + " ".join(words),
                    f"user{rng.randrange(50_000)}",
                    published.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    rng.choice(SOURCES),
                    published.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    risk,
                    rating,
                    RANK[rating],
                    category,
                    status,
                    assigned,
                    stamp,
                )
            )
            if len(batch) >= 10_000:
                flush()
        flush()
    db.close()
    print(f"{count:,} mentions in {time.perf_counter() - began:.0f} s: {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--count", type=int, default=1_000_000)
    args = parser.parse_args()
    build(args.path, args.count)


if __name__ == "__main__":
    main()
