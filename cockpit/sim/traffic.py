"""The users' requests through nginx: who asked what, which app pod answered, how fast.

One nginx log event is one request.  `request()` turns the event's random bits, its time
and the upstream roster at that time into a `Request`; `access_lines()` prints it in
ingress-nginx's "upstreaminfo" format (plus nginx's error-log line when an upstream pod
refused the connection).  The Prometheus counters (`prom_exposition.py`) replay the very
same events through `request()`, so what the access logs attribute to a pod and what
that pod's metrics count are one computation, not two random streams.

`Upstreams` is the roster's history: which rails/fastapi pods nginx can reach, by pod IP,
as a function of time.  It follows the store's changes and stamps each new roster with
the time of the change, so a window of the past always replays against the roster it
had (a roster is never rewritten for a time that has been served).
"""

from __future__ import annotations

import bisect
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from statistics import NormalDist
from typing import Any, NamedTuple, Protocol

from cockpit.sim.pace import Pace

APPS = {"rails": 3000, "fastapi": 8000}  # app -> container port nginx proxies to
SERVICES = {"rails": "rails-service", "fastapi": "fastapi-service"}
NAMESPACE = "excel-unified"
PROBE_SHARE = 0.003  # kube-probe's /healthz, answered by nginx itself
FASTAPI_SHARE = 0.2  # /api/ai/... requests, the rest goes to rails

LOG_FORMAT = (
    'log_format upstreaminfo \'$remote_addr - $remote_user [$time_local] "$request" '
    '$status $body_bytes_sent "$http_referer" "$http_user_agent" $request_length '
    "$request_time [$proxy_upstream_name] [$proxy_alternative_upstream_name] "
    "$upstream_addr $upstream_response_length $upstream_response_time $upstream_status "
    "$req_id';"
)

_N = NormalDist()


class Bits(Protocol):
    h: int

    def n(self, k: int) -> int: ...
    def pick(self, seq: tuple) -> object: ...
    def unit(self) -> float: ...


# -- the roster ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Pool:
    """One app's pods as nginx sees them: (pod name, pod IP), sorted by name."""

    serving: tuple[tuple[str, str], ...] = ()
    refusing: tuple[tuple[str, str], ...] = ()  # crash-looping: connections are refused


Roster = dict[str, Pool]

# Without a store (a LogBook used on its own) nginx still proxies to somebody.
DEFAULT_ROSTER: Roster = {
    "rails": Pool(serving=(("rails-0", "10.0.1.11"), ("rails-1", "10.0.1.12"))),
    "fastapi": Pool(serving=(("fastapi-0", "10.0.2.11"),)),
}


def pod_state(pod: dict) -> tuple[str, str, str, str] | None:
    """(app, name, ip, "serving" | "refusing") for an app pod nginx can reach, else None.

    Ready pods serve; a running pod that is not ready after restarts is crash-looping,
    and nginx (whose endpoint list lags) now and then still sends it a request that is
    refused.  A pod that is starting or terminating is not in nginx's list at all."""
    meta = pod.get("metadata") or {}
    app = (meta.get("labels") or {}).get("app")
    if app not in APPS or meta.get("deletionTimestamp"):
        return None
    st = pod.get("status") or {}
    ip = st.get("podIP")
    if not ip or st.get("phase") != "Running":
        return None
    statuses = st.get("containerStatuses") or []
    if statuses and all(cs.get("ready") for cs in statuses):
        return app, meta["name"], ip, "serving"
    if any(int(cs.get("restartCount") or 0) > 0 for cs in statuses):
        return app, meta["name"], ip, "refusing"
    return None


class Upstreams:
    """The roster's history, kept from the store's changes (on the server's loop)."""

    def __init__(self, clock: Callable[[], float] = time.time, namespace: str = NAMESPACE):
        self.clock = clock
        self.namespace = namespace
        self._pods: dict[str, tuple[str, str, str, str]] = {}  # uid -> pod_state
        self._lock = threading.Lock()
        self._times: list[float] = [-math.inf]
        self._rosters: list[Roster] = [{}]

    def attach(self, store: Any) -> None:
        """Start from the store's pods and follow its changes."""
        for pod in store.list("pods", self.namespace):
            got = pod_state(pod)
            if got is not None:
                self._pods[pod["metadata"]["uid"]] = got
        with self._lock:
            self._rosters[0] = self._build()
        store.add_listener(self._on_change)

    def _on_change(self, change: Any) -> None:
        if change.key != "pods":
            return
        meta = change.new.get("metadata") or {}
        if meta.get("namespace") != self.namespace:
            return
        if (meta.get("labels") or {}).get("app") not in APPS:
            return
        uid = meta.get("uid", "")
        got = None if change.type == "DELETED" else pod_state(change.new)
        if self._pods.get(uid) == got:
            return
        if got is None:
            self._pods.pop(uid, None)
        else:
            self._pods[uid] = got
        roster = self._build()
        with self._lock:
            if roster == self._rosters[-1]:
                return
            now = max(self.clock(), self._times[-1])
            if now == self._times[-1]:
                self._rosters[-1] = roster
            else:
                self._times.append(now)
                self._rosters.append(roster)
            if len(self._times) > 10_000:  # bounded: the oldest rosters merge into one
                del self._times[1:2], self._rosters[1:2]

    def _build(self) -> Roster:
        out: dict[str, dict[str, list[tuple[str, str]]]] = {}
        for app, name, ip, state in self._pods.values():
            out.setdefault(app, {"serving": [], "refusing": []})[state].append((name, ip))
        return {
            app: Pool(tuple(sorted(d["serving"])), tuple(sorted(d["refusing"])))
            for app, d in out.items()
        }

    def at(self, t: float) -> Roster:
        with self._lock:
            k = bisect.bisect_right(self._times, t) - 1
            return self._rosters[max(k, 0)]


