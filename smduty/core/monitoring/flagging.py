"""Flag rules: which mentions need a person, why, and how risky they are (000 section 4.3).

Rules are data (`data/rules.toml`, or the user's copy in the config folder). Words and phrases go
into one Aho-Corasick automaton (pyahocorasick) and match case-insensitively on whole words, in
one pass per text. The few regex rules run one by one, each only on texts that can hold a match:
from its parse tree smduty knows the digits, the non-letter characters and (for ASCII texts) one
of the words every match must contain, so a text without them is not searched.
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


@dataclass(slots=True)  # one per mention ingested: a frozen dataclass cost 1.3 us to build
class Verdict:
    matches: list[Match]
    about_council: bool
    risk: int
    rating: str
    categories: list[str]


_ASCII_DIGITS = b"0123456789"
_OTHER_DIGIT = re.compile(r"(?![0-9])\d")  # digits beyond 0-9 (Arabic, Devanagari...)


def _digit_count(text: str) -> int:
    """How many characters of `text` a `\\d` could match (never fewer than it has)."""
    raw = text.encode("utf-8", "surrogatepass")
    count = len(raw) - len(raw.translate(None, _ASCII_DIGITS))
    if not text.isascii() and _OTHER_DIGIT.search(text):
        return len(text)  # rare: let every pattern run
    return count


def _needs(items, flags: int) -> tuple[int, frozenset[str]]:
    """What any match of a parsed pattern must consume: a number of digits, and characters.

    A lower bound, from the parse tree (re._parser): a sequence adds up its items, an
    alternation takes the least of its branches, a repeat its minimum count. Lookarounds and
    anything not understood count as needing nothing, so a text is never skipped wrongly.
    Letters are left out of the characters (case-insensitive rules match either case).
    """
    digits, chars = 0, set()
    for op, av in items:
        name = str(op)
        if name == "LITERAL":
            char = chr(av)
            if char.isdigit() and char.isascii():
                digits += 1
            if char.lower() == char.upper():
                chars.add(char)
        elif name == "IN":
            if all(_is_digit_class(o, a) for o, a in av) and av:
                digits += 1
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, _high, sub = av
            if low:
                d, c = _needs(sub, flags)
                digits += low * d
                chars |= c
        elif name == "SUBPATTERN":
            d, c = _needs(av[-1], flags)
            digits += d
            chars |= c
        elif name == "ATOMIC_GROUP":
            d, c = _needs(av, flags)
            digits += d
            chars |= c
        elif name == "BRANCH":
            found = [_needs(branch, flags) for branch in av[1]]
            if found:
                digits += min(d for d, _ in found)
                chars |= frozenset.intersection(*(frozenset(c) for _, c in found))
    return digits, frozenset(chars)


def _is_digit_class(op, av) -> bool:
    name = str(op)
    if name == "CATEGORY":
        return str(av) == "CATEGORY_DIGIT"
    if name == "LITERAL":
        return chr(av) in "0123456789"
    if name == "RANGE":
        return 48 <= av[0] <= av[1] <= 57
    return False


def _literal_options(items) -> list[tuple[str, ...]]:
    """Sets of literal strings, one of each set being in every match: a run of two or more
    literal characters, or an alternation of plain words such as (?:Road|Street|Lane)."""
    found: list[tuple[str, ...]] = []
    run = ""
    for op, av in [*items, (None, None)]:
        name = str(op)
        if name == "LITERAL" and chr(av).isascii():
            run += chr(av)
            continue
        if len(run) >= 2:
            found.append((run.casefold(),))
        run = ""
        if name == "SUBPATTERN":
            found += _literal_options(av[-1])
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") and av[0] >= 1:
            found += _literal_options(av[2])
        elif name == "BRANCH":
            words = []
            for branch in av[1]:
                if not branch or any(
                    str(o) != "LITERAL" or not chr(a).isascii() for o, a in branch
                ):
                    break
                words.append("".join(chr(a) for _, a in branch).casefold())
            else:
                found.append(tuple(words))
    return found


# A compiled pattern rule: (rule, regex, left-grow regex or None, characters a text must hold,
# digits a text must hold, words one of which an ASCII text must hold). A plain tuple: it is
# unpacked for every text scanned.
_Pattern = tuple[Rule, re.Pattern, re.Pattern | None, frozenset[str], int, tuple[str, ...]]


def _compile_pattern(rule: Rule) -> _Pattern:
    regex = re.compile(rule.pattern, re.IGNORECASE)
    try:
        parsed = re._parser.parse(rule.pattern, re.IGNORECASE)
        digits, chars = _needs(parsed, re.IGNORECASE)
        options = max(_literal_options(parsed), key=lambda o: min(map(len, o)), default=())
    except Exception:  # the parser is CPython's own: should it change, nothing is skipped
        digits, chars, options = 0, frozenset(), ()
    grow = re.compile(f"[{rule.extend_left}]*$") if rule.extend_left else None
    return rule, regex, grow, chars, digits, options


@dataclass
class RuleSet:
    categories: dict[str, Category]
    rules: list[Rule]
    watch_terms: list[str]
    path: Path
    _words: ahocorasick.Automaton | None = field(default=None, repr=False)
    _patterns: list[_Pattern] = field(default_factory=list, repr=False)
    _extra_watch: tuple[str, ...] = field(default=(), repr=False)

    def __reduce__(self):
        # Sent to the reader process as its source; the automaton and regexes are rebuilt there.
        args = (self.categories, self.rules, self.watch_terms, self.path)
        return _recompiled, (args, self._extra_watch)

    def compile(self, extra_watch: list[str] = ()) -> RuleSet:
        self._extra_watch = tuple(extra_watch)
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
        # literal-prefix scan. Each knows what a text must hold for it to match at all.
        self._patterns = [_compile_pattern(r) for r in self.rules if r.pattern]
        return self

    def scan(self, fields: dict[str, str]) -> Verdict:
        matches: list[Match] = []
        about = False
        for name, text in fields.items():
            if not text:
                continue
            low = text.casefold()
            if self._words is not None:
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
            digits = -1  # counted when a pattern first asks
            ascii_low = low if text.isascii() else None  # letters fold simply in ASCII only
            for rule, pattern, grow, needs_chars, needs_digits, options in self._patterns:
                if needs_chars and not all(c in text for c in needs_chars):
                    continue
                if needs_digits:
                    if digits < 0:
                        digits = _digit_count(text)
                    if digits < needs_digits:
                        continue
                if options and ascii_low is not None:
                    for option in options:
                        if option in ascii_low:
                            break
                    else:
                        continue
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
        if not matches:
            return Verdict([], about, 0, "none", [])
        risk = max((m.score for m in matches), default=0)
        categories = sorted({m.category for m in matches})
        return Verdict(matches, about, risk, rating_for(risk), categories)


def _recompiled(args: tuple, extra_watch: tuple[str, ...]) -> RuleSet:
    return RuleSet(*args).compile(list(extra_watch))


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
