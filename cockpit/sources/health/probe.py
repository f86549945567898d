"""One health check: GET a URL with a deadline, and say what came back in words.

Everything that can go wrong ends as a `Probe` with an error and a hint, never an
exception: a hang is "no answer within 5 s", a DNS failure "cannot resolve host ...",
a refused certificate its own words.  When the URL is the API server's service proxy,
a Kubernetes `Status` body is the API server speaking (RBAC, no endpoints), not the app.
"""

from __future__ import annotations

import asyncio
import errno
import json
import socket
import time
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import httpx

from cockpit.config import redact
from cockpit.sources.health.tls import cert_days, tls_problem
from cockpit.textsafe import one_line

MAX_BODY = 64 * 1024  # a health body is small; a huge one is not read past this


@dataclass(frozen=True, slots=True)
class Probe:
    status: int | None
    ms: float | None  # None when nothing answered
    app_status: str | None
    cert_days: float | None
    error: str = ""
    hint: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


async def probe(
    client: httpx.AsyncClient,
    url: str,
    timeout: float,
    *,
    headers: dict[str, str] | None = None,
    extensions: dict[str, Any] | None = None,
    proxy_ns: str | None = None,
) -> Probe:
    """GET `url` within `timeout` seconds overall (connect, TLS, headers and body)."""
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            async with client.stream(
                "GET", url, headers=headers, extensions=extensions or {}
            ) as response:
                body = await _read(response)
                ms = (time.perf_counter() - started) * 1000
                days = cert_days(response)
    except (TimeoutError, httpx.TimeoutException):
        return Probe(
            None,
            None,
            None,
            None,
            f"no answer within {round(timeout, 1):g} s",
            "the endpoint hangs or is overloaded: check its pods and what is in front of them",
        )
    except Exception as exc:  # every failure is a state of this endpoint
        error, hint = classify(exc, url)
        return Probe(None, None, None, None, error, hint)
    return answered(response.status_code, body, ms, days, proxy_ns)


async def _read(response: httpx.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= MAX_BODY:
            break
    return b"".join(chunks)[:MAX_BODY]


def parse_json(body: bytes) -> Any:
    if not body.lstrip().startswith((b"{", b"[")):
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def kube_status(data: Any) -> dict | None:
    """The API server's own `Status` object, when that is what the body is."""
    if isinstance(data, dict) and data.get("kind") == "Status" and "code" in data:
        return data
    return None


def answered(
    code: int, body: bytes, ms: float, days: float | None, proxy_ns: str | None = None
) -> Probe:
    """A Probe for an HTTP answer: 2xx is fine; anything else is an error in words."""
    data = parse_json(body)
    if proxy_ns is not None and (status := kube_status(data)) is not None and code >= 300:
        error, hint = proxy_error(code, str(status.get("message") or ""), proxy_ns)
        return Probe(code, ms, None, days, error, hint)
    app = data.get("status") if isinstance(data, dict) else None
    app_status = one_line(app, 40) if isinstance(app, str) and app else None
    if 200 <= code < 300:
        return Probe(code, ms, app_status, days)
    if proxy_ns is not None and code in (401, 403) and data is None:
        error, hint = proxy_error(code, one_line(body.decode(errors="replace"), 200), proxy_ns)
        return Probe(code, ms, app_status, days, error, hint)
    error = f"HTTP {code} {_phrase(code)}".rstrip()
    if code >= 500:
        hint = (
            "the app reports itself unhealthy: see its logs"
            if app_status
            else "the service or what is in front of it is failing: check its pods and logs"
        )
    else:
        hint = "check the URL (and any authentication it needs)"
    return Probe(code, ms, app_status, days, error, hint)


def proxy_error(code: int, message: str, ns: str) -> tuple[str, str]:
    """(error, hint) for the API server refusing a service proxy request."""
    words = one_line(redact(message), 200) or _phrase(code)
    error = f"{code} from the API server: {words}"
    if code == 403:
        return error, (
            f"RBAC: needs get on services/proxy in namespace {ns} "
            f"(kubectl auth can-i get services/proxy -n {ns})"
        )
    if code == 401:
        return error, "the API server refused the credentials: check the kubeconfig's user"
    if code == 404:
        return error, "no such service: check health.services (NAME:PORT) and the namespace"
    if code == 503 and "no endpoints available" in message:
        return error, "no ready pod behind the service: check its pods (kubectl get pods)"
    if code == 503 and "no service port" in message:
        return error, "the service has no such port: check health.services (NAME:PORT)"
    return error, "the API server could not reach the pod behind the service"


def classify(exc: BaseException, url: str) -> tuple[str, str]:
    """(error, hint) for a request that got no HTTP answer."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    where = f"{host}:{parts.port}" if parts.port else host
    chain = list(_chain(exc))
    if any(isinstance(e, socket.gaierror) for e in chain):
        return f"cannot resolve host {host}", "check DNS and the URL's host name"
    if (tls := tls_problem(exc)) is not None:
        return tls
    for e in chain:
        if isinstance(e, ConnectionRefusedError) or getattr(e, "errno", None) == (
            errno.ECONNREFUSED
        ):
            return (
                f"connection refused by {where}",
                "nothing listens there: is the server (or its load balancer) up?",
            )
    for e in chain:
        if isinstance(e, OSError) and e.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
            return f"{where} unreachable ({e.strerror})", "check the network path and firewall"
    if isinstance(exc, httpx.RemoteProtocolError):
        return (
            f"{where} closed the connection without an answer",
            "the server or a proxy in front of it dropped the request",
        )
    if isinstance(exc, httpx.ProxyError):
        return f"proxy error: {one_line(str(exc), 200)}", "check the HTTP(S) proxy settings"
    text = one_line(redact(str(exc)), 200) or type(exc).__name__
    return f"request failed: {text}", "check the URL and the network"


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        item = todo.pop()
        if item is None or any(item is e for e in out):
            continue
        out.append(item)
        todo += [item.__cause__, item.__context__]
    return out


def _phrase(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return ""
