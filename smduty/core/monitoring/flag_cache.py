"""Built rule sets kept in the data folder: building the automata of the shipped rules takes
0.2 s of every process that flags (an import's reading process, a poll, the TUI's first poll);
reading them back takes 60 ms. A set is found again only when everything that decides what is
built is the same: the rules, the register's names and contacts, the election flag, the code
that builds (its files' sizes and times) and the libraries it builds with."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import pickle
import sys
from pathlib import Path

import ahocorasick
import msgspec

from smduty import __version__
from smduty.core.config import data_dir

KEEP = 4  # rule sets kept: the register's names change now and then, each change is a new set
_BUILDERS = ("flagging", "flag_automata", "flag_text", "flag_patterns")


def cache_file(source: object) -> Path | None:
    """Where the set built from `source` (what `RuleSet.__reduce__` sends) is kept."""
    try:
        stamp = "|".join(_stamp(name) for name in _BUILDERS)
        libraries = "|".join(_version(name) for name in ("ahocorasick", "re2"))
    except OSError:
        return None
    digest = hashlib.sha256(
        f"{__version__}|{sys.version}|{stamp}|{libraries}|{_canonical(source)}".encode()
    ).hexdigest()[:32]
    return data_dir() / "cache" / f"rules-{digest}.pickle"


def read(path: Path) -> dict | None:
    """The built state kept at `path`, or None (not there, or not readable as one)."""
    try:
        with path.open("rb") as stream:
            state = pickle.load(stream)
        if not isinstance(state, dict):
            return None
        return {name: _unpacked(value) for name, value in state.items()}
    except Exception:  # missing, cut short or from another release: built again
        return None


class _Words(msgspec.Struct, frozen=True):
    """An automaton as its words and values. pyahocorasick's own pickling leaks: the
    automaton pickled stays in memory for good (about 20 MB with the shipped rules, 50 MB for
    100,000 words), so the words are kept and the automaton made again on reading (40 ms)."""

    items: list


def _packed(value: object) -> object:
    if isinstance(value, ahocorasick.Automaton):
        return _Words(list(value.items()))
    return value


def _unpacked(value: object) -> object:
    if not isinstance(value, _Words):
        return value
    automaton = ahocorasick.Automaton()
    for word, found in value.items:
        automaton.add_word(word, found)
    automaton.make_automaton()
    return automaton


def write(path: Path, state: dict) -> None:
    """Keep `state` at `path` (private to this login), and only the newest KEEP sets. A
    folder that cannot be written only costs the building again."""
    with contextlib.suppress(OSError, pickle.PicklingError):
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            packed = {name: _packed(value) for name, value in state.items()}
            pickle.dump(packed, out, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(partial, path)
        kept = sorted(path.parent.glob("rules-*.pickle"), key=_age, reverse=True)
        for old in kept[KEEP:]:
            old.unlink(missing_ok=True)


def _age(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def _stamp(module: str) -> str:
    info = os.stat(Path(__file__).with_name(f"{module}.py"))
    return f"{info.st_mtime_ns}-{info.st_size}"


def _version(name: str) -> str:
    module = sys.modules.get(name)
    origin = getattr(module, "__file__", None) if module else None
    if not origin:
        return f"{name}:none"
    info = os.stat(origin)
    return f"{name}:{info.st_mtime_ns}-{info.st_size}"


def _canonical(value: object) -> str:
    """The same text for the same rules in every process: sets sorted (their order changes
    with each process's string hashing), records field by field."""
    if isinstance(value, msgspec.Struct):
        fields = msgspec.structs.asdict(value)
        return f"{type(value).__name__}({_canonical(fields)})"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        return f"{type(value).__name__}({_canonical(fields)})"
    if isinstance(value, dict):
        items = sorted(f"{_canonical(k)}:{_canonical(v)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, set | frozenset):
        return "{" + ",".join(sorted(_canonical(v) for v in value)) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_canonical(v) for v in value) + "]"
    return repr(value)
