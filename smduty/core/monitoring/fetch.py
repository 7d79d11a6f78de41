"""Fetching feeds over HTTP (httpx): timeouts, a body cap, few redirects, conditional requests.

Every failure becomes a `FetchFailed` whose message a comms officer can read ("timed out after
30 s", "HTTP 404 Not Found", "response larger than 10 MB").
"""

from __future__ import annotations

import time
from http import HTTPStatus

import msgspec

from smduty import __version__
from smduty.core.config import Config
from smduty.core.files import MAX_EXPORT_BYTES, MB

USER_AGENT = f"smduty/{__version__} (+council social media duty desk)"


class FetchLimits(msgspec.Struct, frozen=True):
    connect_timeout: float = 10.0
    total_timeout: float = 30.0
    max_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    # An export file named by path (the feed caps above are for what comes over HTTP).
    max_file_bytes: int = MAX_EXPORT_BYTES


def limits_for(config: Config) -> FetchLimits:
    """The default limits with the operator's file cap (`max_import_mb`)."""
    return FetchLimits(max_file_bytes=config.max_import_mb * MB)


DEFAULT_LIMITS = FetchLimits()


class Fetched(msgspec.Struct, frozen=True):
    status: int
    body: bytes
    etag: str | None
    last_modified: str | None
    url: str
    content_type: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class FetchFailed(Exception):
    pass


def _size(limit: int) -> str:
    mb = limit / (1024 * 1024)
    return f"{mb:g} MB" if mb >= 1 else f"{limit // 1024} KB"


def _seconds(value: float) -> str:
    return f"{value:g} s"


def fetch(
    url: str,
    etag: str | None = None,
    last_modified: str | None = None,
    limits: FetchLimits = DEFAULT_LIMITS,
    client=None,
) -> Fetched:
    # Imported here: httpx's package import also loads its CLI (rich, pygments) when present,
    # which the core must not pull in, and which costs start-up time for every command.
    import httpx

    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    timeout = httpx.Timeout(limits.total_timeout, connect=limits.connect_timeout)
    own = client is None
    client = client or httpx.Client(
        follow_redirects=True, max_redirects=limits.max_redirects, timeout=timeout
    )
    started = time.monotonic()
    try:
        with client.stream("GET", url, headers=headers, timeout=timeout) as response:
            if response.status_code == 304:
                return Fetched(304, b"", etag, last_modified, str(response.url))
            if response.status_code >= 400:
                try:
                    reason = HTTPStatus(response.status_code).phrase
                except ValueError:
                    reason = response.reason_phrase or "error"
                raise FetchFailed(f"HTTP {response.status_code} {reason}")
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > limits.max_bytes:
                raise FetchFailed(f"response larger than {_size(limits.max_bytes)}")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > limits.max_bytes:
                    raise FetchFailed(f"response larger than {_size(limits.max_bytes)}")
                if time.monotonic() - started > limits.total_timeout:
                    raise FetchFailed(f"timed out after {_seconds(limits.total_timeout)}")
                chunks.append(chunk)
            return Fetched(
                response.status_code,
                b"".join(chunks),
                response.headers.get("ETag"),
                response.headers.get("Last-Modified"),
                str(response.url),
                response.headers.get("Content-Type"),
            )
    except httpx.ConnectTimeout:
        raise FetchFailed(f"could not connect within {_seconds(limits.connect_timeout)}") from None
    except httpx.TimeoutException:
        raise FetchFailed(f"timed out after {_seconds(limits.total_timeout)}") from None
    except httpx.TooManyRedirects:
        raise FetchFailed(f"more than {limits.max_redirects} redirects") from None
    except httpx.UnsupportedProtocol:
        raise FetchFailed("not a web address smduty can fetch (use http or https)") from None
    except httpx.ConnectError as exc:
        raise FetchFailed(f"could not connect ({_reason(exc)})") from None
    except httpx.DecodingError:
        raise FetchFailed("the server sent a body that does not decompress") from None
    except httpx.HTTPError as exc:
        raise FetchFailed(f"network error ({_reason(exc)})") from None
    finally:
        if own:
            client.close()


def _reason(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    if "Name or service not known" in text or "nodename nor servname" in text:
        return "the site's name was not found"
    if "Connection refused" in text:
        return "connection refused"
    return text[:200]
