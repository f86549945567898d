"""The main screen's frame pacing (widgets/frametimer.py): the next frame one interval
after the last, never two; a held frame waits for the result it was held for, so that a
key's echo and the rows it reorders are drawn together."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from textual import on
from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Static

from tests.pilot import wait_for
from tests.widgets.test_pods_order import PODS, many_pods
from widgets import filter as filter_module
from widgets import frametimer
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


@asynccontextmanager
async def running_timer(
    interval: float, callback: Callable[[], None], *, pause: bool = True
) -> AsyncIterator[FrameTimer]:
    """A FrameTimer of `interval` calling `callback`, in a running app."""
    app = App()
    async with app.run_test():
        timer = FrameTimer(app, interval, name="frames", callback=callback, pause=pause)
        timer._start()
        try:
            yield timer
        finally:
            timer.stop()


async def test_a_held_frame_comes_once_released_or_once_the_hold_is_over() -> None:
    ticks = Ticks()
    async with running_timer(0.001, ticks) as timer:
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


class PacedScreen(FramePaced, Screen):
    def compose(self) -> ComposeResult:
        yield PodsPane(id="pods", classes="pane")


class Recording(App):
    """What each frame written shows, as `seen(screen)` says, on a screen of its own."""

    def __init__(self, screen: type[Screen], seen: Any) -> None:
        super().__init__()
        self.frames: list[Any] = []
        self._screen_type, self._seen = screen, seen

    def on_mount(self) -> None:
        self.push_screen(self._screen_type())

    def _display(self, screen: Screen, renderable: Any) -> None:
        super()._display(screen, renderable)
        if isinstance(screen, self._screen_type):
            self.frames.append(self._seen(screen))


def filter_and_order(screen: Screen) -> tuple[str, Any]:
    """The filter bar's text and the pane's order."""
    pane = screen.query_one(PodsPane)
    return pane.query_one(FilterBar).value, pane.shown_order


@pytest.mark.parametrize("in_worker", [True, False])
async def test_a_filter_keystroke_draws_its_text_and_its_rows_in_one_frame(
    monkeypatch: pytest.MonkeyPatch, in_worker: bool
) -> None:
    # However slow this machine: the frame waits for the rows (a second at most).
    monkeypatch.setattr(pods_module, "ORDER_HOLD_S", 1.0)
    if not in_worker:  # the order computed on the loop (fewer pods than this)
        monkeypatch.setattr(pods_module, "INLINE_ROWS", PODS + 1)
    app = Recording(PacedScreen, filter_and_order)
    async with app.run_test(size=(160, 30)) as pilot:
        pane = app.screen.query_one(PodsPane)
        pane.show(many_pods())
        await wait_for(pilot, lambda: pane.table.row_count == PODS, what="the rows")
        pane.table.focus()
        await pilot.press("slash")
        await pilot.pause()
        # Typed, then taken back: "7" is then an order known (shown at once, no worker).
        for key, typed in (("7", "7"), ("7", "77"), ("backspace", "7"), ("backspace", "")):
            await pilot.press(key)
            await wait_for(
                pilot, lambda typed=typed: pane.shown_order[1] == typed, what="the filter"
            )
            await pilot.pause()
            first = next(i for i, (text, _) in enumerate(app.frames) if text == typed)
            assert app.frames[first][1][1] == typed, app.frames[first - 1 : first + 2]


async def test_an_expedited_frame_does_not_wait_out_the_interval() -> None:
    """A key's frame right after another: at once, not one interval after that one."""
    ticks = Ticks()
    async with running_timer(0.5, ticks) as timer:
        timer.resume()
        await wait_for_ticks(ticks, 1)
        timer.pause()
        # Paced: the next frame one interval (0.5 s) after the first.
        timer.resume()
        await wait_for_ticks(ticks, 2)
        assert ticks.at[1] - ticks.at[0] >= 0.45
        timer.pause()
        # Expedited while the pacing wait is under way: at once.
        timer.resume()
        await asyncio.sleep(0.05)
        asked = time.monotonic()
        timer.expedite()
        await wait_for_ticks(ticks, 3)
        assert ticks.at[2] - asked < 0.2 and ticks.at[2] - ticks.at[1] < 0.4
        timer.pause()
        # Expedited while paused: the frame that follows comes at once too, once.
        timer.expedite()
        timer.resume()
        await wait_for_ticks(ticks, 4)
        assert ticks.at[3] - ticks.at[2] < 0.2
        await wait_for_ticks(ticks, 5)
        assert ticks.at[4] - ticks.at[3] >= 0.45  # paced again after it


