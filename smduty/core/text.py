"""Cleaning text that comes from outside (people, files, feeds) before it is stored.

Terminal escape sequences and control characters are removed; brackets and everything else a
person typed are kept exactly, because the UI shows stored text literally.
"""

from __future__ import annotations

import re
import unicodedata

# CSI / OSC / other ESC sequences, then any C0/C1 control character except tab and newline.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI ... final byte
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC ... BEL or ST
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC strings
    r"|\x1b[@-Z\\-_]"  # two-byte escapes
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_SPACES = re.compile(r"[ \t\r\n\f\v]+")


def strip_controls(value: str) -> str:
    """Remove escape sequences and control characters (tab and newline survive)."""
    value = _ESCAPES.sub("", value)
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROLS.sub("", value)


def clean_line(value: object, max_len: int = 500) -> str:
    """One line of text: controls gone, whitespace collapsed, trimmed, capped."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", str(value))
    text = _SPACES.sub(" ", strip_controls(text)).strip()
    return text[:max_len]


def clean_block(value: object, max_len: int = 10_000) -> str:
    """Free text that may keep its line breaks: controls gone, trimmed, capped."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", str(value))
    return strip_controls(text).strip()[:max_len]
