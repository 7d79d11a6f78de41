"""A real headless browser for tests (Debian's chromium), driven over the DevTools protocol:
open a page, press keys, take screenshots. No network: pages are served on 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI"):  # .ci/run installs it: a CI without it has lost the check
        pytest.fail("headless Chromium is not installed")
    pytest.skip("headless Chromium is not installed (apt-get install chromium)")


def colour_counts(png: bytes | Path) -> dict[tuple[int, int, int], int]:
    import io

    from PIL import Image

    source = io.BytesIO(png) if isinstance(png, bytes) else png
    with Image.open(source) as image:
        return {rgb[:3]: n for n, rgb in image.convert("RGB").getcolors(1 << 24)}


def pixels_near(counts, hex_colour: str, slack: int = 4) -> int:
    want = tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return sum(
        n
        for rgb, n in counts.items()
        if all(abs(a - b) <= slack for a, b in zip(rgb, want, strict=True))
    )


NAMED_KEYS = {"Escape": 27, "Enter": 13, "Tab": 9}


class Browser:
    """One headless Chromium with one page, for `async with Browser() as page:`."""

    def __init__(self, width: int = 1280, height: int = 800) -> None:
        self.size = (width, height)
        self._ids = itertools.count(1)

    async def __aenter__(self) -> Browser:
        import aiohttp

        self._profile = tempfile.TemporaryDirectory(ignore_cleanup_errors=True)
        self._process = subprocess.Popen(
            [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--hide-scrollbars", "--force-color-profile=srgb", "--remote-debugging-port=0",
             f"--user-data-dir={self._profile.name}",
             f"--window-size={self.size[0]},{self.size[1]}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        port_file = Path(self._profile.name) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            if time.monotonic() > deadline or self._process.poll() is not None:
                raise AssertionError("chromium did not start")
            await asyncio.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        self._http = aiohttp.ClientSession()
        async with self._http.get(f"http://127.0.0.1:{port}/json/list") as answer:
            pages = [t for t in await answer.json() if t["type"] == "page"]
        self._ws = await self._http.ws_connect(pages[0]["webSocketDebuggerUrl"], max_msg_size=0)
        return self

    async def __aexit__(self, *exc) -> None:
        await self._ws.close()
        await self._http.close()
        # The whole group: chromium's helper processes could still be writing into the profile
        # after the browser itself had gone, and removing the profile then failed the test
        # ("Directory not empty: 'Default'", once in a CI run).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGTERM)
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait(10)
        for _ in range(20):  # a helper may take a moment longer to go
            try:
                shutil.rmtree(self._profile.name)
                break
            except FileNotFoundError:
                break
            except OSError:
                await asyncio.sleep(0.1)
        self._profile.cleanup()

    async def call(self, method: str, **params) -> dict:
        ask = next(self._ids)
        await self._ws.send_str(json.dumps({"id": ask, "method": method, "params": params}))
        while True:
            message = json.loads((await self._ws.receive(timeout=60)).data)
            if message.get("id") == ask:
                if "error" in message:
                    raise AssertionError(f"{method}: {message['error']}")
                return message.get("result", {})

    async def open(self, url: str) -> None:
        await self.call("Page.navigate", url=url)

    async def click(self, x: int, y: int) -> None:
        for kind in ("mousePressed", "mouseReleased"):
            await self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left",
                            clickCount=1)  # fmt: skip

    async def press(self, key: str) -> None:
        """A key a person types: a printable character, or Escape, Enter, Tab."""
        code = NAMED_KEYS.get(key)
        for kind in ("keyDown", "keyUp"):
            if code is not None:  # no text: the browser sends the key's code
                extra = {"code": key, "windowsVirtualKeyCode": code}
                kind = "rawKeyDown" if kind == "keyDown" else kind
            else:
                extra = {"text": key} if kind == "keyDown" else {}
            await self.call("Input.dispatchKeyEvent", type=kind, key=key, **extra)

    async def screenshot(self) -> bytes:
        found = await self.call("Page.captureScreenshot", format="png")
        return base64.b64decode(found["data"])

    async def until(self, seen, timeout: float = 30.0, what: str = "the page") -> bytes:
        """Screenshots until `seen(colour_counts)` holds; the last one."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                shot = await self.screenshot()
            except AssertionError:  # the page is still being committed after navigating
                shot = b""
            if shot and seen(colour_counts(shot)):
                return shot
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.5)
