"""Pilot tests: the sources screen, importing an export file, the Mentions panel, the poller."""

from __future__ import annotations

import asyncio
import json

import pytest
from textual.widgets import DataTable, Input, ProgressBar
from tui_helpers import make_demo, settle, wait_for

from smduty.core.config import shipped_data_dir
from smduty.core.monitoring.poller import beat
from smduty.core.store import connect
from smduty.tui.app import SmdutyApp
from smduty.tui.screens.form import FormModal
from smduty.tui.screens.import_file import ImportScreen
from smduty.tui.screens.sources import SourcesScreen


async def test_mentions_panel_and_sources_screen(db_path, tmp_path):
    make_demo(db_path)
    feed = tmp_path / "local.rss"
    feed.write_bytes((shipped_data_dir() / "demo" / "feeds" / "castlemere-echo.rss").read_bytes())
    app = SmdutyApp(db_path, "Source Keeper", background_poll=False)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        panel = str(app.screen.query_one("#mentions-text").render())
        assert "Weekly press cuttings" in panel
        counts = app.screen.query_one("#mention-counts", DataTable)
        assert [str(counts.get_row_at(0)[i]) for i in range(3)] == ["critical", "2", "2"]
        await pilot.press("s")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SourcesScreen)
        table = screen.query_one(DataTable)
        assert table.row_count == 9
        broken = [str(table.get_row_at(i)[1]) for i in range(table.row_count)]
        assert "error ×1" in broken
        # Add a source through the form; a bad interval is refused beside its field.
        await pilot.press("a")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormModal)
        form.query_one("#f-name", Input).value = "Local [b]echo[/b]"
        form.query_one("#f-location", Input).value = str(feed)
        form.query_one("#f-every", Input).value = "often"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "use minutes or hours" in str(form.query_one("#e-every").render())
        form.query_one("#f-every", Input).value = "2h"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen and table.row_count == 10
        # Poll it now: its entries duplicate the demo's Echo feed, so nothing is new.
        row = next(i for i in range(table.row_count) if "Local" in str(table.get_row_at(i)[0]))
        table.move_cursor(row=row)
        await pilot.press("p")
        await wait_for(pilot, lambda: "ok: 0 new" in str(table.get_row_at(row)[1]))
        await pilot.press("d")
        await wait_for(pilot, lambda: str(table.get_row_at(row)[1]) == "disabled")
        assert app.is_running
    db = connect(db_path)
    source = db.execute("SELECT * FROM sources WHERE name = 'Local [b]echo[/b]'").fetchone()
    assert source["interval_minutes"] == 120 and source["enabled"] == 0
    actions = [r[0] for r in db.execute("SELECT action FROM audit_log WHERE entity = 'source'")]
    assert actions.count("source.add") == 10 and "source.edit" in actions
    db.close()


@pytest.mark.parametrize("elsewhere", [False, True], ids=["here", "reader-process"])
async def test_import_an_export_file_with_progress_and_summary(
    db_path, tmp_path, monkeypatch, elsewhere
):
    from smduty.core.monitoring import ingest

    if elsewhere:  # as a big file is read: by a second process
        monkeypatch.setattr(ingest, "READ_ELSEWHERE_FROM", 0)
    make_demo(db_path)
    export = tmp_path / "[red]tool[b].ndjson"
    export.write_text(
        "\n".join(
            json.dumps({"id": f"n{i}", "text": f"Post {i} about council tax", "user": "me"})
            for i in range(300)
        )
    )
    broken = tmp_path / "broken.ndjson"
    broken.write_text('{"id": "1", "text": "ok"}\n{"id": \n')
    app = SmdutyApp(db_path, "Importer", background_poll=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("i")
        await wait_for(pilot, lambda: isinstance(app.screen, ImportScreen))
        modal = app.screen
        modal.query_one("#import-path", Input).value = str(broken)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: modal.result is not None)
        summary = str(modal.query_one("#import-summary").render())
        assert "Nothing was imported" in summary and "line 2: not valid JSON" in summary
        modal.result = None
        modal.query_one("#import-path", Input).value = str(export)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: modal.result is not None)
        await pilot.pause()
        summary = str(modal.query_one("#import-summary").render())
        assert "read 300, new 300" in summary and "[red]tool[b]" in summary
        bar = modal.query_one(ProgressBar)
        assert bar.progress == bar.total
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ImportScreen))
    db = connect(db_path)
    assert db.execute("SELECT count(*) FROM mentions WHERE key LIKE 'id:%:n%'").fetchone()[0] == 300
    assert (
        db.execute("SELECT count(*) FROM mentions WHERE source = 'broken.ndjson'").fetchone()[0]
        == 0
    )
    db.close()


async def test_background_poller_polls_due_sources_and_stands_down_for_a_watcher(db_path):
    make_demo(db_path)
    db = connect(db_path)
    db.execute("UPDATE sources SET next_poll = NULL WHERE name = 'Talkwalker'")
    db.commit()
    app = SmdutyApp(db_path, "Tester")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "poll-sources" in {j.id for j in app.duty_scheduler.scheduler.get_jobs()}
        beat(db)  # a `smduty watch` is running: the TUI leaves the polling to it
        assert await asyncio.to_thread(app.duty_scheduler.poll_sources) is None
        assert (
            db.execute("SELECT next_poll FROM sources WHERE name = 'Talkwalker'").fetchone()[0]
            is None
        )
        db.execute("DELETE FROM meta")
        db.commit()
        assert (
            await asyncio.to_thread(app.duty_scheduler.poll_sources) is None
        )  # polled: nothing new, nothing to say
        polled = db.execute("SELECT next_poll, last_status FROM sources WHERE name = 'Talkwalker'")
        next_poll, status = polled.fetchone()
        assert next_poll is not None and status == "not modified"  # the file is unchanged
    db.close()
