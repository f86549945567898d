"""Pod exec for the simulated cluster (work in progress: interface first)."""

from __future__ import annotations

import time
from collections.abc import Callable

from aiohttp import web


class ExecServer:
    """Serves `.../pods/{name}/exec` over the Kubernetes WebSocket channel protocol."""

    def __init__(
        self, scenario: str, clock: Callable[[], float] = time.time, seed: int = 0
    ) -> None:
        self.scenario = scenario
        self.clock = clock
        self.seed = seed

    async def serve(
        self,
        request: web.Request,
        namespace: str,
        name: str,
        get_pod: Callable[[], dict | None],
    ) -> web.StreamResponse:
        raise web.HTTPNotImplemented()
