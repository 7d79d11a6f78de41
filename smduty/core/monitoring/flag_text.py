"""Text as the flag rules see it: folded, its words found, and each rule term's written forms.

A post is matched in lower case with accents removed ("café" is "cafe"), curly apostrophes
made straight, and, only when the post needs it, a second spelling with leetspeak undone
("k1ll" is "kill") and long runs of one letter shortened ("kiiiill", "shoooot"). A rule term
matches its inflections (hurt, hurts, hurting, hurted) and the usual misspelling of a doubled
consonant (kill, kil), so a rules file lists a word once.
"""

from __future__ import annotations

import itertools
import re
import unicodedata

# Words never inflected: pronouns, articles, prepositions, and the like.
_STOPWORDS = (
    "a an the i me my mine myself you your yours u ur he him his she her hers it its we us our "
    "they them their this that these those to of in on at by for with from up down out off over "
    "into onto and or but if so as is am are was were be been being do does did not no nor "
    "im i'm ive i've id i'd ill i'll youre you're hes he's shes she's theyre they're what who "
    "whom which when where why how all any some each every"
)
STOPWORDS = frozenset(_STOPWORDS.split())
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})
# Leetspeak, undone only inside a word that also has letters ("k1ll"), never in "07700".
_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "$": "s", "!": "i"}
_LEET_CHARS = re.escape("".join(_LEET))
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
# What calls for a second look, found while a post is searched for rule terms: a letter three
# times running, or a leetspeak character between two letters.
LOOK_MARKERS = tuple(
    [c * 3 for c in _LETTERS]
    + [a + digit + b for a in _LETTERS for digit in "013457$!" for b in _LETTERS]
    + [
        " " + digit + b + c  # "5tab", but not "5th", "1st" or "7pm"
        for digit in "013457"
        for b in _LETTERS
        for c in _LETTERS
        if b + c not in ("st", "nd", "rd", "th", "pm", "am", "km", "kg", "mb", "gb", "mm", "cm")
    ]
)
_LEET_WORD = re.compile(rf"[a-z{_LEET_CHARS}]*[a-z][a-z{_LEET_CHARS}]*")
_RUNS = re.compile(r"([a-z])\1{2,}")
WORD = re.compile(r"[\w'*]+")
_VOWELS = set("aeiou")


def fold(text: str) -> str:
    """Lower case, accents removed, apostrophes straightened. Keeps the length of ASCII text."""
    low = text.casefold()
    if low.isascii():
        return low.translate(_APOSTROPHES) if "`" in low else low
    low = low.translate(_APOSTROPHES)
    decomposed = unicodedata.normalize("NFKD", low)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _unleet(match: re.Match) -> str:
    word = match.group()
    return "".join(_LEET.get(c, c) for c in word) if not word.isalpha() else word


def second_looks(low: str) -> list[str]:
    """Other spellings of a folded post worth matching too: leetspeak undone, and long runs of
    one letter cut to one and to two ("shoooot" may be shot or shoot). Asked for only when a
    post holds one of LOOK_MARKERS."""
    plain = _LEET_WORD.sub(_unleet, low)
    looks = {_RUNS.sub(r"\1", plain), _RUNS.sub(r"\1\1", plain)}
    looks.discard(low)
    return sorted(looks)


def _doubles(word: str) -> bool:
    """A short word ending consonant-vowel-consonant doubles its last letter (stab, stabbed)."""
    return (
        len(word) >= 3
        and word[-1] not in _VOWELS
        and word[-1] not in "wxy"
        and word[-2] in _VOWELS
        and word[-3] not in _VOWELS
        and sum(c in _VOWELS for c in word) == 1
    )


def inflections(word: str) -> set[str]:
    """The regular forms of an English word: -s, -ed, -ing (and their spelling rules)."""
    forms = {word}
    if not word.isalpha() or len(word) < 3 or word in STOPWORDS or word.endswith(("ing", "ed")):
        return forms
    if word.endswith(("s", "x", "z", "ch", "sh")):
        forms.add(word + "es")
    elif word.endswith("y") and word[-2] not in _VOWELS:
        return forms | {word[:-1] + "ies", word[:-1] + "ied", word + "ing"}
    else:
        forms.add(word + "s")
    if word.endswith("e"):
        forms |= {word + "d", word[:-1] + "ing"}
    else:
        forms |= {word + "ed", word + "ing"}
        if _doubles(word):
            forms |= {word + word[-1] + "ed", word + word[-1] + "ing"}
    return forms


def _misspelt(word: str) -> set[str]:
    """A doubled consonant written once (kill/kil, bullet/bulet, stabbed/stabed)."""
    single = re.sub(r"([b-df-hj-np-tv-z])\1", r"\1", word)
    return {single} if single != word and len(single) >= 3 else set()


def term_forms(term: str, inflect: bool = True) -> set[str]:
    """Every written form of a rule term, folded. A term is words separated by spaces;
    `inflect=False` keeps it exactly as written (still folded)."""
    words = fold(term).split()
    if not words:
        return set()
    if not inflect:
        forms = {" ".join(words)}
    else:
        options = []
        for word in words:
            variants = inflections(word)
            for variant in list(variants):
                variants |= _misspelt(variant)
            options.append(sorted(variants))
        forms = {" ".join(combo) for combo in itertools.islice(itertools.product(*options), 256)}
    for form in list(forms):
        if "'" in form:
            forms.add(form.replace("'", ""))
    return forms


def word_starts(low: str) -> list[int]:
    """Where each word of a folded post starts (for counting words between two matches)."""
    return [m.start() for m in WORD.finditer(low)]
