"""RSS and Atom: feedparser on bytes smduty fetched itself, with DTDs and entities removed first.

feedparser is never given a URL. A document type declaration can define entities that expand
without bound ("billion laughs"), so the DOCTYPE and any ENTITY declarations go before parsing.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import feedparser

from smduty.core.monitoring.encodings import guess_encoding
from smduty.core.monitoring.mentions import RawMention
from smduty.core.text import clean_line, html_to_text

_XML_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_DECLARED = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9_.\-]+)["']""", re.I)
# A DOCTYPE with or without an internal subset, and stray ENTITY declarations.
_DOCTYPE = re.compile(rb"<!DOCTYPE\b(?:[^\[>]*\[.*?\]\s*>|[^>]*>)", re.IGNORECASE | re.DOTALL)
_ENTITY = re.compile(rb"<!ENTITY\b[^>]*>", re.IGNORECASE | re.DOTALL)


class NotAFeed(Exception):
    pass


@dataclass
class ParsedFeed:
    title: str
    entries: list  # feedparser entries (the body is capped, so this is bounded)
    warning: str | None


def sanitise(body: bytes) -> bytes:
    head, tail = body[:65536], body[65536:]
    head = _DOCTYPE.sub(b"", head)
    head = _ENTITY.sub(b"", head)
    return head + tail


def as_utf8(body: bytes, content_type: str | None = None) -> bytes:
    """A feed in UTF-8. One that says its encoding (in its XML declaration, or its HTTP
    Content-Type) is left to feedparser; one that does not, and is not UTF-8 (KOI8-R,
    Shift_JIS, EUC-KR sent bare), is decoded as charset-normalizer judges it."""
    try:
        body.decode("utf-8")
        return body
    except UnicodeDecodeError:
        pass
    if content_type and "charset=" in content_type.lower():
        return body
    declared = _DECLARED.match(body[:300])
    if declared and declared.group(1).lower() not in (b"utf-8", b"utf8"):
        return body
    if body.startswith((b"\xff\xfe", b"\xfe\xff")):
        return body  # UTF-16 with its BOM: feedparser reads it
    text = body.decode(guess_encoding(body), errors="replace")
    without = _XML_DECLARATION.sub(b"", text.encode("utf-8"), count=1)
    return b'<?xml version="1.0" encoding="utf-8"?>' + without


_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_.\-]+)", re.IGNORECASE)


def parse_feed(body: bytes, content_type: str | None = None) -> ParsedFeed:
    # Only the server's charset is passed on: many good feeds are served as text/plain or
    # text/html, which feedparser would otherwise count against them.
    charset = _CHARSET.search(content_type or "")
    headers = {"content-type": f"application/xml; charset={charset.group(1)}"} if charset else None
    parsed = feedparser.parse(
        sanitise(as_utf8(body, content_type)),
        sanitize_html=False,
        resolve_relative_uris=False,
        response_headers=headers,
    )
    entries = parsed.get("entries") or []
    version = parsed.get("version") or ""
    warning = None
    if parsed.get("bozo"):
        reason = parsed.get("bozo_exception")
        detail = clean_line(str(reason), 200) if reason else "malformed"
        if not entries and not version:
            raise NotAFeed(f"not a feed ({detail})")
        warning = f"the feed has errors but {len(entries)} entries were read: {detail}"
    elif not version and not entries:
        raise NotAFeed("not a feed")
    title = clean_line((parsed.get("feed") or {}).get("title", ""), 300)
    return ParsedFeed(title, entries, warning)


def _when(entry) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), UTC)
            except (OverflowError, ValueError, OSError):
                continue
    return None


def entry_mentions(feed: ParsedFeed) -> Iterator[RawMention]:
    for entry in feed.entries:
        content = entry.get("content") or []
        body = content[0].get("value", "") if content else ""
        text = body or entry.get("summary", "") or entry.get("description", "")
        author = entry.get("author") or (entry.get("author_detail") or {}).get("name", "")
        yield RawMention(
            str(entry.get("id") or entry.get("guid") or ""),
            str(entry.get("link") or ""),
            html_to_text(entry.get("title", ""), 500),
            html_to_text(text),
            str(author or ""),
            _when(entry),
        )
