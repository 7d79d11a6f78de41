"""RSS and Atom: feedparser on bytes smduty fetched itself, with DTDs and entities removed first.

feedparser is never given a URL. A document type declaration can define entities that expand
without bound ("billion laughs"), so the DOCTYPE and any ENTITY declarations go before parsing.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import urlsplit

import feedparser
import msgspec

from smduty.core.monitoring.encodings import guess_encoding
from smduty.core.monitoring.mentions import RawMention
from smduty.core.text import clean_line, html_to_text

_XML_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_DECLARED = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9_.\-]+)["']""", re.I)


class NotAFeed(Exception):
    pass


class ParsedFeed(msgspec.Struct):
    title: str
    entries: list  # feedparser entries (the body is capped, so this is bounded)
    warning: str | None
    home: str = ""  # the feed's own link (its website)


# What may come before a document's first element: space, the XML declaration, processing
# instructions, comments and the DOCTYPE (with its ENTITY declarations).
_PROLOG_PART = re.compile(rb"\s+|<\?.*?\?>|<!--.*?-->|<!DOCTYPE\b(?:[^\[>]*\[.*?\]\s*>|[^>]*>)",
                          re.IGNORECASE | re.DOTALL)  # fmt: skip


def sanitise(body: bytes) -> bytes:
    """The feed without its DOCTYPE (and so the ENTITY declarations inside it). Only the
    prolog's own DOCTYPE goes: "<!DOCTYPE" in a comment or an item's CDATA is text."""
    kept: list[bytes] = []
    at = 0
    while found := _PROLOG_PART.match(body, at, min(len(body), at + 65536)):
        if not found.group().upper().startswith(b"<!DOCTYPE"):
            kept.append(found.group())
        at = found.end()
    return b"".join(kept) + body[at:]


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
    about = parsed.get("feed") or {}
    title = clean_line(about.get("title", ""), 300)
    return ParsedFeed(title, entries, warning, str(about.get("link") or ""))


def _when(entry) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), UTC)
            except (OverflowError, ValueError, OSError):
                continue
    return None


def _as_written(entry) -> tuple[str, str, str, str, str, str]:
    """An entry's id, link, title, body, author and date exactly as the feed gives them."""
    content = entry.get("content") or []
    body = content[0].get("value", "") if content else ""
    text = body or entry.get("summary", "") or entry.get("description", "")
    author = entry.get("author") or (entry.get("author_detail") or {}).get("name", "")
    when = entry.get("published") or entry.get("updated") or entry.get("created") or ""
    return (
        str(entry.get("id") or entry.get("guid") or ""),
        str(entry.get("link") or ""),
        str(entry.get("title") or ""),
        str(text or ""),
        str(author or ""),
        str(when),
    )


def _names_a_post(link: str, home: str) -> bool:
    """Whether a link can stand for one post: not the feed's own website, not a bare site."""
    if not link or link.rstrip("/") == home.rstrip("/"):
        return False
    return urlsplit(link).path.strip("/") != ""


def entry_mentions(feed: ParsedFeed) -> Iterator[RawMention]:
    """The feed's posts. An item without an id of its own is its link, when the link names one
    post; when it does not (every item links to the council's home page, or several items in
    this feed share a link but say different things), the item is what it says, as written:
    its title, body, author, date and link, before any cleaning, so no two different items are
    ever taken for one."""
    written = [_as_written(entry) for entry in feed.entries]
    said_at: dict[str, set[tuple[str, ...]]] = {}
    for own_id, link, *rest in written:
        if not own_id and link:
            said_at.setdefault(link, set()).add(tuple(rest))
    for entry, (own_id, link, title, text, author, _when_written) in zip(
        feed.entries, written, strict=True
    ):
        basis = ""
        if not own_id and (len(said_at.get(link, ())) > 1 or not _names_a_post(link, feed.home)):
            basis = "\x1f".join((link, title, text, author, _when_written))
        yield RawMention(
            own_id,
            link,
            html_to_text(title, 500),
            html_to_text(text),
            author,
            _when(entry),
            basis,
        )
