"""Ingest at scale (issue 23). Results, with the machine, go in bench/RESULTS.md.

    python bench/bench_ingest_scale.py [--folder /tmp/smduty-scale] [--repeat 3] [--only ...]

Every ratio is measured against its baseline in the same run, on exports of ~200-character
posts (two to four sentences, a hashtag, a handle), as the tools export them:

1. baseline: 200,000 rows through `smduty ingest`, against the plain floor: the same rows read
   with the csv module and written with one executemany into the same mentions table (same
   columns, same indexes) and its FTS5 index, in one transaction, in one process.
2. growth: 100,000 rows into an empty database and into one holding 1,000,000 mentions (made by
   ingesting the million-row export, which is itself timed against the 100,000).
3. WAL: the write-ahead log's largest size while the million rows go in, against the size of
   the database they make (sampled every 20 ms).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_ingest  # noqa: E402
from bench_ingest import new_desk, run, smduty  # noqa: E402
from make_data import AUTHORS, BENIGN, RISKY  # noqa: E402

MORE = (
    "Honestly not sure who to ask about this but the council website was no help at all",
    "We have lived here for twenty years and never seen it this bad on our road",
    "Shout out to the crew on the early shift, they do a great job in all weathers",
    "Anyone else had a letter about the parking permits changing next month?",
    "Posted this on the community page too in case someone knows more about it",
    "The consultation closes on Friday so get your views in while you still can",
)


def long_posts(count: int, prefix: str, seed: int):
    """~200-character posts: about one in twenty with a risk sentence in it."""
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(count):
        sentences = [rng.choice(BENIGN), rng.choice(MORE)]
        if rng.random() < 0.05:
            sentences.insert(rng.randrange(3), rng.choice(RISKY))
        text = ". ".join(sentences) + f" #{rng.choice(('bins', 'roads', 'parks', 'news'))}"
        if len(text) < 180:
            text += ". " + rng.choice(MORE)
        yield (
            f"{prefix}{i}",
            (start + timedelta(seconds=i * 7)).isoformat(),
            rng.choice(AUTHORS),
            f"https://social.example/{prefix}/status/{10_000_000 + i}",
            text + " via @CastlemereBC",
        )


def write_export(path: Path, count: int, prefix: str, seed: int) -> Path:
    if not path.exists():
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["id", "date", "author", "url", "text"])
            writer.writerows(long_posts(count, prefix, seed))
    return path


def db_of(env: dict) -> Path:
    return Path(env["SMDUTY_HOME"]) / "data" / "smduty.db"


def plain_floor(export: Path, db_path: Path) -> float:
    """The rows as they are, into the same table and FTS index: one executemany, one commit."""
    started = time.perf_counter()
    db = sqlite3.connect(db_path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    with export.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        rows = [
            (n, f"bench:{r[0]}", r[3], r[0], r[3], r[4], r[2], r[1], "bench", now, now)
            for n, r in enumerate(reader, start=1)
        ]
    db.execute("BEGIN")
    db.executemany(
        "INSERT INTO mentions (id, key, url_key, source_item_id, url, text, author, published,"
        " source, ingested_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    db.execute(
        "INSERT INTO mentions_fts (rowid, title, text, author)"
        " SELECT id, title, text, author FROM mentions"
    )
    db.execute("COMMIT")
    db.close()
    return time.perf_counter() - started


def ingest(env: dict, export: Path, watch_memory: bool = False) -> tuple[float, int]:
    """Wall time (and the peak memory of both processes, when watched: the watcher polls /proc
    every 20 ms, which a 2-CPU machine feels, so timed runs go unwatched)."""
    if watch_memory:
        elapsed, _, both = run(smduty("ingest", str(export)), env)
        return elapsed, both
    started = time.perf_counter()
    subprocess.run(smduty("ingest", str(export)), env=env, check=True, capture_output=True)
    return time.perf_counter() - started, 0


def bench_baseline(folder: Path, repeat: int) -> None:
    export = write_export(folder / "long-200k.csv", 200_000, "b", 11)
    floors, ours = [], []
    for _ in range(repeat):
        env = new_desk(folder)
        floors.append(plain_floor(export, db_of(env)))
        env = new_desk(folder)
        ours.append(ingest(env, export)[0])
    f, o = statistics.median(floors), statistics.median(ours)
    print(
        f"200,000 rows of ~200 characters: plain executemany + FTS5 {f:.2f} s "
        f"({', '.join(f'{x:.2f}' for x in floors)}), smduty ingest {o:.2f} s "
        f"({', '.join(f'{x:.2f}' for x in ours)}): {200_000 / o:,.0f} rows/s, "
        f"ratio {o / f:.2f} (target <= 1.6)"
    )
    # Each smduty run against the floor run just before it: a slow minute of a shared machine
    # falls on both, where the medians above can take their runs from different minutes.
    paired = [ours_run / floor_run for floor_run, ours_run in zip(floors, ours, strict=True)]
    print(
        f"paired ratios {', '.join(f'{x:.2f}' for x in paired)}: "
        f"median {statistics.median(paired):.2f}"
    )


def bench_growth(folder: Path, repeat: int) -> None:
    small = write_export(folder / "long-100k.csv", 100_000, "s", 12)
    big = write_export(folder / "long-1m.csv", 1_000_000, "m", 13)
    empty = []
    for _ in range(repeat):
        env = new_desk(folder)
        empty.append(ingest(env, small)[0])
    env = new_desk(folder)
    path = db_of(env)
    peak = {"wal": 0}
    done = threading.Event()

    def watch_wal() -> None:
        wal = Path(f"{path}-wal")
        while not done.is_set():
            with contextlib.suppress(OSError):
                peak["wal"] = max(peak["wal"], wal.stat().st_size)
            time.sleep(0.02)

    watcher = threading.Thread(target=watch_wal, daemon=True)
    watcher.start()
    million, both = ingest(env, big, watch_memory=True)
    done.set()
    watcher.join()
    size = path.stat().st_size
    kept = Path(tempfile.mkdtemp(dir=folder)) / "million.db"
    shutil.copy(path, kept)
    into_big = []
    for _ in range(repeat):
        env = new_desk(folder)
        shutil.copy(kept, db_of(env))
        for suffix in ("-wal", "-shm"):
            Path(f"{db_of(env)}{suffix}").unlink(missing_ok=True)
        into_big.append(ingest(env, small)[0])
    shutil.rmtree(kept.parent)
    e, b = statistics.median(empty), statistics.median(into_big)
    print(
        f"100,000 rows into an empty database {e:.2f} s ({', '.join(f'{x:.2f}' for x in empty)}),"
        f" into one of 1,000,000 mentions {b:.2f} s ({', '.join(f'{x:.2f}' for x in into_big)}):"
        f" ratio {b / e:.2f} (target <= 1.2)"
    )
    print(
        f"1,000,000 rows {million:.2f} s ({1_000_000 / million:,.0f} rows/s, {both / 1024:.0f} MB"
        f" both processes): {million / e:.2f} x the 100,000 (target <= 11)"
    )
    print(
        f"WAL at most {peak['wal'] / 2**20:.1f} MB while the million went in; the database"
        f" {size / 2**20:.0f} MB: {100 * peak['wal'] / size:.1f}% (target < 25%)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folder", type=Path, default=Path(tempfile.gettempdir()) / "smduty-scale")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=["baseline", "growth"], help="run one benchmark")
    parser.add_argument("--cold", action="store_true", help="no rules built before an import")
    args = parser.parse_args()
    bench_ingest.COLD = args.cold
    args.folder.mkdir(parents=True, exist_ok=True)
    print(f"python {sys.version.split()[0]}, sqlite {sqlite3.sqlite_version}, {os.cpu_count()} CPU")
    if args.only in (None, "baseline"):
        bench_baseline(args.folder, args.repeat)
    if args.only in (None, "growth"):
        bench_growth(args.folder, args.repeat)


if __name__ == "__main__":
    main()
