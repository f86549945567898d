"""The screen's frame timer, paced from the last frame rather than from a fixed grid.

Textual's screen repaints from a 60 Hz timer that pauses while nothing is dirty.  Its
timer keeps a grid of ticks from its start; resumed after a pause it ticks at once (the
first frame comes straight away), then, catching up with the grid, skips to the grid
point after next: the frame after that one comes 17 to 33 ms later, not at most 17.
That is what a filter keystroke at 5,000 pods waited for: the typed text is drawn at
once, the rows come from the worker 4-6 ms later and then waited 20-36 ms for a frame.

`FrameTimer` ticks one interval after its last tick, or at once when that is past, so
frames are still at most 60 a second and the next one is never more than one interval
away.  `FramePaced` gives a screen this timer (textual 8.2.8's `Screen._update_timer`).
"""

from __future__ import annotations

import asyncio
import contextlib

from textual import _time, messages
from textual.screen import UPDATE_PERIOD
from textual.timer import EventTargetGone, Timer
from textual.widget import Widget


def wait_before_tick(last_tick: float | None, now: float, interval: float) -> float:
    """Seconds to wait before the next frame: none for the first or when the last was
    an interval or more ago, else what is left of that interval."""
    if last_tick is None:
        return 0.0
    return max(0.0, last_tick + interval - now)


class FrameTimer(Timer):
    """A repeating timer whose ticks are at least `interval` apart, and no more once it
    is active again (see the module's docstring)."""

    _held_until = 0.0
    _released: asyncio.Event | None = None

    def hold(self, seconds: float) -> None:
        """The next frame waits up to `seconds` for `release()`: a key's echo and what
        a worker computes for it a few ms later are then drawn in one frame."""
        self._held_until = max(self._held_until, _time.get_time() + seconds)

    def release(self) -> None:
        self._held_until = 0.0
        if self._released is not None:
            self._released.set()

    async def _run(self) -> None:
        interval = self._interval
        last: float | None = None
        count = 0
        self._released = asyncio.Event()
        while True:
            wait = wait_before_tick(last, _time.get_time(), interval)
            if wait > 0:
                await _time.sleep(wait)
            await self._active.wait()
            if (held := self._held_until - _time.get_time()) > 0:
                self._released.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._released.wait(), held)
                self._held_until = 0.0
                await self._active.wait()  # paused meanwhile: not until resumed
            if self._reset:
                self._reset = False
                last = None
                continue
            last = _time.get_time()
            count += 1
            try:
                await self._tick(next_timer=last, count=count)
            except EventTargetGone:
                break


class FramePaced:
    """Mix in before `Screen`: its repaints come from a FrameTimer."""

    _frame_timer: FrameTimer | None = None

    _release_after: Widget | None = None

    def hold_frames(self, seconds: float) -> None:
        """See FrameTimer.hold: for a result due within `seconds` (a few ms)."""
        self._update_timer.hold(seconds)

    def release_frames(self, after: Widget | None = None) -> None:
        """The result is in: draw now, or once `after` (which it changed) has asked the
        screen for its repaint (a message or two later)."""
        if after is None:
            self._update_timer.release()
        else:
            self._release_after = after

    async def _on_update(self, message: messages.Update) -> None:
        await super()._on_update(message)  # type: ignore[misc]
        if message.widget is self._release_after:
            self._release_after = None
            self._update_timer.release()

    @property
    def _update_timer(self) -> FrameTimer:
        timer = self._frame_timer
        if timer is None:
            timer = FrameTimer(
                self,  # type: ignore[arg-type]
                UPDATE_PERIOD,
                name="screen_update",
                callback=self._on_timer_update,  # type: ignore[attr-defined]
                pause=True,
            )
            timer._start()
            self._timers.add(timer)  # type: ignore[attr-defined]  # stopped with the screen
            self._frame_timer = timer
        return timer
