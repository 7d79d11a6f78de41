"""The flag rules file (`data/rules.toml`, or the council's copy): read, checked, explained.

A broken file is refused whole, naming each problem's line and the reason; so is a file with no
rules, or a pattern that could make flagging hang. Patterns are run by RE2, whose time grows
only with the length of the post, so a rule such as `(a+)+$` cannot stall ingest; the few
things RE2 cannot do (look-arounds, back-references) are refused with the reason.
"""

from __future__ import annotations

import re
from pathlib import Path

import msgspec

from smduty.core.config import ConfigError, config_dir, read_toml, shipped_data_dir

# Words in the original text that make a named person: a title and a capitalised name, or a
# first name from the `first_names` lexicon and a capitalised surname.
NAMED_PERSON = "@named_person"
BUILT_IN_LEXICONS = frozenset({NAMED_PERSON})
MAX_WITHIN = 50


class Category(msgspec.Struct, frozen=True):
    name: str
    label: str
    policy: str
    likelihood: int
    consequence: int


class Rule(msgspec.Struct, frozen=True):
    """A reason to flag: its terms (or pattern) set it off; `near` asks for context within
    `within` words; `unless` cancels it within `unless_within` words."""

    id: str
    category: str
    likelihood: int
    consequence: int
    words: tuple[str, ...] = ()
    pattern: str = ""
    extend_left: str = ""  # characters a pattern match grows over to its left
    near: tuple[str, ...] = ()
    within: int = 8
    unless: tuple[str, ...] = ()
    unless_within: int = 3

    @property
    def score(self) -> int:
        return self.likelihood * self.consequence


class Modifier(msgspec.Struct, frozen=True):
    """Context that raises or lowers a match's likelihood or consequence (each kept in 1-5)."""

    id: str
    words: tuple[str, ...]
    within: int
    categories: tuple[str, ...]  # empty: every category
    likelihood: int = 0
    consequence: int = 0
    side: str = "any"  # "before": only words before the match count


class ElectionRaise(msgspec.Struct, frozen=True):
    """How much a match in these categories is raised while a pre-election period is in force
    (004 4.2.6): the `[election]` table of a rules file."""

    categories: tuple[str, ...]
    likelihood: int = 0
    consequence: int = 0

    def why(self) -> str:
        parts = [
            f"{value:+d} {name}"
            for value, name in ((self.likelihood, "likelihood"), (self.consequence, "consequence"))
            if value
        ]
        return ", ".join(parts) + ": pre-election period"


class RulesFile(msgspec.Struct, frozen=True):
    categories: dict[str, Category]
    rules: list[Rule]
    modifiers: list[Modifier]
    watch_terms: list[str]
    first_names: frozenset[str]
    path: Path
    election: ElectionRaise | None = None


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


def _delta(value: object, where: str, what: str, problems: list[str]) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not -4 <= value <= 4:
        problems.append(f"{where}: {what} must be a whole number from -4 to 4 (added to the match)")
        return 0
    return value


def _count(value: object, where: str, what: str, default: int, problems: list[str]) -> int:
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_WITHIN:
        problems.append(f"{where}: {what} must be a number of words from 0 to {MAX_WITHIN}")
        return default
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


