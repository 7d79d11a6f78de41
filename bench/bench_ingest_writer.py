"""The writing half of an import alone (issue 23): the reading process's batches for an export,
made once and kept beside it, replayed into `MentionWriter` in a fresh database, with and
without `store.bulk_writing`, taking turns. Prints the CPU seconds of each run, sorted, and
the seconds spent in each kind of statement. Results go in bench/RESULTS.md.

    python bench/bench_ingest_writer.py [EXPORT] [--repeat 5]

EXPORT defaults to the realistic 200,000-row export of bench_ingest_scale.py.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def batches(export: Path) -> list[tuple]:
    """The reading process's messages for `export` (kept beside it: reading is not timed)."""
    from smduty.core.clock import now_utc
    from smduty.core.config import shipped_data_dir
    from smduty.core.monitoring.flag_load import load_rules
    from smduty.core.monitoring.reader_process import Job, prepare

    kept = export.with_name(export.name + ".batches.pickle")
    if kept.exists() and kept.stat().st_mtime > export.stat().st_mtime:
        with kept.open("rb") as stream:
            return pickle.load(stream)
    rules = load_rules(shipped_data_dir() / "rules.toml").compile([], [])
    job = Job(str(export), "csv", None, {}, rules, "bench", now_utc())
    found = [m for m in prepare(job) if m[0] == "rows"]
    with kept.open("wb") as stream:
        pickle.dump(found, stream, protocol=pickle.HIGHEST_PROTOCOL)
    return found


def one_run(messages: list[tuple], bulk: bool) -> tuple[float, collections.Counter]:
    from smduty.core import store
    from smduty.core.clock import now_utc
    from smduty.core.config import shipped_data_dir
    from smduty.core.monitoring import imports
    from smduty.core.monitoring.flag_load import load_rules
    from smduty.core.monitoring.mentions import MentionWriter

    spent: collections.Counter = collections.Counter()
    with tempfile.TemporaryDirectory() as home:
        env = os.environ | {"SMDUTY_HOME": home}
        subprocess.run(
            [sys.executable, "-m", "smduty", "init"], env=env, check=True, capture_output=True
        )
        db = store.connect(Path(home) / "data" / "smduty.db")
        plain_execute, plain_many = db.execute, db.executemany

        def execute(sql, *args):
            started = time.perf_counter()
            try:
                return plain_execute(sql, *args)
            finally:
                spent[sql.split("(")[0][:50]] += time.perf_counter() - started

        def executemany(sql, *args):
            started = time.perf_counter()
            try:
                return plain_many(sql, *args)
            finally:
                spent["many " + sql.split("(")[0][:45]] += time.perf_counter() - started

        db.execute, db.executemany = execute, executemany
        rules = load_rules(shipped_data_dir() / "rules.toml").compile([], [])
        started = time.process_time()
        with store.bulk_writing(db) if bulk else contextlib.nullcontext():
            lease = imports.begin(db, "bench", "export.csv", "bench", None)
            writer = MentionWriter(db, rules, "bench", now_utc(), lease)
            for message in messages:
                writer.add_prepared(message[4], message[2], message[3])
            writer.close()
            imports.finish(db, "bench", lease, {}, None)
        cpu = time.process_time() - started
        db.close()
    return cpu, spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "export",
        nargs="?",
        type=Path,
        default=Path(tempfile.gettempdir()) / "smduty-scale" / "long-200k.csv",
    )
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if not args.export.exists():
        raise SystemExit(f"{args.export}: make it with bench/bench_ingest_scale.py first")
    messages = batches(args.export)
    found: dict[bool, list[float]] = {False: [], True: []}
    statements = {False: collections.Counter(), True: collections.Counter()}
    for _ in range(args.repeat):
        for bulk in (False, True):
            cpu, spent = one_run(messages, bulk)
            found[bulk].append(cpu)
            statements[bulk].update(spent)
    rows = sum(len(m[4]) for m in messages)
    print(f"{args.export.name}: {rows:,} rows, CPU seconds of the writing process, sorted")
    for bulk in (False, True):
        label = "bulk writing" if bulk else "as before   "
        print(f"  {label}: {' '.join(f'{x:.2f}' for x in sorted(found[bulk]))}")
        for sql, seconds in statements[bulk].most_common(5):
            print(f"      {seconds / args.repeat:.2f} s  {sql}")


if __name__ == "__main__":
    main()
