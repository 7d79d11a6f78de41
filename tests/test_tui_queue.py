"""Pilot tests for the triage queue: outcomes through forms, the assessment walk, paging,
bulk dismiss, hostile text shown literally, and reloads that keep the cursor."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from textual.widgets import Checkbox, DataTable, OptionList, Select, TextArea
from tui_helpers import make_demo, settle

from smduty.core.monitoring.flag_load import ruleset_for
from smduty.core.monitoring.mentions import MentionWriter, RawMention
from smduty.core.store import connect, transaction
from smduty.core.triage import detail as mention_detail
from smduty.core.triage import queue as triage
from smduty.tui.app import SmdutyApp
from smduty.tui.screens.assessment import AssessmentModal
from smduty.tui.screens.form import FormModal
from smduty.tui.screens.modals import ConfirmModal
from smduty.tui.screens.queue import PAGE, QueueScreen, QueueTable
from smduty.tui.widgets.mention_detail import MentionDetail

NOW = datetime(2026, 11, 21, 8, 30, tzinfo=UTC)


def add_mentions(db_path, texts: list[str], *, source="Test feed", start=0, minutes_ago=60):
    db = connect(db_path)
    with transaction(db):
        writer = MentionWriter(db, ruleset_for(db), source, NOW)
        for n, text in enumerate(texts, start=start):
            writer.add(
                RawMention(
                    source_item_id=f"t:{n}",
                    text=text,
                    author=f"user{n}",
                    published=NOW - timedelta(minutes=minutes_ago + n),
                )
            )
        writer.close()
    db.close()


def status_of(db_path, mention_id: int) -> triage.QueueItem:
    db = connect(db_path)
    try:
        return triage.get_item(db, mention_id)
    finally:
        db.close()


async def open_queue(pilot) -> QueueScreen:
    await settle(pilot)
    await pilot.press("t")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, QueueScreen)
    return screen


async def down_to_the_second_page(pilot, screen: QueueScreen) -> None:
    """Down from the last row of a full first page lands on the first row of the second."""
    table = screen.query_one(QueueTable)
    assert table.row_count == PAGE
    table.move_cursor(row=PAGE - 1)
    await pilot.press("down")
    await settle(pilot)
    assert len(screen.starts) == 2 and table.cursor_row == 0


def column(table: DataTable, index: int) -> list[str]:
    return [str(table.get_row_at(r)[index]) for r in range(table.row_count)]


async def test_dashboard_counts_open_the_queue_filtered(db_path):
    make_demo(db_path)
    app = SmdutyApp(db_path, "Test Officer", background_poll=False)
    async with app.run_test(size=(130, 40)) as pilot:
        await settle(pilot)
        counts = app.screen.query_one("#mention-counts", DataTable)
        counts.focus()
        counts.move_cursor(row=1)  # high
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, QueueScreen) and screen.filters.rating == "high"
        assert set(column(screen.query_one(QueueTable), 1)) == {"high"}
        assert screen.query_one("#f-rating", Select).value == "high"


async def test_assessment_walk_ends_in_a_recorded_outcome(db_path):
    make_demo(db_path)
    app = SmdutyApp(db_path, "Test Officer", background_poll=False)
    async with app.run_test(size=(130, 40)) as pilot:
        screen = await open_queue(pilot)
        first = screen.items[0]
        await pilot.press("g")
        await settle(pilot)
        assert isinstance(app.screen, AssessmentModal)
        # about the council: Yes; something wrong: No; tone: Negative; poster: Troll.
        for answer in (0, 1, 2, 0):
            options = app.screen.query_one(OptionList)
            options.highlighted = answer
            await pilot.press("enter")
            await pilot.pause()
        assert "Troll: monitor only" in str(app.screen.query_one("#guide-question").render())
        await pilot.press("backspace")  # change of mind: a rager, not a troll
        await pilot.pause()
        app.screen.query_one(OptionList).highlighted = 1
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("enter")  # go on: the form opens, filled in
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormModal)
        assert form.query_one("#f-reason", Select).value == "rager"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        item = status_of(db_path, first.id)
        assert item.status == "no_engagement" and item.outcome["reason"] == "rager"
        assert first.id not in [i.id for i in screen.items]
    # The walk is on the mention's record: each question, the answer, the outcome (issue 19).
    from smduty.core.triage.assessed import assessments_of

    db = connect(db_path)
    [walked] = assessments_of(db, first.id)
    assert len(walked.answers) == 4 and walked.answers[-1]["answer"].startswith("Rager")
    assert walked.recommend == "no_engagement" and walked.actor == "Test Officer"
    history = mention_detail.detail(db, first.id).history
    assert [h.action for h in history] == ["mention.assess", "mention.no_engagement"]
    db.close()


async def test_respond_needs_the_checks_then_records(db_path):
    make_demo(db_path)
    app = SmdutyApp(db_path, "Test Officer", background_poll=False)
    async with app.run_test(size=(130, 40)) as pilot:
        screen = await open_queue(pilot)
        target = screen.items[1]
        screen.query_one(QueueTable).move_cursor(row=1)
        await pilot.press("r")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormModal)
        form.query_one("#f-response", TextArea).text = "We have passed this to the police."
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form  # refused: the checks were not confirmed
        error = str(form.query_one("#e-check_focus").render())
        assert "Cite sources" in error and "Focus" in error
        for box in form.query(Checkbox):
            box.value = True
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        item = status_of(db_path, target.id)
        assert item.status == "responded"
        assert item.outcome["response"] == "We have passed this to the police."


async def test_every_outcome_key_opens_its_form_and_records(db_path):
    make_demo(db_path)
    app = SmdutyApp(db_path, "Test Officer", background_poll=False)
    steps = [
        ("a", {"#f-officer": "Priya Raman"}, "in_progress"),
        ("f", {"#f-to": "Highways", "#f-note": "Passed to the duty engineer"}, "referred"),
        ("d", {}, "dismissed"),
        ("z", {"#f-until": "2h"}, "snoozed"),
    ]
    async with app.run_test(size=(130, 40)) as pilot:
        screen = await open_queue(pilot)
        for key, values, expected in steps:
            target = screen.items[0]
            await pilot.press(key)
            await settle(pilot)
            form = app.screen
            assert isinstance(form, FormModal), key
            for selector, value in values.items():
                widget = form.query_one(selector)
                if isinstance(widget, TextArea):
                    widget.text = value
                else:
                    widget.value = value
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert app.screen is screen, key
            assert status_of(db_path, target.id).status == expected, key
        # Reopen from the closed list.
        screen.query_one("#f-status", Select).value = "dismissed"
        await settle(pilot)
        dismissed = screen.items[0]
        await pilot.press("o")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert status_of(db_path, dismissed.id).status == "new"
        # Moderation, from a mention in the open list.
        screen.query_one("#f-status", Select).value = "open"
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        form = app.screen
        assert "can make matters worse" in str(form.query_one(".intro").render())
        form.query_one("#f-channel", Select).value = "Castlemere Council"
        form.query_one("#f-action", Select).value = "hide"
        form.query_one("#f-breach", Select).value = "abuse"
        form.query_one("#f-evidence").value = "/evidence/shot.png"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        db = connect(db_path)
        assert db.execute("SELECT count(*) FROM moderation_actions").fetchone()[0] == 1
        db.close()


async def test_hostile_text_is_shown_literally(db_path):
    make_demo(db_path)
    hostile = "[bold red]HACKED[/] \x1b[2J\x1b]0;owned\x07 [link=https://x]click[/link] useless"
    add_mentions(db_path, [hostile], minutes_ago=5)
    app = SmdutyApp(db_path, "Test Officer", background_poll=False)
    async with app.run_test(size=(130, 40)) as pilot:
        screen = await open_queue(pilot)
        screen.query_one("#f-search").value = "HACKED"
        await settle(pilot)
        await pilot.pause(0.5)
        await settle(pilot)
        table = screen.query_one(QueueTable)
        assert table.row_count == 1
        shown = str(table.get_row_at(0)[7])
        assert shown.startswith("[bold red]HACKED[/] ") and "\x1b" not in shown
        detail = str(screen.query_one(MentionDetail).render())
        assert "[link=https://x]click[/link]" in detail
        assert app.is_running and isinstance(app.screen, QueueScreen)


async def test_paging_past_the_end_and_reloads_keep_the_cursor(db_path):
    make_demo(db_path)
    add_mentions(db_path, [f"Post {n}: the council is useless" for n in range(250)])
    app = SmdutyApp(db_path, "Test Officer", background_poll=False)
    async with app.run_test(size=(130, 40)) as pilot:
        screen = await open_queue(pilot)
        table = screen.query_one(QueueTable)
        seen = [i.id for i in screen.items]
        await down_to_the_second_page(pilot, screen)
        assert f"{PAGE + 1}–{2 * PAGE}" in str(screen.query_one("#queue-status").render())
        seen += [i.id for i in screen.items]
        while screen.has_more:
            await pilot.press("right_square_bracket")
            await settle(pilot)
            seen += [i.id for i in screen.items]
        assert len(seen) == len(set(seen)) == screen.total
        while len(screen.starts) > 2:
            await pilot.press("left_square_bracket")
            await settle(pilot)
        table.move_cursor(row=0)
        await pilot.press("up")
        await settle(pilot)
        assert len(screen.starts) == 1 and table.cursor_row == PAGE - 1
        # New mentions arrive (a poll): the highlighted mention stays highlighted.
        table.move_cursor(row=5)
        kept = screen.items[5].id
        add_mentions(db_path, ["Threat: I will hurt the staff"], start=900, minutes_ago=1)
        app.refresh_screens()
        await settle(pilot)
        assert screen.items[table.cursor_row].id == kept


async def test_bulk_dismiss_low_risk_only(db_path):
    make_demo(db_path)
    app = SmdutyApp(db_path, "Test Officer", background_poll=False)
    async with app.run_test(size=(130, 40), notifications=True) as pilot:
        screen = await open_queue(pilot)
        critical = screen.items[0].id
        await pilot.press("space")  # marked (a bulk assign may take it) ...
        await settle(pilot)
        assert screen.selected == {critical}
        await pilot.press("D")  # ... but a bulk dismiss refuses it: read it on its own
        await settle(pilot)
        await pilot.click("#confirm")
        await settle(pilot)
        assert status_of(db_path, critical).status == "new"
        assert any("triage it on its own" in n.message for n in app._notifications)
        screen.query_one("#f-rating", Select).value = "none"  # a new filter unmarks
        await settle(pilot)
        assert not screen.selected
        chosen = [i.id for i in screen.items[:3]]
        for _ in chosen:
            await pilot.press("space")
        assert screen.selected == set(chosen)
        assert column(screen.query_one(QueueTable), 0)[:3] == ["✓", "✓", "✓"]
        await pilot.press("D")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.click("#confirm")
        await settle(pilot)
        assert not screen.selected
        assert all(status_of(db_path, m).status == "dismissed" for m in chosen)


async def test_team_triage_take_it_bulk_assign_and_mine(db_path):
    """Issue 20: take a mention on in one key, assign marked rows at once, see only mine, and
    find the filters as they were left when coming back to the queue."""
    make_demo(db_path)
    app = SmdutyApp(db_path, "Priya Raman", background_poll=False)
    async with app.run_test(size=(130, 40), notifications=True) as pilot:
        screen = await open_queue(pilot)
        first = screen.items[0].id
        await pilot.press("t")  # take it
        await settle(pilot)
        assert status_of(db_path, first).assigned_to == "Priya Raman"
        table = screen.query_one(QueueTable)
        table.move_cursor(row=1)
        second, third = screen.items[1].id, screen.items[2].id
        await pilot.press("space", "space")
        assert screen.selected == {second, third}
        await pilot.press("a")  # assign, for every marked mention
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormModal) and "2 marked mentions" in str(
            form.query_one(".modal-title").render()
        )
        form.query_one("#f-officer", Select).value = "Tom Whitfield"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen and not screen.selected
        assert {status_of(db_path, m).assigned_to for m in (second, third)} == {"Tom Whitfield"}
        assert column(screen.query_one(QueueTable), 4)[0] == "Priya Raman"  # the assignee column
        # Mine: only what Priya has.
        bar = screen.query_one("#f-assigned", Select)
        bar.value = "Priya Raman"
        await settle(pilot)
        assert [i.id for i in screen.items] == [first]
        # Away to the dashboard and back: the queue is as it was left.
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        back = app.screen
        assert back is not screen and back.filters.assigned == "Priya Raman"
        assert [i.id for i in back.items] == [first]


async def test_a_broken_guide_copy_is_reported_and_the_queue_still_opens(db_path, smduty_home):
    from smduty.core.config import config_dir

    make_demo(db_path)
    config_dir().mkdir(parents=True, exist_ok=True)
    (config_dir() / "response-assessment.toml").write_text('start = "nowhere"\n')
    app = SmdutyApp(db_path, "Test Officer", background_poll=False)
    async with app.run_test(size=(130, 40), notifications=True) as pilot:
        screen = await open_queue(pilot)
        assert screen.items
        messages = [n.message for n in app._notifications]
        assert any(
            "Response assessment" in m and "start must name a question" in m for m in messages
        )
        assert screen.guide.start == "about"  # the shipped guide


async def test_reads_past_the_time_budget_go_to_a_worker(db_path, monkeypatch):
    """A page or detail read that runs long is stopped on the UI thread and done in a worker."""
    make_demo(db_path)
    add_mentions(db_path, [f"Post {n}: the council is useless" for n in range(120)])
    threads: dict[str, set[bool]] = {"page": set(), "detail": set()}

    def spy(name, real):
        def read(*args, **kwargs):
            threads[name].add(threading.current_thread() is threading.main_thread())
            return real(*args, **kwargs)

        return read

    monkeypatch.setattr(triage, "page", spy("page", triage.page))
    monkeypatch.setattr(mention_detail, "detail", spy("detail", mention_detail.detail))
    monkeypatch.setattr("smduty.tui.screens.queue.QUICK_READ_SECONDS", -1.0)  # always over
    app = SmdutyApp(db_path, "Test Officer", background_poll=False)
    async with app.run_test(size=(130, 40)) as pilot:
        screen = await open_queue(pilot)
        first_page = [i.id for i in screen.items]
        await down_to_the_second_page(pilot, screen)
        assert not set(first_page) & {i.id for i in screen.items}
        assert screen.items[0].text in str(screen.query_one(MentionDetail).render())
    assert False in threads["page"], "no page was read in a worker"
    assert False in threads["detail"], "no detail was read in a worker"


async def test_the_app_minute_tick_wakes_snoozed_mentions_on_the_queue(db_path):
    make_demo(db_path)
    app = SmdutyApp(db_path, "Test Officer", background_poll=False)
    async with app.run_test(size=(130, 40)) as pilot:
        screen = await open_queue(pilot)
        first = screen.items[0].id
        db = connect(db_path)
        with transaction(db):  # snoozed until a time already gone (as if an hour passed)
            db.execute(
                "UPDATE mentions SET status = 'snoozed', snoozed_until = '2026-11-21T07:00:00Z'"
                " WHERE id = ?",
                (first,),
            )
        db.close()
        screen.reload()
        await settle(pilot)
        assert first not in [i.id for i in screen.items]
        app._every_minute()  # what the app's 60-second clock runs
        await settle(pilot)
        await settle(pilot)
        assert first in [i.id for i in screen.items]
        assert status_of(db_path, first).status == "new"


async def test_unflagged_mentions_are_counted_and_one_key_lists_them(db_path):
    make_demo(db_path)
    add_mentions(db_path, ["A lovely morning at the Mere", "Nice new benches"], minutes_ago=5)
    app = SmdutyApp(db_path, "Test Officer", background_poll=False)
    async with app.run_test(size=(130, 40)) as pilot:
        screen = await open_queue(pilot)
        db = connect(db_path)
        hidden = triage.unflagged_count(db, triage.Filters())
        db.close()
        status = str(screen.query_one("#queue-status").render())
        assert f"{hidden} unflagged not listed (u lists them)" in status
        table = screen.query_one(QueueTable)
        assert "none" not in column(table, 1)
        flagged_rows = table.row_count
        await pilot.press("u")
        await settle(pilot)
        ratings = column(table, 1)
        assert screen.filters.rating == "any" and "none" in ratings
        assert ratings.index("none") >= flagged_rows  # after the flagged ones
        assert "unflagged" not in str(screen.query_one("#queue-status").render())
        await pilot.press("u")
        await settle(pilot)
        assert screen.filters.rating == "flagged" and "none" not in column(table, 1)


async def test_the_detail_pane_explains_the_verdict(db_path):
    make_demo(db_path)
    add_mentions(db_path, ["I'm going to hurt the social worker tomorrow"], minutes_ago=1)
    app = SmdutyApp(db_path, "Test Officer", background_poll=False)
    async with app.run_test(size=(130, 50)) as pilot:
        screen = await open_queue(pilot)
        table = screen.query_one(QueueTable)
        row = next(
            r for r in range(table.row_count) if "hurt the social" in str(table.get_row_at(r)[7])
        )
        table.move_cursor(row=row)
        await settle(pilot)
        shown = str(screen.query_one(MentionDetail).render())
        assert "Why flagged" in shown
        assert "near 'social worker'" in shown and "+1 likelihood: intent" in shown
        assert "5×4=20 critical" in shown
