"""The response assessment guide (a decision tree kept as data) and triage's reference lists.

`data/response-assessment.toml` holds the questions, the outcomes they lead to, the reasons for
"no engagement", the "before you respond" checks and the acceptable-use breaches that justify
moderation. A copy in the config dir replaces it; a broken copy is refused with line and reason.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import msgspec

from smduty.core.config import ConfigError, config_dir, read_toml, shipped_data_dir

OUTCOMES = ("respond", "refer", "no_engagement", "escalate", "dismiss")


class Answer(msgspec.Struct, frozen=True):
    label: str
    next: str


class Question(msgspec.Struct, frozen=True):
    id: str
    ask: str
    answers: tuple[Answer, ...]


class Outcome(msgspec.Struct, frozen=True):
    id: str
    title: str
    advice: str
    recommend: str
    reason: str = ""


class Choice(msgspec.Struct, frozen=True):
    """An item of a reference list: a stable id and the words shown for it."""

    id: str
    label: str
    detail: str = ""


class Guide(msgspec.Struct, frozen=True):
    start: str
    questions: dict[str, Question]
    outcomes: dict[str, Outcome]
    no_engagement_reasons: tuple[Choice, ...]
    before_you_respond: tuple[Choice, ...]
    breaches: tuple[Choice, ...]

    def step(self, node: str) -> Question | Outcome:
        return self.questions.get(node) or self.outcomes[node]

    def reason_label(self, reason_id: str) -> str:
        return next((c.label for c in self.no_engagement_reasons if c.id == reason_id), reason_id)

    def breach_label(self, breach_id: str) -> str:
        return next((c.label for c in self.breaches if c.id == breach_id), breach_id)


def guide_path() -> Path:
    user = config_dir() / "response-assessment.toml"
    return user if user.exists() else shipped_data_dir() / "response-assessment.toml"


def _line_of(text: str, item_id: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if f'"{item_id}"' in line and "id" in line:
            return number
    return 1


def _choices(raw: dict, key: str, text: str, problems: list[str]) -> tuple[Choice, ...]:
    found: list[Choice] = []
    for index, spec in enumerate(raw.get(key) or [], start=1):
        item_id = str(spec.get("id") or "") if isinstance(spec, dict) else ""
        label = str(spec.get("label") or spec.get("title") or "") if item_id else ""
        if not item_id or not label:
            problems.append(f"[[{key}]] number {index}: needs an id and a label")
            continue
        found.append(Choice(item_id, label, str(spec.get("detail") or "")))
    if not found:
        problems.append(f"[[{key}]]: at least one is needed")
    return tuple(found)


def load_guide(path: Path | None = None) -> Guide:
    path = path or guide_path()
    text, raw = read_toml(path)
    problems: list[str] = []
    questions: dict[str, Question] = {}
    outcomes: dict[str, Outcome] = {}
    for spec in raw.get("questions") or []:
        qid = str(spec.get("id") or "")
        where = f"line {_line_of(text, qid)}: question {qid!r}"
        answers = tuple(
            Answer(str(a.get("label") or ""), str(a.get("next") or ""))
            for a in spec.get("answers") or []
            if isinstance(a, dict)
        )
        if not qid or not spec.get("ask"):
            problems.append(f"{where}: needs an id and an ask")
        elif len(answers) < 2 or any(not a.label or not a.next for a in answers):
            problems.append(f"{where}: needs at least two answers, each with a label and next")
        elif qid in questions:
            problems.append(f"{where}: the id is used twice")
        questions[qid] = Question(qid, str(spec.get("ask") or ""), answers)
    reasons = _choices(raw, "no_engagement_reasons", text, problems)
    for spec in raw.get("outcomes") or []:
        oid = str(spec.get("id") or "")
        where = f"line {_line_of(text, oid)}: outcome {oid!r}"
        recommend = str(spec.get("recommend") or "")
        reason = str(spec.get("reason") or "")
        if not oid or not spec.get("title"):
            problems.append(f"{where}: needs an id and a title")
        if recommend not in OUTCOMES:
            problems.append(f"{where}: recommend must be one of {', '.join(OUTCOMES)}")
        if recommend == "no_engagement" and reason not in {r.id for r in reasons}:
            problems.append(f"{where}: reason must be one of the no_engagement_reasons ids")
        if oid in questions or oid in outcomes:
            problems.append(f"{where}: the id is used twice")
        outcomes[oid] = Outcome(
            oid, str(spec.get("title") or ""), str(spec.get("advice") or ""), recommend, reason
        )
    start = str(raw.get("start") or "")
    if start not in questions:
        problems.append(f"line {_line_of(text, start) if start else 1}: start must name a question")
    for question in questions.values():
        for answer in question.answers:
            if answer.next and answer.next not in questions and answer.next not in outcomes:
                problems.append(
                    f"line {_line_of(text, question.id)}: question {question.id!r}: answer "
                    f"{answer.label!r} goes to {answer.next!r}, which does not exist"
                )
    if not problems:
        problems.extend(_loops(start, questions, text))
    guide = Guide(
        start,
        questions,
        outcomes,
        reasons,
        _choices(raw, "before_you_respond", text, problems),
        _choices(raw, "acceptable_use_breaches", text, problems),
    )
    if problems:
        raise ConfigError(f"{path}: " + "; ".join(problems))
    return guide


def _loops(start: str, questions: dict[str, Question], text: str) -> list[str]:
    """A walk must always end: refuse a question that can lead back to itself."""
    problems: list[str] = []

    def visit(node: str, trail: tuple[str, ...]) -> None:
        if node not in questions:
            return
        if node in trail:
            problems.append(f"line {_line_of(text, node)}: question {node!r} leads back to itself")
            return
        for answer in questions[node].answers:
            visit(answer.next, (*trail, node))

    visit(start, ())
    return problems[:1]


@lru_cache(maxsize=4)
def _cached(path: Path, mtime: float) -> Guide:
    return load_guide(path)


def current_guide() -> Guide:
    """The guide in force (the user's copy if there is one), reloaded when the file changes."""
    path = guide_path()
    return _cached(path, path.stat().st_mtime)
