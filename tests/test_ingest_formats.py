"""Ingest that never loses, bends or blocks a mention (issue 17): keys, dates, text, encodings,
formats, concurrent polling. Each case is a file that was lost or bent before."""

from __future__ import annotations

import json
import time
import zipfile
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from pytest_httpserver import HTTPServer
from werkzeug import Response

from smduty.cli import main
from smduty.core.monitoring.dates import DateReader, day_first, header_zone
from smduty.core.monitoring.fetch import FetchLimits
from smduty.core.monitoring.flag_load import ruleset_for
from smduty.core.monitoring.ingest import ingest_location
from smduty.core.monitoring.mentions import url_key
from smduty.core.monitoring.poller import poll_due
from smduty.core.monitoring.sources import add_source
from smduty.core.triage import queue as triage

FAST = FetchLimits(connect_timeout=2, total_timeout=5, max_bytes=1 << 20, max_redirects=5)


def ingest(db, path, **kwargs):
    return ingest_location(db, ruleset_for(db), str(path), **kwargs)


def stored(db, column="text"):
    return [r[0] for r in db.execute(f"SELECT {column} FROM mentions ORDER BY id")]


# --- keys ------------------------------------------------------------------------------------


def test_title_only_feed_items_are_each_kept(db, tmp_path):
    items = "".join(f"<item><title>Road closure notice {n}</title></item>" for n in range(40))
    feed = tmp_path / "titles.rss"
    feed.write_text(f'<?xml version="1.0"?><rss version="2.0"><channel>{items}</channel></rss>')
    assert ingest(db, feed).counts.new == 40


def test_twitter_x_mobile_and_share_links_are_one_post(db, tmp_path):
    forms = [
        "https://twitter.com/CastlemereBC/status/1861",
        "https://x.com/CastlemereBC/status/1861?s=20&t=AbC",
        "https://mobile.twitter.com/CastlemereBC/status/1861/",
        "http://www.x.com/CastlemereBC/status/1861#reply",
    ]
    assert len({url_key(u) for u in forms}) == 1
    assert url_key("https://m.facebook.com/p/1?fbclid=x&story=2") == (
        "https://facebook.com/p/1?story=2"
    )
    assert url_key("https://youtu.be/abc?si=x") == url_key("https://www.youtube.com/watch?v=abc")
    export = tmp_path / "two.ndjson"
    export.write_text(
        "\n".join(json.dumps({"url": u, "text": "Bins missed again"}) for u in forms[:2])
    )
    summary = ingest(db, export)
    assert (summary.counts.new, summary.counts.duplicates) == (1, 1)


def rss(tmp_path, name, items, link="https://news.example/"):
    feed = tmp_path / name
    feed.write_text(
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>News</title><link>{link}</link>'
        f"{items}</channel></rss>",
        encoding="utf-8",
    )
    return feed


def test_items_whose_link_is_the_home_page_are_each_kept(db, tmp_path):
    # A feed that links every item to its home page (or to one shared page) names no post by
    # its link: each item is its own post, and reading the feed again adds none.
    items = "".join(
        f"<item><title>Notice {n}</title><link>https://news.example/</link></item>"
        + f"<item><title>Update {n}</title><link>https://news.example/updates</link></item>"
        for n in range(3)
    )
    feed = rss(tmp_path, "home.rss", items)
    assert ingest(db, feed).counts.new == 6
    again = ingest(db, feed)
    assert (again.counts.new, again.counts.duplicates) == (0, 6)


def test_an_image_only_post_is_kept_and_says_so(db, tmp_path):
    items = (
        "<item><guid>img-1</guid><description>&lt;img src='x.png' alt='Flooded underpass'&gt;"
        "</description></item><item><guid>img-2</guid><description>&lt;img src='y.png'&gt;"
        "</description></item>"
    )
    assert ingest(db, rss(tmp_path, "img.rss", items)).counts.new == 2
    assert stored(db) == ["(image: Flooded underpass)", "(image)"]


