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

The one exception to the pacing is input: the first frame with a change after a key or a
click comes at once (`FramePaced.note_input`).  Measured at 5,000 pods, the slowest 1-2 %
of key presses were those that came just after a background frame (the error log's line,
a snapshot): the key's frame then waited out the rest of that frame's interval, up to
17 ms on top of its own work.

That frame draws only the focused widget's pane (`FramePaced.input_scope`): a background
pane's repaint asked meanwhile (the Top table's new figures, 6 ms) waits for the next,
paced frame, one interval later, instead of lengthening the key's.
"""

from __future__ import annotations

import asyncio
import contextlib

from textual import _time, messages
from textual.screen import UPDATE_PERIOD
from textual.timer import EventTargetGone, Timer
from textual.widget import Widget

from cockpit import uipriority

# A key's own repaint is asked within a few ms (a worker's result within ORDER_HOLD_S):
# a repaint later than this is not that key's.
INPUT_REPAINT_WITHIN_S = 0.25


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
    _expedited = False
    _woken: asyncio.Event | None = None

    def hold(self, seconds: float) -> None:
        """The next frame waits up to `seconds` for `release()`: a key's echo and what
        a worker computes for it a few ms later are then drawn in one frame."""
        self._held_until = max(self._held_until, _time.get_time() + seconds)

    def release(self) -> None:
        self._held_until = 0.0
        if self._released is not None:
            self._released.set()

    def expedite(self) -> None:
        """The next frame comes without waiting out the interval since the last one (it
        still waits for a `hold`)."""
        self._expedited = True
        if self._woken is not None:
            self._woken.set()

    async def _run(self) -> None:
        interval = self._interval
        last: float | None = None
        count = 0
        self._released = asyncio.Event()
        self._woken = asyncio.Event()
        while True:
            wait = 0.0 if self._expedited else wait_before_tick(last, _time.get_time(), interval)
            if wait > 0:
                self._woken.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._woken.wait(), wait)
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
            self._expedited = False
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
    _input_pending = False
    _input_at = 0.0
    # The widget whose subtree the expedited frame draws (see _on_timer_update).
    _input_scope: Widget | None = None

    def note_input(self) -> None:
        """A key or a click came in: the first repaint asked after it is drawn without
        waiting out the pacing interval (see the module's docstring)."""
        self._input_pending = True
        self._input_at = _time.get_time()

    def _expedite_for_input(self, widget: Widget | None) -> None:
        """On the first repaint asked, after input, by the focused widget, one of its
        ancestors (its pane's title) or descendants: a background pane's repaint that
        was already on its way would otherwise take the unpaced frame, and the key's
        change would wait out the interval after it.  `widget` None: a scroll, which
        names no widget (after a key, the focused table's)."""
        if not self._input_pending:
            return
        if _time.get_time() - self._input_at > INPUT_REPAINT_WITHIN_S:
            self._input_pending = False  # a key that changed nothing: no later frame's
            return
        focused = self.focused  # type: ignore[attr-defined]
        if (
            widget is not None
            and focused is not None
            and widget not in focused.ancestors_with_self
            and focused not in widget.ancestors
        ):
            return
        self._input_pending = False
        self._input_scope = None if focused is None else self.input_scope(focused)
        self._update_timer.expedite()

    def input_scope(self, focused: Widget) -> Widget:
        """What a key's frame draws: the subtree of the focused widget's parent (a
        table's pane: its title and filter bar with it).  A screen may widen it."""
        parent = focused.parent
        return parent if isinstance(parent, Widget) else focused

    def _on_timer_update(self) -> None:
        """A key's frame draws the key's pane alone; the other repaints asked meanwhile
        stay dirty for the next frame, one interval later.  A frame that lays out,
        scrolls or repaints the whole screen draws everything, as Textual's does."""
        scope, self._input_scope = self._input_scope, None
        later = self._outside(scope) if scope is not None else set()
        dirty: set[Widget] = self._dirty_widgets  # type: ignore[attr-defined]
        dirty.difference_update(later)
        try:
            with uipriority.foreground():
                super()._on_timer_update()  # type: ignore[misc]
        finally:
            if later:
                dirty.update(later)  # the same set: Textual clears it, never replaces it
                self._update_timer.resume()

    def _outside(self, scope: Widget) -> set[Widget]:
        """The dirty widgets outside `scope`'s subtree; none when the frame is a whole
        one (a layout, a scroll, the screen's own repaint) or draws nothing of scope."""
        if (
            self._layout_required  # type: ignore[attr-defined]
            or self._scroll_required  # type: ignore[attr-defined]
            or self._repaint_required  # type: ignore[attr-defined]
            or not scope.is_attached
        ):
            return set()
        dirty: set[Widget] = self._dirty_widgets  # type: ignore[attr-defined]
        if self in dirty:
            return set()
        outside = {w for w in dirty if scope not in w.ancestors_with_self}
        return outside if len(outside) < len(dirty) else set()

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
        self._expedite_for_input(message.widget)
        if message.widget is self._release_after:
            self._release_after = None
            self._update_timer.release()

    async def _on_layout(self, message: messages.Layout) -> None:
        await super()._on_layout(message)  # type: ignore[misc]
        self._expedite_for_input(message.widget)

    async def _on_update_scroll(self, message: messages.UpdateScroll) -> None:
        await super()._on_update_scroll(message)  # type: ignore[misc]
        self._expedite_for_input(None)

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
