"""A day of navigation leaves nothing behind (issue 23): closed screens and their widgets are
freed, and the connections of finished worker threads are closed."""

from __future__ import annotations

import gc
import threading

from textual.widget import Widget
from tui_helpers import make_demo, settle

from smduty.core.store import Store
from smduty.tui.app import SmdutyApp


def detached() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, Widget) and not o.is_attached)


async def test_closed_screens_leave_no_widgets_behind(db_path):
    make_demo(db_path)
    app = SmdutyApp(db_path, "Tester", background_poll=False)
    async with app.run_test(size=(130, 40)) as pilot:
        await settle(pilot)
        screens = (app.action_open_queue, app.action_open_channels, app.action_open_rota,
                   app.action_open_sources, app.action_open_incidents)  # fmt: skip

        async def round_trip() -> None:
            for open_screen in screens:
                open_screen()
                await settle(pilot)
                app.action_open_dashboard()
                await settle(pilot)

        await round_trip()
        await pilot.pause(0.6)  # short timers (a draft's half second) let go of their screen
        baseline = detached()
        for _ in range(6):
            await round_trip()
        await pilot.pause(0.6)
        # Before: every trip left its screen behind (a watcher on the app, a screen's own
        # timer): 30 trips kept about a thousand widgets. Now at most one screen's worth is
        # ever in flight.
        assert detached() < baseline + 60, (baseline, detached())
        # Nor their style caches (the lines each widget drew), which Textual's lru_cache on
        # StylesCache.get_inner_outer kept for the last 1,024 widgets: only the living remain.
        from textual._styles_cache import StylesCache

        gc.collect()
        living = sum(1 for o in gc.get_objects() if isinstance(o, Widget) and o.is_attached)
        caches = sum(1 for o in gc.get_objects() if type(o) is StylesCache)
        assert caches < living + 2 * 60, (caches, living)


def test_connections_of_finished_threads_are_closed(db_path):
    store = Store(db_path)
    store.connection()
    for _ in range(20):
        worker = threading.Thread(target=store.connection)
        worker.start()
        worker.join()
    assert len(store._all) <= 2  # this thread's, and the last worker's until the next opens
    store.close()
