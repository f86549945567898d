"""The poll loop: results, failures with backoff, timeouts without overlap, recovery."""

from __future__ import annotations

import asyncio

from cockpit.errors import SourceError
from cockpit.model import SourceFailure
from cockpit.polling import Poller, backoff_delay


def test_backoff_grows_caps_and_jitters() -> None:
    delays = [backoff_delay(n, 1.0, 30.0, jitter=0.0) for n in range(1, 8)]
    assert delays == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    jittered = {round(backoff_delay(3, 1.0, 30.0, jitter=0.25), 3) for _ in range(50)}
    assert len(jittered) > 10 and all(3.0 <= d <= 5.0 for d in jittered)


async def test_failure_then_recovery() -> None:
    results: list[object] = []
    failures: list[SourceFailure] = []
    state = {"n": 0}

    async def fetch() -> int:
        state["n"] += 1
        if state["n"] <= 2:
            raise SourceError("Redis 127.0.0.1:1: connection refused", "is it running?")
        return state["n"]

    poller = Poller(
        "redis",
        fetch,
        interval=0.01,
        timeout=1,
        on_result=lambda s, r: results.append(r),
        on_failure=failures.append,
        backoff_base=0.01,
    )
    task = asyncio.create_task(poller.run())
    for _ in range(200):
        if results:
            break
        await asyncio.sleep(0.01)
    task.cancel()
    assert [f.failures for f in failures[:2]] == [1, 2]
    assert failures[0].message == "Redis 127.0.0.1:1: connection refused"
    assert failures[0].hint == "is it running?"
    assert failures[0].retry_in is not None and failures[0].since is not None
    assert results and results[0] == 3
    assert poller.failures == 0 and poller.failing_since is None


async def test_a_hung_poll_is_not_overlapped() -> None:
    started = []
    release = asyncio.Event()

    async def fetch() -> str:
        started.append(1)
        await release.wait()
        return "late"

    failures: list[SourceFailure] = []
    results: list[object] = []
    poller = Poller(
        "pg",
        fetch,
        interval=0.01,
        timeout=0.05,
        on_result=lambda s, r: results.append(r),
        on_failure=failures.append,
        backoff_base=0.01,
        backoff_max=0.02,
    )
    task = asyncio.create_task(poller.run())
    await asyncio.sleep(0.5)
    assert len(started) == 1  # timed out several times, never started a second poll
    assert len(failures) >= 3 and "no answer within" in failures[0].message
    release.set()
    for _ in range(100):
        if results:
            break
        await asyncio.sleep(0.01)
    task.cancel()
    assert results == ["late"]


async def test_refresh_wakes_the_poller() -> None:
    calls = []

    async def fetch() -> int:
        calls.append(1)
        return len(calls)

    poller = Poller(
        "host",
        fetch,
        interval=60,
        timeout=1,
        on_result=lambda s, r: None,
        on_failure=lambda f: None,
    )
    task = asyncio.create_task(poller.run())
    await asyncio.sleep(0.05)
    assert len(calls) == 1
    poller.refresh()
    await asyncio.sleep(0.05)
    task.cancel()
    assert len(calls) == 2


async def test_refresh_during_a_poll_is_not_lost() -> None:
    """The backups source gets its Kubernetes half while its first poll is in flight:
    the refresh asked for then must bring a poll right after, not 60 s later."""
    calls = []
    release = asyncio.Event()

    async def fetch() -> int:
        calls.append(1)
        if len(calls) == 1:
            await release.wait()
        return len(calls)

    poller = Poller(
        "backups",
        fetch,
        interval=60,
        timeout=5,
        on_result=lambda s, r: None,
        on_failure=lambda f: None,
    )
    task = asyncio.create_task(poller.run())
    await asyncio.sleep(0.05)
    poller.refresh()  # while the first poll waits
    release.set()
    await asyncio.sleep(0.05)
    task.cancel()
    assert len(calls) == 2


async def test_plain_exceptions_are_worded_and_secrets_masked() -> None:
    failures: list[SourceFailure] = []

    async def fetch() -> None:
        raise RuntimeError("could not connect to postgresql://ops:hunter2@db:5432/app")

    poller = Poller(
        "postgres",
        fetch,
        interval=1,
        timeout=1,
        on_result=lambda s, r: None,
        on_failure=failures.append,
        label="PostgreSQL",
    )
    await poller.poll_once()
    assert "hunter2" not in failures[0].message
    assert failures[0].message.startswith("PostgreSQL: RuntimeError: could not connect")


def test_backoff_with_jitter_never_passes_the_cap() -> None:
    """The cap is what the screen promises: 30 s with jitter used to mean up to 37.5 s."""
    delays = [backoff_delay(n, 1.0, 4.0, jitter=0.25) for n in range(3, 9) for _ in range(50)]
    assert max(delays) <= 4.0 and min(delays) >= 3.0
    assert len({round(d, 3) for d in delays}) > 20  # still jittered at the cap


async def test_a_source_retrying_on_its_own_is_polled_just_after_its_retry() -> None:
    """An informer says when it lists again (retry_in): the poller looks right after
    that, not after its own backoff, which kept a recovered source shown as failing
    (and "retrying in 0 s") for up to a minute."""
    results: list[object] = []
    failures: list[SourceFailure] = []
    state = {"n": 0}

    async def fetch() -> str:
        state["n"] += 1
        if state["n"] == 1:
            raise SourceError("pods: connection refused", "", retry_in=0.1)
        return "rows"

    poller = Poller(
        "pods",
        fetch,
        interval=0.05,
        timeout=1,
        on_result=lambda s, r: results.append(r),
        on_failure=failures.append,
        backoff_base=5.0,  # our own backoff would wait 5 s
    )
    task = asyncio.create_task(poller.run())
    for _ in range(100):
        if results:
            break
        await asyncio.sleep(0.02)
    task.cancel()
    assert failures[0].retry_in == 0.1  # what the screen says is the source's own retry
    assert results[:1] == ["rows"]  # within 2 s: the source's retry, not our 5 s
