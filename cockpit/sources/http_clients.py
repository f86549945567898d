"""httpx clients made off the event loop.

Making a client loads the CA store (30 ms), and httpcore imports its async backend
(anyio's, 30 ms more) at the client's first request: on the loop, each held the screen
at start-up, when the health checks and Prometheus first ran.  Both happen here, in a
worker thread, before the client is used.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx

from cockpit.lazy_imports import import_modules

# What httpcore imports at an async client's first request (httpcore._synchronization).
FIRST_REQUEST_MODULES = ("anyio._backends._asyncio", "anyio.streams.tls", "sniffio")


async def client_off_loop(
    make: Callable[..., httpx.AsyncClient], *args: Any, **kwargs: Any
) -> httpx.AsyncClient:
    """`make(*args, **kwargs)` in a worker thread, with the first request's imports."""
    return await asyncio.to_thread(_made, make, args, kwargs)


def _made(make: Callable[..., httpx.AsyncClient], args: Any, kwargs: Any) -> httpx.AsyncClient:
    client = make(*args, **kwargs)
    import_modules(FIRST_REQUEST_MODULES)
    return client
