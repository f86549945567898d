"""Pod logs for the simulated cluster (work in progress: interface first)."""

from __future__ import annotations

import time
from collections.abc import Callable

from aiohttp import web

from cockpit.sim.pace import Pace


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

    def inject(self, namespace: str, pod: str, container: str, text: str) -> None:
        """Append a line (timestamped now) to a container's log."""

    async def serve(
        self,
        request: web.Request,
        namespace: str,
        name: str,
        get_pod: Callable[[], dict | None],
    ) -> web.StreamResponse:
        resp = web.Response(text="", content_type="text/plain")
        return resp
