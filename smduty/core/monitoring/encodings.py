"""The bytes of an export file as text: which encoding, which format, and streams over them.

Encodings: UTF-8 with or without BOM, UTF-16 with BOM, cp1252 as the fallback.
"""

from __future__ import annotations

import codecs
import io
import json
from collections.abc import Callable
from typing import BinaryIO


def detect_encoding(stream: BinaryIO, where: str) -> str:
    """Look at the BOM, else check the whole stream decodes as UTF-8; else cp1252."""
    start = stream.read(4)
    stream.seek(0)
    if start.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := stream.read(1 << 20):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
        encoding = "utf-8"
    except UnicodeDecodeError:
        encoding = "cp1252"
    stream.seek(0)
    return encoding


class CountingReader(io.RawIOBase):
    """Counts the bytes read from a binary stream, for a progress bar."""

    def __init__(self, inner: BinaryIO, progress: Callable[[int], None] | None) -> None:
        self.inner = inner
        self.progress = progress
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.inner.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.count += n
        if self.progress and n:
            self.progress(self.count)
        return n


def text_stream(stream: BinaryIO, encoding: str, progress=None) -> io.TextIOWrapper:
    raw = io.BufferedReader(CountingReader(stream, progress), buffer_size=1 << 16)
    # cp1252 leaves five bytes undefined; replace them rather than fail on one stray byte.
    errors = "replace" if encoding == "cp1252" else "strict"
    return io.TextIOWrapper(raw, encoding=encoding, errors=errors, newline="")


def sniff_format(head: bytes, name: str) -> str:
    lower = name.lower()
    for ext, fmt in (
        (".ndjson", "ndjson"),
        (".jsonl", "ndjson"),
        (".json", "json"),
        (".csv", "csv"),
        (".tsv", "csv"),
        (".rss", "feed"),
        (".atom", "feed"),
        (".xml", "feed"),
    ):
        if lower.endswith(ext):
            return fmt
    text = head.lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n").replace(b"\x00", b"")
    if text.startswith(b"<"):
        return "feed"
    if text.startswith(b"["):
        return "json"
    if text.startswith(b"{"):
        first = text.split(b"\n", 1)[0].strip()
        try:
            json.loads(first)
            return "ndjson"
        except ValueError:
            return "json"
    return "csv"


class Utf8Reader(io.RawIOBase):
    """A binary UTF-8 stream over a text stream (ijson reads bytes; files may be UTF-16)."""

    def __init__(self, text: io.TextIOBase) -> None:
        self.text = text
        self.pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while len(self.pending) < len(buffer):
            chunk = self.text.read(1 << 15)
            if not chunk:
                break
            self.pending += chunk.encode("utf-8")
        n = min(len(buffer), len(self.pending))
        buffer[:n] = self.pending[:n]
        self.pending = self.pending[n:]
        return n
