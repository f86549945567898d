"""Work for the screen done in a worker thread, the newest request only."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

from textual.widget import Widget

T = TypeVar("T")


class Newest(Generic[T]):
    """Computes, in one worker thread, the newest of the requests made on the event
    loop, and hands its result to `deliver` on the loop.  A request superseded while it
    waits is never computed, and a result superseded while it was computed is dropped
    (a generation counter): typing fast costs one computation at a time, and an
    out-of-date result never reaches the screen."""

    def __init__(self, owner: Widget, name: str) -> None:
        self._owner = owner
        self._name = name
        self._executor: ThreadPoolExecutor | None = None
        self._wanted: tuple[int, Callable[[], T], Callable[[T], None]] | None = None
        self._draining = False
        self.generation = 0

    @property
    def busy(self) -> bool:
        """A request is waiting or being computed."""
        return self._draining

    def request(self, compute: Callable[[], T], deliver: Callable[[T], None]) -> None:
        """`compute()` in the thread (it must only read what no one changes), then
        `deliver(result)` on the loop, unless a newer request or `cancel()` came."""
        self.generation += 1
        self._wanted = (self.generation, compute, deliver)
        if not self._draining:
            self._draining = True
            self._owner.run_worker(self._drain(), name=self._name, group=self._name)

    def later(self, work: Callable[[], object]) -> None:
        """`work()` in the same thread after what is queued there, its result unused
        (work done ahead: the next request may find it done)."""
        self._pool().submit(work)

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix=self._name)
        return self._executor

    def cancel(self) -> None:
        """Whatever was asked before is dropped (the caller has a newer answer)."""
        self.generation += 1
        self._wanted = None

    def close(self) -> None:
        self.cancel()
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._wanted is not None:
                generation, compute, deliver = self._wanted
                self._wanted = None
                result = await loop.run_in_executor(self._pool(), compute)
                if generation == self.generation:
                    deliver(result)
        finally:
            self._draining = False
