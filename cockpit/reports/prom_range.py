"""The period's figures from Prometheus: the SLO pane's own PromQL, as range queries.

Each point's rate window is the step, so the points cover the whole period between them
(a week at one point per hour: each point is that hour's figure)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from cockpit.errors import SourceError
from cockpit.reports.figures import Point, Traffic
from cockpit.sources.prometheus.promql import ALL, matrix, queries
from cockpit.sources.prometheus.source import PrometheusSource


@dataclass(frozen=True, slots=True)
class RangeAsked:
    """What was asked of Prometheus, so that anyone can ask it again."""

    url: str
    start: float
    end: float
    step: float
    queries: dict[str, str]


def window(step: float) -> str:
    return f"{max(round(step), 1)}s"


async def traffic_from_prometheus(
    source: PrometheusSource, start: float, end: float, step: float
) -> tuple[list[Traffic], RangeAsked] | None:
    """Per-upstream series ("all" first), or None when no Prometheus is configured or
    found.  Raises SourceError when it is there and fails."""
    asked = queries(source.prom.selector, window(step))
    names = list(asked)
    answers = await asyncio.gather(*(source.range_query(asked[n], start, end, step) for n in names))
    if any(a is None for a in answers):
        return None
    by_app: dict[str, dict[str, list[Point]]] = {}
    for name, answer in zip(names, answers, strict=True):
        try:
            found = matrix(answer)
        except ValueError as exc:
            raise SourceError(
                f"Prometheus at {source.url}: unexpected answer to a range query ({exc})",
                "is this the Prometheus server's address (not Grafana or Alertmanager)?",
            ) from None
        for app, points in found.items():
            by_app.setdefault(app, {})[name] = points
    order = sorted(by_app, key=lambda a: (a != ALL, a))
    ranged = RangeAsked(source.url, start, end, step, asked)
    return [Traffic(app, by_app[app]) for app in order], ranged
