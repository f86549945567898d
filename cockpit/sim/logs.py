"""Pod logs for the simulated cluster: `GET /api/v1/namespaces/{ns}/pods/{name}/log`.

Logs are generated, not stored (see `log_stream.py`): which container run is meant
(`previous`), which window (`sinceSeconds`, `sinceTime`, `tailLines`) and how to print it
(`timestamps`, `limitBytes`) are worked out from the pod's container statuses.  `follow`
streams new lines as their time comes, plus anything `inject()`ed, and stops when the
container run ends, the pod goes, the client leaves or the server shuts down.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import math
import re
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from aiohttp import web

from cockpit.sim.fs_trees import app_of
from cockpit.sim.log_lines import RATE_SHARE, Gen, kube_ts
from cockpit.sim.log_stream import MEAN_LINES, Instance, Timeline
from cockpit.sim.pace import Pace
from cockpit.sim.traffic import Context, Knobs, Upstreams

APP_ERROR_BOOST = 3.0  # the incident scenario's apps log this many times more errors
INJECT_BYTES_PER_CONTAINER = 4 * 1024 * 1024
INJECT_CONTAINERS = 512
CHUNK_LINES = 2000
FOLLOW_POLL_S = 0.25


def status_response(code: int, message: str, reason: str, **details: object) -> web.Response:
    """A Kubernetes `Status` error, as the API server returns it."""
    body: dict[str, object] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details:
        body["details"] = details
    return web.json_response(body, status=code)


class LogError(Exception):
    def __init__(self, code: int, message: str, reason: str = "BadRequest") -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason


def parse_time(value: str | None) -> float | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


_QUANTITY = re.compile(r"^([0-9.]+)([KMGTE]i?|[kmgte])?$")


def parse_bytes(q: object, default: int) -> int:
    m = _QUANTITY.match(str(q or ""))
    if not m:
        return default
    unit = m.group(2) or ""
    power = "KMGTE".find(unit[:1].upper()) + 1 if unit else 0
    return int(float(m.group(1)) * (1024 if unit.endswith("i") else 1000) ** power)


@dataclass(slots=True)
class Query:
    container: str | None
    follow: bool
    previous: bool
    since: float | None
    tail: int | None
    timestamps: bool
    limit: int | None


def _bool(q: dict, key: str) -> bool:
    return str(q.get(key, "")).lower() in ("true", "1", "yes")


def _int(q: dict, key: str) -> int | None:
    raw = q.get(key)
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        raise LogError(400, f'{key}: Invalid value: "{raw}": must be an integer') from None


def parse_query(q: dict, now: float) -> Query:
    since_s = _int(q, "sinceSeconds")
    since_t = q.get("sinceTime")
    if since_s is not None and since_t:
        raise LogError(
            422, "at most one of `sinceTime` or `sinceSeconds` may be specified", "Invalid"
        )
    if since_s is not None and since_s < 1:
        raise LogError(
            422, f"sinceSeconds: Invalid value: {since_s}: must be greater than 0", "Invalid"
        )
    try:
        since = now - since_s if since_s is not None else parse_time(since_t)
    except ValueError:
        raise LogError(400, f'sinceTime: Invalid value: "{since_t}": must be RFC3339') from None
    tail = _int(q, "tailLines")
    if tail is not None and tail < 0:
        raise LogError(
            422, f"tailLines: Invalid value: {tail}: must be greater than or equal to 0", "Invalid"
        )
    limit = _int(q, "limitBytes")
    if limit is not None and limit < 1:
        raise LogError(
            422, f"limitBytes: Invalid value: {limit}: must be greater than 0", "Invalid"
        )
    return Query(
        container=q.get("container") or None,
        follow=_bool(q, "follow"),
        previous=_bool(q, "previous"),
        since=since,
        tail=tail,
        timestamps=_bool(q, "timestamps"),
        limit=limit,
    )


def pick_container(pod: dict, wanted: str | None) -> str:
    """The container a request means, or the API server's error."""
    spec = pod.get("spec", {})
    names = [c["name"] for c in spec.get("containers", [])]
    inits = [c["name"] for c in spec.get("initContainers", []) or []]
    name = pod["metadata"]["name"]
    if wanted is None:
        if len(names) == 1:
            return names[0]
        msg = (
            f"a container name must be specified for pod {name}, choose one of: [{' '.join(names)}]"
        )
        if inits:
            msg += f" or one of the init containers: [{' '.join(inits)}]"
        raise LogError(400, msg)
    if wanted not in names and wanted not in inits:
        raise LogError(400, f"container {wanted} is not valid for pod {name}")
    return wanted


