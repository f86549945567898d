"""httpx clients are made off the event loop, with what their first request imports
(cockpit/sources/http_clients.py).  On the loop, making one (the CA store, 30 ms) and
its first request (httpcore importing anyio's backend, 30 ms more) held the screen for
60-140 ms at start-up, when the health checks and Prometheus first ran."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from pathlib import Path

from cockpit.config import PrometheusSettings, Settings
from cockpit.sources.prometheus.source import PrometheusSource

ROOT = Path(__file__).resolve().parents[2]

# A fresh interpreter (this one imported anyio for pytest's plugins long ago): make a
# client, then send its first request to a closed local port, and say which modules that
# request imported on the loop and on which thread the client was made.
FIRST_REQUEST = """
import asyncio, json, socket, sys, threading
import httpx
from cockpit.sources.http_clients import client_off_loop

def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

async def main(off_loop):
    made_in = []
    def make():
        made_in.append(threading.current_thread() is threading.main_thread())
        return httpx.AsyncClient(timeout=2)
    client = await client_off_loop(make) if off_loop else make()
    before = set(sys.modules)
    try:
        await client.get(f"http://127.0.0.1:{closed_port()}/")
    except httpx.ConnectError:
        pass
    await client.aclose()
    watched = {"anyio", "sniffio", "httpcore", "h11"}
    new = sorted(m for m in set(sys.modules) - before if m.split(".")[0] in watched)
    print(json.dumps({"new": new, "made_on_loop_thread": made_in[0]}))

asyncio.run(main(sys.argv[1] == "off"))
"""


def first_request(how: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", FIRST_REQUEST, how],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout)


def test_a_client_made_off_the_loop_imports_nothing_at_its_first_request() -> None:
    off = first_request("off")
    assert off == {"new": [], "made_on_loop_thread": False}
    # The same client made on the loop: its first request imports anyio's backend there
    # (what FIRST_REQUEST_MODULES must cover; an httpcore that imports more fails above).
    on = first_request("on")
    assert on["made_on_loop_thread"] is True
    assert "anyio._backends._asyncio" in on["new"]


async def test_prometheus_makes_one_client_for_concurrent_callers() -> None:
    """The poll and a range query may ask at once: making the client awaits a thread,
    and both must get the same endpoint (not two clients, one of them leaked)."""
    source = PrometheusSource(Settings(prometheus=PrometheusSettings(url="http://127.0.0.1:9")))
    loop_thread = threading.get_ident()
    try:
        first, second = await asyncio.gather(source._current_endpoint(), source._current_endpoint())
        assert first is not None and first is second
        assert threading.get_ident() == loop_thread
    finally:
        await source.close()
