"""TrafficSource against the simulated cluster: the real kubernetes client follows the
nginx pods' access logs over HTTP; healthy traffic is within the runbook's thresholds,
the incident's fastapi is over them and burns its budget; reconnects do not count a
line twice; pods that come and go are followed; failures are states with messages."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from kubernetes import client as k8s

from cockpit.config import Settings, SloSettings
from cockpit.model import Level, PodRow, SloSnapshot
from cockpit.sim.pace import Pace
from cockpit.sim.runner import SimCluster
from cockpit.slo.report import check_lines
from cockpit.sources.kube.client import connect
from cockpit.sources.kube.source import KubeSource
from cockpit.sources.traffic.source import TrafficSource

NS = "excel-unified"


@dataclasses.dataclass
class Rig:
    sim: SimCluster
    kube: KubeSource
    traffic: TrafficSource

    async def pods(self) -> tuple[PodRow, ...]:
        return (await self.kube.kube_snapshot()).pods

    async def nginx(self) -> list[PodRow]:
        return [p for p in await self.pods() if p.app == "nginx"]


@pytest.fixture
async def rig() -> AsyncIterator[Callable[..., Rig]]:
    made: list[Rig] = []

    def make(scenario: str = "healthy", settings: Settings | None = None) -> Rig:
        settings = settings or Settings()
        sim = SimCluster(scenario, pace=Pace.fast()).start()
        kube = KubeSource(connect(settings.kube, sim.client_configuration()), settings)
        kube.start()
        made.append(Rig(sim, kube, TrafficSource(settings, kube)))
        return made[-1]

    yield make
    for r in made:
        await r.traffic.close()
        await asyncio.to_thread(r.kube.stop)
        r.sim.stop()


async def followed(r: Rig) -> SloSnapshot:
    r.traffic.sync(await r.pods())
    assert await r.traffic.wait_caught_up(20), "the backlog was not read within 20 s"
    return await r.traffic.snapshot()


async def test_healthy_traffic_is_within_the_thresholds(rig: Any) -> None:
    r = rig("healthy")
    snap = await followed(r)
    assert snap.streams == 2 and snap.message == ""
    assert [u.name for u in snap.upstreams] == ["all", "rails", "fastapi"]
    everything, rails, fastapi = snap.upstreams
    # The streams started slo.backfill_seconds (60 s) back: the 1-minute window is
    # (almost) full at once, the 5-minute one covers what was read and says so.
    assert everything.one_minute.seconds > 45
    assert 45 < everything.five_minutes.seconds < 90
    for up in snap.upstreams:
        for w in (up.one_minute, up.five_minutes):
            assert w.requests > 0 and w.p50_ms is not None
            assert (w.error_level, w.p50_level, w.p95_level, w.p99_level) == (Level.OK,) * 4
    assert everything.five_minutes.requests == (
        rails.five_minutes.requests + fastapi.five_minutes.requests
    )
    assert not any(b.firing for b in snap.burn)
    assert snap.level is Level.OK, check_lines(snap)
    assert snap.dropped == 0 and snap.lines > snap.unparsed
    # One point per 10 s since the data begins (60 s back), up to 30 (5 minutes).
    assert 6 <= len(everything.rps_history) <= 30 and max(everything.rps_history) > 0


async def test_incident_fastapi_errors_and_p99_over_and_burning(rig: Any) -> None:
    # Five minutes back (as `cockpit check` reads): burn rates fire only once their
    # short window has been seen whole.
    r = rig("incident", Settings(slo=SloSettings(backfill_seconds=300)))
    snap = await followed(r)
    fastapi = next(u for u in snap.upstreams if u.name == "fastapi")
    five = fastapi.five_minutes
    assert five.error_pct is not None and five.error_pct > 1.0
    assert five.error_level is Level.CRIT
    assert five.p99_ms is not None and five.p99_ms > 1000 and five.p99_level > Level.OK
    page = next(b for b in snap.burn if b.upstream == "fastapi" and b.long_window == "1h")
    assert page.firing and page.level is Level.CRIT and page.long_burn is not None
    assert page.long_burn > 14.4
    assert snap.level is Level.CRIT
    # nginx's own error-log lines (connect() failed) are unparsed, not errors.
    assert snap.unparsed > 0


async def test_a_reconnect_resumes_without_counting_twice(rig: Any) -> None:
    r = rig("healthy")
    await followed(r)
    before, started = r.traffic.lines, time.monotonic()
    for follow in list(r.traffic._follows.values()):
        assert follow.stream is not None
        follow.stream.stop()  # as when the API server closes the stream
    deadline = time.monotonic() + 10
    while r.traffic.stream_count and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert r.traffic.stream_count == 0
    await asyncio.sleep(1.2)  # RETRY_AFTER_END_S
    await r.traffic.snapshot()  # polls reopen ended streams
    assert r.traffic.stream_count == 2
    assert await r.traffic.wait_caught_up(20)
    await asyncio.sleep(0.5)
    elapsed = time.monotonic() - started
    # ~150 lines/s in this sim: the new lines of the elapsed time, not the 300 s backlog
    # again (45,000 lines).
    added = r.traffic.lines - before
    assert 0 < added < 400 * elapsed + 500, (added, elapsed)


async def test_pods_that_come_and_go_are_followed(rig: Any) -> None:
    r = rig("healthy")
    await followed(r)
    old = await r.nginx()
    core = k8s.CoreV1Api(k8s.ApiClient(r.sim.client_configuration()))
    await asyncio.to_thread(core.delete_namespaced_pod, old[0].name, NS)
    deadline = time.monotonic() + 20
    pods = old
    while time.monotonic() < deadline:
        pods = [p for p in await r.nginx() if not p.deleting]
        if len(pods) == 2 and old[0].uid not in {p.uid for p in pods}:
            break
        await asyncio.sleep(0.1)
    # The replacement is followed once it runs (syncs come with every pods poll).
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        r.traffic.sync(await r.pods())
        if set(r.traffic._follows) == {p.uid for p in pods}:
            break
        await asyncio.sleep(0.2)
    assert set(r.traffic._follows) == {p.uid for p in pods}
    assert old[0].uid not in r.traffic._follows
    assert await r.traffic.wait_caught_up(20)
    snap = await r.traffic.snapshot()
    assert snap.streams == 2 and snap.message == ""


async def test_no_nginx_pods_is_a_warning_with_a_hint(rig: Any) -> None:
    r = rig("healthy", Settings(slo=SloSettings(nginx_app="ingress")))
    before = await r.traffic.snapshot()
    assert before.message == "waiting for the pod list" and before.level is Level.OK
    r.traffic.sync(await r.pods())
    snap = await r.traffic.snapshot()
    assert snap.message == "no nginx pods found (app=ingress)"
    assert snap.message_level is Level.WARN and snap.level is Level.WARN
    assert "slo.nginx_app" in snap.hint
    assert check_lines(snap)[0] == (Level.WARN, "no nginx pods found (app=ingress)")


async def test_a_refused_stream_is_a_message_and_is_retried(rig: Any) -> None:
    r = rig("healthy")
    real = await r.nginx()
    ghost = dataclasses.replace(real[0], uid="ghost-uid", name="nginx-[bold]gone")
    r.traffic.sync([real[1], ghost])
    deadline = time.monotonic() + 10
    snap = await r.traffic.snapshot()
    while "nginx-[bold]gone" not in snap.message and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        snap = await r.traffic.snapshot()
    assert snap.message.startswith("nginx-[bold]gone: ")
    assert snap.message_level is Level.WARN and "retried" in snap.hint
    assert snap.streams == 1  # the real pod is still followed


async def test_no_page_before_the_short_window_was_seen_whole(rig: Any) -> None:
    """A minute of data after start burns as fast, but is no 5-minute window: shown,
    not firing."""
    r = rig("incident")  # the default: streams start 60 s back
    snap = await followed(r)
    page = next(b for b in snap.burn if b.upstream == "fastapi" and b.long_window == "1h")
    assert page.long_burn is not None and page.long_burn > page.factor
    assert page.covered_s < 120 and not page.firing and page.level is Level.OK


class CountedPods(tuple):
    """A snapshot's pods that count how often they are read."""

    reads = 0

    def __iter__(self):  # type: ignore[no-untyped-def]
        CountedPods.reads += 1
        return super().__iter__()


async def test_the_same_pods_again_are_not_scanned_again(rig: Any) -> None:
    """The SLO poll syncs with the pods pane's last snapshot every few seconds: the same
    snapshot's pods keep the choice (at 5,000 pods, a scan each poll), new ones make it
    again."""
    r = rig("healthy")
    pods = CountedPods(await r.pods())
    without_nginx = CountedPods([p for p in pods if p.app != "nginx"])
    CountedPods.reads = 0
    r.traffic.sync(pods)
    r.traffic.sync(pods)
    assert CountedPods.reads == 1
    assert (await r.traffic.snapshot()).streams == 2
    r.traffic.sync(without_nginx)
    assert CountedPods.reads == 2
    assert (await r.traffic.snapshot()).streams == 0