def container_status(pod: dict, container: str) -> dict | None:
    st = pod.get("status", {})
    for s in (st.get("containerStatuses") or []) + (st.get("initContainerStatuses") or []):
        if s.get("name") == container:
            return s
    return None


def _behaviour(pod: dict) -> str:
    return str(
        ((pod.get("metadata", {}).get("annotations")) or {}).get("sim.cockpit.dev/behaviour", "")
    )


def _is_job_pod(pod: dict) -> bool:
    owners = pod.get("metadata", {}).get("ownerReferences") or []
    return any(o.get("kind") == "Job" for o in owners) or "job-name" in (
        pod.get("metadata", {}).get("labels") or {}
    )


@dataclass(slots=True)
class Run:
    """Where a container run sits in time, read from its status."""

    started: float
    finished: float | None
    exit_code: int
    reason: str


def current_run(status: dict, pod: dict, container: str) -> Run:
    state = status.get("state") or {}
    if "running" in state:
        return Run(parse_time(state["running"].get("startedAt")) or 0.0, None, 0, "")
    if "terminated" in state:
        return _terminated(state["terminated"])
    last = (status.get("lastState") or {}).get("terminated")
    if last:  # waiting to restart: the logs are those of the run that just ended
        return _terminated(last)
    reason = (state.get("waiting") or {}).get("reason") or "ContainerCreating"
    raise LogError(
        400,
        f'container "{container}" in pod "{pod["metadata"]["name"]}" is waiting to start: {reason}',
    )


def previous_run(status: dict, pod: dict, container: str) -> Run:
    last = (status.get("lastState") or {}).get("terminated")
    if not last:
        raise LogError(
            400,
            f'previous terminated container "{container}" in pod '
            f'"{pod["metadata"]["name"]}" not found',
        )
    return _terminated(last)


def finished_at(t: dict) -> float | None:
    """When a terminated run really ended: metav1.Time keeps whole seconds, so a
    `finishedAt` without a fraction means some time during that second."""
    raw = t.get("finishedAt")
    finished = parse_time(raw)
    if finished is not None and "." not in str(raw):
        finished += 0.999
    return finished


def _terminated(t: dict) -> Run:
    finished = finished_at(t)
    started = parse_time(t.get("startedAt"))
    if started is None:
        started = (finished or 0.0) - 60.0
    if finished is None:
        finished = started + 60.0
    return Run(started, finished, int(t.get("exitCode", 0) or 0), str(t.get("reason", "")))


class _Injected:
    """Lines injected into one container's log: (seq, time, text), bounded by bytes."""

    __slots__ = ("bytes", "lines")

    def __init__(self) -> None:
        self.lines: deque[tuple[int, float, str]] = deque()
        self.bytes = 0


