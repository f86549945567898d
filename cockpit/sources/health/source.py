"""The Health pane's data: the runbook's `curl .../health` checks, all at once.

Two kinds of endpoint, checked concurrently, each within its own deadline so that one
hung endpoint never delays the others:
  direct         the configured URLs (health.urls), with the system's trust store or
                 health.ca_file; https ones also report the certificate's days left
  service proxy  each health.services NAME:PORT through the API server
                 (/api/v1/namespaces/NS/services/NAME:PORT/proxy/health) with the
                 kubeconfig's identity: no port-forward, and RBAC applies

Levels, per endpoint:
  a failure (no answer, non-2xx)   CRIT; but the first failure after a good check is
                                   WARN (one lost check is a blip, two in a row are not)
  latency                          against health.latency_ms (warn / crit)
  certificate days left            at or under cert_warn_days WARN, cert_crit_days CRIT
  the body's own "status"          ok/healthy/pass/up OK; degraded/warn WARN;
                                   error/fail/down/unhealthy CRIT; anything else WARN
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx

from cockpit.config import HealthSettings, Settings
from cockpit.errors import describe
from cockpit.model import EndpointHealth, HealthSnapshot, Level, worst
from cockpit.sources.health import kube_http
from cockpit.sources.health.check import cert_days_text
from cockpit.sources.health.probe import Probe, probe
from cockpit.sources.health.tls import client_context
from cockpit.sources.http_clients import client_off_loop
from cockpit.thresholds import level_for
from cockpit.units import duration_ms

if TYPE_CHECKING:
    from cockpit.sources.kube.client import KubeTarget

DIRECT = "direct"
PROXY = "service proxy"
NOT_CONNECTED = "not connected to Kubernetes yet"
OK_WORDS = frozenset({"ok", "healthy", "pass", "passed", "up", "green", "success"})
WARN_WORDS = frozenset({"degraded", "warn", "warning", "yellow", "partial"})
CRIT_WORDS = frozenset(
    {"error", "fail", "failed", "failure", "down", "unhealthy", "critical", "red", "dead"}
)


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    url: str  # a full URL, or for a service the API server path
    via: str
    service: str = ""


def url_targets(settings: HealthSettings) -> list[Target]:
    """The configured URLs, named by health.names or by host[:port] (plus the path when
    two share a host)."""
    names: list[str] = []
    for url in settings.urls:
        parts = urlsplit(url)
        host = parts.hostname or url
        names.append(f"{host}:{parts.port}" if parts.port else host)
    out = []
    for url, name in zip(settings.urls, names, strict=True):
        if names.count(name) > 1:
            name += urlsplit(url).path
        out.append(Target(settings.names.get(url, name), url, DIRECT))
    return out


def service_targets(settings: HealthSettings, namespace: str) -> list[Target]:
    return [
        Target(svc, kube_http.proxy_path(namespace, svc, settings.path), PROXY, svc)
        for svc in settings.services
    ]


def app_status_level(status: str | None) -> Level:
    if status is None:
        return Level.OK
    word = status.strip().lower()
    if word in OK_WORDS:
        return Level.OK
    if word in CRIT_WORDS:
        return Level.CRIT
    return Level.WARN  # degraded, or a word we do not know


def cert_level(days: float | None, settings: HealthSettings) -> Level:
    if days is None:
        return Level.OK
    if days <= settings.cert_crit_days:
        return Level.CRIT
    return Level.WARN if days <= settings.cert_warn_days else Level.OK


def probe_level(result: Probe, settings: HealthSettings, good_before: bool) -> tuple[Level, str]:
    """(level, a few words on why it is not OK) for one check."""
    if result.error:
        return (Level.WARN if good_before else Level.CRIT), failure_words(result)
    parts = [
        (level_for(result.ms, settings.latency_ms), duration_ms(result.ms or 0)),
        (cert_level(result.cert_days, settings), f"cert {cert_days_text(result.cert_days)}"),
        (app_status_level(result.app_status), f"status {result.app_status}"),
    ]
    level = worst(p[0] for p in parts)
    if level is Level.OK:
        return level, ""
    return level, next(words for lv, words in parts if lv is level)


def failure_words(result: Probe) -> str:
    if result.status is not None:
        return str(result.status)
    for start, words in (
        ("no answer", "timeout"),
        ("cannot resolve", "DNS"),
        ("TLS", "TLS"),
        ("connection refused", "refused"),
    ):
        if result.error.startswith(start):
            return words
    return "down"


class HealthSource:
    def __init__(
        self,
        settings: Settings,
        kube_target: KubeTarget | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.settings = settings.health
        self.namespace = settings.kube.namespace
        self._clock = clock or (lambda: datetime.now(UTC))
        self._target: KubeTarget | None = None
        self._urls: httpx.AsyncClient | None = None
        self._urls_problem: tuple[str, str] | None = None
        self._api: httpx.AsyncClient | None = None
        self._retired: list[httpx.AsyncClient] = []
        self._history: dict[str, deque[float | None]] = {}
        self._good: dict[str, bool] = {}  # was the last check good
        self._failing_since: dict[str, datetime] = {}
        if kube_target is not None:
            self.attach(kube_target)

    def attach(self, target: KubeTarget) -> None:
        """Late binding: the service checks start once Kubernetes is connected."""
        if target is self._target:
            return
        if self._api is not None:
            self._retired.append(self._api)  # closed by the next snapshot (attach is sync)
            self._api = None
        self._target = target
        self.namespace = target.namespace or self.namespace

    async def close(self) -> None:
        await self._close_retired()
        for client in (self._urls, self._api):
            if client is not None:
                await client.aclose()
        self._urls = self._api = None

    async def _close_retired(self) -> None:
        while self._retired:
            await self._retired.pop().aclose()

    # -- the checks ---------------------------------------------------------------------

    async def snapshot(self) -> HealthSnapshot:
        await self._close_retired()
        urls = url_targets(self.settings)
        services = service_targets(self.settings, self.namespace)
        # The URLs start at once; the services wait for the credentials (usually instant).
        if urls:
            await self._make_url_client()
        url_checks = [asyncio.ensure_future(self._check_url(t)) for t in urls]
        try:
            service_checks = await self._service_checks(services)
            results = await asyncio.gather(*url_checks, *service_checks)
        finally:
            for task in url_checks:
                task.cancel()  # only matters when this poll itself was cancelled
        now = self._clock()
        endpoints = tuple(
            self._record(t, r, now) for t, r in zip([*urls, *services], results, strict=True)
        )
        return HealthSnapshot(
            endpoints=endpoints, taken_at=now, level=worst(e.level for e in endpoints)
        )

    async def _make_url_client(self) -> None:
        """The URL checks' client, once (off the loop: see http_clients.py)."""
        if self._urls is None and self._urls_problem is None:
            try:
                self._urls = await client_off_loop(self._new_url_client)
            except (OSError, ValueError) as exc:  # a missing or unreadable ca_file
                message, _ = describe(exc)
                self._urls_problem = (
                    f"cannot load health.ca_file {self.settings.ca_file}: {message}",
                    "fix or remove health.ca_file in the settings",
                )

    def _new_url_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            verify=client_context(self.settings.ca_file),
            timeout=httpx.Timeout(self.settings.timeout),
            follow_redirects=True,
            headers={"User-Agent": "cockpit/0.1 health check"},
        )

    async def _check_url(self, target: Target) -> Probe:
        client = self._urls
        if client is None:
            error, hint = self._urls_problem or ("no HTTP client", "")
            return Probe(None, None, None, None, error, hint)
        return await probe(client, target.url, self.settings.timeout)

    async def _service_checks(self, targets: list[Target]) -> list:
        if not targets:
            return []
        if self._target is None:
            pending = Probe(None, None, None, None, NOT_CONNECTED, "")
            return [_done(pending) for _ in targets]
        cfg = self._target.api.configuration
        started = time.monotonic()
        try:
            if self._api is None:
                self._api = await client_off_loop(kube_http.api_client, cfg, self.settings.timeout)
            async with asyncio.timeout(self.settings.timeout):
                headers = await kube_http.auth_headers(cfg)
        except Exception as exc:  # a bad client certificate, a failing exec plugin
            message, hint = describe(exc)
            failed = Probe(None, None, None, None, f"cannot reach the API server: {message}", hint)
            return [_done(failed) for _ in targets]
        api, ns, ext = self._api, self.namespace, kube_http.extensions(cfg)
        # One deadline per check, credentials included.
        left = max(0.1, self.settings.timeout - (time.monotonic() - started))
        return [
            probe(
                api,
                kube_http.server_url(cfg, t.url),
                left,
                headers=headers,
                extensions=ext,
                proxy_ns=ns,
            )
            for t in targets
        ]

    # -- history and levels -------------------------------------------------------------

    def _record(self, target: Target, result: Probe, now: datetime) -> EndpointHealth:
        pending = result.error == NOT_CONNECTED
        history = self._history.setdefault(target.name, deque(maxlen=self.settings.history))
        good_before = self._good.get(target.name, False)
        reason = ""
        if pending:
            level = Level.OK  # the Kubernetes pane already says why it is not connected
        else:
            history.append(None if result.error else result.ms)
            level, reason = probe_level(result, self.settings, good_before)
            self._good[target.name] = not result.error
            if result.error:
                self._failing_since.setdefault(target.name, now)
            else:
                self._failing_since.pop(target.name, None)
        url = target.url
        if target.via == PROXY and self._target is not None:
            url = kube_http.server_url(self._target.api.configuration, url)
        return EndpointHealth(
            name=target.name,
            url=url,
            via=target.via,
            status=result.status,
            ms=None if pending else result.ms,
            history=tuple(history),
            app_status=result.app_status,
            cert_days=result.cert_days,
            error=result.error,
            hint=result.hint,
            level=level,
            checked_at=None if pending else now,
            failing_since=self._failing_since.get(target.name),
            reason=reason,
        )


async def _done(result: Probe) -> Probe:
    return result
