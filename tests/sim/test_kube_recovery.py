"""The Kubernetes panes' source after an API server outage: back within the backoff cap.

The cluster is stopped and another started on the same port (a restarted API server).
The watches (informers) used to back off to a fixed 30 s (37 s with jitter) and the
poller to its own minute, so the panes said "retrying in 3 s" for a minute after the
server was back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from cockpit.config import PollSettings, Settings
from cockpit.model import SourceFailure
from cockpit.polling import RETRY_GRACE, Poller
from cockpit.sim.runner import SimCluster
from cockpit.sources.kube.client import connect
from cockpit.sources.kube.source import KubeSource

BACKOFF_MAX = 1.0
SLACK = 1.0  # a loaded test machine


async def wait_until(probe: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(0.05)


async def test_pods_recover_within_the_backoff_cap_after_an_outage(
    make_sim: Callable[..., SimCluster],
) -> None:
    sim = make_sim("healthy")
    settings = Settings(poll=PollSettings(pods=0.3, backoff_max=BACKOFF_MAX))
    kube = KubeSource(connect(settings.kube, sim.client_configuration()), settings)
    results: list[float] = []
    failures: list[tuple[float, SourceFailure]] = []
    poller = Poller(
        "pods",
        kube.kube_snapshot,
        interval=0.3,
        timeout=3.0,
        on_result=lambda s, r: results.append(time.monotonic()),
        on_failure=lambda f: failures.append((time.monotonic(), f)),
        backoff_max=BACKOFF_MAX,
    )
    kube.start()
    task = asyncio.create_task(poller.run())
    try:
        await wait_until(lambda: results, 10, "the first snapshot")
        await asyncio.to_thread(sim.stop)
        await wait_until(lambda: len(failures) >= 2, 10, "the outage to show")
        await asyncio.sleep(5)  # long enough for the old backoff to reach 4-8 s
        await asyncio.to_thread(make_sim, "healthy", port=sim.port)
        back = time.monotonic()
        await wait_until(lambda: results[-1] > back, BACKOFF_MAX + RETRY_GRACE + SLACK, "pods")
    finally:
        task.cancel()
        await asyncio.to_thread(kube.stop)
    shown = [f.retry_in for _, f in failures]
    assert all(r is not None and r <= BACKOFF_MAX for r in shown), shown
    # "retrying in N s" was true: each report was followed by another (or by data)
    # about N s later, never after a longer backoff of the poller's own.
    moments = [t for t, _ in failures] + [results[-1]]
    for (t, f), later in zip(failures, moments[1:], strict=True):
        assert f.retry_in is not None
        assert later - t <= f.retry_in + RETRY_GRACE + SLACK, (later - t, f.retry_in)
