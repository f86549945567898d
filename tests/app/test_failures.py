"""A dead or slow backend degrades its own pane only, and recovers by itself (issue 3)."""

from __future__ import annotations

import asyncio
import time

from cockpit.config import PostgresSettings, RedisSettings
from tests.pilot import cockpit_running
from widgets.pods import PodsPane
from widgets.postgres import PostgresPane
from widgets.redis import RedisPane
from widgets.top import TopPane

from .conftest import wait_for


async def responsive(pilot, app) -> float:
    """The worst event-loop delay over a second while a key is handled.

    The UI must never wait on I/O.  Pilot's own press() waits for the whole app to go
    idle, which measures the pollers' activity rather than how fast a key is served.
    (Up to a few hundred ms can come from the kubernetes client building its models on
    first use in a thread, which holds the GIL.)
    """
    pods = app.main.query_one(PodsPane)
    before = pods.sort_name
    pods.table.focus()
    worst = 0.0
    deadline = time.monotonic() + 1.0
    app.simulate_key("S")
    while time.monotonic() < deadline:
        started = time.monotonic()
        await asyncio.sleep(0.01)
        worst = max(worst, time.monotonic() - started - 0.01)
    assert pods.sort_name != before, "the key was not handled"
    return worst


STARTED = ("pods", "top", "events", "logs", "slo", "redis")


def started(app) -> bool:
    """Every Kubernetes source and Redis have had their first poll.  Until then the
    kubernetes client builds its models in threads, which holds the GIL for up to a
    second (issue 12 is about that startup stall); these tests measure what a failing
    backend does to the screen, not the startup."""
    return all(name in app.main.latest for name in STARTED)


async def test_redis_stopped_mid_run_goes_stale_then_recovers(
    make_sim, make_app, owned_redis_server
) -> None:
    sim = make_sim("healthy")
    app = make_app(sim, redis=RedisSettings(url=owned_redis_server.url))
    async with cockpit_running(app, size=(160, 45)) as pilot:
        pane = app.main.query_one(RedisPane)
        await wait_for(pilot, lambda: started(app), what="every source's first data")
        owned_redis_server.stop()
        await wait_for(pilot, lambda: pane.failure is not None, what="Redis failing")
        assert pane.has_class("stale")
        assert (
            "connection refused" in pane.failure.message.lower()
            or "connect" in pane.failure.message.lower()
        )
        assert pane.failure.retry_in is not None
        assert "STALE" in str(pane.border_subtitle)
        assert await responsive(pilot, app) < 0.5
        owned_redis_server.start()
        await wait_for(pilot, lambda: pane.failure is None, timeout=30, what="Redis back")
        assert not pane.has_class("stale")


async def test_postgres_restarted_mid_run_recovers(make_sim, make_app, owned_pg_server) -> None:
    sim = make_sim("healthy")
    app = make_app(sim, postgres=PostgresSettings(dsn=owned_pg_server.dsn()))
    async with cockpit_running(app, size=(160, 45)) as pilot:
        pane = app.main.query_one(PostgresPane)
        await wait_for(pilot, lambda: pane.taken_at is not None, what="PostgreSQL data")
        first = pane.taken_at
        owned_pg_server.stop()
        await wait_for(pilot, lambda: pane.failure is not None, what="PostgreSQL failing")
        assert pane.has_class("stale") and pane.snapshot is not None  # last good data kept
        owned_pg_server.start()
        await wait_for(
            pilot,
            lambda: pane.failure is None and pane.taken_at > first,
            timeout=30,
            what="PostgreSQL back",
        )


async def test_api_server_errors_and_hangs_do_not_freeze_the_ui(make_sim, make_app) -> None:
    sim = make_sim("healthy")
    # A short resync so the pods informer re-lists (and meets the fault) within the test.
    app = make_app(sim, kube={"resync_seconds": 1.0, "request_timeout": 2.0})
    async with cockpit_running(app, size=(160, 45)) as pilot:
        pods = app.main.query_one(PodsPane)
        top = app.main.query_one(TopPane)
        await wait_for(
            pilot, lambda: pods.snapshot is not None and top.snapshot is not None, what="first data"
        )
        sim.fail_requests(500)
        await wait_for(pilot, lambda: top.failure is not None, what="metrics failing")
        assert "500" in top.failure.message
        await wait_for(pilot, lambda: pods.failure is not None, what="pods failing")
        assert pods.snapshot is not None and pods.has_class("stale")
        assert await responsive(pilot, app) < 0.5

        sim.clear_faults()
        sim.hang_requests()
        await wait_for(
            pilot,
            lambda: (
                top.failure is not None
                and ("no answer" in top.failure.message or "timed out" in top.failure.message)
            ),
            timeout=30,
            what="metrics hanging",
        )
        assert await responsive(pilot, app) < 0.5  # a hung API never blocks the screen

        sim.clear_faults()
        await wait_for(
            pilot, lambda: top.failure is None and pods.failure is None, timeout=40, what="recovery"
        )
