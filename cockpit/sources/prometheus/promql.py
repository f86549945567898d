"""The PromQL behind the SLO figures, and reading Prometheus' instant-query answers.

Every figure is over 5 minutes, per upstream (`app` label) and overall (`app="all"`, by
label_replace, so one query answers both), with the configured selector added to each
metric's matchers.  Pure functions: tested without a server.
"""

from __future__ import annotations

import math
from typing import Any

from cockpit.model import PromFigures

WINDOW = "5m"
REQUESTS = "http_requests_total"
BUCKETS = "http_request_duration_seconds_bucket"
QUANTILES = {"p50_ms": 0.5, "p95_ms": 0.95, "p99_ms": 0.99}
ALL = "all"


def selector(*matchers: str) -> str:
    """`{a, b}` from the non-empty matchers ("" when none)."""
    kept = [m.strip().strip(",") for m in matchers if m and m.strip().strip(",")]
    return "{" + ",".join(kept) + "}" if kept else ""


def _by_app_and_all(inner: str, by: str = "") -> str:
    """sum by (app[, by]) (inner) or the same summed over every app, labelled app="all"."""
    extra = f", {by}" if by else ""
    overall = f"sum by ({by}) ({inner})" if by else f"sum({inner})"
    return f'sum by (app{extra}) ({inner}) or label_replace({overall}, "app", "{ALL}", "", "")'


def queries(extra: str = "", window: str = WINDOW) -> dict[str, str]:
    """Figure name -> PromQL.  `extra` is settings.prometheus.selector; `window` the rate
    window (a report over a week asks for one point per hour over the hour before it)."""
    every = f"rate({REQUESTS}{selector(extra)}[{window}])"
    five_xx = selector('status=~"5.."', extra)
    errors = f"rate({REQUESTS}{five_xx}[{window}])"
    buckets = f"rate({BUCKETS}{selector(extra)}[{window}])"
    total = _by_app_and_all(every)
    found = {
        "rps": total,
        # An app with traffic and no 5xx series at all has 0 %, not no figure.
        "error_pct": f"100 * (({_by_app_and_all(errors)}) or (0 * ({total}))) / ({total})",
    }
    for name, q in QUANTILES.items():
        # Seconds to milliseconds here, so every figure arrives in the snapshot's unit.
        found[name] = f"1000 * histogram_quantile({q}, {_by_app_and_all(buckets, 'le')})"
    return found


def number(text: object) -> float | None:
    """A sample value ("0.25", "NaN", "+Inf") as a finite float, else None.

    NaN is "no requests"; +Inf is a quantile past the largest finite bucket, which says
    only "more than that": neither is a figure to compare or draw."""
    try:
        value = float(str(text))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def vector(data: Any) -> dict[str, float | None]:
    """An instant query's `data` (resultType vector) as app -> value.

    A series without an `app` label counts as the overall figure's only when no
    "all" series came (it cannot be told apart from a sum otherwise)."""
    if not isinstance(data, dict) or data.get("resultType") != "vector":
        kind = data.get("resultType") if isinstance(data, dict) else type(data).__name__
        raise ValueError(f"expected a vector, got {str(kind)[:40]!r}")
    found: dict[str, float | None] = {}
    for item in data.get("result") or ():
        if not isinstance(item, dict):
            continue
        metric = item.get("metric") or {}
        app = str(metric.get("app", "")) if isinstance(metric, dict) else ""
        value = item.get("value")
        if not app or not isinstance(value, list) or len(value) != 2:
            continue
        found[app] = number(value[1])
    return found


def matrix(data: Any) -> dict[str, list[tuple[float, float | None]]]:
    """A range query's `data` (resultType matrix) as app -> [(epoch seconds, value)]."""
    if not isinstance(data, dict) or data.get("resultType") != "matrix":
        kind = data.get("resultType") if isinstance(data, dict) else type(data).__name__
        raise ValueError(f"expected a matrix, got {str(kind)[:40]!r}")
    found: dict[str, list[tuple[float, float | None]]] = {}
    for item in data.get("result") or ():
        if not isinstance(item, dict):
            continue
        metric = item.get("metric") or {}
        app = str(metric.get("app", "")) if isinstance(metric, dict) else ""
        points = []
        for pair in item.get("values") or ():
            if isinstance(pair, list) and len(pair) == 2:
                try:
                    points.append((float(pair[0]), number(pair[1])))
                except (TypeError, ValueError):
                    continue
        if app:
            found[app] = points
    return found


def figures(results: dict[str, dict[str, float | None]]) -> tuple[PromFigures, ...]:
    """Per-figure vectors to one PromFigures per upstream: "all" first, then by name."""
    apps = {app for vec in results.values() for app in vec}
    order = sorted(apps, key=lambda a: (a != ALL, a))
    return tuple(
        PromFigures(
            upstream=app,
            rps=results.get("rps", {}).get(app),
            error_pct=results.get("error_pct", {}).get(app),
            p50_ms=results.get("p50_ms", {}).get(app),
            p95_ms=results.get("p95_ms", {}).get(app),
            p99_ms=results.get("p99_ms", {}).get(app),
        )
        for app in order
    )
