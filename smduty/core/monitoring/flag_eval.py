"""Measuring the flag rules on labelled posts, so a council can see what a rules edit does.

A labelled file is JSON Lines: `{"text": "...", "expect": "high" | "none", "category": "..."}`.
"high" posts must be rated high or critical (a person sees them at once); "none" posts must
not be (low or medium is fine). Recall is the share of high posts rated high or critical; the
false-positive rate is the share of harmless posts rated so.
"""

from __future__ import annotations

import json
from pathlib import Path

import msgspec

from smduty.core.errors import InvalidInput
from smduty.core.files import read_small_text
from smduty.core.monitoring.flagging import RATING_RANK, RuleSet, Verdict

EXPECTATIONS = ("high", "none")
ALARM = RATING_RANK["high"]  # high and critical reach a person at once


class LabelledPost(msgspec.Struct, frozen=True):
    text: str
    expect: str
    category: str
    line: int


class CategoryFigures(msgspec.Struct):
    posts: int = 0
    high: int = 0  # posts labelled high
    caught: int = 0  # of those, rated high or critical
    harmless: int = 0
    false_alarms: int = 0  # harmless posts rated high or critical

    def as_dict(self) -> dict:
        return {
            "posts": self.posts,
            "high": self.high,
            "caught": self.caught,
            "recall": _share(self.caught, self.high),
            "harmless": self.harmless,
            "false_alarms": self.false_alarms,
            "false_positive_rate": _share(self.false_alarms, self.harmless),
        }


class Evaluation(msgspec.Struct):
    overall: CategoryFigures
    by_category: dict[str, CategoryFigures]
    misses: list[tuple[LabelledPost, Verdict]] = msgspec.field(default_factory=list)  # worst first
    false_alarms: list[tuple[LabelledPost, Verdict]] = msgspec.field(default_factory=list)

    @property
    def recall(self) -> float | None:
        return _share(self.overall.caught, self.overall.high)

    @property
    def false_positive_rate(self) -> float | None:
        return _share(self.overall.false_alarms, self.overall.harmless)

    def as_dict(self, worst: int = 10) -> dict:
        return {
            **self.overall.as_dict(),
            "by_category": {name: f.as_dict() for name, f in sorted(self.by_category.items())},
            "worst_misses": [_case(p, v) for p, v in self.misses[:worst]],
            "false_alarms": [_case(p, v) for p, v in self.false_alarms[:worst]],
        }


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _case(post: LabelledPost, verdict: Verdict) -> dict:
    return {
        "line": post.line,
        "text": post.text,
        "category": post.category,
        "rating": verdict.rating,
        "risk": verdict.risk,
        "why": verdict.explain(),
    }


def read_labelled(path: Path | str) -> list[LabelledPost]:
    """The posts of a labelled file; InvalidInput names the file, the line and what is wrong."""
    where = str(path)
    posts: list[LabelledPost] = []
    for number, line in enumerate(read_small_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise InvalidInput({f"line {number}": f"not JSON ({exc.msg})"}, where) from None
        if not isinstance(row, dict):
            raise InvalidInput({f"line {number}": "each line must be a JSON object"}, where)
        text, expect = row.get("text"), row.get("expect")
        if not isinstance(text, str) or not text.strip():
            raise InvalidInput({f"line {number}": "needs the post's text"}, where)
        if expect not in EXPECTATIONS:
            raise InvalidInput(
                {f"line {number}": f"expect must be one of {', '.join(EXPECTATIONS)}"}, where
            )
        category = row.get("category") or "uncategorised"
        posts.append(LabelledPost(text, expect, str(category), number))
    if not posts:
        raise InvalidInput({"file": "has no labelled posts"}, where)
    return posts


def evaluate(rules: RuleSet, posts: list[LabelledPost]) -> Evaluation:
    overall = CategoryFigures()
    by_category: dict[str, CategoryFigures] = {}
    misses, false_alarms = [], []
    for post in posts:
        verdict = rules.scan({"text": post.text})
        alarmed = RATING_RANK[verdict.rating] >= ALARM
        for figures in (overall, by_category.setdefault(post.category, CategoryFigures())):
            figures.posts += 1
            if post.expect == "high":
                figures.high += 1
                figures.caught += alarmed
            else:
                figures.harmless += 1
                figures.false_alarms += alarmed
        if post.expect == "high" and not alarmed:
            misses.append((post, verdict))
        elif post.expect == "none" and alarmed:
            false_alarms.append((post, verdict))
    misses.sort(key=lambda pv: (pv[1].risk, pv[0].line))
    false_alarms.sort(key=lambda pv: (-pv[1].risk, pv[0].line))
    return Evaluation(overall, by_category, misses, false_alarms)
