"""Parsing the plain values people type (dates, yes/no, whole numbers) with clear refusals."""

from __future__ import annotations

from datetime import date

_TRUE = {"1", "y", "yes", "true", "t", "on", "x"}
_FALSE = {"", "0", "n", "no", "false", "f", "off"}


def parse_date(value: object, field: str, problems: dict[str, str]) -> date | None:
    """An ISO date (YYYY-MM-DD) or blank; a bad value is noted in `problems`."""
    if value is None or isinstance(value, date):
        return value
    text = str(value).strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems[field] = f"{text!r} is not a date (use YYYY-MM-DD)"
        return None


def parse_bool(value: object, field: str, problems: dict[str, str]) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value or "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    problems[field] = f"{value!r} is not yes or no"
    return False


def parse_int(value: object, field: str, problems: dict[str, str], minimum: int = 1) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        text = str(value or "").strip()
        if not text:
            return None
        try:
            number = int(text)
        except ValueError:
            problems[field] = f"{text!r} is not a whole number"
            return None
    if number < minimum:
        problems[field] = f"must be at least {minimum}"
        return None
    return number


def iso(value: date | None) -> str | None:
    return value.isoformat() if value else None
