"""Property tests (Hypothesis): every CLI command driven with generated hostile arguments.

Markup, escape sequences, control characters, huge strings, impossible and extreme dates, DST
edges, special files and out-of-range numbers go into every argument slot. Whatever comes in,
the command must: end without a traceback; exit 0, 1 or 2; write nothing when it exits
non-zero; and never put a raw control byte on stdout.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smduty.cli import main
from smduty.core.demo import load_demo
from smduty.core.store import connect

HOSTILE_TEXT = [
    "Oops [/] here",
    "Parks [Archived]",
    "[bold red]alarm[/]",
    "[@click=app.quit]quit[/]",
    "[link=file:///etc/passwd]x[/link]",
    "\x1b]0;pwned\x07\x1b[2Jmallory",
    "\x1b[31mred\x1b[0m",
    "\x9b2J",
    "a\x00b\x07c\x7fd",
    "\u202eevil\u202c",
    "🏊\u200d♀️ swim",
    "x" * 20_000,
    "",
    "   ",
    "-",
    "--help",
    "Castlemere Council",
    "Priya Raman",
    "%s%s%n",
    "'; DROP TABLE channels; --",
]
HOSTILE_DATES = [
    "0001-01-01",
    "9999-12-31",
    "2026-02-30",
    "2026-13-45",
    "1969-12-31",
    "2200-01-01",
    "2026-11-21",
    "2026-12-25",
    "yesterday",
    "",
]
HOSTILE_TIMES = [
    "2026-03-29T01:30",
    "2026-10-25T01:30",
    "2026-10-25T01:30+00:00",
    "25:00",
    "99:99",
    "9999999999d",
    "2h",
    "tomorrow",
    "9999-12-31T23:59:59",
    "0001-01-01T00:00",
    "2026-02-30T10:00:00Z",
]
HOSTILE_NUMBERS = ["-1", "0", "1", "2", "99999", "9" * 30, "1.5", "NaN", "0x10", ""]


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    path = folder / "template.db"
    db = connect(path)
    load_demo(db)
    db.close()
    fifo = folder / "fifo"
    os.mkfifo(fifo)
    (folder / "adir").mkdir()
    return path, folder


def special_files(folder) -> list[str]:
    return ["/dev/zero", "/dev/full", str(folder / "fifo"), str(folder / "adir"),
            "/nonexistent/x", str(folder / "new.out"), "-"]  # fmt: skip


T, D, W, N, F = "TEXT", "DATE", "TIME", "NUMBER", "FILE"
COMMANDS = [
    ["channels", "add", T, "--platform", T],
    ["channels", "add", T, "--platform", "x", "--authorised-on", D, "--url", T],
    ["channels", "edit", "Castlemere Council", "--name", T],
    ["channels", "edit", T, "--passwords-changed-on", D],
    ["channels", "close", T, "--reason", T],
    ["channels", "train", "Castlemere Council", T, "--on", D],
    ["channels", "import", F],
    ["channels", "list", "--json"],
    ["staff", "add", T, "--email", T, "--deputy", T, "--phone", T],
    ["staff", "left", T, "--on", D],
    ["staff", "deputy", T, T],
    ["rota", "show", "--date", D],
    ["rota", "list", "--from", D, "--to", D],
    ["rota", "swap", D, "--to", T, "--reason", T],
    ["rota", "generate", "--from", D, "--weeks", N],
    ["rota", "gaps", "--from", D, "--to", D],
    ["rota", "export", "--ics", F, "--officer", T],
    ["rota", "export", "--csv", F, "--from", D],
    ["leave", "add", T, "--from", D, "--to", D, "--reason", T],
    ["check", T, "--note", T],
    ["checks", "--date", D],
    ["checks", "missed", "--from", D, "--to", D],
    ["handover", "add", T],
    ["handover", "ack", N],
    ["sources", "add", T, T, "--every", T],
    ["ingest", F, "--source", T],
    ["rules", "check", F],
    ["queue", "--search", T, "--limit", N],
    ["triage", N, "--snooze", W],
    ["triage", N, "--respond", T, "--checks-done"],
    ["triage", N, "--assign", T],
    [
        "moderation",
        "add",
        "--channel",
        T,
        "--action",
        "hide",
        "--user",
        T,
        "--content",
        T,
        "--breach",
        T,
        "--evidence",
        T,
        "--at",
        W,
    ],  # fmt: skip
    ["incident", "start", "--title", T, "--channel", T],
    ["incident", "show", N],
    ["incident", "note", N, T],
    ["incident", "notify", N, "--person", T, "--how", "phone", "--at", W],
    ["incident", "report", N, "-o", F],
    ["posts", "stop", "--reason", T, "--incident", N],
    ["history", "--limit", N, "--entity", T],
]


def fingerprint(path) -> tuple:
    """Rows and highest ids of every table: a failed command must leave it exactly so."""
    db = sqlite3.connect(path)
    try:
        tables = [
            r[0]
            for r in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'mentions_fts%' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return tuple(db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables)
    finally:
        db.close()


@st.composite
def invocations(draw, folder):
    command = draw(st.sampled_from(COMMANDS))
    pools = {T: HOSTILE_TEXT, D: HOSTILE_DATES, W: HOSTILE_TIMES, N: HOSTILE_NUMBERS,
             F: special_files(folder)}  # fmt: skip
    args = []
    for token in command:
        if token in pools:
            use_random = token == T and draw(st.booleans())
            if use_random:
                args.append(draw(st.text(min_size=0, max_size=40)))
            else:
                args.append(draw(st.sampled_from(pools[token])))
        else:
            args.append(token)
    actor = draw(st.sampled_from([None, *HOSTILE_TEXT[:10]]))
    return actor, args


RAW_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@settings(
    max_examples=int(os.environ.get("SMDUTY_HYPOTHESIS_EXAMPLES", "250")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=os.environ.get("SMDUTY_HYPOTHESIS_RANDOM") is None,
)
@given(data=st.data())
def test_no_hostile_argument_crashes_or_writes_on_failure(template, tmp_path, data):
    source, folder = template
    actor, args = data.draw(invocations(folder))
    db_path = tmp_path / "work.db"
    shutil.copyfile(source, db_path)
    (folder / "new.out").unlink(missing_ok=True)
    before = fingerprint(db_path)
    prefix = ["--db", str(db_path)] + ([] if actor is None else ["--as", actor])
    result = CliRunner().invoke(main, [*prefix, *args])
    brief = [a if len(a) < 60 else f"{a[:20]}...({len(a)} chars)" for a in args]
    shown = f"{actor!r} {brief!r} -> {result.exit_code}: {result.output[-500:]!r}"
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"crashed: {shown}") from result.exception
    assert result.exit_code in (0, 1, 2), shown
    assert "Traceback" not in result.output, shown
    assert not RAW_CONTROL.search(result.stdout), shown
    if result.exit_code != 0:
        assert fingerprint(db_path) == before, f"wrote on failure: {shown}"
