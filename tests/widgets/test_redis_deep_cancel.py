"""`x` stops the big-key sample even when the cancel of its task is lost on the way.

Python 3.11's asyncio.wait_for (which the Redis client awaits inside each command) drops
a cancel that lands just as the call it wraps completes; a CI run saw the sample then
run to its end after `x`.  These feeds swallow the first cancel the same way, so the
screen's own stop (a flag checked at every batch) is what is tested."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from cockpit.model.redis import RedisBigKeyScan
from tests.screen_app import ScreenApp
from widgets.redis_deep import RedisDeepScreen

BATCHES = 200  # 0.05 s apart: 10 s if nothing stops it


class CancelSwallowingFeeds:
    server = "127.0.0.1:6379/0"
    db = 0

    def __init__(self) -> None:
        self.swallowed = 0
        self.batches = 0

    async def memory(self) -> Any:
        raise RuntimeError("not asked in this test")

    slowlog = clients = memory

    async def big_keys(self) -> AsyncIterator[RedisBigKeyScan]:
        for n in range(1, BATCHES + 1):
            self.batches = n
            yield RedisBigKeyScan(0, 10_000, n * 50, n, n * 0.05, (), "running")
            try:
                await asyncio.sleep(0.05)
            except asyncio.CancelledError:
                self.swallowed += 1  # as wait_for does when the call completed meanwhile
        yield RedisBigKeyScan(0, 10_000, 10_000, BATCHES, 10.0, (), "complete", "whole db0")

    async def close(self) -> None:
        pass


async def test_x_stops_the_sample_when_the_cancel_is_swallowed() -> None:
    feeds = CancelSwallowingFeeds()
    screen = RedisDeepScreen(feeds)  # type: ignore[arg-type]
    async with ScreenApp(screen).run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        await pilot.press("s")
        deadline = time.monotonic() + 10
        while not (screen.scan is not None and screen.scan.batches >= 2):
            assert time.monotonic() < deadline
            await pilot.pause(0.02)
        await pilot.press("x")
        deadline = time.monotonic() + 2  # a few batches at most, not the 10 s to the end
        while screen.scanning or screen.scan is None or not screen.scan.done:
            assert time.monotonic() < deadline, f"still scanning at batch {feeds.batches}"
            await pilot.pause(0.02)
        assert feeds.swallowed == 1
        assert screen.scan.state == "cancelled"
        stopped_at = feeds.batches
        await pilot.pause(0.3)
        assert feeds.batches == stopped_at  # nothing runs on after the stop
