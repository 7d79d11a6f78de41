"""Flag rules: which mentions need a person, why, and how risky they are (000 section 4.3).

Rules are data (`data/rules.toml`, or the user's copy in the config folder). Words and phrases go
into one Aho-Corasick automaton (pyahocorasick) and match case-insensitively on whole words; the
few regex rules are joined into one alternation. Each text is scanned once by each.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import ahocorasick

from smduty.core.config import ConfigError, config_dir, read_toml, shipped_data_dir

# smduty's bands on the 5x5 matrix (the policy gives the matrix, not the bands).
RATINGS = ("none", "low", "medium", "high", "critical")
RATING_RANK = {name: rank for rank, name in enumerate(RATINGS)}


def rating_for(score: int) -> str:
    if score <= 0:
        return "none"
    if score <= 3:
        return "low"
    if score <= 6:
        return "medium"
    if score <= 12:
        return "high"
    return "critical"


@dataclass(frozen=True)
class Category:
    name: str
    label: str
    policy: str
    likelihood: int
    consequence: int


@dataclass(frozen=True)
class Rule:
    id: str
    category: str
    likelihood: int
    consequence: int
    words: tuple[str, ...] = ()
    pattern: str = ""
    extend_left: str = ""  # characters a pattern match grows over to its left

    @property
    def score(self) -> int:
        return self.likelihood * self.consequence


@dataclass(frozen=True)
class Match:
    rule: str
    category: str
    matched: str
    field: str
    start: int
    end: int
    likelihood: int
    consequence: int

    @property
    def score(self) -> int:
        return self.likelihood * self.consequence


@dataclass(frozen=True)
class Verdict:
    matches: list[Match]
    about_council: bool
    risk: int
    rating: str
    categories: list[str]


@dataclass
class RuleSet:
    categories: dict[str, Category]
    rules: list[Rule]
    watch_terms: list[str]
    path: Path
    _words: ahocorasick.Automaton | None = field(default=None, repr=False)
    _patterns: list[tuple[Rule, re.Pattern, re.Pattern | None]] = field(
        default_factory=list, repr=False
    )

    def compile(self, extra_watch: list[str] = ()) -> RuleSet:
        automaton = ahocorasick.Automaton()
        entries: dict[str, list[Rule | None]] = {}
        for rule in self.rules:
            for word in rule.words:
                entries.setdefault(word.casefold(), []).append(rule)
        for term in [*self.watch_terms, *extra_watch]:
            term = term.strip().casefold()
            if term:
                entries.setdefault(term, []).append(None)  # None marks a watch term
        for key, owners in entries.items():
            automaton.add_word(key, (len(key), tuple(owners)))
        if entries:
            automaton.make_automaton()
            self._words = automaton
        # One search per pattern: faster than one alternation, which defeats the engine's
        # literal-prefix scan.
        self._patterns = [
            (
                r,
                re.compile(r.pattern, re.IGNORECASE),
                re.compile(f"[{r.extend_left}]*$") if r.extend_left else None,
            )
            for r in self.rules
            if r.pattern
        ]
        return self

    def scan(self, fields: dict[str, str]) -> Verdict:
        matches: list[Match] = []
        about = False
        for name, text in fields.items():
            if not text:
                continue
            if self._words is not None:
                low = text.casefold()
                # casefold can change length (for example "ß"); positions then are approximate.
                limit = len(low)
                for end, (length, owners) in self._words.iter(low):
                    start = end - length + 1
                    if (start > 0 and low[start - 1].isalnum()) or (
                        end + 1 < limit and low[end + 1].isalnum()
                    ):
                        continue
                    for rule in owners:
                        if rule is None:
                            about = True
                            continue
                        matches.append(
                            Match(
                                rule.id,
                                rule.category,
                                text[start : end + 1],
                                name,
                                start,
                                end + 1,
                                rule.likelihood,
                                rule.consequence,
                            )
                        )
            for rule, pattern, grow in self._patterns:
                for found in pattern.finditer(text):
                    start, end = found.span()
                    if grow is not None:
                        start -= len(grow.search(text, max(0, start - 64), start).group())
                    matches.append(
                        Match(
                            rule.id,
                            rule.category,
                            text[start:end],
                            name,
                            start,
                            end,
                            rule.likelihood,
                            rule.consequence,
                        )
                    )
        risk = max((m.score for m in matches), default=0)
        categories = sorted({m.category for m in matches})
        return Verdict(matches, about, risk, rating_for(risk), categories)


def rules_path() -> Path:
    user = config_dir() / "rules.toml"
    return user if user.exists() else shipped_data_dir() / "rules.toml"


def _line_of(text: str, needle: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    return 1


def _score(value: object, where: str, what: str, problems: list[str]) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 5:
        problems.append(f"{where}: {what} must be a whole number from 1 to 5")
        return 1
    return value


def _char_class(value: object, where: str, problems: list[str]) -> str:
    if not value:
        return ""
    try:
        re.compile(f"[{value}]")
    except (re.error, TypeError):
        problems.append(f"{where}: extend_left must be characters as in a [...] class")
        return ""
    return str(value)


def load_rules(path: Path | None = None) -> RuleSet:
    """Read and check a rules file; any problem is refused with its line and reason."""
    path = path or rules_path()
    text, raw = read_toml(path)
    problems: list[str] = []
    categories: dict[str, Category] = {}
    for name, spec in (raw.get("categories") or {}).items():
        where = f"line {_line_of(text, f'[categories.{name}]')}: category {name!r}"
        if not isinstance(spec, dict):
            problems.append(f"{where}: must be a table")
            continue
        categories[name] = Category(
            name,
            str(spec.get("label") or name),
            str(spec.get("policy") or ""),
            _score(spec.get("likelihood"), where, "likelihood", problems),
            _score(spec.get("consequence"), where, "consequence", problems),
        )
    rules: list[Rule] = []
    seen: set[str] = set()
    for index, spec in enumerate(raw.get("rule") or [], start=1):
        rule_id = str(spec.get("id") or "") if isinstance(spec, dict) else ""
        line = _line_of(text, f'"{rule_id}"') if rule_id else 1
        where = f"line {line}: rule {rule_id or f'number {index}'!r}"
        if not isinstance(spec, dict) or not rule_id:
            problems.append(f"{where}: needs an id")
            continue
        if rule_id in seen:
            problems.append(f"{where}: the id is used twice")
        seen.add(rule_id)
        category = categories.get(str(spec.get("category")))
        if category is None:
            problems.append(f"{where}: unknown category {spec.get('category')!r}")
            continue
        words = spec.get("words") or []
        pattern = spec.get("pattern") or ""
        if not isinstance(words, list) or not all(isinstance(w, str) and w.strip() for w in words):
            problems.append(f"{where}: words must be a list of non-empty strings")
            words = []
        if not words and not pattern:
            problems.append(f"{where}: needs words or a pattern")
        if pattern:
            try:
                if re.compile(pattern).groups:
                    pattern = re.sub(r"(?<!\\)\((?!\?)", "(?:", pattern)
                re.compile(pattern)
            except re.error as exc:
                problems.append(f"{where}: the pattern does not compile: {exc}")
                pattern = ""
        rules.append(
            Rule(
                rule_id,
                category.name,
                _score(spec.get("likelihood", category.likelihood), where, "likelihood", problems),
                _score(
                    spec.get("consequence", category.consequence), where, "consequence", problems
                ),
                tuple(w.strip() for w in words),
                pattern,
                _char_class(spec.get("extend_left", ""), where, problems),
            )
        )
    watch = (raw.get("watch") or {}).get("terms") or []
    if not isinstance(watch, list) or not all(isinstance(t, str) for t in watch):
        problems.append(f"line {_line_of(text, '[watch]')}: watch terms must be a list of strings")
        watch = []
    if problems:
        raise ConfigError(f"{path}: " + "; ".join(problems))
    return RuleSet(categories, rules, list(watch), path)


def register_watch_terms(db: sqlite3.Connection) -> list[str]:
    """The handles and names of every channel in the register mark a mention as ours."""
    terms: list[str] = []
    for handle, name in db.execute("SELECT handle, name FROM channels WHERE status != 'closed'"):
        for value in (handle, name):
            if value and len(value.strip()) >= 4:
                terms.append(value.strip())
    return terms


def ruleset_for(db: sqlite3.Connection, path: Path | None = None) -> RuleSet:
    return load_rules(path).compile(register_watch_terms(db))
