"""The bytes of an export file as text: which encoding, which format, and streams over them.

Encodings: UTF-8 with or without BOM, UTF-16 with or without BOM (tools that write tabs often
write UTF-16), and anything else as charset-normalizer judges it from a sample (KOI8-R,
Shift_JIS, EUC-KR, cp1252...), cp1252 when it cannot tell. Formats: feed, CSV, JSON, NDJSON,
XLSX, and a zip holding one of them; anything else is refused as not an export.
"""

from __future__ import annotations

import codecs
import io
import json
from collections.abc import Callable
from typing import BinaryIO

GUESS_SAMPLE = 256 * 1024


def utf16_without_bom(sample: bytes) -> str | None:
    """'utf-16-le' or 'utf-16-be' when the bytes look like UTF-16 text with no BOM: a NUL in
    every other byte (ASCII letters in UTF-16)."""
    sample = sample[: 4096 - 4096 % 2]
    if len(sample) < 8:
        return None
    odd, even = sample[1::2], sample[0::2]
    if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
        return "utf-16-be"
    return None


def utf32(sample: bytes) -> str | None:
    """'utf-32' (with its BOM), 'utf-32-le' or 'utf-32-be' for UTF-32 text: three NULs in
    every four bytes where ASCII is written."""
    if sample.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    sample = sample[: 4096 - 4096 % 4]
    if len(sample) < 8:
        return None
    lanes = [sample[n::4] for n in range(4)]
    zeros = [lane.count(0) / len(lane) for lane in lanes]
    if min(zeros[1:]) > 0.9 and zeros[0] < 0.1:
        return "utf-32-le"
    if min(zeros[:3]) > 0.9 and zeros[3] < 0.1:
        return "utf-32-be"
    return None


def guess_encoding(sample: bytes) -> str:
    """The encoding of text that is not UTF-8, judged by charset-normalizer (cp1252 when it
    cannot tell: most UK exports that are not UTF-8 are Windows text)."""
    from charset_normalizer import from_bytes

    best = from_bytes(sample[:GUESS_SAMPLE]).best()
    return codecs.lookup(best.encoding).name if best is not None else "cp1252"


def detect_encoding(stream: BinaryIO, where: str) -> str:
    """The BOM if there is one; UTF-16 without one; UTF-8 if the whole stream decodes so; else
    a guess from the start of the file."""
    start = stream.read(4)
    stream.seek(0)
    wide = utf32(start + stream.read(4092))
    stream.seek(0)
    if wide:
        return wide
    if start.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = stream.read(GUESS_SAMPLE)
    stream.seek(0)
    without_bom = utf16_without_bom(sample)
    if without_bom:
        return without_bom
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := stream.read(1 << 20):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
        encoding = "utf-8"
    except UnicodeDecodeError:
        encoding = guess_encoding(sample)
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
    # A guessed encoding (cp1252 leaves five bytes undefined; a guess may miss a byte further
    # on): a stray byte becomes U+FFFD rather than failing the whole file.
    errors = "strict" if encoding.startswith(("utf-8", "utf-16")) else "replace"
    return io.TextIOWrapper(raw, encoding=encoding, errors=errors, newline="")


def looks_binary(head: bytes) -> bool:
    """Bytes that are no text: NULs (not UTF-16's pattern) or many control bytes."""
    if not head or head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    if utf16_without_bom(head) or utf32(head):
        return False
    sample = head[:4096]
    if b"\x00" in sample:
        return True
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 13, 12))
    return controls > len(sample) * 0.1


def _first_member_is_xlsx(head: bytes) -> bool:
    """Whether a zip's first entry is one a workbook starts with (its name is at byte 30 of the
    local header; an archive that merely holds a workbook has the workbook's name there)."""
    size = int.from_bytes(head[26:28], "little")
    first = head[30 : 30 + size]
    return first == b"[Content_Types].xml" or first.startswith((b"xl/", b"_rels/", b"docProps/"))


def sniff_format(head: bytes, name: str) -> str:
    """The format of a file from its first bytes, then its name, then its look: "zip" (an
    XLSX is a zip too: "xlsx"), "binary" for what is no export, else feed, csv, json, ndjson."""
    if head.startswith(b"PK\x03\x04"):
        return (
            "xlsx"
            if name.lower().endswith((".xlsx", ".xlsm")) or _first_member_is_xlsx(head)
            else "zip"
        )
    if head.startswith((b"\xd0\xcf\x11\xe0", b"\x1f\x8b", b"%PDF", b"\x89PNG", b"Rar!", b"7z")):
        return "binary"
    if looks_binary(head):
        return "binary"
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
    text = text.removeprefix(b"\xfe\xff").removeprefix(b"\xff\xfe")
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