def test_a_relative_link_is_not_one_post_across_feeds(db, tmp_path):
    item = "<item><title>{}</title><link>/news/1</link></item>"
    ingest(db, rss(tmp_path, "a.rss", item.format("Leisure centre closes"), "https://a.example/"))
    ingest(db, rss(tmp_path, "b.rss", item.format("Library hours change"), "https://b.example/"))
    assert sorted(stored(db, "title")) == ["Leisure centre closes", "Library hours change"]


def test_a_doctype_word_inside_cdata_or_a_comment_does_not_hide_the_feed(db, tmp_path):
    items = (
        "<!-- <!DOCTYPE x [ ]> --><item><guid>d1</guid>"
        "<description><![CDATA[Quoting <!DOCTYPE html> in a post about the website]]>"
        "</description></item>"
    )
    summary = ingest(db, rss(tmp_path, "cdata.rss", items))
    assert summary.error is None and summary.counts.new == 1
    assert stored(db) == ["Quoting in a post about the website"]  # the description is HTML


@pytest.mark.parametrize("encoding", ["utf-32", "utf-32-le", "utf-32-be"])
def test_a_utf32_feed_with_or_without_a_bom(db, tmp_path, encoding):
    feed = tmp_path / "wide.rss"
    body = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>N</title>'
        "<item><guid>w1</guid><title>Café closure on Bridge Street 👍🏽</title></item>"
        "</channel></rss>"
    )
    feed.write_bytes(body.encode(encoding))
    summary = ingest(db, feed)
    assert summary.error is None, summary.error
    assert stored(db, "title") == ["Café closure on Bridge Street 👍🏽"]


# --- dates -----------------------------------------------------------------------------------


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_dates_as_export_tools_write_them():
    read = DateReader()
    assert read("03/12/2025 09:15 AM") == utc(2025, 12, 3, 9, 15)  # UK order: 3 December
    assert read("13/07/2026 09:15 PM") == utc(2026, 7, 13, 20, 15)  # BST
    assert read("03-Dec-2025 07:52AM") == utc(2025, 12, 3, 7, 52)
    assert read("20-Nov-2026 09:03 PM") == utc(2026, 11, 20, 21, 3)  # not 09:03: PM kept
    assert read("2026-11-20T10:00:00Z") == "2026-11-20T10:00:00Z"
    assert read("Fri, 20 Nov 2026 10:00:00 +0000") == utc(2026, 11, 20, 10)
    assert read(1764000000000) == utc(2025, 11, 24, 16, 0)
    assert read.unreadable == 0
    for impossible in ["2026-02-30T10:00:00Z", "2026-13-45 99:99:99Z", "30/02/2026", "soon",
                       "0001-01-01T00:00:00Z", "2027-06-01T10:00:00Z"]:  # fmt: skip
        assert read(impossible) is None, impossible  # the last: months after now (pinned)
    assert read.unreadable == 6
    assert not DateReader(dayfirst=False).dayfirst
    us = DateReader(dayfirst=day_first(["12/25/2026 10:00", "03/12/2026 09:15"]))
    assert us("03/12/2026 09:15") == utc(2026, 3, 12, 9, 15)
    assert header_zone("Date (Europe/London)")[0] == "Date"
    assert header_zone("Created at (UTC)")[1] is UTC


def test_an_impossible_date_keeps_the_post_says_so_and_the_queue_still_opens(db, tmp_path):
    export = tmp_path / "bad-dates.csv"
    export.write_text(
        "id,date,text\n"
        "1,2026-11-20T10:00:00Z,Bins not collected\n"
        "2,2026-02-30T10:00:00Z,Pothole on Mill Road\n"
        "3,2026-13-45 99:99:99Z,The library is shut\n"
    )
    summary = ingest(db, export)
    assert summary.counts.new == 3
    assert "2 post(s) have a date that cannot be read (line 3, 4)" in summary.warning
    unknown = db.execute(
        "SELECT published_unknown FROM mentions ORDER BY source_item_id"
    ).fetchall()
    assert [r[0] for r in unknown] == [0, 1, 1]
    items = triage.page(db, triage.Filters(rating="any"), limit=10)
    assert len(items) == 3 and sum(i.published_unknown for i in items) == 2
    assert json.loads(json.dumps(items[0].as_json()))  # the CLI's JSON too


