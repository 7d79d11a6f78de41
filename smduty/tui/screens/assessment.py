"""The response assessment as a modal walk: one question at a time, ending in a recommendation.

Answers with the Outcome reached and the answers given on the way (the queue stores the walk with
the mention, then opens that outcome's form, pre-filled), or None if the walk was left.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from smduty.core.triage.assessment import Guide, Outcome, Question

OUTCOME_WORDS = {
    "respond": "record a response",
    "refer": "refer it",
    "no_engagement": "record no engagement",
    "escalate": "escalate",
    "dismiss": "dismiss it",
}


class AssessmentModal(ModalScreen[tuple[Outcome, list[str]] | None]):
    DEFAULT_CSS = """
    AssessmentModal #guide-trail { color: $text-muted; height: auto; }
    AssessmentModal #guide-question { height: auto; padding: 1 0; text-style: bold; }
    AssessmentModal #guide-answers { height: auto; max-height: 12; }
    AssessmentModal #guide-hint { color: $text-muted; height: auto; padding-top: 1; }
    """
    BINDINGS = [
        Binding("escape", "dismiss(None)", "Leave", id="guide.leave", tooltip="Close the guide"),
        Binding("backspace,left", "back", "Back", id="guide.back", tooltip="The previous question"),
    ]

    def __init__(self, guide: Guide, about: str = "") -> None:
        super().__init__()
        self.guide = guide
        self.about = about
        self.path: list[tuple[str, str]] = []  # (node id, answer label) walked so far
        self.node = guide.start

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal"):
            yield Label("Response assessment", classes="modal-title")
            if self.about:
                yield Label(self.about, markup=False, classes="muted")
            yield Static(id="guide-trail")
            yield Static(id="guide-question")
            yield OptionList(id="guide-answers")
            yield Static(id="guide-hint")

    def on_mount(self) -> None:
        self._show()

    def _show(self) -> None:
        step = self.guide.step(self.node)
        trail = Text()
        for node, answer in self.path:
            asked = self.guide.step(node)
            question = asked.ask if isinstance(asked, Question) else asked.title
            trail.append(f"• {question.splitlines()[0][:70]} ")
            trail.append(f"{answer}\n", "bold")
        self.query_one("#guide-trail", Static).update(trail)
        answers = self.query_one("#guide-answers", OptionList)
        answers.clear_options()
        hint = self.query_one("#guide-hint", Static)
        if isinstance(step, Question):
            self.query_one("#guide-question", Static).update(Text(step.ask))
            answers.add_options(
                Option(Text(a.label), id=f"answer-{i}") for i, a in enumerate(step.answers)
            )
            hint.update(Text("Enter chooses · Backspace goes back · Esc leaves"))
        else:
            words = OUTCOME_WORDS[step.recommend]
            self.query_one("#guide-question", Static).update(
                Text.assemble((step.title, "bold"), "\n", (step.advice, "not bold"))
            )
            answers.add_option(Option(Text(f"Go on: {words}"), id="accept"))
            hint.update(Text("Enter opens the form, filled in · Backspace goes back"))
        answers.highlighted = 0
        answers.focus()

    @on(OptionList.OptionSelected, "#guide-answers")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        step = self.guide.step(self.node)
        if isinstance(step, Outcome):
            self.dismiss((step, [label for _, label in self.path]))
            return
        answer = step.answers[event.option_index]
        self.path.append((self.node, answer.label))
        self.node = answer.next
        self._show()

    def action_back(self) -> None:
        if self.path:
            self.node, _ = self.path.pop()
            self._show()
