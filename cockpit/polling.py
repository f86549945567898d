"""The poll loop every source runs in: interval, timeout, backoff with jitter, no overlap.

It knows nothing of Textual.  The app runs each Poller's `run()` as a worker in its own
group and passes callbacks that post messages; tests drive it with plain asyncio.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from cockpit.errors import describe
from cockpit.model import SourceFailure

Fetch = Callable[[], Awaitable[Any]]

# How long after a source's own retry (see Poller._next_poll) to look at its outcome:
# an informer's list against a healthy API server is back well within this.
RETRY_GRACE = 0.5


def backoff_delay(
    failures: int,
    base: float,
    maximum: float,
    jitter: float = 0.25,
    rand: Callable[[], float] = random.random,
) -> float:
    """Exponential backoff: base, 2·base, 4·base, ... each ±jitter, never over `maximum`.

    The jitter stays inside the cap: a cap of 30 s that waited 37 s was not a cap.
    """
    delay = min(maximum, base * (2 ** max(0, failures - 1)))
    low, high = delay * (1 - jitter), min(maximum, delay * (1 + jitter))
    return max(0.05, low + (high - low) * rand())


class Poller:
    """Calls `fetch` every `interval` seconds and reports each result or failure.

    A poll that outlives `timeout` is reported as failed but is *not* abandoned:
    the next poll waits for it to finish, so one source never has two polls in
    flight (a hung thread must not pile up behind it).
    """

    def __init__(
        self,
        name: str,
        fetch: Fetch,
        *,
        interval: float,
        timeout: float,
        on_result: Callable[[str, Any], None],
        on_failure: Callable[[SourceFailure], None],
        label: str = "",
        backoff_base: float | None = None,
        backoff_max: float = 60.0,
        jitter: float = 0.25,
    ) -> None:
        self.name = name
        self.label = label  # prefixed to failure messages that do not name the backend
        self.fetch = fetch
        self.interval = interval
        self.timeout = timeout
        self.on_result = on_result
        self.on_failure = on_failure
        self.backoff_base = backoff_base if backoff_base is not None else min(interval, 2.0)
        self.backoff_max = backoff_max
        self.jitter = jitter
        self.failures = 0
        self.failing_since: datetime | None = None
        self.last_ok: datetime | None = None
        self.polls = 0
        self._wake = asyncio.Event()
        self._inflight: asyncio.Future[Any] | None = None

    def refresh(self) -> None:
        """Poll now instead of at the end of the current wait."""
        self._wake.set()

    async def run(self) -> None:
        try:
            while True:
                delay = await self.poll_once()
                await self._sleep(delay)
        finally:
            if self._inflight is not None and not self._inflight.done():
                self._inflight.cancel()

    async def poll_once(self) -> float:
        """One poll; returns the seconds to wait before the next."""
        if self._inflight is None or self._inflight.done():
            self._inflight = asyncio.ensure_future(self.fetch())
            self.polls += 1
        inflight = self._inflight
        # asyncio.wait neither cancels the poll on timeout nor swallows a cancellation
        # of this task (wait_for around a shield did both, in corner cases).
        done, _ = await asyncio.wait({inflight}, timeout=self.timeout)
        if not done:
            return self._failed(TimeoutError(), timed_out=True)
        self._inflight = None
        try:
            result = inflight.result()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # every failure becomes a message
            return self._failed(exc)
        self.failures = 0
        self.failing_since = None
        self.last_ok = datetime.now(UTC)
        self.on_result(self.name, result)
        return self.interval

    def _failed(self, exc: BaseException, timed_out: bool = False) -> float:
        self.failures += 1
        if self.failing_since is None:
            self.failing_since = datetime.now(UTC)
        backoff = backoff_delay(self.failures, self.backoff_base, self.backoff_max, self.jitter)
        if timed_out:
            message = f"no answer within {self.timeout:g} s"
            hint = "the backend is slow or unreachable"
        else:
            message, hint = describe(exc)
        source_retry = getattr(exc, "retry_in", None)
        delay = self._next_poll(backoff, source_retry)
        self.on_failure(
            SourceFailure(
                source=self.name,
                message=f"{self.label}: {message}" if self.label else message,
                hint=hint,
                since=self.failing_since,
                retry_in=delay if source_retry is None else source_retry,
                failures=self.failures,
            )
        )
        return delay

    def _next_poll(self, backoff: float, source_retry: float | None) -> float:
        """Seconds until the next poll after a failure.

        A source that retries on its own schedule (an informer restarting its watch)
        says when, and reading its state costs no request: poll just after that retry.
        Our own backoff (up to a minute) left a recovered source shown as failing,
        with a stale "retrying in 3 s", for a minute more.
        """
        if source_retry is None:
            return backoff
        if source_retry <= 0:  # retrying right now: look again soon
            return min(self.backoff_base, self.backoff_max)
        return min(source_retry + RETRY_GRACE, self.backoff_max)

    async def _sleep(self, delay: float) -> None:
        """Wait `delay` seconds, or less if refresh() is called.  A refresh() that came
        while the last poll ran is kept: its caller wants data from after that moment
        (new Kubernetes half of the backups, a key press), so the next poll is now."""
        timer = asyncio.get_running_loop().call_later(delay, self._wake.set)
        try:
            await self._wake.wait()
        finally:
            timer.cancel()
            self._wake.clear()