def test_a_file_that_writes_months_first_is_read_so(db, tmp_path):
    export = tmp_path / "us.csv"
    export.write_text("id,date,text\n1,10/25/2026 10:00,Carols\n2,03/12/2026 09:15,Spring fair\n")
    ingest(db, export)
    assert stored(db, "published") == ["2026-10-25T10:00:00Z", "2026-03-12T09:15:00Z"]


def test_sprout_header_zone_and_meltwater_date_and_time_columns(db, tmp_path):
    sprout = tmp_path / "sprout.csv"
    sprout.write_text(
        "Date (America/New_York);Network;Message Type;Profile;From;Message;Link;Message ID\n"
        "20/11/2026 09:00;Twitter;@Mention;@CastlemereBC;@anna;Bins!;https://s.example/1;1\n"
    )
    ingest(db, sprout)
    assert stored(db, "published") == ["2026-11-20T14:00:00Z"]


MELTWATER_HEADER = (
    "Date\tTime\tDocument ID\tURL\tInput Name\tKeywords\tInformation Type\tSource Type\t"
    "Source Name\tSource Domain\tContent Type\tAuthor Name\tAuthor Handle\tTitle\t"
    "Opening Text\tHit Sentence\tCountry"
)


def test_meltwaters_current_layout_in_utf16_keeps_words_time_and_id(db, tmp_path):
    row = (
        "03-Nov-2026\t07:52 AM\tdoc-991\thttps://x.com/a/status/9\tCastlemere\tcouncil\t"
        "Social\tX\tX\tx.com\tPost\tAnna Bell\t@annab\t\t\t"
        "The council never answered about the pothole\tUnited Kingdom"
    )
    export = tmp_path / "meltwater.tsv"
    export.write_bytes(f"{MELTWATER_HEADER}\n{row}\n".encode("utf-16"))
    summary = ingest(db, export)
    assert summary.error is None and summary.counts.new == 1
    found = db.execute("SELECT text, published, source_item_id, author FROM mentions").fetchone()
    assert tuple(found) == (
        "The council never answered about the pothole",
        "2026-11-03T07:52:00Z",
        "doc-991",
        "@annab",
    )


def test_a_text_column_empty_in_every_row_is_a_warning(db, tmp_path):
    export = tmp_path / "empty.csv"
    export.write_text("id,title,text,url\n1,A headline,,https://n.example/1\n")
    summary = ingest(db, export)
    assert summary.counts.new == 1 and "'text' was empty in every row" in summary.warning


# --- text and encodings ------------------------------------------------------------------------


def test_emoji_sequences_and_the_text_they_belong_to_are_kept(db, tmp_path):
    text = "Swim club 🏊\u200d♀️ and 👨\u200d👩\u200d👧 at the pool; نمی\u200cخواهم"
    export = tmp_path / "emoji.ndjson"
    export.write_text(json.dumps({"id": "e1", "text": text + "\x1b[2J\x07"}) + "\n")
    ingest(db, export)
    assert stored(db) == [text]


@pytest.mark.parametrize(
    ("encoding", "words"),
    [
        ("koi8-r", "Мусор не вывезли, совет города молчит"),
        ("shift_jis", "市議会のゴミ収集が遅れています"),
        ("euc-kr", "시의회 쓰레기 수거가 늦어지고 있습니다"),
    ],
)
def test_undeclared_legacy_encodings_in_feeds_and_exports(db, tmp_path, encoding, words):
    feed = tmp_path / "feed.rss"
    body = f"<rss version='2.0'><channel><item><guid>g1</guid><title>{words}</title>"
    body += f"<description>{words} {words}</description></item></channel></rss>"
    feed.write_bytes(body.encode(encoding))
    ingest(db, feed)
    export = tmp_path / "export.csv"
    export.write_bytes(f'id,text\nx1,"{words} {words} {words}"\n'.encode(encoding))
    ingest(db, export)
    assert stored(db) == [f"{words} {words}", f"{words} {words} {words}"]


