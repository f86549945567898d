"""A big batch of error lines is rendered a few dozen lines per turn of the loop.

The first batch carries up to 300 lines of backlog and a filter change rewrites up to
2,000; rendered in one go (about 0.5 ms a line) they held keys for 0.15-1 s.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from math import inf

from textual.app import App, ComposeResult

from cockpit.model import LogLine
from tests.app import scenes
from tests.pilot import wait_for
from widgets.errorlog import WRITE_PER_TURN, ErrorLogPane, newest

LINES = 300


class LogOnly(App):
    def compose(self) -> ComposeResult:
        yield ErrorLogPane(apps=("rails", "fastapi"), max_lines=5000, id="errorlog")


def big_batch():
    batch = scenes.logs()
    template = batch.lines[0]
    lines = tuple(
        replace(
            template,
            seq=n,
            time=scenes.NOW - timedelta(seconds=LINES - n),
            text=f"line {n:04d} of the backlog",
        )
        for n in range(LINES)
    )
    return replace(batch, lines=lines)


async def test_a_backlog_is_written_a_turn_at_a_time_in_order() -> None:
    app = LogOnly()
    async with app.run_test(size=(120, 30)) as pilot:
        pane = app.query_one(ErrorLogPane)
        pane.log_view.focus()
        await pilot.pause()
        pane.show(big_batch())
        log = pane.log_view
        # Part of it now (the call returns quickly), the rest on later turns.
        assert pane.writing
        assert 0 < len(log.lines) <= 2 * WRITE_PER_TURN  # a line may wrap to two
        # Turns of the event loop: anything else waiting (a frame, a key from the
        # input thread) runs between two of them, not after the whole backlog.
        between: list[bool] = []
        asyncio.get_running_loop().call_soon(lambda: between.append(pane.writing))
        await wait_for(pilot, lambda: between, what="a loop callback")
        assert between == [True]
        await pilot.press("a")  # a key in between is handled, not queued behind it all
        assert pane.app_filter == "rails"
        await wait_for(pilot, lambda: not pane.writing, what="the backlog written")
        text = "\n".join(strip.text for strip in log.lines)
        # The filter set while writing rewrote the log: every (rails) line, in order.
        positions = [text.find(f"line {n:04d} ") for n in range(LINES)]
        assert -1 not in positions and positions == sorted(positions)


def test_newest_picks_by_time_as_a_full_sort_would() -> None:
    """A first batch's history comes in stream order, pods interleaved; the newest
    `limit` lines come out oldest first, lines without a time counting as newest."""
    rng = random.Random(5)
    base = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
    lines = [
        LogLine(seq, None if seq % 97 == 0 else base + timedelta(seconds=rng.randrange(600)),
                f"rails-{seq % 7}", "rails", "rails", f"ERROR {seq}")
        for seq in range(3000)
    ]  # fmt: skip
    by_time = sorted(lines, key=lambda x: (x.time.timestamp() if x.time else inf, x.seq))
    for limit in (1, 40, 300, 2999, 3000, 5000):
        assert newest(lines, limit) == by_time[-limit:]
