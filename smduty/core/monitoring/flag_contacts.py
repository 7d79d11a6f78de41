"""Contact details that are not personal data: the council's own published ones (its staff's
work phones and addresses, `published_contacts` in config) and any public body's address."""

from __future__ import annotations

from smduty.core.monitoring.flag_automata import digits_of

# Public bodies' e-mail domains: an address there is an organisation's, not personal data.
PUBLIC_DOMAINS = (".gov.uk", ".nhs.uk", ".nhs.net", ".police.uk", ".sch.uk", ".ac.uk", ".mod.uk")


def published_reason(shown: str, emails: frozenset[str], phones: frozenset[str]) -> str:
    """Why a contact detail found in a post is not personal data, or "" when it may be."""
    value = shown.strip().casefold()
    if "@" in value:
        domain = "@" + value.rsplit("@", 1)[1]
        if value in emails or domain in emails:
            return "the council's own published address"
        if domain.endswith(PUBLIC_DOMAINS):
            return "a public body's address"
        return ""
    digits = digits_of(value)
    if len(digits) >= 6 and digits in phones:
        return "the council's own published number"
    return ""
