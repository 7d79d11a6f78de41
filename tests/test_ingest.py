"""Mention ingestion: feeds over a local HTTP server, export files, dedupe, flagging, the poller."""

from __future__ import annotations

import gzip
import json
import time
from datetime import timedelta

import pytest
from click.testing import CliRunner
from werkzeug import Response

from smduty.cli import main
from smduty.core.clock import now_utc
from smduty.core.config import ConfigError, shipped_data_dir
from smduty.core.monitoring.fetch import FetchLimits
from smduty.core.monitoring.flag_load import load_rules, ruleset_for
from smduty.core.monitoring.flagging import Rule, rating_for
from smduty.core.monitoring.ingest import ingest_location
from smduty.core.monitoring.mentions import mention_matches, mention_sources
from smduty.core.monitoring.poller import poll_due
from smduty.core.monitoring.presets import preset_names
from smduty.core.monitoring.sources import add_source, get_source
from smduty.core.store import transaction

DEMO = shipped_data_dir() / "demo"
FAST = FetchLimits(connect_timeout=2, total_timeout=0.5, max_bytes=4096, max_redirects=5)

RSS = b"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>Test feed</title>
<item><guid>post-1</guid><title>Bins not collected again</title>
<link>https://news.example/a</link>
<description>A &lt;b&gt;disgraceful&lt;/b&gt; service</description>
<pubDate>Fri, 20 Nov 2026 10:00:00 +0000</pubDate></item>
<item><guid>post-2</guid><title>Library award</title><link>https://news.example/b</link>
<description>Good news</description></item>
</channel></rss>"""


def count(db, table="mentions") -> int:
    return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


@pytest.fixture
def rules(demo_db):
    return ruleset_for(demo_db)


# --- feeds over HTTP ---------------------------------------------------------------------


def test_feed_200_then_304_with_conditional_request(httpserver, demo_db, rules):
    httpserver.expect_ordered_request("/feed", headers={}).respond_with_data(
        RSS, headers={"ETag": '"v1"', "Content-Type": "application/rss+xml"}
    )
    httpserver.expect_ordered_request("/feed", headers={"If-None-Match": '"v1"'}).respond_with_data(
        "", status=304
    )
    source = add_source(demo_db, "t", "Test feed", httpserver.url_for("/feed"))
    before = count(demo_db)
    [first] = poll_due(demo_db, rules, names=["Test feed"], limits=FAST)
    assert first.error is None and first.counts.new == 2
    assert count(demo_db) == before + 2
    stored = get_source(demo_db, "Test feed")
    assert stored.etag == '"v1"' and stored.last_status == "ok: 2 new"
    demo_db.execute("UPDATE sources SET next_poll = NULL WHERE id = ?", (source.id,))
    [second] = poll_due(demo_db, rules, names=["Test feed"], limits=FAST)
    assert second.status == "not modified" and count(demo_db) == before + 2
    request = httpserver.log[0][0]
    assert request.headers["User-Agent"].startswith("smduty/")


@pytest.mark.parametrize(
    ("status", "words"), [(404, "HTTP 404 Not Found"), (500, "HTTP 500 Internal Server Error")]
)
def test_http_errors_are_stored_in_words_and_back_off(httpserver, demo_db, rules, status, words):
    httpserver.expect_request("/feed").respond_with_data("nope", status=status)
    add_source(demo_db, "t", "Broken", httpserver.url_for("/feed"), every="15m")
    [result] = poll_due(demo_db, rules, names=["Broken"], limits=FAST)
    assert result.error == f"{httpserver.url_for('/feed')}: {words}"
    source = get_source(demo_db, "Broken")
    assert (source.last_error, source.failures, source.last_status) == (words, 1, "error")
    wait = _minutes_until(source.next_poll)
    assert 29 <= wait <= 30  # 15 minutes doubled


def _minutes_until(stamp: str) -> float:
    from datetime import datetime

    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return (moment - now_utc()).total_seconds() / 60


def test_backoff_doubles_to_six_hours_and_recovers(httpserver, demo_db, rules):
    from smduty.core.monitoring.sources import backoff

    assert [backoff(15, n) for n in (1, 2, 3)] == [timedelta(minutes=m) for m in (30, 60, 120)]
    assert backoff(15, 10) == timedelta(hours=6)
    httpserver.expect_ordered_request("/feed").respond_with_data("x", status=503)
    httpserver.expect_ordered_request("/feed").respond_with_data(RSS)
    source = add_source(demo_db, "t", "Flaky", httpserver.url_for("/feed"))
    poll_due(demo_db, rules, names=["Flaky"], limits=FAST)
    assert get_source(demo_db, "Flaky").failures == 1
    demo_db.execute("UPDATE sources SET next_poll = NULL WHERE id = ?", (source.id,))
    [ok] = poll_due(demo_db, rules, names=["Flaky"], limits=FAST)
    healed = get_source(demo_db, "Flaky")
    assert ok.error is None and healed.failures == 0 and healed.last_error is None
    assert 14 <= _minutes_until(healed.next_poll) <= 15


def test_timeout_is_reported_and_does_not_hang(demo_db, rules):
    from pytest_httpserver import HTTPServer

    def slow(request):
        time.sleep(1.5)
        return Response(RSS)

    # Its own threaded server, so the sleeping handler holds up no other test.
    server = HTTPServer(threaded=True)
    server.start()
    try:
        server.expect_request("/slow").respond_with_handler(slow)
        started = time.monotonic()
        summary = ingest_location(demo_db, rules, server.url_for("/slow"), limits=FAST)
        assert time.monotonic() - started < 1.4
        assert summary.error.endswith("timed out after 0.5 s")
    finally:
        server.clear()
        server.stop()


def test_redirects_followed_up_to_five(httpserver, demo_db, rules):
    httpserver.expect_request("/old").respond_with_data(
        "", status=301, headers={"Location": httpserver.url_for("/feed")}
    )
    httpserver.expect_request("/feed").respond_with_data(RSS)
    assert ingest_location(demo_db, rules, httpserver.url_for("/old"), limits=FAST).counts.new == 2
    httpserver.expect_request("/loop").respond_with_data(
        "", status=302, headers={"Location": httpserver.url_for("/loop")}
    )
    summary = ingest_location(demo_db, rules, httpserver.url_for("/loop"), limits=FAST)
    assert summary.error.endswith("more than 5 redirects")


def test_oversized_body_is_refused_even_when_gzipped(httpserver, demo_db, rules):
    big = RSS.replace(b"Good news", b"x" * 10_000)
    httpserver.expect_request("/big").respond_with_data(big)
    summary = ingest_location(demo_db, rules, httpserver.url_for("/big"), limits=FAST)
    assert summary.error.endswith("response larger than 4 KB")
    # A small gzip body that inflates past the cap is caught while reading.
    httpserver.expect_request("/bomb").respond_with_data(
        gzip.compress(big), headers={"Content-Encoding": "gzip"}
    )
    summary = ingest_location(demo_db, rules, httpserver.url_for("/bomb"), limits=FAST)
    assert summary.error.endswith("response larger than 4 KB")
    assert count(demo_db, "mentions") == count(demo_db, "mentions")  # nothing partial


def test_gzip_feed_is_read(httpserver, demo_db, rules):
    httpserver.expect_request("/gz").respond_with_data(
        gzip.compress(RSS), headers={"Content-Encoding": "gzip"}
    )
    assert ingest_location(demo_db, rules, httpserver.url_for("/gz"), limits=FAST).counts.new == 2


def test_malformed_feed_keeps_good_entries_with_a_warning(httpserver, demo_db, rules):
    broken = RSS.replace(b"</channel></rss>", b"<item><title>cut off & broken")
    httpserver.expect_request("/broken").respond_with_data(broken)
    summary = ingest_location(demo_db, rules, httpserver.url_for("/broken"), limits=FAST)
    assert summary.error is None and summary.counts.new >= 2
    assert summary.warning and "the feed has errors" in summary.warning
    httpserver.expect_request("/html").respond_with_data(b"<html><body>Hello</body></html>")
    page = ingest_location(demo_db, rules, httpserver.url_for("/html"), limits=FAST)
    assert page.error.endswith("not a feed")


def test_entity_expansion_feed_is_defused(tmp_path, demo_db, rules):
    lol = ["<!ENTITY lol0 'lol'>"] + [
        f"<!ENTITY lol{i} '{('&lol' + str(i - 1) + ';') * 10}'>" for i in range(1, 10)
    ]
    body = (
        '<?xml version="1.0"?>\n<!DOCTYPE rss [\n' + "\n".join(lol) + "\n]>\n"
        '<rss version="2.0"><channel><title>t</title><item><guid>bomb-1</guid>'
        "<title>&lol9;</title><description>boom</description></item></channel></rss>"
    )
    path = tmp_path / "bomb.rss"
    path.write_text(body)
    started = time.monotonic()
    summary = ingest_location(demo_db, rules, str(path))
    assert time.monotonic() - started < 2
    assert summary.error is None
    title = demo_db.execute("SELECT title FROM mentions WHERE key LIKE '%bomb-1'").fetchone()[0]
    assert len(title) < 100


# --- export files --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "preset", "read"),
    [
        ("meltwater.tsv", "meltwater", 4),
        ("brandwatch.csv", "brandwatch", 3),
        ("hootsuite.csv", "hootsuite", 4),
        ("sprout.csv", "sprout", 2),
        ("talkwalker.json", "talkwalker", 2),
        ("generic.ndjson", "generic", 3),
    ],
)
def test_each_preset_is_detected_and_mapped(db, name, preset, read):
    from smduty.core.monitoring.presets import build_mapping

    rules = ruleset_for(db)
    summary = ingest_location(db, rules, str(DEMO / "exports" / name))
    assert summary.error is None, summary.error
    assert summary.counts.read == read and summary.counts.new == read
    rows = db.execute("SELECT * FROM mentions").fetchall()
    assert all(r["text"] or r["title"] for r in rows)
    assert all(r["published"].startswith("2026-11") for r in rows), [r["published"] for r in rows]
    assert preset in preset_names()
    if name.endswith(".csv"):
        header = (DEMO / "exports" / name).read_text(encoding="cp1252").splitlines()
        line = next(x for x in header if "," in x or ";" in x)
        delimiter = ";" if ";" in line else ","
        assert build_mapping(line.split(delimiter), None, {}, name).preset == preset


def test_meltwater_utf16_fields(db):
    summary = ingest_location(db, ruleset_for(db), str(DEMO / "exports" / "meltwater.tsv"))
    assert summary.error is None
    row = db.execute("SELECT * FROM mentions WHERE text LIKE 'Road closures%'").fetchone()
    assert row["author"] == "danhughes" and row["url"] == "https://social.example/status/5501"
    assert row["published"] == "2026-11-21T07:52:00Z"
    news = db.execute("SELECT * FROM mentions WHERE title LIKE 'Council confirms%'").fetchone()
    assert news["text"].startswith("Castlemere Borough Council has confirmed")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252"])
def test_encodings(tmp_path, db, encoding):
    path = tmp_path / f"export-{encoding}.csv"
    path.write_text(
        "id,text,author,date\n1,Café closed – £5 fine,Zoë,2026-11-20 10:00\n", encoding=encoding
    )
    summary = ingest_location(db, ruleset_for(db), str(path))
    assert summary.error is None and summary.counts.new == 1
    row = db.execute("SELECT text, author FROM mentions").fetchone()
    assert tuple(row) == ("Café closed – £5 fine", "Zoë")


def test_map_and_preset_overrides(tmp_path, db):
    path = tmp_path / "odd.csv"
    path.write_text("Ref;Words;Who\n7;Pothole on Mill Lane;sam\n", encoding="utf-8")
    failed = ingest_location(db, ruleset_for(db), str(path))
    assert "cannot tell which column holds the text" in failed.error
    assert failed.error.startswith(str(path))
    ok = ingest_location(db, ruleset_for(db), str(path), column_map="text=Words,author=Who,id=Ref")
    assert ok.error is None and ok.counts.new == 1
    row = db.execute("SELECT text, author, source_item_id FROM mentions").fetchone()
    assert tuple(row) == ("Pothole on Mill Lane", "sam", "7")
    wrong = ingest_location(db, ruleset_for(db), str(path), column_map="text=Nope")
    assert "no column 'Nope'" in wrong.error


def test_a_user_copy_of_the_presets_adds_a_tool_and_a_broken_one_is_refused(smduty_home, db):
    from smduty.core.monitoring.presets import load_presets

    copy = smduty_home / "config" / "export-presets.toml"
    copy.parent.mkdir(parents=True)
    shipped = (shipped_data_dir() / "export-presets.toml").read_text("utf-8")
    copy.write_text(
        shipped + '\n[council-crm]\nsignature = ["Case Ref", "Enquiry"]\n'
        'id = ["Case Ref"]\ntext = ["Enquiry"]\npublished = ["Logged"]\n',
        "utf-8",
    )
    export = smduty_home / "crm.csv"
    export.write_text("Case Ref,Enquiry,Logged\nC-1,Bins missed on Mill Lane,2026-11-20 09:00\n")
    summary = ingest_location(db, ruleset_for(db), str(export))
    assert summary.error is None and summary.counts.new == 1
    assert "council-crm" in preset_names()
    copy.write_text('[generic]\nsignature = []\ntext = ["text"]\ncolour = "red"\n', "utf-8")
    with pytest.raises(ConfigError, match=r"export-presets.toml.*\[generic\].*colour"):
        load_presets()


def test_a_file_failing_halfway_writes_nothing(tmp_path, db):
    path = tmp_path / "half.ndjson"
    lines = [json.dumps({"id": str(i), "text": f"post {i}"}) for i in range(1, 5)]
    lines.insert(3, '{"id": "broken", "text": ')
    path.write_text("\n".join(lines) + "\n")
    summary = ingest_location(db, ruleset_for(db), str(path))
    assert summary.error.startswith(f"{path} line 4: not valid JSON")
    assert summary.counts.new == 0 and count(db) == 0
    garbage = tmp_path / "garbage.json"
    garbage.write_text('[{"text": "one"}, {"text": ')
    broken = ingest_location(db, ruleset_for(db), str(garbage))
    assert "not valid JSON" in broken.error and count(db) == 0


# --- big exports: read in a second process -------------------------------------------------

STORED = (
    "key, url_key, source_item_id, url, title, text, author, published, source, about_council,"
    " risk, rating, rating_rank, categories"
)


def big_export(path, rows=4_500):
    """More than two of the reader's batches, with what the reader must get right: repeats
    within the file and across batches, blank and short and long rows, flagged posts."""
    lines = ["id,date,author,url,text"]
    for i in range(rows):
        text = f"Post {i} about the bins"
        if i % 7 == 0:
            text = f"Complaint {i}: a disgrace, call 07700 900{i % 1000:03d}"
        lines.append(
            f"p{i},2026-11-20T10:{i % 60:02d}:00+00:00,user{i % 50},https://x.example/{i},{text}"
        )
        if i % 1000 == 0:
            lines += [
                "",
                " , , , , ",
                f"p{i},2026-11-20,again,,repeat of {i}",
            ]  # blank, blank, repeat
    lines.append("short1,2026-11-20 09:00")  # fewer cells, no text: kept (a post of its own id)
    lines.append("long1,20/11/2026 09:00,sam,,a long row,extra,cells")
    lines.append(",,,,text only, hashed key")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def stored(db):
    mentions = [tuple(r) for r in db.execute(f"SELECT {STORED} FROM mentions ORDER BY key")]
    matches = [
        tuple(r)
        for r in db.execute(
            "SELECT m.key, x.rule, x.matched, x.field, x.start, x.end FROM mention_matches x"
            " JOIN mentions m ON m.id = x.mention_id ORDER BY m.key, x.start, x.rule"
        )
    ]
    return mentions, matches


def test_a_big_export_read_in_a_second_process_stores_the_same(tmp_path, monkeypatch, db):
    from smduty.core.monitoring import ingest
    from smduty.core.store import connect

    path = big_export(tmp_path / "big.csv")
    rules = ruleset_for(db)
    here = ingest_location(db, rules, str(path), source="tool")
    assert here.error is None and here.counts.new > 4_000
    started = []
    monkeypatch.setattr(ingest, "READ_ELSEWHERE_FROM", 0)
    real = ingest.ReaderProcess
    monkeypatch.setattr(ingest, "ReaderProcess", lambda job: started.append(job) or real(job))
    other = connect(tmp_path / "other.db")
    elsewhere = ingest_location(other, rules, str(path), source="tool")
    assert len(started) == 1, "the second process was not used"
    assert elsewhere.error is None
    assert elsewhere.counts == here.counts
    assert here.counts.duplicates == 5 and here.counts.skipped == 0
    assert stored(other) == stored(db)
    assert stored(db)[1], "nothing was flagged"
    again = ingest_location(other, rules, str(path), source="tool")
    assert again.counts.new == 0 and again.counts.duplicates == here.counts.read
    for name in ("meltwater.tsv", "brandwatch.csv", "talkwalker.json", "generic.ndjson"):
        a = ingest_location(other, rules, str(DEMO / "exports" / name))
        monkeypatch.setattr(ingest, "READ_ELSEWHERE_FROM", 1 << 40)
        b = ingest_location(db, rules, str(DEMO / "exports" / name))
        monkeypatch.setattr(ingest, "READ_ELSEWHERE_FROM", 0)
        assert (a.error, a.counts) == (b.error, b.counts), name
    assert stored(other) == stored(db)
    other.close()


def test_a_bad_line_read_in_a_second_process_writes_nothing(tmp_path, monkeypatch, db):
    from smduty.core.monitoring import ingest

    monkeypatch.setattr(ingest, "READ_ELSEWHERE_FROM", 0)
    path = tmp_path / "late.ndjson"
    lines = [json.dumps({"id": str(i), "text": f"post {i}"}) for i in range(1, 5_001)]
    lines[4_499] = '{"id": "broken", "text": '
    path.write_text("\n".join(lines) + "\n")
    summary = ingest_location(db, ruleset_for(db), str(path))
    assert summary.error.startswith(f"{path} line 4500: not valid JSON")
    assert summary.counts.new == 0 and count(db) == 0


def test_a_reader_process_that_dies_or_outlives_its_writer(tmp_path, monkeypatch, db):
    from smduty.core.monitoring import ingest
    from smduty.core.monitoring.mentions import MentionWriter

    monkeypatch.setattr(ingest, "READ_ELSEWHERE_FROM", 0)
    path = big_export(tmp_path / "big.csv", rows=9_000)
    readers = []
    real = ingest.ReaderProcess
    monkeypatch.setattr(
        ingest, "ReaderProcess", lambda job: readers.append(real(job)) or readers[-1]
    )
    add = MentionWriter.add_prepared

    def killed_after_one_batch(self, *args):
        add(self, *args)
        readers[-1].child.kill()

    monkeypatch.setattr(MentionWriter, "add_prepared", killed_after_one_batch)
    summary = ingest_location(db, ruleset_for(db), str(path))
    assert summary.error.startswith(
        f"{path}: the reading process stopped unexpectedly (exit code -9"
    )
    assert count(db) == 0

    def writer_fails(self, *args):
        raise OSError("disk full")

    monkeypatch.setattr(MentionWriter, "add_prepared", writer_fails)
    summary = ingest_location(db, ruleset_for(db), str(path))
    assert summary.error == f"{path}: unexpected OSError: disk full"
    assert count(db) == 0
    assert readers[-1].child.poll() is not None, "the reader process was left running"


def test_a_reader_process_that_cannot_start_leaves_the_reading_here(tmp_path, monkeypatch, db):
    import sys

    from smduty.core.monitoring import ingest

    monkeypatch.setattr(ingest, "READ_ELSEWHERE_FROM", 0)
    monkeypatch.setattr(sys, "executable", "/bin/false")  # exits at once, says nothing
    summary = ingest_location(db, ruleset_for(db), str(big_export(tmp_path / "big.csv", 100)))
    assert summary.error is None and summary.counts.new == count(db) > 90


@pytest.mark.parametrize(
    "written",
    ["2026-11-20T10:00:00Z", "2026-11-20 10:00:00+00:00", "2026-11-20T10:00:00+0000"],
)
def test_utc_stamps_taken_as_written_key_and_store_as_parsed(written):
    from smduty.core.monitoring.dates import parse_when, published_value
    from smduty.core.monitoring.mentions import Preparer, RawMention

    assert published_value(written) == "2026-11-20T10:00:00Z"
    prepare = Preparer(load_rules().compile(), "tool", now_utc())
    fast = prepare(RawMention(text="hashed", published=published_value(written)))
    slow = prepare(RawMention(text="hashed", published=parse_when(written)))
    assert fast == slow and fast[0].startswith("hash:")
    for other in ("2026-11-20T10:00:00", "2026-11-20T10:00:00.5Z", "2026-11-20T10:00:00+01:00"):
        assert not isinstance(published_value(other), str), other


def test_dedupe_on_reingest_and_across_sources(db):
    rules = ruleset_for(db)
    first = ingest_location(db, rules, str(DEMO / "exports" / "brandwatch.csv"))
    again = ingest_location(db, rules, str(DEMO / "exports" / "brandwatch.csv"))
    assert first.counts.new == 3 and again.counts.new == 0 and again.counts.duplicates == 3
    melt = ingest_location(db, rules, str(DEMO / "exports" / "meltwater.tsv"))
    assert melt.counts.duplicates == 1  # tweet 5501 reached both tools
    mid = db.execute("SELECT id FROM mentions WHERE url LIKE '%status/5501'").fetchone()[0]
    assert mention_sources(db, mid) == ["brandwatch.csv", "meltwater.tsv"]
    assert count(db) == 3 + 3


def test_control_characters_removed_markup_kept(tmp_path, db):
    path = tmp_path / "hostile.ndjson"
    text = "[bold red]Hi[/] \x1b[2J\x1b]0;pwned\x07 council\x00 tax \u202e"
    path.write_text(json.dumps({"id": "h1", "text": text, "author": "[link=x]me[/link]\x1b[31m"}))
    assert ingest_location(db, ruleset_for(db), str(path)).error is None
    row = db.execute("SELECT text, author FROM mentions").fetchone()
    assert row["text"] == "[bold red]Hi[/] council tax"
    assert row["author"] == "[link=x]me[/link]"


def test_cli_ingest_json_and_exit_codes(tmp_path, db_path):
    runner = CliRunner()
    runner.invoke(main, ["--db", str(db_path), "init"])
    good = str(DEMO / "exports" / "hootsuite.csv")
    result = runner.invoke(main, ["--db", str(db_path), "ingest", good, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["total"] == {
        "read": 4,
        "new": 4,
        "duplicates": 0,
        "flagged": report["total"]["flagged"],
        "skipped": 0,
        "errors": 0,
    }
    missing = str(tmp_path / "missing.csv")
    some = runner.invoke(main, ["--db", str(db_path), "ingest", good, missing, "--json"])
    assert some.exit_code == 1
    assert json.loads(some.output)["locations"][1]["error"] == f"{missing}: no such file"
    none = runner.invoke(main, ["--db", str(db_path), "ingest", missing])
    assert none.exit_code == 2


# --- flagging ------------------------------------------------------------------------------


# Texts that come close to the shipped patterns, or that an over-eager shortcut would miss:
# non-ASCII digits, a Kelvin sign, a long "ſ" and a dotted capital I (which match k, s and i
# case-insensitively), upper case, too few digits, the street word with no number, and so on.
GATE_TEXTS = [
    "Call 07700 900555 now",
    "call 0770 090 055",  # nine digits: not a mobile
    "+44 7700 900555",
    "Ring 0161 496 0000 or 020 7946 0000",
    "NI number AB 12 34 56 C please",
    "ni ab123456c",
    "ab12345c",  # five digits
    "I live at 12 Mill Road, Castlemere CM1 2AB",
    "12 MILL ROAD CASTLEMERE CM1 2AB",
    "12 Mill Waſ and CM1 2AB",
    "I live at ١٢ Mill Road CM1 2AB",  # Arabic-Indic digits match \\d
    "Mill Road, no number, CM1 2AB",
    "12 Mill DR\u0130VE CM1 2AB",  # re matches i to the Turkish capital; casefold makes it 2
    "mail jo.bloggs@example.co.uk",
    "mail jo@example",  # no dot after the @
    "JO@EXAMPLE.COM",
    "#1234 via @CastlemereBC",
    "",
]


def test_pattern_shortcuts_never_change_a_verdict():
    """Skipping patterns a text cannot match (digits, characters, street words) must give the
    same matches as running every pattern on every text."""
    rules = load_rules().compile(["Castlemere"])
    extra = [
        r"\bref\s?\d{3}-\d{3}\b",
        r"(?:Road|Street)\s\d+",
        r"[0-9]{2}(?:ab|cd)",
        r"k\w+ane",
        r"st(?:reet)?\s\d",
    ]
    texts = GATE_TEXTS + ["REF 123-456", "road 7", "12AB", "\u212aingsLANE", "ſt 4", "St 4"]
    for pattern in extra:
        rules.rules.append(Rule(f"x-{pattern}", "complaint", 1, 1, pattern=pattern))
    rules.compile(["Castlemere"])
    for text in texts:
        got = {(m.rule, m.start, m.end) for m in rules.scan({"text": text}).matches}
        want = set()
        for rule, regex, grow, *_ in rules._patterns:
            for found in regex.finditer(text):
                start, end = found.span()
                if grow is not None:
                    start -= len(grow.search(text, 0, start).group())
                want.add((rule.id, start, end))
        words = {(r, a, b) for r, a, b in got if r not in {p[0].id for p in rules._patterns}}
        assert got == want | words, text
    shipped = {p[0].id: (p[4], p[5]) for p in rules._patterns}
    assert shipped["uk-landline-number"][0] == 10 and shipped["uk-mobile-number"][0] == 11
    assert shipped["ni-number"][0] == 6
    assert "road" in shipped["home-address"][1]


def test_flagging_whole_words_patterns_and_explanations(db):
    rules = load_rules().compile(["Castlemere"])
    verdict = rules.scan({"text": "Great skills at Castlemere, skilled staff at the mill"})
    assert verdict.matches == [] and verdict.about_council
    threat = rules.scan({"text": "I will KILL you. Call 07700 900555 or jo@example.com"})
    categories = {m.category for m in threat.matches}
    assert {"threat", "personal_data"} <= categories
    assert threat.risk == 16 and threat.rating == "critical"
    kill = next(m for m in threat.matches if m.rule == "threat-harm-to-person")
    assert (kill.matched, kill.start, kill.end) == ("KILL", 7, 11)
    assert kill.why == "near 'you'; +1 likelihood: intent 'i will'"
    assert "threat: 'KILL' (threat-harm-to-person) 4 x 4 = 16 critical" in threat.explain()[0]
    assert [rating_for(s) for s in (0, 3, 4, 6, 8, 12, 15, 25)] == [
        "none",
        "low",
        "medium",
        "medium",
        "high",
        "high",
        "critical",
        "critical",
    ]


def test_stored_matches_explain_the_flag(demo_db):
    row = demo_db.execute(
        "SELECT id, risk, rating, categories FROM mentions WHERE text LIKE '%know where you live%'"
    ).fetchone()
    assert (row["rating"], row["categories"]) == ("critical", "threat")
    [match, *_] = mention_matches(demo_db, row["id"])
    assert match["matched"].lower() in {"know where you live", "watch your back"}
    assert match["likelihood"] * match["consequence"] == row["risk"] >= 15
    assert match["why"]


def test_broken_rules_file_is_refused_with_line(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text(
        '[categories.c]\nlabel = "C"\nlikelihood = 3\nconsequence = 9\n\n'
        '[[rule]]\nid = "bad-regex"\ncategory = "c"\npattern = "(unclosed"\n'
    )
    with pytest.raises(ConfigError) as caught:
        load_rules(path)
    message = str(caught.value)
    assert "line 1: category 'c': consequence must be a whole number from 1 to 5" in message
    assert "line 7: rule 'bad-regex': the pattern does not compile" in message
    path.write_text("[[rule]\nid = 1\n")
    with pytest.raises(ConfigError, match=r"line 1"):
        load_rules(path)


def test_user_rules_copy_overrides_the_shipped_file(smduty_home, db):
    from smduty.core.config import config_dir

    config_dir().mkdir(parents=True, exist_ok=True)
    (config_dir() / "rules.toml").write_text(
        '[categories.x]\nlikelihood = 1\nconsequence = 2\n[[rule]]\nid = "w"\ncategory = "x"\n'
        'words = ["zebra crossing"]\n'
    )
    rules = ruleset_for(db)
    assert [r.id for r in rules.rules] == ["w"]
    assert rules.scan({"text": "The zebra crossing lights"}).risk == 2


# --- the poller ----------------------------------------------------------------------------


def test_one_bad_source_does_not_stop_the_others(httpserver, demo_db, rules, tmp_path):
    httpserver.expect_request("/good").respond_with_data(RSS)
    httpserver.expect_request("/bad").respond_with_data("x", status=404)
    add_source(demo_db, "t", "A bad one", httpserver.url_for("/bad"))
    add_source(demo_db, "t", "B good one", httpserver.url_for("/good"))
    add_source(demo_db, "t", "C missing file", str(tmp_path / "nope.csv"))
    results = {r.source: r for r in poll_due(demo_db, rules, limits=FAST)}
    assert results["A bad one"].error.endswith(": HTTP 404 Not Found")
    assert results["B good one"].counts.new == 2
    missing = get_source(demo_db, "C missing file")
    assert missing.last_error == "no such file" and results["C missing file"].error.startswith(
        str(tmp_path / "nope.csv")
    )
    # Nothing is due straight after: claimed sources are not fetched twice.
    assert poll_due(demo_db, rules, limits=FAST) == []


def test_watcher_heartbeat(demo_db):
    from smduty.core.monitoring.poller import beat, stop_beating, watcher_alive

    assert not watcher_alive(demo_db)
    beat(demo_db)
    assert watcher_alive(demo_db)
    assert not watcher_alive(demo_db, now_utc() + timedelta(minutes=5))
    stop_beating(demo_db)
    assert not watcher_alive(demo_db)


def test_sources_cli(db_path, tmp_path):
    runner = CliRunner()
    base = ["--db", str(db_path)]
    runner.invoke(main, [*base, "init"])
    feed = tmp_path / "f.rss"
    feed.write_bytes(RSS)
    added = runner.invoke(main, [*base, "sources", "add", "Local", str(feed), "--every", "2h"])
    assert added.exit_code == 0, added.output
    bad = runner.invoke(main, [*base, "sources", "add", "Bad", "ftp://x", "--every", "often"])
    assert bad.exit_code == 2 and "every" in bad.output
    assert runner.invoke(main, [*base, "poll"]).exit_code == 0
    listed = json.loads(runner.invoke(main, [*base, "sources", "list", "--json"]).output)
    [row] = listed
    assert row["name"] == "Local" and row["every_minutes"] == 120
    assert row["last_status"] == "ok: 2 new" and row["enabled"] is True
    for key in ("location", "last_polled", "last_error", "next_poll"):
        assert key in row
    assert runner.invoke(main, [*base, "sources", "disable", "Local"]).exit_code == 0
    assert runner.invoke(main, [*base, "sources", "edit", "Local", "--every", "5m"]).exit_code == 0
    assert runner.invoke(main, [*base, "sources", "remove", "Local"]).exit_code == 0
    history = runner.invoke(main, [*base, "history", "--json"]).output
    actions = [e["action"] for e in json.loads(history)]
    assert {"source.add", "source.edit", "source.remove"} <= set(actions)


def test_demo_sources_are_loaded(demo_db):
    names = [r[0] for r in demo_db.execute("SELECT name FROM sources ORDER BY name")]
    assert len(names) == 9
    errors = demo_db.execute("SELECT count(*) FROM sources WHERE failures > 0").fetchone()[0]
    assert errors == 1
    flagged = demo_db.execute("SELECT count(*) FROM mentions WHERE risk > 0").fetchone()[0]
    assert flagged >= 10


BEATING = "SELECT count(*) FROM meta WHERE key = ?"


@pytest.mark.parametrize("stop_with", ["SIGINT", "SIGTERM"])
def test_watch_polls_then_stops_cleanly_on_ctrl_c(db_path, tmp_path, stop_with):
    import os
    import signal
    import subprocess
    import sys

    from smduty.core.monitoring.poller import HEARTBEAT_KEY
    from smduty.core.store import connect

    db = connect(db_path)
    feed = tmp_path / "w.rss"
    feed.write_bytes(RSS)
    add_source(db, "t", "Watched", str(feed))
    watcher = subprocess.Popen(
        [sys.executable, "-m", "smduty", "--db", str(db_path), "watch", "--tick", "5"],
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ | {"SMDUTY_NOW": ""},
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            row = db.execute("SELECT last_status FROM sources WHERE name = 'Watched'").fetchone()
            if row[0]:
                break
            time.sleep(0.2)
        assert row[0] == "ok: 2 new"
        assert db.execute(BEATING, (HEARTBEAT_KEY,)).fetchone()[0] == 1  # the heartbeat
    finally:
        watcher.send_signal(getattr(signal, stop_with))  # Ctrl-C, or systemd stopping it
        _, err = watcher.communicate(timeout=20)
    assert watcher.returncode == 0, err
    assert "Watched: ok (2 new)" in err and "stopped" in err
    assert db.execute(BEATING, (HEARTBEAT_KEY,)).fetchone()[0] == 0
    db.close()


def test_old_databases_are_rekeyed_and_impossible_dates_made_unknown(db_path):
    from smduty.core.store import connect as open_db

    db = open_db(db_path, migrate_to=11)
    with transaction(db):
        for n, (key, url, published) in enumerate(
            [
                ("url:https://twitter.com/a/status/1", "https://twitter.com/a/status/1?s=20",
                 "2026-11-20T10:00:00Z"),
                ("hash:old", "", "2026-02-30T10:00:00Z"),
                ("id:src:9", "https://m.facebook.com/p/9?fbclid=x", "2026-13-45T99:99:99Z"),
            ]
        ):  # fmt: skip
            db.execute(
                "INSERT INTO mentions (id, key, url_key, url, text, published, source,"
                " ingested_at, updated_at) VALUES (?, ?, '', ?, 'words', ?, 'src', ?, ?)",
                (n + 1, key, url, published, "2026-11-21T08:00:00Z", "2026-11-21T08:00:00Z"),
            )
    db.close()
    db = open_db(db_path)
    rows = db.execute(
        "SELECT key, url_key, published, published_unknown FROM mentions ORDER BY id"
    ).fetchall()
    assert rows[0]["key"] == "url:https://x.com/a/status/1" and rows[0]["published_unknown"] == 0
    assert rows[1]["key"].startswith("hash:") and rows[1]["key"] != "hash:old"
    assert (rows[1]["published"], rows[1]["published_unknown"]) == ("2026-11-21T08:00:00Z", 1)
    assert rows[2]["key"] == "id:src:9" and rows[2]["url_key"] == "https://facebook.com/p/9"
    assert rows[2]["published_unknown"] == 1
    from smduty.core.triage import queue as triage

    assert len(triage.page(db, triage.Filters(rating="any"), limit=10)) == 3  # no traceback
    db.close()
