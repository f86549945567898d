"""The API server's service proxy: `/api/v1/namespaces/NS/services/ID/proxy/PATH`.

ID is `name`, `name:port` or `scheme:name:port` (port: a number or a port name), as the
real API server takes it.  It resolves the port and a ready endpoint the way the real one
does (pkg/registry/core/service/storage: ResourceLocation), with its Status errors:
404 when the service or its Endpoints do not exist, 503 "no service port ..." and
"no endpoints available for service ...".  Then, instead of dialling the pod, it answers
as the app in that pod would: rails and fastapi serve `/health` as JSON.

Per scenario: healthy answers 200 fast; incident makes rails fail its health check in one
time slot out of FAIL_EVERY (deterministic, so a test can wait for both states) and makes
fastapi slow (1.5-3 s, slept on the loop, never blocking it).
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable
from typing import Any

from aiohttp import web

from cockpit.sim.errors import ApiError, not_found
from cockpit.sim.kubelet import is_ready
from cockpit.sim.store import Store

JSON = "application/json"
SLOT_S = 10.0  # incident: rails health is decided per slot of this many seconds
FAIL_EVERY = 3  # ... and fails in one slot of every FAIL_EVERY
SLOW_S = (1.5, 3.0)  # incident: fastapi's answer takes this long
FAST_S = (0.002, 0.012)  # a healthy app's answer


def split_id(service_id: str) -> tuple[str, str, str] | None:
    """(scheme, name, port) from `name`, `name:port` or `scheme:name:port`
    (utilnet.SplitSchemeNamePort); None when it is none of those."""
    parts = service_id.split(":")
    if len(parts) == 1:
        scheme, name, port = "", parts[0], ""
    elif len(parts) == 2:
        scheme, name, port = "", parts[0], parts[1]
    elif len(parts) == 3:
        scheme, name, port = parts
    else:
        return None
    if not name or scheme not in ("", "http", "https"):
        return None
    return scheme, name, port


def rails_failing(scenario: str, now: float, slot_s: float = SLOT_S) -> bool:
    """Whether rails fails its health check at `now` (incident only)."""
    return scenario == "incident" and int(now // slot_s) % FAIL_EVERY == 0


class ServiceProxy:
    def __init__(
        self, store: Store, scenario: str, clock: Callable[[], float], seed: int = 0
    ) -> None:
        self.store = store
        self.scenario = scenario
        self.clock = clock
        self.slot_s = SLOT_S  # tests shorten it to see both states quickly
        self.slow_s = SLOW_S
        self._rng = random.Random(seed)

    # ---- resolving, like the real API server ----------------------------------------

    def resolve(self, ns: str, service_id: str) -> dict:
        """The ready pod the request goes to; raises the API server's Status errors."""
        parsed = split_id(service_id)
        if parsed is None:
            raise ApiError(400, f'invalid service request "{service_id}"', "BadRequest")
        _, name, port = parsed
        svc = self.store.get("services", ns, name)
        if port.isdigit():
            if svc is None:
                raise not_found("services", "", name)
            ports = (svc.get("spec") or {}).get("ports") or []
            match = next((p for p in ports if p.get("port") == int(port)), None)
            if match is None:
                raise ApiError(
                    503,
                    f'no service port {int(port)} found for service "{name}"',
                    "ServiceUnavailable",
                )
            port = match.get("name") or ""
        eps = self.store.get("endpoints", ns, name)
        if eps is None:
            raise not_found("endpoints", "", name)
        subsets = eps.get("subsets") or []
        if not subsets:
            raise ApiError(
                503, f'no endpoints available for service "{name}"', "ServiceUnavailable"
            )
        for subset in subsets:
            if not any((p.get("name") or "") == port for p in subset.get("ports") or []):
                continue
            addresses = list(subset.get("addresses") or [])
            self._rng.shuffle(addresses)
            for addr in addresses:
                ref = addr.get("targetRef") or {}
                pod = self.store.get("pods", ref.get("namespace") or ns, ref.get("name") or "")
                if pod is not None and is_ready(pod):
                    return pod
        raise ApiError(
            503, f'no endpoints available for service "{service_id}"', "ServiceUnavailable"
        )

    # ---- answering, like the apps -----------------------------------------------------

    async def serve(
        self, request: web.Request, ns: str, service_id: str, path: str
    ) -> web.Response:
        pod = self.resolve(ns, service_id)
        app = ((pod.get("metadata") or {}).get("labels") or {}).get("app", "")
        if app not in ("rails", "fastapi", "nginx"):
            # Not an HTTP server (postgres, redis): the proxied connection just closes.
            raise ApiError(503, "error trying to reach service: EOF", "ServiceUnavailable")
        if request.method not in ("GET", "HEAD"):
            return _json({"status": 405, "error": "Method Not Allowed"}, 405)
        if path.rstrip("/") != "/health":
            return _json({"status": 404, "error": "Not Found"}, 404)
        if app == "nginx":
            return web.Response(text="healthy\n", content_type="text/plain")
        if app == "rails":
            return await self._rails(pod)
        return await self._fastapi(pod)

    async def _rails(self, pod: dict) -> web.Response:
        if rails_failing(self.scenario, self.clock(), self.slot_s):
            await asyncio.sleep(self._rng.uniform(0.05, 0.2))
            body = {"status": "error", "database": "timeout", "redis": "ok"}
            return _json(body, 503)
        await asyncio.sleep(self._rng.uniform(*FAST_S))
        return _json(
            {
                "status": "ok",
                "database": "ok",
                "redis": "ok",
                "version": _image_tag(pod),
                "pod": pod["metadata"]["name"],
            }
        )

    async def _fastapi(self, pod: dict) -> web.Response:
        slow = self.scenario == "incident"
        await asyncio.sleep(self._rng.uniform(*(self.slow_s if slow else FAST_S)))
        return _json(
            {
                "status": "ok",
                "checks": {"database": "ok", "redis": "ok"},
                "version": _image_tag(pod),
                "pod": pod["metadata"]["name"],
            }
        )


def _image_tag(pod: dict) -> str:
    containers = (pod.get("spec") or {}).get("containers") or [{}]
    image = str(containers[0].get("image") or "")
    return image.rpartition(":")[2] if ":" in image else "latest"


def _json(body: Any, status: int = 200) -> web.Response:
    return web.Response(
        body=json.dumps(body, separators=(",", ":")).encode(),
        status=status,
        headers={"Content-Type": JSON},
    )
