"""Cleaning text that comes from outside (people, files, feeds) before it is stored.

Terminal escape sequences and control characters are removed; brackets and everything else a
person typed are kept exactly, because the UI shows stored text literally. Format characters
that belong to text stay: the zero-width joiner that makes 🏊‍♀️ one emoji, the non-joiner of
Persian and Hindi, variation selectors, and the left-to-right and right-to-left marks. What can
reorder or hide the rest of a line on a screen goes: bidi embeddings, overrides and isolates.

`escape_controls` is for output: a control character that reached a string anyway (an old
database, an exception message) is shown as `\x1b`, never sent to the terminal.
"""

from __future__ import annotations

import functools
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
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff]")
_SHOWN_ESCAPED = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_SPACES = re.compile(r"[ \t\r\n\f\v]+")


def strip_controls(value: str) -> str:
    """Remove escape sequences and control characters (tab and newline survive)."""
    value = _ESCAPES.sub("", value)
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROLS.sub("", value)


def _escaped(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_controls(value: object) -> str:
    """Text for a terminal: tab and newline kept, every other control character (and bidi
    override) written out as \\xNN so it is seen, not obeyed."""
    text = "" if value is None else str(value)
    if text.isascii() and text.isprintable():
        return text
    return _SHOWN_ESCAPED.sub(_escaped, text)


def clean_line(value: object, max_len: int = 500) -> str:
    """One line of text: controls gone, whitespace collapsed, trimmed, capped."""
    if value is None:
        return ""
    text = str(value)
    # Fast path (most text): printable means no controls, escapes, tabs or newlines.
    if text.isascii() and text.isprintable():
        if "  " in text:
            text = " ".join(text.split())
        return text.strip()[:max_len]
    text = unicodedata.normalize("NFC", text)
    text = _SPACES.sub(" ", strip_controls(text)).strip()
    return text[:max_len]


def clean_block(value: object, max_len: int = 10_000) -> str:
    """Free text that may keep its line breaks: controls gone, trimmed, capped."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", str(value))
    return strip_controls(text).strip()[:max_len]


@functools.cache
def _text_only() -> type:
    """The HTML-to-text parser class, made on first use (html.parser is not needed to start)."""
    from html.parser import HTMLParser

    class TextOnly(HTMLParser):
        """Collects the text of an HTML fragment; tags, scripts and styles are dropped. An image,
        video or embed is said in words, "(image: its alt text)", so a post that is only a picture
        still says something."""

        _SKIP = {"script", "style", "head", "title"}
        _BREAKS = {"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"}
        _MEDIA = {"img": "image", "video": "video", "audio": "audio", "iframe": "embedded content"}

        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.parts: list[str] = []
            self._skipping = 0

        def handle_starttag(self, tag: str, attrs) -> None:
            if tag in self._SKIP:
                self._skipping += 1
            elif tag in self._BREAKS:
                self.parts.append(" ")
            elif tag in self._MEDIA and not self._skipping:
                alt = " ".join(str(dict(attrs).get("alt") or "").split())[:200]
                self.parts.append(
                    f" ({self._MEDIA[tag]}: {alt}) " if alt else f" ({self._MEDIA[tag]}) "
                )

        def handle_endtag(self, tag: str) -> None:
            if tag in self._SKIP and self._skipping:
                self._skipping -= 1
            elif tag in self._BREAKS:
                self.parts.append(" ")

        def handle_data(self, data: str) -> None:
            if not self._skipping:
                self.parts.append(data)

    return TextOnly


def html_to_text(value: object, max_len: int = 10_000) -> str:
    """HTML removed, entities decoded, whitespace collapsed, controls gone, capped."""
    if value is None:
        return ""
    raw = str(value)
    if "<" not in raw and "&" not in raw:
        return clean_line(raw, max_len)
    parser = _text_only()()
    parser.feed(raw)
    parser.close()
    return clean_line("".join(parser.parts), max_len)
