"""The response assessment as walked for one mention: each question asked, the answer given and
the outcome reached, stored with the mention (and in the audit log) so its history says how the
officer decided, and a report can count the outcomes.

The walk is checked against the guide: it starts at the guide's first question, each answer is
one the question offers, and each leads to the next question asked, or at last to the outcome.
"""

from __future__ import annotations

import json
import sqlite3

import msgspec

from smduty.core.clock import stamp
from smduty.core.errors import InvalidInput
from smduty.core.records import audit
from smduty.core.store import transaction
from smduty.core.triage.assessment import Guide, Outcome, Question
from smduty.core.triage.queue import get_item


class Assessment(msgspec.Struct, frozen=True):
    id: int
    mention_id: int
    at: str
    actor: str
    answers: list[dict]  # {"question": id, "ask": words, "answer": label}
    outcome: str
    recommend: str

    def as_json(self) -> dict:
        return msgspec.structs.asdict(self)


def walk(guide: Guide, answers: list[str]) -> tuple[list[tuple[Question, str]], Outcome]:
    """The questions asked and the outcome reached by choosing `answers` (labels or 1-based
    numbers) in turn from the guide's start. InvalidInput names the step that does not fit."""
    node, walked = guide.start, []
    for number, given in enumerate(answers, start=1):
        step = guide.step(node)
        if not isinstance(step, Question):
            raise InvalidInput({"answers": f"answer {number}: the guide has already ended"})
        labels = [a.label for a in step.answers]
        chosen = _pick(step, given.strip())
        if chosen is None:
            raise InvalidInput(
                {"answers": f"answer {number} ({given!r}): choose one of {', '.join(labels)}"}
            )
        walked.append((step, chosen.label))
        node = chosen.next
    step = guide.step(node)
    if not isinstance(step, Outcome):
        raise InvalidInput({"answers": f"the guide asks more: {step.ask}"})
    return walked, step


def _pick(question: Question, given: str):
    if given.isdigit() and 1 <= int(given) <= len(question.answers):
        return question.answers[int(given) - 1]
    folded = given.casefold()
    return next((a for a in question.answers if a.label.casefold() == folded), None)


def record_assessment(
    db: sqlite3.Connection,
    actor: str,
    mention_id: int,
    guide: Guide,
    answers: list[str],
) -> Assessment:
    """Store the walk for the mention (all of it or nothing) and return it."""
    walked, outcome = walk(guide, answers)
    shown = [{"question": q.id, "ask": q.ask, "answer": label} for q, label in walked]
    with transaction(db):
        get_item(db, mention_id)  # NotFound for a mention that does not exist
        at = stamp()
        cursor = db.execute(
            "INSERT INTO mention_assessments (mention_id, at, actor, answers_json, outcome,"
            " recommend) VALUES (?, ?, ?, ?, ?, ?)",
            (
                mention_id,
                at,
                actor,
                json.dumps(shown, ensure_ascii=False),
                outcome.id,
                outcome.recommend,
            ),
        )
        found = Assessment(
            cursor.lastrowid, mention_id, at, actor, shown, outcome.id, outcome.recommend
        )
        audit.record(
            db,
            actor,
            "mention.assess",
            "mention",
            mention_id,
            None,
            {"answers": [f"{a['ask']} {a['answer']}" for a in shown], "outcome": outcome.title},
        )
    return found


def assessments_of(db: sqlite3.Connection, mention_id: int) -> list[Assessment]:
    rows = db.execute(
        "SELECT * FROM mention_assessments WHERE mention_id = ? ORDER BY id", (mention_id,)
    )
    return [
        Assessment(
            r["id"],
            r["mention_id"],
            r["at"],
            r["actor"],
            json.loads(r["answers_json"]),
            r["outcome"],
            r["recommend"],
        )
        for r in rows
    ]
