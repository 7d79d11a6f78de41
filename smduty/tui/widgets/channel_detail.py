"""One channel in full: record, managers, problems with policy references, set-up steps."""

from __future__ import annotations

from datetime import date

from textual.content import Content
from textual.widgets import Static

from smduty.core.register.compliance import RegisterEntry
from smduty.core.register.fields import FIELDS, PROPOSAL_STEP_LABELS, PROPOSAL_STEPS

_SEVERITY_STYLE = {"red": "bold $error", "amber": "$warning"}


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, date):
        return value.isoformat()
    return str(value) if value not in (None, "") else "—"


class ChannelDetail(Static):
    """Everything is assembled from plain strings: nothing from the record is read as markup."""

    DEFAULT_CSS = """
    ChannelDetail { padding: 0 1; height: auto; }
    """

    def show_entry(self, entry: RegisterEntry | None) -> None:
        if entry is None:
            self.update(Content("No channel selected."))
            return
        c = entry.channel
        parts: list[str | tuple[str, str]] = [(c.name, "bold"), "\n"]
        if entry.problems:
            parts.append(("\nFails policy\n", "bold"))
            for p in entry.problems:
                parts += [
                    (f" {p.severity.upper():5} ", _SEVERITY_STYLE[p.severity]),
                    p.message,
                    (f"  ({p.policy})", "$text-muted"),
                    "\n",
                ]
        elif c.status in ("active", "dormant"):
            parts.append(("\nMeets every register rule.\n", "$success"))
        if c.status == "proposed":
            done, total = c.proposal_progress
            parts.append((f"\nSet-up: {done} of {total} steps done\n", "bold"))
            for index, step in enumerate(PROPOSAL_STEPS):
                mark, style = ("✓", "$success") if index < done else ("·", "$text-muted")
                if index == done:
                    mark, style = ("→", "bold $accent")
                parts += [(f" {mark} ", style), PROPOSAL_STEP_LABELS[step], "\n"]
        parts.append(("\nManagers\n", "bold"))
        if not c.managers:
            parts.append(("  none\n", "$error"))
        for m in c.managers:
            trained = f"trained {m.trained_on}" if m.trained_on else "no training recorded"
            parts += ["  ", m.name, (f"  {trained}\n", "$text-muted")]
        parts.append(("\nRecord\n", "bold"))
        for name, spec in FIELDS.items():
            if name == "name":
                continue
            parts += [(f"  {spec.label}: ", "$text-muted"), _show(getattr(c, name)), "\n"]
        self.update(Content.assemble(*parts))
