"""`smduty serve` (issue 20): the TUI served to browsers by textual-serve. A real headless
browser loads the page, sees the dashboard drawn, and moves to the Reports screen and back with
key presses; the screenshots are checked, not the HTML."""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
import time

from browser import Browser, colour_counts, pixels_near
from tui_helpers import make_demo

from smduty.commands.serve import app_command
from smduty.commands.session import Session
from smduty.core.records.report_charts import COLOURS

CHART = ("medium", "not flagged")  # bars the demo's month of mentions draws on Reports


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port: int, server: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.poll() is None, server.stdout.read()
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError("smduty serve did not start listening")


def charts_drawn(counts) -> bool:
    return all(pixels_near(counts, COLOURS[name]) > 300 for name in CHART)


def screen_drawn(counts) -> bool:
    """A Textual screen: its theme's background over most of the page, and text on it."""
    total = sum(counts.values())
    background, most = max(counts.items(), key=lambda item: item[1])
    light = sum(n for rgb, n in counts.items() if min(rgb) > 200)
    return most > total / 3 and max(background) < 60 and light > total / 200


def test_each_tab_runs_this_database_as_this_officer(tmp_path):
    path = tmp_path / "a folder; rm -rf ~" / "it's.db"
    command = shlex.split(app_command(Session(path, "Jo [b]Bloggs")))
    assert command[1:] == ["-m", "smduty", "--db", str(path), "--as", "Jo [b]Bloggs"]
    assert command[0] == sys.executable


async def test_a_browser_sees_the_dashboard_and_moves_with_key_presses(db_path):
    make_demo(db_path)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "smduty", "--db", str(db_path), "--as", "Web Officer", "serve",
         "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=os.environ.copy(),
    )  # fmt: skip
    try:
        listening(port, server)
        async with Browser(1280, 800) as page:
            await page.open(f"http://127.0.0.1:{port}/")
            dashboard = await page.until(screen_drawn, what="the dashboard")
            assert not charts_drawn(colour_counts(dashboard))
            await page.click(640, 8)  # the title bar: the terminal takes the keys
            await page.press("f")
            await page.until(charts_drawn, what="the Reports screen's charts")
            await page.press("Escape")
            back = await page.until(lambda c: not charts_drawn(c), what="the dashboard again")
            assert screen_drawn(colour_counts(back))
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()


def test_a_port_already_taken_is_said_in_a_sentence(db_path):
    from click.testing import CliRunner

    from smduty.cli import main

    make_demo(db_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = CliRunner().invoke(main, ["--db", str(db_path), "serve", "--port", str(port)])
    assert done.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.output
    assert "choose another --port" in done.output
