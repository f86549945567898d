"""HealthSource on direct URLs, against real local servers: https with trustme
certificates (10 days left WARN, 2 days CRIT, expired and unknown-CA as TLS errors), a
server that accepts and never answers (a timeout, while the others answer on time), a
DNS failure, a refused port, and a JSON body whose own status is "degraded"."""

from __future__ import annotations

import asyncio
import ssl
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import trustme
from aiohttp import web

from cockpit.config import HealthSettings, Settings
from cockpit.model import EndpointHealth, Level
from cockpit.sources.health import HealthSource, check_lines
from cockpit.sources.health.probe import Probe
from cockpit.sources.health.source import probe_level

Serve = Callable[..., Awaitable[str]]


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


def health_app(body: dict, status: int = 200) -> web.Application:
    async def health(_: web.Request) -> web.Response:
        return web.json_response(body, status=status)

    app = web.Application()
    app.router.add_get("/health", health)
    return app


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """serve(app, cert=None) -> base URL of a real server on 127.0.0.1 (https with cert)."""
    runners: list[web.AppRunner] = []

    async def start(app: web.Application, cert: trustme.LeafCert | None = None) -> str:
        context = None
        if cert is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            cert.configure_cert(context)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        runners.append(runner)
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
        await site.start()
        port = runner.addresses[0][1]
        return f"{'https' if cert else 'http'}://127.0.0.1:{port}"

    yield start
    for runner in runners:
        await runner.cleanup()


def leaf(ca: trustme.CA, days: float) -> trustme.LeafCert:
    now = datetime.now(UTC)
    return ca.issue_cert(
        "127.0.0.1",
        "localhost",
        not_before=now - timedelta(days=30),
        not_after=now + timedelta(days=days),
    )


def source_for(*urls: str, ca_file: Path | None = None, timeout: float = 2.0) -> HealthSource:
    health = HealthSettings(urls=urls, services=(), ca_file=ca_file, timeout=timeout)
    return HealthSource(Settings(health=health))


async def one(source: HealthSource) -> tuple[EndpointHealth, ...]:
    try:
        return (await source.snapshot()).endpoints
    finally:
        await source.close()


async def test_certificate_days_left(serve: Serve, ca: trustme.CA, ca_file: Path) -> None:
    ten = await serve(health_app({"status": "ok"}), leaf(ca, 10))
    two = await serve(health_app({"status": "ok"}), leaf(ca, 2))
    sixty = await serve(health_app({"status": "healthy"}), leaf(ca, 60))
    e10, e2, e60 = await one(
        source_for(f"{ten}/health", f"{two}/health", f"{sixty}/health", ca_file=ca_file)
    )
    assert e10.status == 200 and e10.cert_days is not None and 9.9 < e10.cert_days <= 10
    assert e10.level is Level.WARN and e10.reason == "cert 10 d" and e10.error == ""
    assert e2.cert_days is not None and 1.9 < e2.cert_days <= 2
    assert e2.level is Level.CRIT and e2.reason == "cert 2 d"
    assert e60.level is Level.OK and e60.app_status == "healthy"
    assert e10.name == ten.removeprefix("https://")  # host:port when a port is given


async def test_expired_and_untrusted_certificates_are_tls_errors(
    serve: Serve, ca: trustme.CA, ca_file: Path
) -> None:
    expired = await serve(health_app({"status": "ok"}), leaf(ca, -1))
    stranger = await serve(health_app({"status": "ok"}), leaf(trustme.CA(), 90))
    e_expired, e_stranger = await one(
        source_for(f"{expired}/health", f"{stranger}/health", ca_file=ca_file)
    )
    assert e_expired.status is None and e_expired.level is Level.CRIT
    assert "certificate has expired" in e_expired.error and e_expired.reason == "TLS"
    assert "expired" in e_expired.hint
    assert e_stranger.error.startswith("TLS certificate not accepted (")
    assert "unable to get local issuer certificate" in e_stranger.error
    assert "health.ca_file" in e_stranger.hint
    # Without the CA file, the system's trust store does not know trustme's CA either.
    (plain,) = await one(source_for(f"{stranger}/health"))
    assert plain.error.startswith("TLS certificate not accepted")


