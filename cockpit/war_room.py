"""The war room's large figures: a pure function of the latest snapshots.

Readable across a room.  First what the users feel: p99 latency, error rate (both over
the last minute of access logs, all upstreams) and the number of firing alerts; then
the four layers: pods not ready, error lines per minute, PostgreSQL connections and
Redis memory; each coloured by its level.  No Textual here; the screen that shows them
is widgets/warroom.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cockpit.model import KubeSnapshot, Level, LogBatch, PrometheusSnapshot, SloSnapshot

NO_DATA = Level.WARN  # a figure the cockpit cannot read is itself a warning


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    value: str  # digits, '.', '%', '/' and '-' render large
    level: Level
    detail: str = ""


def figures(latest: Mapping[str, Any]) -> list[Figure]:
    """The figures from the latest snapshot of each source (by poller name)."""
    slo = latest.get("slo")
    return [
        _p99(slo),
        _error_rate(slo),
        _alerts(latest.get("prometheus")),
        _pods(latest.get("pods")),
        _errors(latest.get("logs")),
        _postgres(latest.get("postgres")),
        _redis(latest.get("redis")),
    ]


def _pods(kube: Any) -> Figure:
    if not isinstance(kube, KubeSnapshot):
        return Figure("pods", "PODS NOT READY", "-", NO_DATA, "no data")
    not_ready = kube.not_ready
    level = Level.CRIT if not_ready else Level.OK
    value, pods = str(not_ready), f"{len(kube.pods)} pods in {kube.namespace}"
    if kube.remaining is not None:  # the Table's first page: the count so far
        return Figure("pods", "PODS NOT READY", f"{value}+", level, f"of the first {pods}, loading")
    return Figure("pods", "PODS NOT READY", value, level, f"of {pods}")


def _errors(logs: Any) -> Figure:
    if not isinstance(logs, LogBatch):
        return Figure("errors", "ERROR LINES / MIN", "-", NO_DATA, "no data")
    return Figure(
        "errors",
        "ERROR LINES / MIN",
        str(logs.rate),
        logs.level,
        f"{len(logs.followed)} pods followed",
    )


def _postgres(pg: Any) -> Figure:
    if pg is None or not hasattr(pg, "connections"):
        return Figure("pg", "PG CONNECTIONS", "-", NO_DATA, "no data")
    return Figure(
        "pg", "PG CONNECTIONS", str(pg.connections), pg.level, f"of max {pg.max_connections}"
    )


def _redis(redis: Any) -> Figure:
    if redis is None:
        return Figure("redis", "REDIS MEMORY %", "-", NO_DATA, "no data")
    if getattr(redis, "memory_pct", None) is None:
        return Figure("redis", "REDIS MEMORY %", "-", redis.level, "no maxmemory")
    return Figure(
        "redis", "REDIS MEMORY %", f"{redis.memory_pct:.0f}", redis.level, f"policy {redis.policy}"
    )


def _overall_minute(slo: Any) -> Any:
    """The "all" upstream's 1-minute window, or None."""
    if not isinstance(slo, SloSnapshot) or not slo.upstreams:
        return None
    return slo.upstreams[0].one_minute


def _p99(slo: Any) -> Figure:
    window = _overall_minute(slo)
    if window is None or window.p99_ms is None:
        detail = slo.message if isinstance(slo, SloSnapshot) and slo.message else "no requests"
        return Figure("p99", "P99 LATENCY MS", "-", NO_DATA, detail if slo else "no data")
    return Figure(
        "p99",
        "P99 LATENCY MS",
        f"{window.p99_ms:.0f}",
        window.p99_level,
        f"p50 {window.p50_ms or 0:.0f} · p95 {window.p95_ms or 0:.0f} ms · last minute",
    )


def _error_rate(slo: Any) -> Figure:
    window = _overall_minute(slo)
    if window is None or window.error_pct is None:
        return Figure(
            "error-rate", "ERROR RATE %", "-", NO_DATA, "no data" if not slo else "no requests"
        )
    # The runbook's limit is 0.1 %: below 1 % two decimals say which side of it.
    value = f"{window.error_pct:.2f}" if window.error_pct < 1 else f"{window.error_pct:.1f}"
    return Figure(
        "error-rate",
        "ERROR RATE %",
        value,
        window.error_level,
        f"{window.errors} of {window.requests} requests 5xx · {window.rps:.0f} req/s",
    )


def _alerts(prom: Any) -> Figure:
    if not isinstance(prom, PrometheusSnapshot):
        return Figure("alerts", "ALERTS FIRING", "-", NO_DATA, "no data")
    if not prom.configured:
        return Figure("alerts", "ALERTS FIRING", "-", Level.OK, "no Prometheus configured")
    pending = len(prom.alerts) - prom.firing
    names = ", ".join(dict.fromkeys(a.name for a in prom.alerts if a.state == "firing"))
    detail = names or "none"
    if pending:
        detail += f" · {pending} pending"
    return Figure("alerts", "ALERTS FIRING", str(prom.firing), prom.level, detail)