# -- one request ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Knobs:
    """The traffic's shape, from the Pace."""

    incident: bool = False
    error_ratio: float = 0.0003  # 5xx answered by a healthy app
    fastapi_incident_error_ratio: float = 0.06
    refused_ratio: float = 0.03  # of an app's requests, sent to a refusing pod if any

    @classmethod
    def from_pace(cls, pace: Pace, incident: bool) -> Knobs:
        return cls(
            incident=incident,
            error_ratio=pace.http_error_ratio,
            fastapi_incident_error_ratio=pace.incident_fastapi_error_ratio,
            refused_ratio=pace.incident_refused_ratio,
        )


@dataclass(frozen=True, slots=True)
class Context:
    """What the nginx generator needs beyond the event: roster history and knobs."""

    knobs: Knobs = Knobs()
    upstreams: Upstreams | None = field(default=None, compare=False)

    def roster(self, t: float) -> Roster:
        if self.upstreams is None:
            return DEFAULT_ROSTER
        return self.upstreams.at(t)


class Try(NamedTuple):  # NamedTuple: built per request, and a frozen dataclass is slower
    """One attempt at an upstream server."""

    pod: str
    addr: str  # ip:port
    status: int
    length: int
    seconds: float  # as printed in $upstream_response_time (whole milliseconds)
    refused: bool = False  # the app never saw it: it does not count it


class Request(NamedTuple):
    """One request through nginx."""

    client: str
    method: str
    path: str
    status: int
    body_bytes: int
    agent: str
    request_length: int
    request_time: float
    app: str  # "rails", "fastapi", or "" when nginx answered itself
    upstream_name: str  # $proxy_upstream_name
    tries: tuple[Try, ...]
    req_id: str


_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "python-requests/2.32.3",
    "ExcelUnified-Addin/3.2 (Windows; Office 16.0)",
)
_RAILS_ROUTES = (
    ("GET", "/dashboard", 18000),
    ("GET", "/api/v1/files", 5200),
    ("GET", "/api/v1/files/{id}", 2400),
    ("GET", "/api/v1/files/{id}/sheets", 9100),
    ("POST", "/api/v1/files", 310),
    ("GET", "/api/v1/users/me", 420),
    ("POST", "/api/v1/files/{id}/analyze", 140),
    ("GET", "/", 12000),
)
_FASTAPI_ROUTES = (
    ("POST", "/api/ai/v1/analyze", 2300),
    ("POST", "/api/ai/v1/formulas/explain", 800),
    ("POST", "/api/ai/v1/sheets/summarize", 1500),
    ("GET", "/api/ai/v1/jobs/{id}", 260),
)
_CLIENT_NETS = ("203.0.113", "198.51.100", "192.0.2", "100.64.12")


@lru_cache(maxsize=1024)
def _lognormal_z(k: int) -> float:
    """The standard normal quantile of the k-th of 1024 slices (cached: inv_cdf is slow)."""
    return _N.inv_cdf((k + 0.5) / 1024)


def _latency(b: Bits, median: float, sigma: float, cap: float = 29.0) -> float:
    """A log-normal latency, whole milliseconds (as nginx prints it), at least 1 ms."""
    z = _lognormal_z(b.n(1024))
    return max(0.001, min(cap, round(median * math.exp(sigma * z) * (0.97 + 0.06 * b.unit()), 3)))


