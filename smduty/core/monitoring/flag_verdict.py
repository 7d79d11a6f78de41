"""A flagging verdict: the matches that counted, why, and the rating (000 section 4.3)."""

from __future__ import annotations

import msgspec

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


class Match(msgspec.Struct, frozen=True):
    rule: str
    category: str
    matched: str
    field: str
    start: int
    end: int
    likelihood: int
    consequence: int
    why: str = ""  # the context that made it (near, raised, lowered) or cancelled it

    @property
    def score(self) -> int:
        return self.likelihood * self.consequence


class Verdict(msgspec.Struct):
    matches: list[Match]
    about_council: bool
    risk: int
    rating: str
    categories: list[str]
    cancelled: list[Match] = msgspec.field(default_factory=list)

    def explain(self) -> list[str]:
        """The verdict in words: each match with its context and arithmetic, best first."""
        lines = []
        for m in sorted(self.matches, key=lambda m: -m.score):
            line = f"{m.category}: {m.matched!r} ({m.rule}) {m.likelihood} x {m.consequence}"
            line += f" = {m.score} {rating_for(m.score)}"
            lines.append(line + (f"; {m.why}" if m.why else ""))
        for m in self.cancelled:
            lines.append(f"not counted: {m.matched!r} ({m.rule}): {m.why}")
        return lines


NOTHING = Verdict([], False, 0, "none", [])
NOTHING_ABOUT = Verdict([], True, 0, "none", [])
