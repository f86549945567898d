"""Background threads step aside while the event loop does foreground work
(cockpit/uipriority.py): a frame drawn or a snapshot shown."""

from __future__ import annotations

import threading
import time

from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import Static

from cockpit import uipriority
from tests.elsewhere import held_by_another_thread
from widgets.frametimer import FramePaced


def test_courtesy_returns_at_once_when_the_loop_is_idle() -> None:
    started = time.monotonic()
    for _ in range(1000):
        uipriority.courtesy()
    assert time.monotonic() - started < 0.05


def test_courtesy_waits_for_the_foreground_work_to_end() -> None:
    with held_by_another_thread(uipriority.foreground()) as end_the_work:
        threading.Timer(0.05, end_the_work).start()
        started = time.monotonic()
        uipriority.courtesy()
        waited = time.monotonic() - started
        assert 0.03 < waited < uipriority.MAX_WAIT_S, waited


def test_courtesy_never_waits_longer_than_its_bound(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(uipriority, "MAX_WAIT_S", 0.05)
    with uipriority.foreground():  # never ends while the background thread waits
        started = time.monotonic()
        uipriority.courtesy()
        waited = time.monotonic() - started
    assert 0.04 < waited < 0.5, waited
    assert not uipriority._busy


class Seen(Static):
    """Notes whether its render ran as foreground work."""

    busy_when_rendered: list[bool] = []

    def render(self) -> str:
        Seen.busy_when_rendered.append(uipriority._busy)
        return "seen"


class PacedScreen(FramePaced, Screen):
    def compose(self) -> ComposeResult:
        yield Seen()


class PacedApp(App[None]):
    def on_mount(self) -> None:
        self.push_screen(PacedScreen())


async def test_a_frame_is_foreground_work() -> None:
    Seen.busy_when_rendered.clear()
    async with PacedApp().run_test() as pilot:
        await pilot.pause()
        await pilot.pause(0.1)
        before = len(Seen.busy_when_rendered)  # the first: measured for the layout
        pilot.app.screen.query_one(Seen).refresh()
        await pilot.pause(0.1)
    repainted = Seen.busy_when_rendered[before:]
    assert repainted and all(repainted), Seen.busy_when_rendered
    assert not uipriority._busy


def test_stepping_aside_looks_before_every_nth_item(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    looked_at: list[int] = []
    items = iter(range(60))
    monkeypatch.setattr(uipriority, "courtesy", lambda: looked_at.append(len(looked_at)))
    seen = []
    for item in uipriority.stepping_aside(items, 25):
        seen.append(item)
    assert seen == list(range(60))
    assert len(looked_at) == 3  # before items 0, 25 and 50