def test_utf16_without_a_bom(db, tmp_path):
    export = tmp_path / "nobom.csv"
    export.write_bytes("id\ttext\n1\tCafé closed – £5 fine\n".encode("utf-16-le"))
    summary = ingest(db, export)
    assert summary.error is None and stored(db) == ["Café closed – £5 fine"]


# --- formats ---------------------------------------------------------------------------------


def test_talkwalker_api_json(db, tmp_path):
    export = tmp_path / "talkwalker-api.json"
    export.write_text(
        json.dumps(
            {
                "status_code": "0",
                "result_content": {
                    "data": [
                        {
                            "type": "article",
                            "data": {
                                "url": "https://news.example/a",
                                "title": "Bins",
                                "content": "Bin strike hits Castlemere",
                                "published": 1764000000000,
                                "domain_url": "news.example",
                            },
                        }
                    ]
                },
            }
        )
    )
    summary = ingest(db, export)
    assert summary.error is None and stored(db) == ["Bin strike hits Castlemere"]
    assert stored(db, "published") == ["2025-11-24T16:00:00Z"]


def write_xlsx(path, rows: list[list[str]]) -> None:
    """A minimal workbook: one sheet, strings inline."""

    def cell(ref: str, value: str) -> str:
        value = value.replace("&", "&amp;").replace("<", "&lt;")
        return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'

    sheet_rows = "".join(
        f'<row r="{r + 1}">'
        + "".join(cell(f"{chr(65 + c)}{r + 1}", v) for c, v in enumerate(row))
        + "</row>"
        for r, row in enumerate(rows)
    )
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats'
            '-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
            'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml'
            '.worksheet+xml"/></Types>',
        )
        z.writestr(
            "_rels/.rels",
            f'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package'
            f'/2006/relationships"><Relationship Id="r1" Type="{rel}/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>',
        )
        z.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0"?><workbook {ns} xmlns:r="{rel}"><sheets><sheet name="Export" '
            'sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package'
            f'/2006/relationships"><Relationship Id="rId1" Type="{rel}/worksheet" '
            'Target="worksheets/sheet1.xml"/></Relationships>',
        )
        z.writestr(
            "xl/worksheets/sheet1.xml",
            f'<?xml version="1.0"?><worksheet {ns}><sheetData>{sheet_rows}</sheetData></worksheet>',
        )


def test_an_xlsx_export(db, tmp_path):
    book = tmp_path / "export.xlsx"
    write_xlsx(
        book,
        [["Report: Castlemere"], [], ["id", "date", "text"], ["7", "20/11/2026 10:00", "Potholes"]],
    )
    summary = ingest(db, book)
    assert summary.error is None, summary.error
    assert stored(db) == ["Potholes"] and stored(db, "published") == ["2026-11-20T10:00:00Z"]


def test_a_zip_holding_one_export_even_named_csv(db, tmp_path):
    archive = tmp_path / "export.csv"  # a zip renamed .csv
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("mentions.csv", "id,text\n1,Bins missed\n2,Library shut\n")
        z.writestr("__MACOSX/._mentions.csv", "junk")
    summary = ingest(db, archive)
    assert summary.error is None and summary.counts.new == 2
    book = tmp_path / "book.zip"
    with zipfile.ZipFile(book, "w") as z:
        inner = tmp_path / "inner.xlsx"
        write_xlsx(inner, [["id", "text"], ["9", "Street lights out"]])
        z.write(inner, "inner.xlsx")
    assert ingest(db, book).counts.new == 1


def test_what_is_not_an_export_is_refused_with_exit_2(db_path, tmp_path):
    two = tmp_path / "two.zip"
    with zipfile.ZipFile(two, "w") as z:
        z.writestr("a.csv", "id,text\n1,x\n")
        z.writestr("b.csv", "id,text\n1,y\n")
    binary = tmp_path / "photo.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    for path, says in ((two, "holding 2 exports"), (binary, "binary file")):
        result = CliRunner().invoke(main, ["--db", str(db_path), "ingest", str(path)])
        assert result.exit_code == 2, result.output
        assert "not an export this version can read" in result.output and says in result.output


