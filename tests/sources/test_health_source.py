"""HealthSource against the simulated cluster: the service checks go through the API
server's service proxy with the kubernetes client's configuration (token, host), so the
sim's RBAC applies; the incident scenario's flaky rails and slow fastapi show up."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from cockpit.config import HealthSettings, Settings
from cockpit.model import Level
from cockpit.sim.pace import Pace
from cockpit.sim.runner import SimCluster
from cockpit.sim.service_proxy import rails_failing
from cockpit.sources.health import HealthSource, check_lines
from cockpit.sources.health.source import NOT_CONNECTED, PROXY
from cockpit.sources.kube.client import KubeTarget, connect

SERVICES = ("rails-service:3000", "fastapi-service:8000")


def settings(**health: object) -> Settings:
    health.setdefault("urls", ())
    return Settings(health=HealthSettings(**health))  # type: ignore[arg-type]


@pytest.fixture
def healthy() -> Iterator[SimCluster]:
    sim = SimCluster("healthy", pace=Pace.fast()).start()
    yield sim
    sim.stop()


@pytest.fixture
def incident() -> Iterator[SimCluster]:
    sim = SimCluster("incident", pace=Pace.fast()).start()
    yield sim
    sim.stop()


def target(sim: SimCluster, s: Settings) -> KubeTarget:
    return connect(s.kube, sim.client_configuration())


async def test_services_through_the_proxy_and_late_attach(healthy: SimCluster) -> None:
    s = settings()
    source = HealthSource(s, None)
    try:
        snap = await source.snapshot()
        assert [e.name for e in snap.endpoints] == list(SERVICES)
        assert all(e.error == NOT_CONNECTED and e.level is Level.OK for e in snap.endpoints)
        source.attach(target(healthy, s))
        for _ in range(3):
            snap = await source.snapshot()
        rails, fastapi = snap.endpoints
        assert rails.via == PROXY and rails.status == 200 and rails.app_status == "ok"
        assert rails.url == (
            f"{healthy.url}/api/v1/namespaces/excel-unified/services/rails-service:3000"
            "/proxy/health"
        )
        assert rails.error == "" and rails.level is Level.OK and snap.level is Level.OK
        assert rails.ms is not None and rails.ms < 500
        assert len(rails.history) == 3 and all(v is not None for v in rails.history)
        assert fastapi.status == 200 and fastapi.cert_days is None  # http to the API server
        lines = check_lines(snap)
        assert lines[0][0] is Level.OK
        assert lines[0][1].startswith("rails-service:3000 (service proxy): 200 in ")
        assert lines[0][1].endswith(", status ok")
    finally:
        await source.close()


async def test_rbac_denial_is_the_endpoints_error_with_the_hint(healthy: SimCluster) -> None:
    healthy.authz.deny_service_proxy("excel-unified")
    s = settings()
    source = HealthSource(s, target(healthy, s))
    try:
        snap = await source.snapshot()
        rails = snap.endpoints[0]
        assert rails.status == 403 and rails.level is Level.CRIT and rails.ms is not None
        assert rails.error.startswith("403 from the API server: services ")
        assert 'cannot get resource "services/proxy"' in rails.error
        assert rails.hint.startswith("RBAC: needs get on services/proxy in namespace excel-unified")
        assert rails.app_status is None  # the Status object's "Failure" is not the app's
        assert rails.history == (None,) and rails.reason == "403"
        assert "kubectl auth can-i get services/proxy" in check_lines(snap)[0][1]
    finally:
        await source.close()


async def test_missing_service_and_bad_token(healthy: SimCluster) -> None:
    s = settings(services=("nope-service:80",))
    source = HealthSource(s, target(healthy, s))
    try:
        (nope,) = (await source.snapshot()).endpoints
        assert nope.status == 404 and 'services "nope-service" not found' in nope.error
        assert "health.services" in nope.hint
    finally:
        await source.close()
    cfg = healthy.client_configuration()
    cfg.api_key = {"authorization": "Bearer not-the-token"}
    source = HealthSource(s, connect(s.kube, cfg))
    try:
        (nope,) = (await source.snapshot()).endpoints
        assert nope.status == 401 and "credentials" in nope.hint
    finally:
        await source.close()


async def wait_for_slot(failing: bool, slot_s: float) -> None:
    """Sleep until a rails slot of the wanted kind begins (the sim's clock is time.time)."""
    now = time.time()
    slot = int(now // slot_s) + 1
    while rails_failing("incident", slot * slot_s + slot_s / 2, slot_s) != failing:
        slot += 1
    await asyncio.sleep(slot * slot_s - now + 0.02)


async def test_incident_rails_fails_sometimes_and_fastapi_is_slow(incident: SimCluster) -> None:
    assert incident.server is not None
    slot_s = incident.server.service_proxy.slot_s = 0.5
    s = settings()
    source = HealthSource(s, target(incident, s))
    try:
        await wait_for_slot(False, slot_s)
        snap = await source.snapshot()
        rails, fastapi = snap.endpoints
        assert (rails.status, rails.level, rails.app_status) == (200, Level.OK, "ok")
        # fastapi answers, slowly: 1.5-3 s is past health.latency_ms's warn (500 ms).
        assert fastapi.status == 200 and fastapi.ms is not None and fastapi.ms > 1000
        assert fastapi.level >= Level.WARN and fastapi.reason.endswith("s")
        await wait_for_slot(True, slot_s)
        snap = await source.snapshot()
        rails, fastapi = snap.endpoints
        assert rails.status == 503 and rails.app_status == "error"
        assert rails.error == "HTTP 503 Service Unavailable"
        assert "the app reports itself unhealthy" in rails.hint
        # One failure after a good check is a WARN (a blip); the history shows it.
        assert rails.level is Level.WARN and rails.failing_since == snap.taken_at
        assert rails.history[0] is not None and rails.history[1] is None
        assert fastapi.ms is not None and fastapi.ms > 1000
    finally:
        await source.close()