def request(b: Bits, t: float, ctx: Context) -> Request:
    """The request of one nginx event (pure: same bits, time and roster, same request)."""
    knobs = ctx.knobs
    # The id is the hash's top 128 bits; the choices below draw from its low end.
    req_id = f"{b.h >> max(0, b.h.bit_length() - 128):032x}"
    client = f"{b.pick(_CLIENT_NETS)}.{1 + b.n(254)}"
    agent = str(b.pick(_AGENTS))
    u = b.unit()
    if u < PROBE_SHARE:
        return Request(
            f"10.0.0.{1 + b.n(3)}",
            "GET",
            "/healthz",
            200,
            2,
            "kube-probe/1.32",
            120 + b.n(10),
            0.0,
            "",
            "-",
            (),
            req_id,
        )
    app = "fastapi" if u < PROBE_SHARE + FASTAPI_SHARE else "rails"
    routes = _FASTAPI_ROUTES if app == "fastapi" else _RAILS_ROUTES
    method, path, size = b.pick(routes)  # type: ignore[misc]
    path = path.replace("{id}", str(10000 + b.n(40000)))
    req_len = 300 + b.n(600) + (b.n(40000) if method == "POST" else 0)
    port = APPS[app]
    pool = ctx.roster(t).get(app, Pool())
    upstream_name = f"{NAMESPACE}-{SERVICES[app]}-{port}"
    overhead = (1 + b.n(3)) / 1000
    tries: list[Try] = []
    if pool.refusing and (not pool.serving or b.unit() < knobs.refused_ratio):
        name, ip = pool.refusing[b.n(len(pool.refusing))]
        tries.append(Try(name, f"{ip}:{port}", 502, 0, 0.001, refused=True))
        # nginx passes an idempotent request on to the next server; a POST it does not.
        if method == "POST" or not pool.serving:
            return Request(
                client,
                method,
                path,
                502,
                157,
                agent,
                req_len,
                0.002,
                app,
                upstream_name,
                tuple(tries),
                req_id,
            )
    if not pool.serving:  # no endpoints at all
        return Request(
            client, method, path, 503, 190, agent, req_len, 0.0, app, upstream_name, (), req_id
        )
    name, ip = pool.serving[b.n(len(pool.serving))]
    status, seconds = _answer(b, app, method, path, knobs)
    length = max(2, int(size * (0.5 + b.unit()))) if status < 400 else 97 + b.n(60)
    tries.append(Try(name, f"{ip}:{port}", status, length, seconds))
    total = round(sum(x.seconds for x in tries) + overhead, 3)
    return Request(
        client,
        method,
        path,
        status,
        length,
        agent,
        req_len,
        total,
        app,
        upstream_name,
        tuple(tries),
        req_id,
    )


def _answer(b: Bits, app: str, method: str, path: str, knobs: Knobs) -> tuple[int, float]:
    """(status, seconds) of the app's answer."""
    if app == "fastapi":
        if knobs.incident:
            # Memory pressure and Redis at maxmemory: slow, and failing now and then.
            if b.unit() < knobs.fastapi_incident_error_ratio:
                status = 503 if b.n(2) else 500
                return status, _latency(b, 1.8 if status == 503 else 0.3, 0.5)
            return (202 if path.endswith("analyze") else 200), _latency(b, 0.35, 1.0)
        if b.unit() < knobs.error_ratio:
            return 500, _latency(b, 0.15, 0.5)
        return (202 if path.endswith("analyze") else 200), _latency(b, 0.11, 0.55)
    if b.unit() < knobs.error_ratio:
        return 500, _latency(b, 0.08, 0.6)
    status = 201 if method == "POST" and path == "/api/v1/files" else 200
    if knobs.incident:
        return status, _latency(b, 0.05, 0.75)
    return status, _latency(b, 0.04, 0.65)


# -- printing ------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _stamp(sec: int, fmt: str) -> str:
    return time.strftime(fmt, time.gmtime(sec))


def _list(values: list[str]) -> str:
    return ", ".join(values) if values else "-"


def access_lines(r: Request, t: float) -> list[str]:
    """The request as nginx writes it: an error-log line per refused connection, then
    the access line in the "upstreaminfo" format."""
    sec = int(t)
    when = _stamp(sec, "%d/%b/%Y:%H:%M:%S +0000")
    head = f'{r.client} - - [{when}] "{r.method} {r.path} HTTP/1.1"'
    tail = (
        f'{r.status} {r.body_bytes} "-" "{r.agent}" {r.request_length} {r.request_time:.3f} '
        f"[{r.upstream_name}] [] "
        f"{_list([x.addr for x in r.tries])} {_list([str(x.length) for x in r.tries])} "
        f"{_list([f'{x.seconds:.3f}' for x in r.tries])} "
        f"{_list([str(x.status) for x in r.tries])} {r.req_id}"
    )
    out = []
    for x in r.tries:
        if x.refused:
            out.append(
                f"{_stamp(sec, '%Y/%m/%d %H:%M:%S')} [error] 29#29: *{int(r.req_id[:6], 16)} "
                "connect() failed (111: Connection refused) while connecting to upstream, "
                f'client: {r.client}, server: excel-unified.com, request: "{r.method} {r.path} '
                f'HTTP/1.1", upstream: "http://{x.addr}{r.path}", host: "excel-unified.com"'
            )
    out.append(f"{head} {tail}")
    return out
