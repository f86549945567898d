"""`cockpit check`: every source polled once, one line each, exit status by the worst level.

For scripts, cron and a quick look from a shell where a full screen is not wanted:
0 all OK, 1 something at WARN, 2 something CRIT or unreachable.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from cockpit.config import Settings
from cockpit.errors import describe
from cockpit.model import (
    BackupsSnapshot,
    DumpVerdict,
    Level,
)
from cockpit.slo.report import check_lines as slo_lines
from cockpit.snapshot_words import summarise
from cockpit.sources.backups.source import BackupsSource
from cockpit.sources.disk import DiskSource
from cockpit.sources.disk import check_lines as disk_lines
from cockpit.sources.health import HealthSource
from cockpit.sources.health import check_lines as health_lines
from cockpit.sources.host import HostSource
from cockpit.sources.kube.client import connect
from cockpit.sources.kube.source import KubeSource
from cockpit.sources.postgres.source import PostgresSource
from cockpit.sources.prometheus.check import check_lines as prometheus_lines
from cockpit.sources.prometheus.source import PrometheusSource
from cockpit.sources.redis.source import RedisSource
from cockpit.sources.traffic.source import TrafficSource
from cockpit.textsafe import one_line


async def _one(name: str, fetch: Callable[[], Awaitable[Any]], timeout: float) -> dict:
    try:
        snapshot = await asyncio.wait_for(fetch(), timeout)
    except Exception as exc:  # reported, like a pane would
        message, hint = describe(exc)
        return {"source": name, "level": "UNREACHABLE", "text": message, "hint": hint}
    level, text = summarise(name, snapshot)
    return {"source": name, "level": level.label, "text": text}


async def _lines(
    name: str,
    fetch: Callable[[], Awaitable[Any]],
    lines_of: Callable[[Any], list[tuple[Level, str]]],
    timeout: float,
) -> list[dict]:
    """A source that reports several lines (one per endpoint, upstream or alert)."""
    try:
        snapshot = await asyncio.wait_for(fetch(), timeout)
    except Exception as exc:
        message, hint = describe(exc)
        return [{"source": name, "level": "UNREACHABLE", "text": message, "hint": hint}]
    return [
        {"source": name, "level": level.label, "text": text} for level, text in lines_of(snapshot)
    ]


CHECK_BACKFILL_S = 300


def _backups_once(
    backups: BackupsSource, timeout: float
) -> Callable[[], Awaitable[tuple[BackupsSnapshot, DumpVerdict | None]]]:
    """The Backups pane's snapshot, then the newest dump's verdict (read back from S3
    within what is left of the timeout)."""

    async def once() -> tuple[BackupsSnapshot, DumpVerdict | None]:
        started = time.monotonic()
        snapshot = await backups.snapshot()
        left = timeout - (time.monotonic() - started) - 1.0  # inside the caller's timeout
        return snapshot, await backups.verdict_now(max(0.5, left))

    return once


def backups_lines(both: tuple[BackupsSnapshot, DumpVerdict | None]) -> list[tuple[Level, str]]:
    snapshot, verdict = both
    lines = [summarise("backups", snapshot)]
    if verdict is not None:
        lines.append((verdict.level, f"newest dump {verdict.key}: {verdict.message}"))
    elif snapshot.objects:
        lines.append((Level.WARN, f"newest dump {snapshot.objects[0].key}: not read back in time"))
    return lines


def _traffic_once(
    kube: KubeSource, traffic: TrafficSource, timeout: float
) -> Callable[[], Awaitable[Any]]:
    """The SLO windows from the last `slo.backfill_seconds` of the nginx access logs."""

    async def once() -> Any:
        pods = await kube.kube_snapshot()
        traffic.sync(pods.pods)
        # Most of the timeout for reading; what was read by then is what is reported.
        await traffic.wait_caught_up(max(1.0, timeout - 1.5))
        return await traffic.snapshot()

    return once


async def check(settings: Settings, context: str | None, namespace: str | None) -> list[dict]:
    timeout = settings.poll.timeout
    host = HostSource(settings.thresholds)
    postgres = PostgresSource(settings)
    redis = RedisSource(settings)
    jobs: list[Awaitable[dict]] = [
        _one("host", host.snapshot, timeout),
        _one("postgres", postgres.snapshot, timeout),
        _one("redis", redis.snapshot, timeout),
    ]
    kube: KubeSource | None = None
    results: list[dict] = []
    target = None
    try:
        target = await asyncio.wait_for(
            asyncio.to_thread(connect, settings.kube, context=context, namespace=namespace),
            timeout,
        )
    except Exception as exc:
        message, hint = describe(exc)
        results.append(
            {"source": "kubernetes", "level": "UNREACHABLE", "text": message, "hint": hint}
        )
    # The public URLs are checked even when Kubernetes is unreachable.
    health = HealthSource(settings, target)
    prometheus = PrometheusSource(settings, target)
    many: list[Awaitable[list[dict]]] = [
        _lines("health", health.snapshot, health_lines, timeout),
        _lines("alerts", prometheus.snapshot, prometheus_lines, timeout),
    ]
    traffic: TrafficSource | None = None
    # Both halves (CronJob and S3) and the newest dump read back, as the pane shows them.
    backups = BackupsSource(settings)
    many.append(_lines("backups", _backups_once(backups, timeout), backups_lines, timeout))
    disk: DiskSource | None = None
    if target is not None:
        kube = KubeSource(target, settings)
        kube.start()
        backups.attach(kube.backups_snapshot)
        jobs += [
            _one("pods", kube.kube_snapshot, timeout),
            _one("top", kube.top_snapshot, timeout),
            _one("events", kube.events_snapshot, timeout),
        ]
        # No screen to keep responsive: read the whole 5-minute window.
        slo = settings.slo.model_copy(
            update={"backfill_seconds": max(CHECK_BACKFILL_S, settings.slo.backfill_seconds)}
        )
        traffic = TrafficSource(settings.model_copy(update={"slo": slo}), kube)
        disk = DiskSource(settings, target.api.configuration, target.namespace)
        many.append(_lines("disk", disk.snapshot, disk_lines, timeout))
        many.append(_lines("slo", _traffic_once(kube, traffic, timeout), slo_lines, timeout))
    try:
        # All at once: a slow source costs the check its own timeout, not the sum.
        singles, multiples = await asyncio.gather(asyncio.gather(*jobs), asyncio.gather(*many))
        results += singles
        for lines in multiples:
            results += lines
    finally:
        await backups.close()
        await health.close()
        await prometheus.close()
        if traffic is not None:
            await traffic.close()
        if disk is not None:
            await disk.close()
        await postgres.close()
        await redis.close()
        if kube is not None:
            await asyncio.to_thread(kube.stop)
    return results


def run_check(
    settings: Settings, context: str | None, namespace: str | None, as_json: bool = False
) -> int:
    results = asyncio.run(check(settings, context, namespace))
    if as_json:
        print(json.dumps(results, indent=2))
    else:
        width = max(len(r["source"]) for r in results)
        for r in results:
            line = f"{r['source']:<{width}}  {r['level']:<11}  {one_line(r['text'], 300)}"
            if r.get("hint"):
                line += f" ({one_line(r['hint'], 200)})"
            print(line)
    levels = {r["level"] for r in results}
    if levels & {"CRIT", "UNREACHABLE"}:
        return 2
    return 1 if "WARN" in levels else 0
