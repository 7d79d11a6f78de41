"""Errors the core raises for the operator: each carries a message fit to show as it is."""

from __future__ import annotations


class SmdutyError(Exception):
    """Base for errors that are the operator's to fix, not bugs."""


class BadInput(SmdutyError):
    """Input that cannot be used as given (a value, a name, a file): the command exits 2 and
    writes nothing."""


class NotFound(BadInput):
    """A name or id that matches no record."""


class Refused(SmdutyError):
    """A change that the rules do not allow (for example advancing a proposal too early)."""


def changed_meanwhile(name: str, when: str = "") -> Refused:
    """A form saved over a version someone else has changed since it was opened: refused,
    never a silent overwrite (an optimistic check: what the form was opened on against what
    is stored now, compared inside the saving transaction)."""
    return Refused(
        f"{name} was changed by someone else while this form was open"
        + (f" (last at {when})" if when else "")
        + ". Nothing was saved: close the form (esc), look again and make your change on that"
    )


class InvalidInput(BadInput):
    """Input with one or more bad fields; `problems` maps field name to what is wrong."""

    def __init__(self, problems: dict[str, str], where: str = "") -> None:
        self.problems = dict(problems)
        self.where = where
        detail = "; ".join(f"{field}: {why}" for field, why in self.problems.items())
        super().__init__(f"{where}: {detail}" if where else detail)


class ReadFailed(Exception):
    """A mention source (an export, a feed) or one of its lines cannot be read; nothing from it
    is stored. `where` names the file or URL, and the line where it applies."""

    def __init__(self, where: str, why: str) -> None:
        super().__init__(f"{where}: {why}")
        self.where, self.why = where, why

    def __reduce__(self):  # crosses from the reader process to the writer intact
        return ReadFailed, (self.where, self.why)