def test_the_file_size_cap_is_the_operators_to_set(smduty_home, tmp_path):
    (smduty_home / "config").mkdir(parents=True, exist_ok=True)
    (smduty_home / "config" / "config.toml").write_text("max_import_mb = 1\n")
    big = tmp_path / "big.csv"
    big.write_text("id,text\n" + "".join(f"{n},Bins missed on Mill Road\n" for n in range(60_000)))
    result = CliRunner().invoke(main, ["ingest", str(big)])
    assert result.exit_code == 2, result.output
    assert "big.csv" in result.output and "more than the 1 MB smduty reads" in result.output
    (smduty_home / "config" / "config.toml").write_text("max_import_mb = 2\n")
    result = CliRunner().invoke(main, ["ingest", str(big)])
    assert result.exit_code == 0, result.output


# --- polling ---------------------------------------------------------------------------------

RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
<item><guid>{n}-1</guid><title>Item one</title></item></channel></rss>"""


@pytest.fixture
def threaded_server():
    """A feed host that answers several requests at once, as real hosts do."""
    server = HTTPServer(threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


def test_slow_feeds_are_fetched_at_once_and_written_in_turn(threaded_server, demo_db):
    def slow(request):
        time.sleep(1.0)
        return Response(RSS.replace(b"{n}", request.path.encode()), content_type="text/xml")

    for n in range(6):
        threaded_server.expect_request(f"/slow{n}").respond_with_handler(slow)
        add_source(demo_db, "t", f"Slow {n}", threaded_server.url_for(f"/slow{n}"))
    began = time.monotonic()
    results = poll_due(demo_db, ruleset_for(demo_db), names=[f"Slow {n}" for n in range(6)],
                       limits=FAST)  # fmt: skip
    took = time.monotonic() - began
    assert all(r.error is None and r.counts.new == 1 for r in results)
    assert took < 4.0, f"six 1-second feeds took {took:.1f} s"


def test_poll_exits_1_when_a_source_failed_and_now_polls_one_not_due(httpserver, demo_db,
                                                                     db_path):  # fmt: skip
    httpserver.expect_request("/gone").respond_with_data("x", status=404)
    add_source(demo_db, "t", "Gone", httpserver.url_for("/gone"))
    runner = CliRunner()
    failed = runner.invoke(main, ["--db", str(db_path), "poll", "--source", "Gone"])
    assert failed.exit_code == 1 and "HTTP 404" in failed.output
    again = runner.invoke(main, ["--db", str(db_path), "poll", "--source", "Gone"])
    assert "No source is due" in again.output  # backing off
    forced = runner.invoke(main, ["--db", str(db_path), "poll", "--source", "Gone", "--now"])
    assert forced.exit_code == 1 and "HTTP 404" in forced.output


def test_a_failed_poll_and_the_recovery_are_in_the_audit_log(httpserver, demo_db, db_path):
    httpserver.expect_ordered_request("/flaky").respond_with_data("down", status=503)
    feed = '<?xml version="1.0"?><rss version="2.0"><channel><item><guid>f1</guid><title>Back</title></item></channel></rss>'  # noqa: E501
    httpserver.expect_ordered_request("/flaky").respond_with_data(feed)
    add_source(demo_db, "t", "Flaky", httpserver.url_for("/flaky"))
    runner = CliRunner()
    before = demo_db.execute("SELECT max(id) FROM audit_log").fetchone()[0]
    for _ in range(2):
        args = ["--db", str(db_path), "--as", "Ana", "poll", "--source", "Flaky", "--now"]
        runner.invoke(main, args)
    rows = demo_db.execute(
        "SELECT actor, action, after_json FROM audit_log WHERE id > ?"
        " AND entity IN ('source', 'import') ORDER BY id",
        (before,),
    ).fetchall()
    assert [r["action"] for r in rows] == [
        "source.poll_failed",
        "mentions.import",
        "source.poll_recovered",
    ]
    assert all(r["actor"] == "Ana" for r in rows)
    assert "HTTP 503" in rows[0]["after_json"]