class LogBook:
    """Generates container logs on demand and serves `GET .../pods/{name}/log`."""

    def __init__(
        self,
        scenario: str,
        pace: Pace,
        clock: Callable[[], float] = time.time,
        seed: int = 0,
    ) -> None:
        self.scenario = scenario
        self.pace = pace
        self.clock = clock
        self.seed = seed
        self.boot = clock()
        self._lock = threading.Lock()
        self._seq = itertools.count(1)
        self._injected: OrderedDict[tuple[str, str, str], _Injected] = OrderedDict()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._closed = False
        self._timelines: dict[tuple[float, float, float], Timeline] = {}
        # Which app pods nginx proxies to, over time (set by SimCluster from its store).
        self.upstreams: Upstreams | None = None

    # -- injection and shutdown ----------------------------------------------------------

    def inject(self, namespace: str, pod: str, container: str, text: str) -> None:
        """Append a line (timestamped now) to a container's log; thread-safe."""
        now = self.clock()
        key = (namespace, pod, container)
        with self._lock:
            box = self._injected.get(key)
            if box is None:
                box = self._injected[key] = _Injected()
                while len(self._injected) > INJECT_CONTAINERS:
                    self._injected.popitem(last=False)
            self._injected.move_to_end(key)
            for j, part in enumerate(text.split("\n") if text else [""]):
                box.lines.append((next(self._seq), now + j * 1e-6, part))
                box.bytes += len(part) + 64
            while box.bytes > INJECT_BYTES_PER_CONTAINER and len(box.lines) > 1:
                box.bytes -= len(box.lines.popleft()[2]) + 64
            waiters = list(self._waiters)
        for loop, event in waiters:
            with contextlib.suppress(RuntimeError):  # that loop is closed: nobody waits
                loop.call_soon_threadsafe(event.set)

    def close(self) -> None:
        """End every follow stream now (call from the app's on_shutdown)."""
        self._closed = True
        with self._lock:
            waiters = list(self._waiters)
        for loop, event in waiters:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(event.set)

    @property
    def followers(self) -> int:
        """How many follow streams are open (each ends with its pod, client or server)."""
        with self._lock:
            return len(self._waiters)

    def _snapshot(self, key: tuple[str, str, str]) -> list[tuple[int, float, str]]:
        with self._lock:
            box = self._injected.get(key)
            return list(box.lines) if box else []

    # -- instances -----------------------------------------------------------------------

    def _timeline(self, rate: float) -> Timeline:
        # Keyed by the pace's numbers too: SimCluster.set_pace() may swap `self.pace`.
        key = (rate, self.pace.log_full_rate_hours, self.pace.history_hours)
        tl = self._timelines.get(key)
        if tl is None:
            origin = self.boot - self.pace.history_hours * 3600
            tl = Timeline(rate, origin, self.boot, self.pace.log_full_rate_hours)
            self._timelines[key] = tl
        return tl

    def instance(self, pod: dict, container: str, run: Run) -> Instance:
        meta = pod.get("metadata", {})
        app = app_of(pod)
        if app == "backup":
            kind = "job" if _is_job_pod(pod) else "quiet"
        elif _behaviour(pod) == "crashloop":
            kind = "crash"
        elif run.reason == "OOMKilled" or (run.finished is not None and run.exit_code == 137):
            kind = "oom"
        else:
            kind = "normal"
        incident = self.scenario == "incident"
        ratio = self.pace.error_ratio * (APP_ERROR_BOOST if incident else 1.0)
        limit = 2 * 1024**3
        for c in pod.get("spec", {}).get("containers", []):
            if c.get("name") == container:
                limits = (c.get("resources") or {}).get("limits") or {}
                limit = parse_bytes(limits.get("memory"), limit)
        gen = Gen(
            app=app,
            pod=str(meta.get("name", "")),
            incident=incident,
            error_ratio=min(ratio, 1.0),
            memory_limit=limit,
            traffic=(
                Context(Knobs.from_pace(self.pace, incident), self.upstreams)
                if app == "nginx"
                else None
            ),
        )
        key = hashlib.blake2b(
            f"{self.seed}|{meta.get('uid', meta.get('name'))}|{container}|{run.started}".encode(),
            digest_size=16,
        ).digest()
        timeline = None
        if kind in ("normal", "oom"):
            if app == "nginx":  # one event a request, at the traffic's own rate
                timeline = self._timeline(self.pace.nginx_requests_per_s)
            else:
                share = RATE_SHARE.get(app, 1.0) / MEAN_LINES.get(app, 1.0)
                timeline = self._timeline(self.pace.log_lines_per_s * share)
        # A crash-looping run dies about a third of the way into its restart period.
        jitter = key[0] / 256 * 0.1  # so that it does not die on a whole second
        crash_at = run.started + max(0.05, (0.3 + jitter) * self.pace.crashloop_restart_s)
        if run.finished is not None:
            crash_at = max(run.started + 0.02, min(crash_at, run.finished - 0.01))
        return Instance(
            key=key,
            gen=gen,
            start=run.started,
            end=run.finished,
            kind=kind,
            exit_code=run.exit_code,
            timeline=timeline,
            crash_at=crash_at,
        )

    # -- serving -------------------------------------------------------------------------

    async def serve(
        self,
        request: web.Request,
        namespace: str,
        name: str,
        get_pod: Callable[[], dict | None],
    ) -> web.StreamResponse:
        pod = get_pod()
        if pod is None:
            return status_response(
                404, f'pods "{name}" not found', "NotFound", name=name, kind="pods"
            )
        now = self.clock()
        try:
            q = parse_query(dict(request.query), now)
            container = pick_container(pod, q.container)
            status = container_status(pod, container)
            if status is None:
                raise LogError(
                    400,
                    f'container "{container}" in pod "{name}" is waiting to '
                    "start: ContainerCreating",
                )
            run = (previous_run if q.previous else current_run)(status, pod, container)
        except LogError as exc:
            return status_response(exc.code, str(exc), exc.reason)
        inst = self.instance(pod, container, run)
        key = (namespace, name, container)
        injected = self._snapshot(key)  # before reading the clock: see follow()
        now = self.clock()
        a = max(q.since if q.since is not None else -math.inf, inst.start)
        b = now if inst.end is None else inst.end
        extra = [(t, text) for _, t, text in injected if a <= t <= b]
        seen = injected[-1][0] if injected else 0

        resp = web.StreamResponse(status=200, headers={"Content-Type": "text/plain"})
        await resp.prepare(request)
        out = _Writer(resp, q.timestamps, q.limit)
        try:
            if q.tail is not None:
                await out.write(inst.tail(a, b, q.tail, extra))
            else:
                await self._write_all(out, inst.lines(a, b, extra))
            if q.follow and not q.previous and inst.end is None and not out.full:
                await self._follow(request, out, inst, key, container, get_pod, b, seen)
            await resp.write_eof()
        except ConnectionError:
            pass  # the client went away
        return resp

    async def _write_all(self, out: _Writer, lines: Iterable[tuple[float, str]]) -> None:
        it = iter(lines)
        while not out.full:
            # Generating a day of history is CPU work: do it off the event loop, in chunks.
            chunk = await asyncio.to_thread(lambda: list(itertools.islice(it, CHUNK_LINES)))
            if not chunk:
                return
            await out.write(chunk)

    async def _follow(
        self,
        request: web.Request,
        out: _Writer,
        inst: Instance,
        key: tuple[str, str, str],
        container: str,
        get_pod: Callable[[], dict | None],
        last: float,
        seen: int,
    ) -> None:
        loop = asyncio.get_running_loop()
        wake = asyncio.Event()
        waiter = (loop, wake)
        with self._lock:
            self._waiters.add(waiter)
        try:
            while not out.full and not self._closed and not _gone(request):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), FOLLOW_POLL_S)
                wake.clear()
                pod = get_pod()
                status = container_status(pod, container) if pod is not None else None
                end = self.clock() if status is None else _run_end(status, inst, self.clock())
                now = self.clock() if end is None else end
                fresh = [x for x in self._snapshot(key) if x[0] > seen]
                if fresh:
                    seen = fresh[-1][0]
                if now > last or fresh:
                    lines = list(
                        inst.lines(last, max(now, last), [(t, s) for _, t, s in fresh], strict=True)
                    )
                    await out.write(lines)
                    last = max(now, last)
                if end is not None:
                    return
        finally:
            with self._lock:
                self._waiters.discard(waiter)