async def test_a_hung_endpoint_times_out_while_the_others_answer(serve: Serve) -> None:
    held: list[asyncio.StreamWriter] = []

    async def accept_and_hold(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)  # never answers

    hang = await asyncio.start_server(accept_and_hold, "127.0.0.1", 0)
    hang_port = hang.sockets[0].getsockname()[1]
    fast = await serve(health_app({"status": "ok"}))
    source = source_for(f"http://127.0.0.1:{hang_port}/health", f"{fast}/health", timeout=0.6)
    try:
        started = time.perf_counter()
        snap = await source.snapshot()
        took = time.perf_counter() - started
        hung, ok = snap.endpoints
        assert 0.55 < took < 1.2  # the hung one's deadline, not the sum of both
        assert hung.error == "no answer within 0.6 s" and hung.status is None
        assert hung.level is Level.CRIT and hung.reason == "timeout" and hung.ms is None
        assert ok.status == 200 and ok.level is Level.OK and ok.ms is not None
        assert ok.ms < 300
        assert snap.level is Level.CRIT
    finally:
        await source.close()
        for writer in held:
            writer.close()
        hang.close()


async def test_dns_refused_and_degraded(serve: Serve) -> None:
    degraded = await serve(health_app({"status": "degraded", "database": "slow"}))
    down = await serve(health_app({"status": "error"}, 503))
    refused = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = refused.sockets[0].getsockname()[1]
    refused.close()
    await refused.wait_closed()
    e_dns, e_refused, e_degraded, e_down = await one(
        source_for(
            "https://health.excel-unified.invalid/health",
            f"http://127.0.0.1:{port}/health",
            f"{degraded}/health",
            f"{down}/health",
        )
    )
    assert e_dns.name == "health.excel-unified.invalid"
    assert e_dns.error == "cannot resolve host health.excel-unified.invalid"
    assert "DNS" in e_dns.hint and e_dns.level is Level.CRIT and e_dns.reason == "DNS"
    assert e_refused.error == f"connection refused by 127.0.0.1:{port}"
    assert e_degraded.status == 200 and e_degraded.app_status == "degraded"
    assert e_degraded.level is Level.WARN and e_degraded.reason == "status degraded"
    assert e_down.status == 503 and e_down.app_status == "error" and e_down.level is Level.CRIT
    assert e_down.error == "HTTP 503 Service Unavailable"


async def test_names_history_and_check_lines(serve: Serve) -> None:
    url = await serve(health_app({"status": "ok"}))
    health = HealthSettings(
        urls=(f"{url}/health",), services=(), names={f"{url}/health": "public site"}, history=3
    )
    source = HealthSource(Settings(health=health))
    try:
        for _ in range(5):
            snap = await source.snapshot()
    finally:
        await source.close()
    (site,) = snap.endpoints
    assert site.name == "public site" and site.via == "direct" and site.url == f"{url}/health"
    assert len(site.history) == 3 and all(v is not None for v in site.history)
    ((level, line),) = check_lines(snap)
    assert level is Level.OK and line.startswith("public site (direct): 200 in ")


async def test_a_missing_ca_file_is_the_endpoints_error(tmp_path: Path) -> None:
    (e,) = await one(source_for("https://example.invalid/health", ca_file=tmp_path / "none.pem"))
    assert e.error.startswith("cannot load health.ca_file") and "ca_file" in e.hint


def test_one_failure_after_good_checks_is_a_warn() -> None:
    health = HealthSettings()
    failed = Probe(None, None, None, None, "no answer within 5 s", "")
    assert probe_level(failed, health, good_before=True) == (Level.WARN, "timeout")
    assert probe_level(failed, health, good_before=False) == (Level.CRIT, "timeout")
    slow = Probe(200, 2500.0, "ok", None)
    assert probe_level(slow, health, good_before=False) == (Level.CRIT, "2.5s")


async def test_the_url_client_is_made_off_the_loop(serve: Serve) -> None:
    """Its CA store took 30 ms on the loop, a stall at start-up (http_clients.py)."""
    base = await serve(health_app({"status": "ok"}))
    loop_thread = threading.get_ident()
    made_in: list[int] = []

    class Recording(HealthSource):
        def _new_url_client(self) -> httpx.AsyncClient:
            made_in.append(threading.get_ident())
            return super()._new_url_client()

    source = Recording(Settings(health=HealthSettings(urls=(f"{base}/health",), services=())))
    try:
        (e,) = (await source.snapshot()).endpoints
        (e_again,) = (await source.snapshot()).endpoints
    finally:
        await source.close()
    assert e.status == 200 and e_again.status == 200
    assert len(made_in) == 1 and made_in[0] != loop_thread  # once, in a worker thread
