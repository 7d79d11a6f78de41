"""The machinery under flagging: terms in Aho-Corasick automata under numbered slots, word
positions counted from spaces, and the nearest context to a match.

Each rule has three slots (what sets it off, the context it needs, the context that cancels
it), each modifier one, the watch terms one. Markers (slots -2 and below) are found anywhere in
a post, not only on whole words: letters that call for a second look (leetspeak, drawn-out
letters), and the letters or words a pattern needs before it is worth running.
"""

from __future__ import annotations

import re
from functools import lru_cache

import ahocorasick

from smduty.core.monitoring.flag_text import term_forms

WATCH = -1
MARK = -2  # the second-look marker; -3 - n: pattern n's letters, found anywhere
WORD_GATE = -1000  # -1000 - n: pattern n's words, found as whole words
TRIGGER, NEAR, UNLESS = 0, 1, 2
ABOUT, SECOND_LOOK, FIRST_GATE = 1, 2, 4


def marker_flag(slot: int) -> int:
    if slot == MARK:
        return SECOND_LOOK
    return FIRST_GATE << (WORD_GATE - slot if slot <= WORD_GATE else -slot - 3)


NAME_TITLES = ("cllr", "councillor", "councilor", "mr", "mrs", "ms", "miss", "dr", "sir")
NAME_TITLE = re.compile(
    r"\b(?i:cllr|councillor|councilor|mr|mrs|ms|miss|dr|sir)\.?\s+[A-Z][A-Za-z'\-]+"
)
CAPITALISED_PAIR = re.compile(r"\b([A-Z][a-z]+)\s+([A-Z][a-z'\-]{1,})\b")


def build(entries: dict[str, list[tuple[int, bool]]]) -> ahocorasick.Automaton | None:
    if not entries:
        return None
    automaton = ahocorasick.Automaton()
    for key, owners in entries.items():
        automaton.add_word(key, (len(key), tuple(owners)))
    automaton.make_automaton()
    return automaton


def build_masks(entries: dict[str, list[tuple[int, bool]]]) -> ahocorasick.Automaton | None:
    """As `build`, with each key's slots as two bit masks (whole word only; any ending), so
    the slots a post asks about are picked out with one `&`."""
    if not entries:
        return None
    automaton = ahocorasick.Automaton()
    for key, owners in entries.items():
        closed = sum(1 << slot for slot, open_end in set(owners) if not open_end)
        anything = sum(1 << slot for slot, open_end in set(owners) if open_end)
        automaton.add_word(key, (len(key), closed, anything))
    automaton.make_automaton()
    return automaton


@lru_cache(maxsize=4096)
def slots_of(mask: int) -> tuple[int, ...]:
    """The slot numbers in a mask (a few bits; the same masks come up again and again)."""
    found = []
    while mask:
        bit = mask & -mask
        found.append(bit.bit_length() - 1)
        mask ^= bit
    return tuple(found)


def word_at(look: str, position: int) -> int:
    """The number of the word at `position` (words counted by the spaces before it)."""
    return look.count(" ", 0, position) + look.count("\n", 0, position)


def add_term(entries: dict, term: str, slot: int) -> None:
    """A term's forms under `slot`. "=word" is exact, "word*" any ending of the last word."""
    # "stab*": any ending. A masked word ("f***", "p*ki") is matched as written.
    open_end = term.endswith("*") and term.count("*") == 1 and term[-2:-1].isalpha()
    exact = term.startswith("=")
    text = term.removeprefix("=")
    text = (text[:-1] if open_end else text).strip()
    for form in term_forms(text, inflect=not (exact or open_end)):
        owners = entries.setdefault(form, [])
        if (slot, open_end) not in owners:
            owners.append((slot, open_end))


def digits_of(value: str) -> str:
    digits = "".join(c for c in value if c.isdigit())
    return "0" + digits[2:] if digits.startswith("44") else digits


class PostWords:
    """The spellings of a post, each span's word numbers counted once, when first asked for."""

    __slots__ = ("looks", "_spans")

    def __init__(self, looks: list[str]) -> None:
        self.looks = looks
        self._spans: dict[tuple[int, int, int], tuple[int, int]] = {}

    def span(self, hit: tuple[int, int, int]) -> tuple[int, int]:
        """(first word, last word) of a (start, end, look) span; look -1 is the post itself."""
        found = self._spans.get(hit)
        if found is None:
            start, end, look = hit
            words = self.looks[look] if look >= 0 else self.looks[0]
            first = word_at(words, start)
            found = self._spans[hit] = (first, first + words.count(" ", start, end))
        return found


def closest(first: int, last: int, others, within: int, words: PostWords, side="any", skip=None):
    """The context hit nearest a match's words (first and last word numbers), if within
    `within` words of it. `skip` is the match's own span: its own words are not context."""
    best, best_gap = None, within + 1
    for other in others:
        if skip is not None and other[2] == skip[2] and skip[0] <= other[0] < other[1] <= skip[1]:
            continue
        other_first, other_last = words.span(other)
        if side == "before" and other_first > first:
            continue
        if side == "after" and other_last < last:
            continue
        gap = max(0, other_first - last - 1, first - other_last - 1)
        if gap < best_gap:
            best, best_gap = other, gap
    return best


def said(looks: list[str], text: str, hit) -> str:
    start, end, look = hit
    source = text if look == -1 else looks[look]
    return source[start:end]
