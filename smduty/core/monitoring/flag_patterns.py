"""Pattern rules (e-mail addresses, phone numbers, National Insurance numbers, addresses).

Each runs in RE2, whose time grows only with the length of the post, and only on posts that
can hold a match: from the pattern's parse tree smduty knows the digits, the non-letter
characters and (for ASCII posts) one of the words every match must contain, so a post without
them is not searched.
"""

from __future__ import annotations

import functools
import re
from itertools import permutations

import re2

_ASCII_DIGITS = b"0123456789"
_OTHER_DIGIT = re.compile(r"(?![0-9])\d")  # digits beyond 0-9 (Arabic, Devanagari...)


def digit_count(text: str) -> int:
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


_CATEGORIES_WITHOUT_SPACE = ("CATEGORY_DIGIT", "CATEGORY_WORD", "CATEGORY_NOT_SPACE")


@functools.cache
def _whitespace() -> tuple[int, ...]:
    """Every character str.split() splits on (all are below U+3001)."""
    return tuple(n for n in range(0x3001) if chr(n).isspace())


def _class_without_space(items) -> bool:
    for op, av in items:
        name = str(op)
        if name == "LITERAL":
            if chr(av).isspace():
                return False
        elif name == "RANGE":
            if any(av[0] <= n <= av[1] for n in _whitespace()):
                return False
        elif name != "CATEGORY" or str(av) not in _CATEGORIES_WITHOUT_SPACE:
            return False  # a negated class, or anything not understood
    return True


def _without_space(items) -> bool:
    """True when no match of a parsed pattern can hold a whitespace character (anything not
    understood answers False, so a text is never skipped wrongly)."""
    for op, av in items:
        name = str(op)
        if name == "LITERAL":
            if chr(av).isspace():
                return False
        elif name == "IN":
            if not _class_without_space(av):
                return False
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            if not _without_space(av[2]):
                return False
        elif name == "SUBPATTERN":
            if not _without_space(av[-1]):
                return False
        elif name == "ATOMIC_GROUP":
            if not _without_space(av):
                return False
        elif name == "BRANCH":
            if not all(_without_space(branch) for branch in av[1]):
                return False
        elif name != "AT":  # a boundary or an anchor takes no character
            return False
    return True


def in_one_token(text: str, chars: tuple[str, ...]) -> bool:
    """Whether one whitespace-free run of `text` holds every one of `chars`."""
    orders = _together(chars)
    if orders is None:
        first = chars[0]
        return any(first in token and all(c in token for c in chars) for token in text.split())
    return any(order.search(text) is not None for order in orders)


@functools.lru_cache(maxsize=64)
def _together(chars: tuple[str, ...]) -> tuple[re.Pattern, ...] | None:
    """A regex for each order of `chars` with no whitespace between them (`\\S`: whatever
    str.isspace is not, as str.split splits). One regex each, not one alternation: each then
    starts with a literal, which the regex engine looks for at speed. Over 200,000 posts
    holding an @handle and a full stop: 0.13 s, against 0.35 s for the alternation and 0.85 s
    for splitting the posts into words. None for more than four characters (24 orders)."""
    if len(chars) > 4:
        return None
    return tuple(
        re.compile("\\S*".join(re.escape(c) for c in order)) for order in permutations(chars)
    )


def _is_digit_class(op, av) -> bool:
    name = str(op)
    if name == "CATEGORY":
        return str(av) == "CATEGORY_DIGIT"
    if name == "LITERAL":
        return chr(av) in "0123456789"
    if name == "RANGE":
        return 48 <= av[0] <= av[1] <= 57
    return False


def _spacer(item) -> bool:
    """A word boundary, or whitespace (alone or repeated), in a parsed pattern."""
    if item is None:
        return True
    op, av = item
    name = str(op)
    if name == "AT":
        return str(av) in ("AT_BOUNDARY", "AT_BEGINNING", "AT_END")
    if name in ("MAX_REPEAT", "MIN_REPEAT"):
        return len(av[2]) == 1 and _spacer(av[2][0])
    if name == "IN":
        return len(av) == 1 and str(av[0][0]) == "CATEGORY" and str(av[0][1]) == "CATEGORY_SPACE"
    return name == "LITERAL" and chr(av) == " "


def _literal_options(items) -> list[tuple[tuple[str, ...], bool]]:
    """Sets of literal strings, one of each set being in every match: a run of two or more
    literal characters, or an alternation of plain words such as (?:Road|Street|Lane). With
    each, whether its words stand between word boundaries or spaces (so can be looked for as
    whole words)."""
    found: list[tuple[tuple[str, ...], bool]] = []
    run = ""
    items = list(items)
    for index, (op, av) in enumerate([*items, (None, None)]):
        name = str(op)
        if name == "LITERAL" and chr(av).isascii():
            run += chr(av)
            continue
        if len(run) >= 2:
            found.append(((run.casefold(),), False))
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
                before = items[index - 1] if index > 0 else None
                after = items[index + 1] if index + 1 < len(items) else None
                whole = all(w.isalnum() for w in words) and _spacer(before) and _spacer(after)
                found.append((tuple(words), whole))
    return found


# A compiled pattern rule: (rule, regex, left-grow regex or None, characters a text must hold,
# digits a text must hold, words one of which an ASCII text must hold). A plain tuple: it is
# unpacked for every text scanned.
# (rule, regex, grow, chars, digits, options, whole, one_token): `one_token` when no match can
# hold whitespace, so the characters every match needs are in one whitespace-free run.
Pattern = tuple[object, object, re.Pattern | None, frozenset[str], int, tuple[str, ...], bool, bool]


def compile_linear(pattern: str) -> object:
    """The pattern for RE2: case-insensitive, no captures; ValueError says why it cannot be."""
    options = re2.Options()
    options.case_sensitive = False
    options.never_capture = True
    options.log_errors = False  # RE2 would print to the terminal; the caller words the reason
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        raise ValueError(str(exc.args[0] if exc.args else exc).strip("b'")) from None


def compile_pattern(rule) -> Pattern:
    regex = compile_linear(rule.pattern)
    try:
        parsed = re._parser.parse(rule.pattern, re.IGNORECASE)
        digits, chars = _needs(parsed, re.IGNORECASE)
        one_token = len(chars) > 1 and _without_space(parsed)
        # Whole words are the better gate (" st" is rarer than "st"); then the longest.
        options, whole = max(
            _literal_options(parsed),
            key=lambda o: (o[1], min(map(len, o[0]))),
            default=((), False),
        )
    except Exception:  # the parser is CPython's own: should it change, nothing is skipped
        digits, chars, options, whole, one_token = 0, frozenset(), (), False, False
    grow = re.compile(f"[{rule.extend_left}]*$") if rule.extend_left else None
    return rule, regex, grow, chars, digits, options, whole, one_token
