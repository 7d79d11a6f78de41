"""Flagging: which mentions need a person, why, and how risky they are (000 section 4.3).

Rules are data (`data/rules.toml`, or the council's copy; see `flag_rules`). A rule's terms set
it off; a rule may ask for context within a number of words (`near`: a harm word near a person
or a council building), be cancelled by context (`unless`: a photo shoot, killing tomatoes),
and have its likelihood or consequence raised or lowered by modifiers (first-person intent, a
time, a named person). Each match keeps what set it off and why, so every verdict can be
explained: the matched words, the context, and likelihood x consequence.

Speed: every rule's terms, in all their forms, go into one Aho-Corasick automaton (the
"trigger" one); most posts set nothing off and are done after that one pass. Context terms go
into a second automaton, searched only in posts something set off.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path

import ahocorasick
from msgspec.structs import replace

from smduty.core.monitoring import flag_cache
from smduty.core.monitoring.flag_automata import (
    ABOUT,
    CAPITALISED_PAIR,
    FIRST_GATE,
    MARK,
    NAME_TITLE,
    NAME_TITLES,
    NEAR,
    SECOND_LOOK,
    TRIGGER,
    UNLESS,
    WATCH,
    WORD_GATE,
    PostWords,
    add_term,
    build,
    build_masks,
    closest,
    digits_of,
    marker_flag,
    said,
    slots_of,
)
from smduty.core.monitoring.flag_contacts import published_reason
from smduty.core.monitoring.flag_patterns import (
    Pattern,
    compile_pattern,
    digit_count,
    in_one_token,
)
from smduty.core.monitoring.flag_rules import (
    NAMED_PERSON,
    Category,
    ElectionRaise,
    Modifier,
    Rule,
    rules_path,
)
from smduty.core.monitoring.flag_text import LOOK_MARKERS, fold, second_looks
from smduty.core.monitoring.flag_verdict import (
    NOTHING,
    NOTHING_ABOUT,
    RATING_RANK,
    RATINGS,
    Match,
    Verdict,
    rating_for,
)

__all__ = [
    "RATINGS",
    "RATING_RANK",
    "Category",
    "Match",
    "Rule",
    "RuleSet",
    "Verdict",
    "rating_for",
    "rules_path",
]


# A dataclass, unlike smduty's records (msgspec Structs): its built automata and tables stay
# out of its repr, and it is built once a process, so its class costs nothing that matters.
@dataclass
class RuleSet:
    categories: dict[str, Category]
    rules: list[Rule]
    watch_terms: list[str]
    path: Path
    modifiers: list[Modifier] = field(default_factory=list)
    published: tuple[str, ...] = ()
    first_names: frozenset[str] = frozenset()
    election: ElectionRaise | None = None  # what a pre-election period raises
    in_election: bool = False  # a period is in force: raise it
    _triggers: ahocorasick.Automaton | None = field(default=None, repr=False)
    _context: ahocorasick.Automaton | None = field(default=None, repr=False)
    _patterns: list[Pattern] = field(default_factory=list, repr=False)
    _pattern_slots: list[int] = field(default_factory=list, repr=False)
    _named_mask: int = field(default=0, repr=False)
    _name_gate: int = field(default=0, repr=False)
    _short: dict[str, int] = field(default_factory=dict, repr=False)
    _short_mask: int = field(default=0, repr=False)
    _short_words: re.Pattern | None = field(default=None, repr=False)
    _context_masks: list[int] = field(default_factory=list, repr=False)
    _near_words: list[tuple[str, ...] | None] = field(default_factory=list, repr=False)
    _plan: list[tuple] = field(default_factory=list, repr=False)
    _modifiers_for: dict[str, list[int]] = field(default_factory=dict, repr=False)
    _extra_watch: tuple[str, ...] = field(default=(), repr=False)
    _extra_published: tuple[str, ...] = field(default=(), repr=False)
    _phones: frozenset[str] = field(default=frozenset(), repr=False)
    _built: bool = field(default=False, repr=False)
    _emails: frozenset[str] = field(default=frozenset(), repr=False)

    def __reduce__(self):
        # Sent to the reader process as its source; the automata are rebuilt there.
        args = (self.categories, self.rules, self.watch_terms, self.path, self.modifiers,
                self.published, self.first_names, self.election, self.in_election)  # fmt: skip
        return _recompiled, (args, self._extra_watch, self._extra_published)

    def compile(self, extra_watch=(), extra_published=()) -> RuleSet:
        """Ready to scan: `extra_watch` names (the register's channels) mark a mention as about
        the council, `extra_published` contacts (its staff's) are never personal data. The
        automata are built on the first scan (half a second with the shipped rules): a process
        that only writes what a reader process flagged never builds them."""
        self._extra_watch = tuple(extra_watch)
        self._extra_published = tuple(extra_published)
        self._built = False
        return self

    def _build(self) -> None:
        """The automata and tables `scan` uses: read back when this set was built before (see
        flag_cache), else built here and kept for the next process."""
        cache = flag_cache.cache_file(self.__reduce__()[1])
        state = flag_cache.read(cache) if cache else None
        if state is not None and state.keys() == set(_BUILT_FIELDS):
            for name, value in state.items():
                setattr(self, name, value)
            self._built = True
            return
        self._build_here()
        if cache:
            flag_cache.write(cache, {name: getattr(self, name) for name in _BUILT_FIELDS})

    def _build_here(self) -> None:
        self._built = True
        triggers: dict[str, list[tuple[int, bool]]] = {}
        context: dict[str, list[tuple[int, bool]]] = {}
        named: set[int] = set()
        self._patterns, self._pattern_slots = [], []
        for index, rule in enumerate(self.rules):
            base = 3 * index
            for slot, terms, into in (
                (base + TRIGGER, rule.words, triggers),
                (base + NEAR, rule.near, context),
                (base + UNLESS, rule.unless, context),
            ):
                for term in terms:
                    if term == NAMED_PERSON:
                        named.add(slot)
                    else:
                        add_term(into, term, slot)
            if rule.pattern:
                self._patterns.append(compile_pattern(rule))
                self._pattern_slots.append(base + TRIGGER)
        for index, modifier in enumerate(self.modifiers):
            slot = 3 * len(self.rules) + index
            for term in modifier.words:
                if term == NAMED_PERSON:
                    named.add(slot)
                else:
                    add_term(context, term, slot)
        for term in [*self.watch_terms, *self._extra_watch]:
            if term.strip():
                add_term(triggers, "=" + term.strip(), WATCH)
        for marker in LOOK_MARKERS:
            triggers.setdefault(marker, []).append((MARK, True))
        for index, compiled in enumerate(self._patterns):
            gate = WORD_GATE - index if compiled[6] else MARK - 1 - index
            for option in compiled[5]:
                owners = triggers.setdefault(option, [])
                if (gate, False) not in owners:
                    owners.append((gate, False))
        self._triggers = build(triggers)
        # A named person is looked for (two regular expressions) only in a post holding a
        # title or a known first name: those words sit in the context automaton as a gate.
        self._name_gate = 3 * len(self.rules) + len(self.modifiers)
        if named:
            for word in [*NAME_TITLES, *self.first_names]:
                add_term(context, "=" + word, self._name_gate)
        # Words of one or two letters ("i", "me", "he") are in most words of a post: searched
        # for with one pattern, and only when a rule set off asks about one of them.
        short = {k: v for k, v in context.items() if len(k) <= 2 and k.replace("'", "").isalnum()}
        self._short = {
            key: sum(1 << slot for slot, _ in set(owners)) for key, owners in short.items()
        }
        self._short_mask = 0
        for mask in self._short.values():
            self._short_mask |= mask
        self._short_words = (
            re.compile(
                r"(?<![\w'])(?:"
                + "|".join(map(re.escape, sorted(short, key=len, reverse=True)))
                + r")(?![\w'])"
            )
            if short
            else None
        )
        self._context = build_masks({k: v for k, v in context.items() if k not in short})
        # What each pattern needs, rarest character first ("@" before ".").
        self._plan = [
            (slot, pattern, grow, tuple(sorted(chars, key=lambda c: c in ". ,-")), digits,
             (FIRST_GATE << index) if options else 0, one_token)
            for index, (slot, (_rule, pattern, grow, chars, digits, options, _whole, one_token))
            in enumerate(zip(self._pattern_slots, self._patterns, strict=True))
        ]  # fmt: skip
        self._named_mask = sum(1 << slot for slot in named)
        first_modifier = 3 * len(self.rules)
        self._modifiers_for = {
            name: [
                i for i, m in enumerate(self.modifiers) if not m.categories or name in m.categories
            ]
            for name in {*self.categories, *(r.category for r in self.rules)}
        }
        # A rule whose context terms are all exact words ("=myself") can match only in a post
        # holding one of them: a substring test rules most posts out before the slow path
        # (the shipped "do" of "do myself in" is set off by a third of ordinary posts).
        self._near_words = [
            tuple(fold(w[1:]) for w in rule.near)
            if rule.near and all(w.startswith("=") and len(w) > 1 for w in rule.near)
            else None
            for rule in self.rules
        ]
        self._context_masks = []
        for index, rule in enumerate(self.rules):
            mask = 0
            if rule.near:
                mask |= 1 << (3 * index + NEAR)
            if rule.unless:
                mask |= 1 << (3 * index + UNLESS)
            for i in self._modifiers_for[rule.category]:
                mask |= 1 << (first_modifier + i)
            self._context_masks.append(mask)
        phones, emails = set(), set()
        for item in [*self.published, *self._extra_published]:
            item = item.strip().casefold()
            if "@" in item:
                emails.add(item)
            elif sum(c.isdigit() for c in item) >= 6:
                phones.add(digits_of(item))
        self._phones, self._emails = frozenset(phones), frozenset(emails)

    # --- scanning ----------------------------------------------------------------------

    def scan(self, fields: dict[str, str]) -> Verdict:
        if not self._built:
            self._build()
        matches: list[Match] = []
        cancelled: list[Match] = []
        about = False
        for name, text in fields.items():
            if not text:
                continue
            low = text.casefold()
            if not low.isascii() or "`" in low:
                low = fold(text)
            hits: list[tuple[int, int, int, int]] = []  # slot, start, end, look
            flags = self._trigger_hits(low, 0, hits)
            about |= bool(flags & ABOUT)
            looks = [low]
            if flags & SECOND_LOOK:
                for number, look in enumerate(second_looks(low), start=1):
                    looks.append(look)
                    self._trigger_hits(look, number, hits)
            if self._patterns:
                self._pattern_hits(text, low, flags, hits)
            if hits:
                hits = self._possible(hits, looks)
            if hits:
                self._judge(name, text, looks, hits, matches, cancelled)
        if not matches:
            if not cancelled:  # most posts: one shared answer (no one changes a verdict)
                return NOTHING_ABOUT if about else NOTHING
            return Verdict([], about, 0, "none", [], cancelled)
        if self.in_election and self.election is not None:
            matches = [self._raised(m) for m in matches]
        risk = max(m.score for m in matches)
        categories = sorted({m.category for m in matches})
        return Verdict(matches, about, risk, rating_for(risk), categories, cancelled)

    def _possible(self, hits: list, looks: list[str]) -> list:
        """The hits whose rule can still match: those of a rule needing one of its exact
        context words are dropped when no spelling of the post holds any of them."""
        gates = self._near_words
        ruled_out: dict[int, bool] = {}
        kept = []
        for hit in hits:
            index = hit[0] // 3
            words = gates[index]
            if words is not None:
                out = ruled_out.get(index)
                if out is None:
                    out = ruled_out[index] = not any(w in look for look in looks for w in words)
                if out:
                    continue
            kept.append(hit)
        return kept

    def _raised(self, match: Match) -> Match:
        """A match as a pre-election period rates it (its category raised, within 1-5)."""
        raise_ = self.election
        if match.category not in raise_.categories:
            return match
        return replace(
            match,
            likelihood=min(5, max(1, match.likelihood + raise_.likelihood)),
            consequence=min(5, max(1, match.consequence + raise_.consequence)),
            why="; ".join(filter(None, (match.why, raise_.why()))),
        )

    def _trigger_hits(self, look: str, number: int, hits: list) -> int:
        """Add what sets a rule off in one spelling of a post. Returns flags: a watch term is
        in it, it needs a second look (leetspeak, drawn-out letters), which patterns can run."""
        if self._triggers is None:
            return 0
        flags = 0
        limit = len(look)
        for end, (length, owners) in self._triggers.iter(look):
            start = end - length + 1
            bounds = None
            for slot, open_end in owners:
                if WORD_GATE < slot <= MARK:  # a marker: found anywhere, not only whole words
                    flags |= marker_flag(slot)
                    continue
                if bounds is None:
                    bounds = (
                        start == 0 or not look[start - 1].isalnum(),
                        end + 1 >= limit or not look[end + 1].isalnum(),
                    )
                if not bounds[0] or not (bounds[1] or open_end):
                    continue
                if slot >= 0:
                    hits.append((slot, start, end + 1, number))
                elif slot == WATCH:
                    flags |= ABOUT
                else:
                    flags |= marker_flag(slot)
        return flags

    def _pattern_hits(self, text: str, low: str, flags: int, hits: list) -> None:
        digits = -1
        gated = low.isascii()
        for slot, pattern, grow, chars, needs_digits, bit, one_token in self._plan:
            if bit and gated and not flags & bit:
                continue
            if chars:
                for char in chars:
                    if char not in text:
                        break
                else:
                    # All there; a pattern that cannot hold a space needs them in one run
                    # (an e-mail address: "@" and "." in one word, not an @handle and a
                    # sentence's full stop).
                    chars = () if not one_token or in_one_token(text, chars) else chars
                if chars:
                    continue
            if needs_digits:
                if digits < 0:
                    digits = digit_count(text)
                if digits < needs_digits:
                    continue
            for found in pattern.finditer(text):
                start, end = found.span()
                if grow is not None:
                    start -= len(grow.search(text, max(0, start - 64), start).group())
                hits.append((slot, start, end, -1))

    def _judge(self, name, text, looks, hits, matches, cancelled) -> None:
        """The slow path, for a post something set off: context, cancellations, modifiers."""
        first_modifier = 3 * len(self.rules)
        wanted = 0
        for slot, *_ in hits:
            wanted |= self._context_masks[slot // 3]
        context: dict[int, list[tuple[int, int, int, int, int]]] = {}
        if wanted:
            self._context_hits(looks, text, wanted, context)
        post = PostWords(looks)
        taken: dict[int, list[tuple[int, int]]] = {}  # rule -> word spans matched
        # Longest first, so "will get hurt" stands for "get hurt" and "hurt" inside it.
        for slot, start, end, look in sorted(hits, key=lambda h: h[1] - h[2]):
            index = slot // 3
            rule = self.rules[index]
            first, last = post.span((start, end, look))
            spans = taken.setdefault(index, [])
            if any(a <= first and last <= b for a, b in spans):
                continue
            spans.append((first, last))
            if look == -1 or (look == 0 and text.isascii()):
                shown = text[start:end]
            else:
                shown = looks[look][start:end]
            why: list[str] = []
            near = None
            if rule.near:
                near = closest(
                    first, last, context.get(3 * index + NEAR, ()), rule.within, post,
                    skip=(start, end, look),
                )  # fmt: skip
                if near is None:
                    continue
                why.append(f"near {said(looks, text, near)!r}")
            # What cancels a match may stand by either of its parts (the term, its context).
            # A cancelling phrase that holds another of the rule's terms ("smashed my bin")
            # speaks for that term only, not for a threat further along the post.
            blockers = [
                b
                for b in context.get(3 * index + UNLESS, ())
                if _overlaps(b, start, end, look)
                or not any(_overlaps(b, s, e, k) for slot_, s, e, k in hits if slot_ == slot)
            ]
            blocker = closest(first, last, blockers, rule.unless_within, post)
            if blocker is None and near is not None and blockers:
                near_first, near_last = post.span(near)
                blocker = closest(near_first, near_last, blockers, rule.unless_within, post)
            reason = f"cancelled by {said(looks, text, blocker)!r}" if blocker else ""
            if not reason and look == -1:
                reason = published_reason(shown, self._emails, self._phones)
            if reason:
                cancelled.append(
                    Match(
                        rule.id,
                        rule.category,
                        shown,
                        name,
                        start,
                        end,
                        rule.likelihood,
                        rule.consequence,
                        reason,
                    )  # fmt: skip
                )
                continue
            likelihood, consequence = rule.likelihood, rule.consequence
            for offset in self._modifiers_for[rule.category]:
                found = context.get(first_modifier + offset)
                if not found:
                    continue
                modifier = self.modifiers[offset]
                found = closest(first, last, found, modifier.within, post, modifier.side)
                if found is None:
                    continue
                shown_context = said(looks, text, found)
                if modifier.likelihood:
                    likelihood = min(5, max(1, likelihood + modifier.likelihood))
                    why.append(
                        f"{modifier.likelihood:+d} likelihood: {modifier.id} {shown_context!r}"
                    )
                if modifier.consequence:
                    consequence = min(5, max(1, consequence + modifier.consequence))
                    why.append(
                        f"{modifier.consequence:+d} consequence: {modifier.id} {shown_context!r}"
                    )
            matches.append(
                Match(
                    rule.id,
                    rule.category,
                    shown,
                    name,
                    start,
                    end,
                    likelihood,
                    consequence,
                    "; ".join(why),
                )  # fmt: skip
            )

    def _context_hits(self, looks, text, wanted, context) -> None:
        """Context terms in the post, for the slots asked about: (start, end, look) under
        each slot."""
        named = wanted & self._named_mask
        if named:
            wanted |= 1 << self._name_gate
        if self._context is not None:
            for number, look in enumerate(looks):
                limit = len(look)
                for end, (length, closed, anything) in self._context.iter(look):
                    mask = (closed | anything) & wanted
                    if not mask:
                        continue
                    start = end - length + 1
                    if start > 0 and look[start - 1].isalnum():
                        continue
                    if end + 1 < limit and look[end + 1].isalnum():
                        mask &= anything
                        if not mask:
                            continue
                    span = (start, end + 1, number)
                    for slot in slots_of(mask):
                        context.setdefault(slot, []).append(span)
        if wanted & self._short_mask:
            for number, look in enumerate(looks):
                for found in self._short_words.finditer(look):
                    mask = self._short[found.group()] & wanted
                    if mask:
                        start, end = found.span()
                        for slot in slots_of(mask):
                            context.setdefault(slot, []).append((start, end, number))
        if named and context.pop(self._name_gate, None):
            for start, end in self._named_people(text):
                for slot in slots_of(named):
                    context.setdefault(slot, []).append((start, end, -1))

    def _named_people(self, text: str) -> list[tuple[int, int]]:
        spans = [m.span() for m in NAME_TITLE.finditer(text)]
        if self.first_names:
            for m in CAPITALISED_PAIR.finditer(text):
                if m.group(1).casefold() in self.first_names:
                    spans.append(m.span())
        return spans


# What `_build` makes: kept whole in the cache, so a set read back is the set built.
_BUILT_FIELDS = tuple(
    f.name
    for f in dataclasses.fields(RuleSet)
    if f.name.startswith("_") and f.name not in ("_extra_watch", "_extra_published", "_built")
)


def _recompiled(args: tuple, extra_watch: tuple, extra_published: tuple) -> RuleSet:
    return RuleSet(*args).compile(extra_watch, extra_published)


def _overlaps(hit, start: int, end: int, look: int) -> bool:
    """A context hit shares characters with a span of the same spelling of the post."""
    return hit[2] == look and hit[0] < end and start < hit[1]
