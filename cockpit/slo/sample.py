"""Access lines in the upstreaminfo format, for the tests and the ingest benchmark.

The simulated cluster writes its own (cockpit.sim imports nothing of the cockpit);
this is the same contract written from the parser's side.
"""

from __future__ import annotations

import time

UPSTREAM_NAMES = {
    "rails": "excel-unified-rails-service-3000",
    "fastapi": "excel-unified-fastapi-service-8000",
}


def time_local_text(t: float) -> str:
    return time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(t))


def kubelet_prefix(t: float) -> str:
    whole = int(t)
    return (
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{round((t - whole) * 1e9):09d}Z"
    )


def access_line(
    t: float,
    upstream: str | None = "rails",
    status: int = 200,
    latency_s: float = 0.05,
    *,
    method: str = "GET",
    path: str = "/api/v1/files",
    agent: str = "Mozilla/5.0 (X11; Linux x86_64)",
    retried: bool = False,
) -> str:
    """One nginx line; upstream None is `[-]` (nginx answered itself), another name than
    rails/fastapi is written as it is."""
    name = "-" if upstream is None else UPSTREAM_NAMES.get(upstream, upstream)
    if upstream is None:
        tail = "- - - -"
    elif retried:
        tail = (
            "10.0.1.24:3000, 10.0.1.25:3000 0, 157 "
            f"{latency_s / 2:.3f}, {latency_s / 2:.3f} {status}, {status}"
        )
    else:
        tail = f"10.0.1.23:3000 5123 {max(0.0, latency_s - 0.002):.3f} {status}"
    return (
        f'203.0.113.9 - - [{time_local_text(t)}] "{method} {path} HTTP/1.1" {status} 5123 '
        f'"-" "{agent}" 412 {latency_s:.3f} [{name}] [] {tail} 5f2c0a9e1b7d4c3aa1e2f3b4c5d6e7f8'
    )
