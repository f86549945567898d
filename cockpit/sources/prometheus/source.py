"""The Prometheus source: SLO figures from PromQL and the firing/pending alerts.

Where Prometheus is:
  settings.prometheus.url        directly (COCKPIT_PROMETHEUS__URL)
  else settings.prometheus.discover ("prometheus:9090"): the service of that name in the
                                 namespace, through the API server's service proxy
                                 (/api/v1/namespaces/NS/services/NAME:PORT/proxy/...), so
                                 no port-forward is needed and RBAC applies
Neither (no url, discovery off, or the proxy says the service does not exist): a
snapshot with configured=False and a hint how to add one; that is not a failure.
Configured but failing (refused, timed out, forbidden, not Prometheus, an error from
Prometheus): the poll raises SourceError, so every pane of SOURCES "prometheus" goes
stale and shows the words and the hint; the log-derived SLOs, another source, go on.
The alerts come first: when only the PromQL figures fail, the snapshot still carries the
alerts, with the figures' problem in `message`.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from cockpit.config import PrometheusSettings, Settings, redact
from cockpit.errors import SourceError, certificate_problem
from cockpit.model import Level, PrometheusSnapshot, worst
from cockpit.sources.health.kube_http import api_client, auth_headers, extensions, proxy_path
from cockpit.sources.http_clients import client_off_loop
from cockpit.sources.kube.client import KubeTarget
from cockpit.sources.prometheus.alerts import parse_alerts
from cockpit.sources.prometheus.promql import figures, queries, vector

NOT_CONFIGURED = "no Prometheus configured"
SET_URL = "set prometheus.url (or COCKPIT_PROMETHEUS__URL)"

TargetGetter = Callable[[], "KubeTarget | None"]


class _NotDiscovered(Exception):
    """The API server says the discovered service does not exist (404 Status)."""


@dataclass
class _Endpoint:
    client: httpx.AsyncClient
    shown: str  # the URL a person reads (no credentials)
    key: object  # what it was built from: rebuilt when that changes
    # Through the API server: the kubernetes client's Configuration, namespace, service.
    cfg: Any = None
    namespace: str = ""
    service: str = ""

    @property
    def via_proxy(self) -> bool:
        return self.cfg is not None

    def path(self, path: str) -> str:
        if self.cfg is None:
            return path.lstrip("/")  # relative: kept under a base URL's own path
        # Absolute: the API server's address from the client's Configuration.
        return str(self.cfg.host).rstrip("/") + proxy_path(self.namespace, self.service, path)


class PrometheusSource:
    def __init__(
        self,
        settings: Settings,
        kube_target: TargetGetter | KubeTarget | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.settings = settings
        self.prom: PrometheusSettings = settings.prometheus
        self._target: TargetGetter = _getter(kube_target)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._endpoint: _Endpoint | None = None
        # Making a client awaits a thread: the poll and a range query must not both make one.
        self._endpoint_lock = asyncio.Lock()
        self._queries = queries(self.prom.selector)
        # The discovered service answered the last poll: its queries go in parallel.
        self._discovered = False

    def attach(self, target: KubeTarget | TargetGetter) -> None:
        """Late binding: the Kubernetes target, once connected (for discovery)."""
        self._target = _getter(target)

    async def close(self) -> None:
        self._discovered = False
        if self._endpoint is not None:
            client, self._endpoint = self._endpoint.client, None
            await client.aclose()

    # -- the poll -------------------------------------------------------------------------

    async def snapshot(self) -> PrometheusSnapshot:
        now = self._clock()
        endpoint = await self._current_endpoint()
        if endpoint is None:
            return self._not_configured(now)
        names = list(self._queries)
        headers = await auth_headers(endpoint.cfg) if endpoint.via_proxy else {}
        asked_alerts = self._get(endpoint, "/api/v1/alerts", {}, headers)
        figures_asked = (  # lazy: a request is made only when iterated
            self._get(endpoint, "/api/v1/query", {"query": self._queries[n]}, headers)
            for n in names
        )
        if endpoint.via_proxy and not self._discovered:
            # Not seen through the proxy yet: one request finds out whether the service
            # is there (most clusters have none) before its queries are sent.  Without
            # this, a cluster with no Prometheus got six proxy requests a poll, all 404.
            (alerts_answer,) = await asyncio.gather(asked_alerts, return_exceptions=True)
            if isinstance(alerts_answer, _NotDiscovered):
                return self._not_configured(now, discovered_missing=True)  # none sent
            figure_answers = (
                []  # the alerts' failure is the poll's, below
                if isinstance(alerts_answer, BaseException)
                else await asyncio.gather(*figures_asked, return_exceptions=True)
            )
        else:
            answers = await asyncio.gather(asked_alerts, *figures_asked, return_exceptions=True)
            alerts_answer, figure_answers = answers[0], answers[1:]
        self._discovered = endpoint.via_proxy and not isinstance(alerts_answer, _NotDiscovered)
        if isinstance(alerts_answer, _NotDiscovered):
            return self._not_configured(now, discovered_missing=True)
        if isinstance(alerts_answer, BaseException):
            raise self._error(endpoint, alerts_answer) from None
        try:
            alerts = parse_alerts(alerts_answer)
        except ValueError as exc:
            raise _not_prometheus(endpoint, f"/api/v1/alerts: {exc}") from None
        results: dict[str, dict[str, float | None]] = {}
        problem: SourceError | None = None
        for name, answer in zip(names, figure_answers, strict=True):
            try:
                if isinstance(answer, BaseException):
                    raise answer
                results[name] = vector(answer)
            except ValueError as exc:
                problem = problem or _not_prometheus(endpoint, f"/api/v1/query: {exc}")
            except Exception as exc:
                problem = problem or self._error(endpoint, exc)
        level = worst(a.level for a in alerts)
        message = hint = ""
        if problem is not None:
            level = max(level, Level.WARN)
            message, hint = f"PromQL figures: {problem.message}", problem.hint
        return PrometheusSnapshot(
            url=endpoint.shown,
            configured=True,
            alerts=alerts,
            figures=figures(results) if problem is None else (),
            taken_at=now,
            level=level,
            message=message,
            hint=hint,
        )

    @property
    def url(self) -> str:
        """Where the last request went, as a person reads it ("" before the first)."""
        return self._endpoint.shown if self._endpoint is not None else ""

    async def range_query(self, query: str, start: float, end: float, step: float) -> Any:
        """`/api/v1/query_range` (epoch seconds) at the same Prometheus as the poll; its
        `data`, or None when no Prometheus is configured or discovered.  Raises
        SourceError as the poll does."""
        endpoint = await self._current_endpoint()
        if endpoint is None:
            return None
        headers = await auth_headers(endpoint.cfg) if endpoint.via_proxy else {}
        params = {"query": query, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"}
        try:
            return await self._get(endpoint, "/api/v1/query_range", params, headers)
        except _NotDiscovered:
            return None
        except Exception as exc:
            raise self._error(endpoint, exc) from None

    # -- where Prometheus is --------------------------------------------------------------

    async def _current_endpoint(self) -> _Endpoint | None:
        async with self._endpoint_lock:
            return await self._choose_endpoint()

    async def _choose_endpoint(self) -> _Endpoint | None:
        timeout = self.prom.timeout
        if self.prom.url:
            key: object = ("url", self.prom.url)
            if self._endpoint is None or self._endpoint.key != key:
                await self.close()
                client = await client_off_loop(
                    httpx.AsyncClient,
                    base_url=self.prom.url,
                    timeout=httpx.Timeout(timeout),
                    headers={"User-Agent": "cockpit/0.1"},
                )
                self._endpoint = _Endpoint(client, redact(self.prom.url), key)
            return self._endpoint
        target = self._target()
        service = self.prom.discover.strip()
        if target is None or not service:
            await self.close()
            return None
        cfg = target.api.configuration
        key = ("proxy", id(target), target.namespace, service)
        if self._endpoint is None or self._endpoint.key != key:
            await self.close()
            shown = f"{str(cfg.host).rstrip('/')}{proxy_path(target.namespace, service, '')}"
            client = await client_off_loop(api_client, cfg, timeout)
            self._endpoint = _Endpoint(client, shown, key, cfg, target.namespace, service)
        return self._endpoint

    def _not_configured(
        self, now: datetime, discovered_missing: bool = False
    ) -> PrometheusSnapshot:
        service = self.prom.discover.strip()
        target = self._target()
        if discovered_missing and target is not None:
            why = f"no {service} service in {target.namespace}"
        elif not service:
            why = "discovery is off (prometheus.discover is empty)"
        elif target is None:
            why = "Kubernetes not connected, so no service to discover"
        else:
            why = ""
        hint = f"{SET_URL}, or deploy a `prometheus` service" + (
            f" ({service} in the namespace, reached through the API server)" if service else ""
        )
        return PrometheusSnapshot(
            url="",
            configured=False,
            alerts=(),
            figures=(),
            taken_at=now,
            level=Level.OK,
            message=NOT_CONFIGURED + (f": {why}" if why else ""),
            hint=hint,
        )

    # -- one request ----------------------------------------------------------------------

    async def _get(
        self, endpoint: _Endpoint, path: str, params: dict[str, str], headers: dict[str, str]
    ) -> Any:
        response = await endpoint.client.get(
            endpoint.path(path),
            params=params,
            headers=headers,
            extensions=extensions(endpoint.cfg) if endpoint.via_proxy else {},
        )
        body = _json(response)
        if isinstance(body, dict) and body.get("status") in ("success", "error"):
            if body["status"] == "error":  # Prometheus' own words, whatever the HTTP status
                error_type = str(body.get("errorType") or "error")
                raise SourceError(
                    f"Prometheus says {error_type}: {str(body.get('error', ''))[:300]}",
                    _prometheus_hint(error_type),
                )
            return body.get("data")
        if endpoint.via_proxy and isinstance(body, dict) and body.get("kind") == "Status":
            raise _apiserver_status(response.status_code, body, self.prom.discover)
        if response.status_code >= 400:
            raise SourceError(
                f"HTTP {response.status_code} from {endpoint.shown}{path}",
                "is this the Prometheus server's address (not Grafana or Alertmanager)?",
            )
        raise _not_prometheus(endpoint, f"{path}: not Prometheus' JSON answer")

    def _error(self, endpoint: _Endpoint, exc: BaseException) -> SourceError:
        where = f"Prometheus at {endpoint.shown}"
        if isinstance(exc, SourceError):
            return SourceError(f"{where}: {exc.message}", exc.hint, exc.retry_in)
        if (cert := certificate_problem(exc, kube=endpoint.via_proxy)) is not None:
            return SourceError(f"{where}: {cert[0]}", cert[1])
        to_fix = (
            "is the API server reachable?" if endpoint.via_proxy else f"is it running? {SET_URL}"
        )
        if isinstance(exc, httpx.TimeoutException):
            return SourceError(
                f"{where}: no answer within {self.prom.timeout:g} s",
                f"it is slow or unreachable (prometheus.timeout); {to_fix}",
            )
        if isinstance(exc, httpx.ConnectError):
            return SourceError(f"{where}: {_connect_words(exc)}", to_fix)
        if isinstance(exc, httpx.HTTPError):
            return SourceError(f"{where}: {type(exc).__name__}: {redact(str(exc))[:200]}", to_fix)
        return SourceError(f"{where}: {type(exc).__name__}: {redact(str(exc))[:200]}", "")


def _connect_words(exc: BaseException) -> str:
    """httpx wraps the socket's error (anyio's "All connection attempts failed" on
    top): the words come from the innermost cause."""
    seen: set[int] = set()
    item: BaseException | None = exc
    while item is not None and id(item) not in seen:
        seen.add(id(item))
        if isinstance(item, ConnectionRefusedError):
            return "connection refused"
        if isinstance(item, socket.gaierror):
            return "cannot resolve the host name"
        item = item.__cause__ or item.__context__
    text = str(exc).lower()
    if "refused" in text:
        return "connection refused"
    if "name or service" in text or "nodename" in text:
        return "cannot resolve the host name"
    return f"cannot connect ({redact(str(exc))[:120]})"


def _getter(target: TargetGetter | KubeTarget | None) -> TargetGetter:
    if target is None or isinstance(target, KubeTarget):
        return lambda: target
    return target


def _json(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return None


def _not_prometheus(endpoint: _Endpoint, detail: str) -> SourceError:
    return SourceError(
        f"Prometheus at {endpoint.shown}: unexpected answer ({detail[:200]})",
        "is this the Prometheus server's address (not Grafana or Alertmanager)?",
    )


def _prometheus_hint(error_type: str) -> str:
    if error_type == "bad_data":
        return "the query was refused: check prometheus.selector (PromQL label matchers)"
    if error_type in ("timeout", "canceled"):
        return "Prometheus is overloaded; raise its query timeout or poll less often"
    return "see Prometheus' own log"


def _apiserver_status(status: int, body: dict[str, Any], service: str) -> Exception:
    words = redact(str(body.get("message") or body.get("reason") or status))[:200]
    if status == 404:
        return _NotDiscovered(words)
    if status in (401, 403):
        return SourceError(
            f"the API server refused the service proxy ({status}: {words})",
            f"RBAC: ask for `get` on services/proxy ({service}) in the namespace, or {SET_URL}",
        )
    if status == 503:
        return SourceError(
            f"service {service} has no ready Prometheus behind it ({words})",
            "check the prometheus pods (kubectl get pods -l app=prometheus)",
        )
    return SourceError(f"the API server's service proxy answered {status}: {words}", "")
