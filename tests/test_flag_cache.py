"""Built rule sets are kept in the data folder (issue 23): a set read back flags exactly as the
set built, any change to what decides the build is a new set, and a damaged file is rebuilt."""

from __future__ import annotations

import json
from pathlib import Path

from smduty.core.config import data_dir, shipped_data_dir
from smduty.core.monitoring import flag_cache
from smduty.core.monitoring.flag_load import load_rules

DATA = Path(__file__).parent / "data"
WATCH = ["Castlemere", "@CastlemereBC"]


def shipped(watch=WATCH, published=()):
    return load_rules(shipped_data_dir() / "rules.toml").compile(list(watch), list(published))


def cached_files() -> list[Path]:
    return sorted((data_dir() / "cache").glob("rules-*.pickle"))


def verdicts(rules, posts) -> list[tuple]:
    found = []
    for post in posts:
        v = rules.scan({"text": post})
        found.append(
            (
                v.rating,
                v.risk,
                v.about_council,
                v.categories,
                [(m.rule, m.start, m.end, m.likelihood, m.consequence, m.why) for m in v.matches],
            )
        )
    return found


def test_a_set_read_back_flags_exactly_as_the_set_built(smduty_home):
    posts = [
        json.loads(line)["text"]
        for name in ("flagging-labelled.jsonl", "flagging-holdout.jsonl")
        for line in (DATA / name).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    assert len(posts) > 700
    built = shipped()
    first = verdicts(built, posts)
    assert len(cached_files()) == 1
    read_back = shipped()
    read_back._build()
    assert read_back._triggers is not built._triggers  # not the same process's object
    assert verdicts(read_back, posts) == first
    assert sum(1 for v in first if v[0] in ("high", "critical")) > 300  # the posts do flag


def test_what_decides_the_build_decides_the_file(smduty_home):
    shipped().scan({"text": "x"})
    shipped().scan({"text": "x"})
    assert len(cached_files()) == 1  # the same set: found again
    shipped(watch=[*WATCH, "Castlemere Youth"]).scan({"text": "x"})
    shipped(published=["press@castlemere.gov.uk"]).scan({"text": "x"})
    assert len(cached_files()) == 3
    for n in range(flag_cache.KEEP + 2):
        shipped(watch=[f"Channel {n}"]).scan({"text": "x"})
    assert len(cached_files()) == flag_cache.KEEP
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in cached_files())


def test_a_damaged_or_foreign_file_is_built_again(smduty_home):
    expected = verdicts(shipped(), ["I will find where you live and hurt you, Castlemere"])
    (kept,) = cached_files()
    for damage in (b"not a pickle", kept.read_bytes()[:1000], b"\x80\x05N."):
        kept.write_bytes(damage)
        assert verdicts(shipped(), ["I will find where you live and hurt you, Castlemere"]) == (
            expected
        )
        assert kept.stat().st_size > 1_000_000  # written again, whole


def test_a_folder_that_cannot_be_written_only_costs_time(smduty_home):
    (data_dir()).mkdir(parents=True, exist_ok=True)
    (data_dir() / "cache").write_text("a file where the folder should be")
    v = shipped().scan({"text": "I will find where you live and hurt you, Castlemere"})
    assert v.rating in ("high", "critical")


def test_no_automaton_is_pickled_whole(smduty_home):
    """pyahocorasick's own pickling leaks the automaton pickled (about 20 MB a write with the
    shipped rules): the cache keeps its words, and the automaton is made again on reading."""
    shipped().scan({"text": "x"})
    (kept,) = cached_files()
    assert b"ahocorasick" not in kept.read_bytes()
    read_back = shipped()
    read_back._build()
    assert type(read_back._triggers).__name__ == "Automaton"
    assert read_back.scan({"text": "I will find where you live and hurt you"}).rating in (
        "high",
        "critical",
    )
