"""The war room's four large figures: a pure function of the latest snapshots.

Readable across a room: pods not ready, error lines per minute, PostgreSQL connections
and Redis memory, each coloured by its level.  No Textual here; the screen that shows
them is widgets/warroom.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cockpit.model import KubeSnapshot, Level, LogBatch

NO_DATA = Level.WARN  # a figure the cockpit cannot read is itself a warning


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    value: str  # digits, '.', '%', '/' and '-' render large
    level: Level
    detail: str = ""


def figures(latest: Mapping[str, Any]) -> list[Figure]:
    """The four figures from the latest snapshot of each source (by poller name)."""
    return [
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
    return Figure(
        "pods",
        "PODS NOT READY",
        str(not_ready),
        level,
        f"of {len(kube.pods)} pods in {kube.namespace}",
    )


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