def _run_end(status: dict, inst: Instance, now: float) -> float | None:
    """None while the run `inst` still runs, else when it ended (now, if not recorded)."""
    state = status.get("state") or {}
    running = state.get("running")
    if running is not None and parse_time(running.get("startedAt")) == inst.start:
        return None
    for term in (state.get("terminated"), (status.get("lastState") or {}).get("terminated")):
        if term and parse_time(term.get("startedAt")) == inst.start:
            return finished_at(term) or now
    return now


def _gone(request: web.Request) -> bool:
    transport = request.transport
    if transport is None or transport.is_closing():
        return True
    # aiohttp marks a connection for closing when the server shuts down; without this a
    # quiet follow stream would hold shutdown for the whole shutdown timeout.
    return bool(getattr(request.protocol, "_force_close", False))


class _Writer:
    """Formats lines and enforces limitBytes."""

    def __init__(self, resp: web.StreamResponse, timestamps: bool, limit: int | None) -> None:
        self.resp = resp
        self.timestamps = timestamps
        self.left = limit
        self.full = False

    async def write(self, lines: Iterable[tuple[float, str]]) -> None:
        if self.timestamps:
            text = "".join(f"{kube_ts(t)} {s}\n" for t, s in lines)
        else:
            text = "".join(f"{s}\n" for _, s in lines)
        if not text:
            return
        data = _encode(text)
        if self.left is not None:
            data = data[: self.left]
            self.left -= len(data)
            self.full = self.left <= 0
        await self.resp.write(data)


def _encode(text: str) -> bytes:
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace")
