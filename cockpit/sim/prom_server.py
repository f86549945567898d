"""The simulated cluster's Prometheus endpoints, on their own 127.0.0.1 port.

    /metrics/pods/<name>   an app pod's http_requests_total and duration histogram
    /metrics/cadvisor      container_memory_usage_bytes and container_spec_memory_limit_bytes
    /sd                    Prometheus http_sd targets: one per current app pod

The request counters are brought up to date lazily: each scrape replays the nginx
pods' access-log events between the last replay and now through the same generator the
logs are printed from (a background task does the same every few seconds, so a first
scrape after a long quiet never has hours to replay).  Runs on the cluster's loop; the
replay itself runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import zlib
from collections.abc import Callable
from typing import Any

from aiohttp import web

from cockpit.sim import prom_exposition as px
from cockpit.sim.controller import BEHAVIOUR
from cockpit.sim.logs import LogError, container_status, current_run, previous_run
from cockpit.sim.objects import parse_quantity
from cockpit.sim.traffic import APPS, request

KEEP_UP_S = 3.0  # the background replay's period
OOM_SHARE = (0.93, 0.98)  # an OOM-killed container lives at its memory limit


class PromServer:
    def __init__(
        self,
        store: Any,
        logbook: Any,
        metrics: Any,
        clock: Callable[[], float],
        namespace: str,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.store = store
        self.logbook = logbook
        self.metrics = metrics
        self.clock = clock
        self.namespace = namespace
        self.host = host
        self.port = port
        self.url = ""
        self.counts = px.Counts(clock())
        self._lock = asyncio.Lock()
        self._runner: web.AppRunner | None = None
        self._task: asyncio.Task | None = None

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/metrics/pods/{name}", self._pod)
        app.router.add_get("/metrics/cadvisor", self._cadvisor)
        app.router.add_get("/sd", self._sd)
        app.router.add_get("/", self._index)
        runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, reuse_address=True)
        await site.start()
        addresses = runner.addresses or []
        self.port = addresses[0][1] if addresses else self.port
        self.url = f"http://{self.host}:{self.port}"
        self._runner = runner
        self._task = asyncio.get_running_loop().create_task(self._keep_up(), name="sim-prom")
        return self.url

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()

    async def _keep_up(self) -> None:
        while True:
            await asyncio.sleep(KEEP_UP_S)
            with contextlib.suppress(Exception):  # a bad moment must not end the task
                await self.catch_up()

    # -- counting ------------------------------------------------------------------------

    def _nginx_runs(self, since: float) -> list[Any]:
        """The nginx containers' runs that may hold requests after `since` (loop thread)."""
        out = []
        for pod in self.store.list("pods", self.namespace):
            if ((pod["metadata"].get("labels") or {}).get("app")) != "nginx":
                continue
            for c in (pod.get("spec") or {}).get("containers") or []:
                status = container_status(pod, c["name"])
                if status is None:
                    continue
                seen: set[float] = set()
                for which in (current_run, previous_run):
                    try:
                        run = which(status, pod, c["name"])
                    except LogError:
                        continue
                    ended = run.finished is not None and run.finished <= since
                    if run.started in seen or ended:
                        continue
                    seen.add(run.started)
                    out.append(self.logbook.instance(pod, c["name"], run))
        return out

    async def catch_up(self) -> px.Counts:
        """Count every request up to now; returns the counters (read them on the loop)."""
        async with self._lock:
            counts = self.counts
            now = self.clock()
            if now <= counts.until or self.logbook is None:
                return counts
            runs = self._nginx_runs(counts.until)
            a = counts.until

            def replay() -> None:
                for inst in runs:
                    ctx = inst.gen.traffic
                    for t, bits in inst.events(a, now, strict=True):
                        counts.add(request(bits, t, ctx))

            await asyncio.to_thread(replay)
            counts.until = now
            counts.forget({name for _app, name in self._app_pods()})
            return counts

    def _app_pods(self) -> list[tuple[str, str]]:
        out = []
        for pod in self.store.list("pods", self.namespace):
            meta = pod["metadata"]
            app = (meta.get("labels") or {}).get("app")
            if app in APPS and not meta.get("deletionTimestamp"):
                out.append((app, meta["name"]))
        return out

    # -- handlers ------------------------------------------------------------------------

    async def _index(self, request_: web.Request) -> web.Response:
        return web.Response(
            text="simulated Excel Unified metrics: /sd, /metrics/pods/<pod>, /metrics/cadvisor\n"
        )

    async def _sd(self, request_: web.Request) -> web.Response:
        return web.json_response(px.sd_targets(self.url, self._app_pods()))

    async def _pod(self, request_: web.Request) -> web.Response:
        name = request_.match_info["name"]
        counts = await self.catch_up()
        pod = self.store.get("pods", self.namespace, name)
        app = ((pod or {}).get("metadata", {}).get("labels") or {}).get("app")
        pc = counts.pods.get(name)
        if app not in APPS and pc is None:
            return web.Response(status=404, text="no such app pod\n")
        shown = str(app) if app in APPS else pc.app if pc is not None else ""
        text = px.pod_text(shown, name, pc, counts.start)
        return web.Response(body=text.encode(), headers={"Content-Type": px.CONTENT_TYPE})

    async def _cadvisor(self, request_: web.Request) -> web.Response:
        rows = self.memory_rows()
        return web.Response(
            body=px.memory_text(rows).encode(), headers={"Content-Type": px.CONTENT_TYPE}
        )

    def memory_rows(self) -> list[tuple[str, str, str, float, float | None]]:
        """(namespace, pod, container, usage, limit) from metrics.py's model; a pod the
        scenario makes OOM-kill sits just under its limit, as it does before each kill."""
        period = max(self.metrics.pace().metrics_period_s, 0.001)
        k = int(self.clock() // period)
        rows = []
        for pod in self.store.list("pods", self.namespace):
            meta = pod["metadata"]
            if (pod.get("status") or {}).get("phase") != "Running":
                continue
            oom = (meta.get("annotations") or {}).get(BEHAVIOUR) == "oomkill"
            for c in (pod.get("spec") or {}).get("containers") or []:
                _cpu, used = self.metrics.container_usage(pod, c, k)
                raw = ((c.get("resources") or {}).get("limits") or {}).get("memory")
                limit = float(parse_quantity(raw)) if raw else None
                if oom and limit:
                    lo, hi = OOM_SHARE
                    wobble = zlib.crc32(f"{meta['uid']}|{k}".encode()) / 2**32
                    used = limit * (lo + (hi - lo) * wobble)
                if limit and not math.isfinite(limit):
                    limit = None
                rows.append((meta["namespace"], meta["name"], c["name"], used, limit))
        return rows