async def test_an_expedite_during_a_frame_counts_for_the_next() -> None:
    """A key handled while a frame is being drawn: the frame after it is not paced."""
    ticks = Ticks()

    def tick() -> None:
        ticks()
        if len(ticks.at) == 2:
            timer.expedite()

    async with running_timer(0.5, tick, pause=False) as timer:
        await wait_for_ticks(ticks, 4)
        gaps = [b - a for a, b in zip(ticks.at, ticks.at[1:], strict=False)]
        assert gaps[0] >= 0.45 and gaps[1] < 0.2 and gaps[2] >= 0.45, gaps


async def wait_for_ticks(ticks: Ticks, n: int, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while len(ticks.at) < n:
        assert time.monotonic() < deadline, f"{len(ticks.at)} ticks, not {n}"
        await asyncio.sleep(0.005)


class InputPacedScreen(FramePaced, Screen):
    def compose(self) -> ComposeResult:
        yield Static("0", id="count")


def when_and_text(screen: Screen) -> tuple[float, str]:
    return time.monotonic(), str(screen.query_one("#count", Static).render())


async def drawn(app: Recording, text: str) -> float:
    """When a frame (`when_and_text`) first showed `text`; no Pilot here: its pause
    draws a frame of its own."""
    deadline = time.monotonic() + 5.0
    while not (app.frames and app.frames[-1][1] == text):
        assert time.monotonic() < deadline, f"no frame with {text!r}: {app.frames[-3:]}"
        await asyncio.sleep(0.002)
    return app.frames[-1][0]


@asynccontextmanager
async def paced_count(
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[tuple[Recording, InputPacedScreen, Static]]:
    """The count screen running, paced at half a second, its first frames drawn."""
    monkeypatch.setattr(frametimer, "UPDATE_PERIOD", 0.5)
    app = Recording(InputPacedScreen, when_and_text)
    async with app.run_test(size=(40, 5)):
        screen = app.screen
        assert isinstance(screen, InputPacedScreen)
        count = screen.query_one("#count", Static)
        await asyncio.sleep(0.6)
        yield app, screen, count


async def test_the_first_repaint_after_a_key_is_not_paced(monkeypatch: pytest.MonkeyPatch) -> None:
    """FramePaced.note_input: the change a key makes is drawn at once even when a frame
    was drawn just before it (here the pacing interval is half a second)."""
    async with paced_count(monkeypatch) as (app, screen, count):
        for value, after_input in (("1", False), ("2", True), ("3", False), ("4", True)):
            count.update(f"{value} before")  # a background repaint: its frame, now
            await drawn(app, f"{value} before")
            if after_input:
                screen.note_input()
            asked = time.monotonic()
            count.update(value)
            waited = await drawn(app, value) - asked
            if after_input:
                assert waited < 0.25, waited
            else:
                assert waited > 0.3, waited  # paced: the wait a key's frame no longer has


async def test_input_that_changed_nothing_leaves_later_repaints_paced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A key that repainted nothing: a repaint asked later than INPUT_REPAINT_WITHIN_S
    after it is a background one, paced as any other."""
    monkeypatch.setattr(frametimer, "INPUT_REPAINT_WITHIN_S", 0.05)
    async with paced_count(monkeypatch) as (app, screen, count):
        count.update("background")
        await drawn(app, "background")
        screen.note_input()
        await asyncio.sleep(0.1)  # the key's window is over
        asked = time.monotonic()
        count.update("later")
        assert await drawn(app, "later") - asked > 0.25


class Focusable(Static, can_focus=True):
    pass


class TwoPanesScreen(FramePaced, Screen):
    def compose(self) -> ComposeResult:
        with Vertical(id="keyed"):
            yield Focusable("0", id="count")
        with Vertical(id="background"):
            yield Static("0", id="other")


class Written(App):
    """The text each frame wrote (what changed, as a terminal gets it) and when."""

    def __init__(self) -> None:
        super().__init__()
        self.frames: list[tuple[float, str]] = []

    def on_mount(self) -> None:
        self.push_screen(TwoPanesScreen())

    def _display(self, screen: Screen, renderable: Any) -> None:
        super()._display(screen, renderable)
        if isinstance(screen, TwoPanesScreen) and renderable is not None:
            self.frames.append((time.monotonic(), renderable.render_segments(self.console)))


async def test_a_keys_frame_draws_its_pane_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """The expedited frame after a key draws the focused widget's pane; a background
    repaint asked in the same moment comes in the next, paced frame."""
    monkeypatch.setattr(frametimer, "UPDATE_PERIOD", 0.3)
    app = Written()
    async with app.run_test(size=(40, 6)):
        screen = app.screen
        assert isinstance(screen, TwoPanesScreen)
        count, other = screen.query_one("#count", Static), screen.query_one("#other", Static)
        count.focus()
        await asyncio.sleep(0.4)
        for value in ("key 1", "key 2"):
            screen.note_input()
            background = value.replace("key", "bg")
            # Asked first, it would take the key's frame (no layout: set_text's repaints).
            other.update(background, layout=False)
            count.update(value, layout=False)
            deadline = time.monotonic() + 5.0
            while not any(background in text for _, text in app.frames):
                assert time.monotonic() < deadline, app.frames[-3:]
                await asyncio.sleep(0.002)
            keyed = next(f for f in app.frames if value in f[1])
            drawn_later = next(f for f in app.frames if background in f[1])
            assert background not in keyed[1], "the key's frame drew the background pane"
            assert drawn_later[0] - keyed[0] > 0.2  # the next frame, paced
            await asyncio.sleep(0.4)


class AnsweringPane(Vertical):
    """Answers each filter change after a while (as the pods pane's worker does), then
    lets the held frame go."""

    def compose(self) -> ComposeResult:
        yield FilterBar(id="bar", holds_frames=True)
        yield Static("", id="answer")

    @on(FilterBar.FilterChanged)
    async def _answer(self, event: FilterBar.FilterChanged) -> None:
        await asyncio.sleep(0.02)
        answer = self.query_one("#answer", Static)
        answer.update(f"rows for {event.text!r}", layout=False)
        screen = self.screen
        assert isinstance(screen, FramePaced)
        screen.release_frames(answer)


class AnsweringScreen(FramePaced, Screen):
    def compose(self) -> ComposeResult:
        yield AnsweringPane()


def typed_and_answer(screen: Screen) -> tuple[str, str]:
    return screen.query_one(FilterBar).value, str(screen.query_one("#answer", Static).render())


async def test_the_typed_text_waits_for_the_panes_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    """FilterBar(holds_frames=True): the key's frame is held from the keystroke itself,
    not from the pane's handler two messages later, which an unpaced frame beat."""
    monkeypatch.setattr(filter_module, "ANSWER_HOLD_S", 1.0)
    app = Recording(AnsweringScreen, typed_and_answer)
    async with app.run_test(size=(60, 6)) as pilot:
        bar = app.screen.query_one(FilterBar)
        bar.open()
        await pilot.pause()
        for key, typed in (("a", "a"), ("b", "ab"), ("backspace", "a")):
            await pilot.press(key)
            await wait_for(
                pilot, lambda typed=typed: bool(app.frames) and app.frames[-1][0] == typed,
                what="the text",
            )  # fmt: skip
            await pilot.pause(0.05)
            first = next(frame for frame in app.frames if frame[0] == typed)
            assert first[1] == f"rows for {typed!r}", app.frames[-3:]