def _terms(
    value: object, where: str, what: str, lexicons: dict[str, list[str]], problems: list[str]
) -> tuple[str, ...]:
    """A list of terms with lexicons ("@name") spelled out; built-in lexicons stay as named."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(t, str) and t.strip() for t in value):
        problems.append(f"{where}: {what} must be a list of words or phrases")
        return ()
    found: list[str] = []
    for term in value:
        term = term.strip()
        if term.startswith("@") and " " not in term and len(term) > 1:
            if term in BUILT_IN_LEXICONS:
                found.append(term)
            elif term[1:] in lexicons:
                found += lexicons[term[1:]]
            else:
                problems.append(f"{where}: {what}: no lexicon called {term[1:]!r}")
        else:
            found.append(term)
    return tuple(dict.fromkeys(found))


# What RE2 cannot run, found in Python's parse of the pattern (the syntax is shared).
_UNSUPPORTED = {
    "ASSERT": "a look-ahead or look-behind",
    "ASSERT_NOT": "a negative look-ahead or look-behind",
    "GROUPREF": "a back-reference",
    "GROUPREF_EXISTS": "a conditional group",
    "ATOMIC_GROUP": "an atomic group",
    "POSSESSIVE_REPEAT": "a possessive repeat",
}


def _unsupported(items) -> str:
    for op, av in items:
        name = str(op)
        if name in _UNSUPPORTED:
            return _UNSUPPORTED[name]
        nested = []
        if name in ("MAX_REPEAT", "MIN_REPEAT"):
            nested = [av[2]]
        elif name == "SUBPATTERN":
            nested = [av[-1]]
        elif name == "BRANCH":
            nested = list(av[1])
        for sub in nested:
            found = _unsupported(sub)
            if found:
                return found
    return ""


def check_pattern(pattern: str) -> str:
    """Why a pattern cannot be used (empty when it can): it must compile, and RE2 must be able
    to run it in time that grows only with the text."""
    try:
        parsed = re._parser.parse(pattern, re.IGNORECASE)
    except re.error as exc:
        return f"the pattern does not compile: {exc}"
    problem = _unsupported(parsed)
    if problem:
        return (
            f"the pattern uses {problem}, which could make flagging slow on long posts; "
            "write it without"
        )
    from smduty.core.monitoring.flag_patterns import compile_linear

    try:
        compile_linear(pattern)
    except ValueError as exc:
        return f"the pattern cannot be run in linear time: {exc}"
    return ""


def _rule(
    spec: dict,
    where: str,
    categories: dict[str, Category],
    lexicons: dict[str, list[str]],
    problems: list[str],
) -> Rule | None:
    rule_id = str(spec.get("id"))
    category = categories.get(str(spec.get("category")))
    if category is None:
        problems.append(f"{where}: unknown category {spec.get('category')!r}")
        return None
    known = {"id", "category", "words", "terms", "pattern", "extend_left", "near", "within",
             "unless", "unless_within", "likelihood", "consequence", "note"}  # fmt: skip
    for key in spec:
        if key not in known:
            problems.append(f"{where}: unknown key {key!r} (keys: {', '.join(sorted(known))})")
    words = _terms(spec.get("terms", spec.get("words")), where, "terms", lexicons, problems)
    pattern = spec.get("pattern") or ""
    if not isinstance(pattern, str):
        problems.append(f"{where}: pattern must be text")
        pattern = ""
    if not words and not pattern:
        problems.append(f"{where}: needs terms or a pattern")
    if pattern:
        why = check_pattern(pattern)
        if why:
            problems.append(f"{where}: {why}")
            pattern = ""
    near = _terms(spec.get("near"), where, "near", lexicons, problems)
    return Rule(
        rule_id,
        category.name,
        _score(spec.get("likelihood", category.likelihood), where, "likelihood", problems),
        _score(spec.get("consequence", category.consequence), where, "consequence", problems),
        words,
        pattern,
        _char_class(spec.get("extend_left", ""), where, problems),
        near,
        _count(spec.get("within"), where, "within", 8, problems),
        _terms(spec.get("unless"), where, "unless", lexicons, problems),
        _count(spec.get("unless_within"), where, "unless_within", 3, problems),
    )


def _modifier(
    spec: dict,
    where: str,
    categories: dict[str, Category],
    lexicons: dict[str, list[str]],
    problems: list[str],
) -> Modifier:
    wanted = spec.get("categories") or []
    if not isinstance(wanted, list) or any(c not in categories for c in wanted):
        problems.append(f"{where}: categories must list categories of this file")
        wanted = []
    side = spec.get("side", "any")
    if side not in ("any", "before", "after"):
        problems.append(f"{where}: side must be any, before or after")
        side = "any"
    words = _terms(spec.get("terms", spec.get("words")), where, "terms", lexicons, problems)
    if not words:
        problems.append(f"{where}: needs terms")
    raised = Modifier(
        str(spec.get("id")),
        words,
        _count(spec.get("within"), where, "within", 6, problems),
        tuple(wanted),
        _delta(spec.get("likelihood", 0), where, "likelihood", problems),
        _delta(spec.get("consequence", 0), where, "consequence", problems),
        side,
    )
    if not raised.likelihood and not raised.consequence:
        problems.append(f"{where}: says neither likelihood nor consequence to add")
    return raised


def _lexicons(raw: object, text: str, problems: list[str]) -> dict[str, list[str]]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.append(f"line {_line_of(text, '[lexicon]')}: [lexicon] must be a table of lists")
        return {}
    found: dict[str, list[str]] = {}
    for name, terms in raw.items():
        if not isinstance(terms, list) or not all(isinstance(t, str) and t.strip() for t in terms):
            where = f"line {_line_of(text, name + ' =')}: lexicon {name!r}"
            problems.append(f"{where}: must be a list of words or phrases")
            continue
        found[name] = [t.strip() for t in terms]

    # A lexicon may name others ("@harm"): spelled out here, once.
    def spelled(name: str, seen: tuple[str, ...]) -> list[str]:
        out: list[str] = []
        for term in found[name]:
            inner = term[1:] if term.startswith("@") else ""
            if inner in found and inner not in seen:
                out += spelled(inner, (*seen, inner))
            elif inner and inner not in found and term not in BUILT_IN_LEXICONS:
                problems.append(f"lexicon {name!r}: no lexicon called {inner!r}")
            else:
                out.append(term)
        return out

    return {name: list(dict.fromkeys(spelled(name, (name,)))) for name in found}


def load_rules_file(path: Path | None = None) -> RulesFile:
    """Read and check a rules file; any problem is refused with its line and reason."""
    path = path or rules_path()
    text, raw = read_toml(path)
    problems: list[str] = []
    known = {"watch", "categories", "rule", "lexicon", "modifier", "election"}
    for key in raw:
        if key not in known:
            problems.append(
                f"line {_line_of(text, key)}: unknown table {key!r} (tables: {', '.join(known)})"
            )
    lexicons = _lexicons(raw.get("lexicon"), text, problems)
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
        rule = _rule(spec, where, categories, lexicons, problems)
        if rule is not None:
            rules.append(rule)
    modifiers: list[Modifier] = []
    for index, spec in enumerate(raw.get("modifier") or [], start=1):
        mod_id = str(spec.get("id") or "") if isinstance(spec, dict) else ""
        line = _line_of(text, f'"{mod_id}"') if mod_id else 1
        where = f"line {line}: modifier {mod_id or f'number {index}'!r}"
        if not isinstance(spec, dict) or not mod_id:
            problems.append(f"{where}: needs an id")
            continue
        modifiers.append(_modifier(spec, where, categories, lexicons, problems))
    watch = (raw.get("watch") or {}).get("terms") or []
    if not isinstance(watch, list) or not all(isinstance(t, str) for t in watch):
        problems.append(f"line {_line_of(text, '[watch]')}: watch terms must be a list of strings")
        watch = []
    election = _election(raw.get("election"), text, categories, problems)
    if not rules and not problems:
        problems.append("there are no rules: every mention would go unflagged")
    if problems:
        raise ConfigError(f"{path}: " + "; ".join(problems))
    return RulesFile(
        categories,
        rules,
        modifiers,
        list(watch),
        frozenset(n.casefold() for n in lexicons.get("first_names", [])),
        path,
        election,
    )


def _election(
    spec: object, text: str, categories: dict[str, Category], problems: list[str]
) -> ElectionRaise | None:
    if spec is None:
        return None
    where = f"line {_line_of(text, '[election]')}: [election]"
    if not isinstance(spec, dict):
        problems.append(f"{where} must be a table")
        return None
    wanted = spec.get("categories") or []
    if not isinstance(wanted, list) or not wanted or any(c not in categories for c in wanted):
        problems.append(f"{where}: categories must list categories of this file")
        return None
    raised = ElectionRaise(
        tuple(wanted),
        _delta(spec.get("likelihood", 0), where, "likelihood", problems),
        _delta(spec.get("consequence", 0), where, "consequence", problems),
    )
    if not raised.likelihood and not raised.consequence:
        problems.append(f"{where}: says neither likelihood nor consequence to add")
    return raised
