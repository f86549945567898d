"""The main screen's frame pacing (widgets/frametimer.py): the next frame one interval
after the last, never two; a held frame waits for the result it was held for, so that a
key's echo and the rows it reorders are drawn together."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.screen import Screen

from tests.pilot import wait_for
from tests.widgets.test_pods_order import PODS, many_pods
from widgets import pods as pods_module
from widgets.filter import FilterBar
from widgets.frametimer import FramePaced, FrameTimer, wait_before_tick
from widgets.pods import PodsPane


def test_the_next_frame_is_one_interval_after_the_last_at_most() -> None:
    interval = 1 / 60
    assert wait_before_tick(None, 100.0, interval) == 0.0  # the first: at once
    assert wait_before_tick(100.0, 100.005, interval) == pytest.approx(interval - 0.005)
    assert wait_before_tick(100.0, 100.0 + interval, interval) == 0.0
    assert wait_before_tick(100.0, 100.4, interval) == 0.0  # paused long: at once


class Ticks:
    def __init__(self) -> None:
        self.at: list[float] = []

    def __call__(self) -> None:
        self.at.append(time.monotonic())


async def test_a_held_frame_comes_once_released_or_once_the_hold_is_over() -> None:
    ticks = Ticks()
    app = App()
    async with app.run_test():
        timer = FrameTimer(app, 0.001, name="frames", callback=ticks, pause=True)
        timer._start()
        try:
            timer.hold(30.0)
            timer.resume()
            await asyncio.sleep(0.3)
            assert ticks.at == []  # held: no frame yet
            released = time.monotonic()
            timer.release()
            await asyncio.sleep(0.3)
            assert ticks.at and ticks.at[0] >= released
            timer.pause()
            await asyncio.sleep(0.05)
            count = len(ticks.at)
            timer.hold(0.2)  # never released: the frame after the hold
            held = time.monotonic()
            timer.resume()
            await asyncio.sleep(0.6)
            assert len(ticks.at) > count and ticks.at[count] >= held + 0.2
        finally:
            timer.stop()


class PacedScreen(FramePaced, Screen):
    def compose(self) -> ComposeResult:
        yield PodsPane(id="pods", classes="pane")


class Recording(App):
    """What each frame written shows: the filter bar's text and the pane's order."""

    def __init__(self) -> None:
        super().__init__()
        self.frames: list[tuple[str, Any]] = []

    def on_mount(self) -> None:
        self.push_screen(PacedScreen())

    def _display(self, screen: Screen, renderable: Any) -> None:
        super()._display(screen, renderable)
        if isinstance(screen, PacedScreen):
            pane = screen.query_one(PodsPane)
            self.frames.append((pane.query_one(FilterBar).value, pane.shown_order))


@pytest.mark.parametrize("in_worker", [True, False])
async def test_a_filter_keystroke_draws_its_text_and_its_rows_in_one_frame(
    monkeypatch: pytest.MonkeyPatch, in_worker: bool
) -> None:
    # However slow this machine: the frame waits for the rows (a second at most).
    monkeypatch.setattr(pods_module, "ORDER_HOLD_S", 1.0)
    if not in_worker:  # the order computed on the loop (fewer pods than this)
        monkeypatch.setattr(pods_module, "INLINE_ROWS", PODS + 1)
    app = Recording()
    async with app.run_test(size=(160, 30)) as pilot:
        pane = app.screen.query_one(PodsPane)
        pane.show(many_pods())
        await wait_for(pilot, lambda: pane.table.row_count == PODS, what="the rows")
        pane.table.focus()
        await pilot.press("slash")
        await pilot.pause()
        for typed in ("7", "77"):
            await pilot.press("7")
            await wait_for(
                pilot, lambda typed=typed: pane.shown_order[1] == typed, what="the filter"
            )
            await pilot.pause()
            first = next(i for i, (text, _) in enumerate(app.frames) if text == typed)
            assert app.frames[first][1][1] == typed, app.frames[first - 1 : first + 2]
