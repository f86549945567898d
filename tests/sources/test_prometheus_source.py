"""PrometheusSource against a real Prometheus (Debian's binary on a free port) scraping
the tests' own exposition server, with the shipped rules: alerts, PromQL figures, and
every failure worded with a hint.  Also the rules file itself, through promtool."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web

from cockpit.config import PrometheusSettings, Settings
from cockpit.errors import SourceError
from cockpit.model import Level
from cockpit.sim.pace import Pace
from cockpit.sim.runner import SimCluster
from cockpit.sources.kube.client import connect
from cockpit.sources.prometheus.check import check_lines
from cockpit.sources.prometheus.source import NOT_CONFIGURED, PrometheusSource
from tests.sources.prom_real import (
    RULES,
    RULES_TEST,
    Exposition,
    RealPrometheus,
    Traffic,
    binary,
    config_text,
    free_port,
    short_rules,
)

# -- the shipped rules ------------------------------------------------------------------


def test_promtool_accepts_the_shipped_rules() -> None:
    done = subprocess.run(
        [binary("promtool"), "check", "rules", str(RULES)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 2 rules found" in done.stdout


def test_promtool_unit_tests_fire_above_and_not_below_the_thresholds() -> None:
    done = subprocess.run(
        [binary("promtool"), "test", "rules", str(RULES_TEST)],
        capture_output=True,
        text=True,
        cwd=RULES_TEST.parent,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_rules_are_the_runbooks() -> None:
    text = RULES.read_text()
    assert 'expr: rate(http_requests_total{status=~"5.."}[5m]) > 0.05' in text
    assert "expr: container_memory_usage_bytes / container_spec_memory_limit_bytes > 0.9" in text
    assert text.count("for: 5m") == 2


# -- a real Prometheus ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def prom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealPrometheus]:
    rules = short_rules(tmp_path_factory.mktemp("rules") / "rules.yml", "3s")
    traffic = Traffic()
    with Exposition(traffic) as exp, RealPrometheus(config_text([exp.target], rules)) as p:
        # Two scrapes make a rate; the rule then fires after its 3 s.
        p.wait_for_alert("HighErrorRate", "firing", deadline_s=30)
        yield p


def settings_for(url: str | None = None, **prom: object) -> Settings:
    return Settings(prometheus=PrometheusSettings(url=url, **prom))  # type: ignore[arg-type]


async def test_firing_alert_with_its_runbook_section_and_level(prom: RealPrometheus) -> None:
    source = PrometheusSource(settings_for(prom.url))
    try:
        snap = await source.snapshot()
    finally:
        await source.close()
    assert snap.configured and snap.url == prom.url and snap.message == ""
    firing = [a for a in snap.alerts if a.name == "HighErrorRate"]
    # Per series: fastapi's 500s only (rails answers no 5xx).
    assert len(firing) == 1
    alert = firing[0]
    assert alert.state == "firing" and alert.severity == "critical"
    assert alert.level is Level.CRIT and snap.level is Level.CRIT and snap.firing == 1
    assert alert.summary == "High error rate detected"
    assert alert.runbook.startswith("4.1 서비스 응답 없음")
    assert ("app", "fastapi") in alert.labels and ("status", "500") in alert.labels
    assert alert.since is not None and alert.since <= snap.taken_at
    lines = check_lines(snap)
    assert lines[0][0] is Level.CRIT
    assert lines[0][1].startswith("alert HighErrorRate firing (critical) for ")


async def test_figures_per_upstream_and_overall(prom: RealPrometheus) -> None:
    source = PrometheusSource(settings_for(prom.url))
    try:
        snap = await source.snapshot()
    finally:
        await source.close()
    by = {f.upstream: f for f in snap.figures}
    assert list(by) == ["all", "fastapi", "rails"]
    fastapi, rails, every = by["fastapi"], by["rails"], by["all"]
    # Every 5th fastapi request is a 500: 20 %; rails none; overall 40/(40+60) of 20 %.
    assert fastapi.error_pct == pytest.approx(20.0, abs=1.0)
    assert rails.error_pct == 0.0
    assert every.error_pct == pytest.approx(8.0, abs=1.0)
    assert fastapi.rps and rails.rps and every.rps
    assert every.rps == pytest.approx(fastapi.rps + rails.rps, rel=1e-6)
    # rails: 20-300 ms, so its quantiles sit inside the 0.025-0.5 s buckets.
    assert rails.p50_ms is not None and 25 <= rails.p50_ms <= 250
    assert rails.p99_ms is not None and rails.p99_ms <= 500
    assert fastapi.p99_ms is not None and 1000 <= fastapi.p99_ms <= 5000


async def test_a_bad_selector_keeps_the_alerts_and_says_why(prom: RealPrometheus) -> None:
    source = PrometheusSource(settings_for(prom.url, selector='app=~"(unclosed"'))
    try:
        snap = await source.snapshot()
    finally:
        await source.close()
    assert any(a.name == "HighErrorRate" for a in snap.alerts)
    assert snap.figures == ()
    assert snap.message.startswith("PromQL figures: Prometheus at ")
    assert "bad_data" in snap.message
    assert "prometheus.selector" in snap.hint


# -- failures in words ----------------------------------------------------------------------


async def test_connection_refused_is_a_source_error_with_a_hint() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    source = PrometheusSource(settings_for(url, timeout=2))
    try:
        with pytest.raises(SourceError) as caught:
            await source.snapshot()
    finally:
        await source.close()
    assert caught.value.message == f"Prometheus at {url}: connection refused"
    assert "COCKPIT_PROMETHEUS__URL" in caught.value.hint


async def _serve(handler: web.Handler) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}"


async def test_a_hanging_server_times_out_in_words() -> None:
    release = asyncio.Event()

    async def hang(request: web.Request) -> web.Response:
        await release.wait()  # past the client's timeout; released at the end
        return web.Response(text="late")

    runner, url = await _serve(hang)
    source = PrometheusSource(settings_for(url, timeout=0.5))
    try:
        with pytest.raises(SourceError) as caught:
            await asyncio.wait_for(source.snapshot(), 5)
    finally:
        release.set()
        await source.close()
        await runner.cleanup()
    assert caught.value.message == f"Prometheus at {url}: no answer within 0.5 s"
    assert "prometheus.timeout" in caught.value.hint


async def test_something_else_than_prometheus_is_named_so() -> None:
    async def grafana(request: web.Request) -> web.Response:
        return web.Response(text="<html>Grafana</html>", content_type="text/html")

    runner, url = await _serve(grafana)
    source = PrometheusSource(settings_for(url))
    try:
        with pytest.raises(SourceError) as caught:
            await source.snapshot()
    finally:
        await source.close()
        await runner.cleanup()
    assert "unexpected answer" in caught.value.message
    assert "not Grafana" in caught.value.hint


# -- no URL: discovery through the API server's service proxy -------------------------------


async def test_nothing_configured_and_no_kubernetes() -> None:
    source = PrometheusSource(settings_for(None))
    snap = await source.snapshot()
    assert not snap.configured and snap.level is Level.OK and snap.alerts == ()
    assert snap.message.startswith(NOT_CONFIGURED)
    assert "COCKPIT_PROMETHEUS__URL" in snap.hint and "prometheus" in snap.hint
    assert check_lines(snap)[0][0] is Level.OK


@pytest.fixture
def sim() -> Iterator[SimCluster]:
    cluster = SimCluster("healthy", pace=Pace.fast()).start()
    yield cluster
    cluster.stop()


async def test_no_prometheus_service_in_the_cluster_is_not_configured(sim: SimCluster) -> None:
    target = connect(Settings().kube, sim.client_configuration(), namespace=sim.namespace)
    source = PrometheusSource(settings_for(None))
    source.attach(target)
    assert sim.server is not None
    before = sim.server.requests["proxy"]
    try:
        snaps = [await source.snapshot() for _ in range(3)]
    finally:
        await source.close()
        target.close()
    for snap in snaps:
        assert not snap.configured
        assert snap.message == f"{NOT_CONFIGURED}: no prometheus:9090 service in {sim.namespace}"
    # One request a poll finds the service missing; its five queries are never sent.
    assert sim.server.requests["proxy"] - before == 3


async def test_rbac_refusing_the_service_proxy_says_which_permission(sim: SimCluster) -> None:
    sim.authz.deny_service_proxy()
    target = connect(Settings().kube, sim.client_configuration(), namespace=sim.namespace)
    source = PrometheusSource(settings_for(None), lambda: target)
    try:
        with pytest.raises(SourceError) as caught:
            await source.snapshot()
    finally:
        await source.close()
        target.close()
    assert "refused the service proxy (403" in caught.value.message
    assert "services/proxy" in caught.value.hint


async def test_discovered_through_the_service_proxy(prom: RealPrometheus, tmp_path: Path) -> None:
    """An API server stand-in that checks the bearer token and forwards
    /api/v1/namespaces/NS/services/prometheus:9090/proxy/PATH to the real Prometheus."""
    import httpx
    from kubernetes import client as k8s

    seen: list[str] = []

    async def apiserver(request: web.Request) -> web.Response:
        prefix = "/api/v1/namespaces/excel-unified/services/prometheus:9090/proxy/"
        if request.headers.get("Authorization") != "Bearer t0ken":
            return web.json_response({"kind": "Status", "code": 401}, status=401)
        if not request.path.startswith(prefix):
            return web.json_response({"kind": "Status", "code": 404}, status=404)
        seen.append(request.path)
        async with httpx.AsyncClient() as forward:
            answer = await forward.get(
                f"{prom.url}/{request.path.removeprefix(prefix)}", params=request.query
            )
        return web.Response(body=answer.content, status=answer.status_code)

    runner, url = await _serve(apiserver)
    cfg = k8s.Configuration()
    cfg.host = url
    cfg.api_key = {"authorization": "Bearer t0ken"}
    target = connect(Settings().kube, cfg, namespace="excel-unified")
    source = PrometheusSource(settings_for(None), target)
    try:
        snap = await source.snapshot()
    finally:
        await source.close()
        await runner.cleanup()
        target.close()
    assert snap.configured
    assert snap.url == f"{url}/api/v1/namespaces/excel-unified/services/prometheus:9090/proxy/"
    assert any(a.name == "HighErrorRate" and a.state == "firing" for a in snap.alerts)
    assert {f.upstream for f in snap.figures} == {"all", "fastapi", "rails"}
    assert any(p.endswith("/api/v1/alerts") for p in seen)
