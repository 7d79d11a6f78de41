"""Colours for rich Text cells, taken from the running theme so every built-in theme works."""

from __future__ import annotations

from rich.text import Text
from textual.app import App

_SEVERITY_VARIABLE = {"red": "error", "amber": "warning", "ok": "success"}


def severity_style(app: App, severity: str) -> str:
    variable = _SEVERITY_VARIABLE.get(severity)
    if variable is None:
        return "dim"
    colour = app.theme_variables.get(variable) or getattr(app.current_theme, variable, "")
    return f"bold {colour}" if severity == "red" else str(colour)


def literal(value: object, style: str = "") -> Text:
    """Outside text as a table cell: shown exactly, never read as markup."""
    return Text(
        str(value) if value is not None else "", style=style, no_wrap=True, overflow="ellipsis"
    )


def rating_style(app: App, rating: str) -> str:
    """critical bold in the error colour, high in the error colour, medium in the warning colour."""
    if rating == "critical":
        return severity_style(app, "red")
    if rating == "high":
        return str(app.theme_variables.get("error") or app.current_theme.error)
    if rating == "medium":
        return severity_style(app, "amber")
    return "dim" if rating == "low" else ""
