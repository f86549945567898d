"""The runbook's application figures over time, and how they fared against its limits.

A series is a list of (epoch seconds, value or None) points, per upstream ("all",
"rails", "fastapi") and figure (p50/p95/p99 latency, error %, throughput), whichever
source it came from (Prometheus range queries or recorded SLO snapshots).  Pure.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from cockpit.config import Thresholds

Point = tuple[float, float | None]
FIGURES = ("p50_ms", "p95_ms", "p99_ms", "error_pct", "rps")
LATENCIES = ("p50_ms", "p95_ms", "p99_ms")
ALL = "all"  # the whole service (cockpit.slo and the PromQL both call it so)


@dataclass(frozen=True, slots=True)
class Limit:
    figure: str
    label: str
    threshold: float
    higher_is_worse: bool  # throughput is the one where lower is worse
    unit: str

    def breached(self, value: float) -> bool:
        return value > self.threshold if self.higher_is_worse else value < self.threshold

    def show(self, value: float | None) -> str:
        """A value in this figure's unit, as the report writes it."""
        if value is None:
            return "-"
        if self.unit == "%":
            return f"{value:.3f} %"
        if self.unit == "ms":
            return f"{value:.0f} ms"
        return f"{value:.1f} {self.unit}"

    @property
    def words(self) -> str:
        sign = "<" if self.higher_is_worse else ">"
        return f"{sign} {self.threshold:g} {self.unit}"


def limits(th: Thresholds) -> dict[str, Limit]:
    """The runbook's monitoring checklist: p50 < 200 ms, p95 < 500 ms, p99 < 1 s,
    errors < 0.1 %, throughput > 100 req/s (as configured)."""
    return {
        "p50_ms": Limit("p50_ms", "p50 latency", th.latency_p50_ms, True, "ms"),
        "p95_ms": Limit("p95_ms", "p95 latency", th.latency_p95_ms, True, "ms"),
        "p99_ms": Limit("p99_ms", "p99 latency", th.latency_p99_ms, True, "ms"),
        "error_pct": Limit("error_pct", "error rate", th.error_rate_pct, True, "%"),
        "rps": Limit("rps", "throughput", th.throughput_rps, False, "req/s"),
    }


@dataclass(frozen=True, slots=True)
class Traffic:
    """One upstream's series: figure -> points, in time order."""

    upstream: str
    series: dict[str, list[Point]]

    def values(self, figure: str) -> list[float]:
        return [v for _, v in self.series.get(figure, ()) if v is not None]


@dataclass(frozen=True, slots=True)
class Summary:
    """One figure of one upstream over the report's period."""

    upstream: str
    limit: Limit
    points: int  # points with a value
    overall: float | None  # the period's figure (see summarise)
    median: float | None
    worst: float | None
    breaching: int  # points past the threshold
    judged: bool = True  # False: no limit applies (one upstream's share of throughput)

    @property
    def breaching_pct(self) -> float | None:
        return 100.0 * self.breaching / self.points if self.points and self.judged else None

    @property
    def met(self) -> bool | None:
        """The period's figure against the threshold; None without data or limit."""
        if self.overall is None or not self.judged:
            return None
        return not self.limit.breached(self.overall)


def overall_error_pct(traffic: Traffic) -> float | None:
    """Errors over requests for the whole period: each point's error % weighted by its
    throughput (a quiet night's 50 % of two requests is not half the week's traffic)."""
    rps = dict(traffic.series.get("rps", ()))
    weighted = total = 0.0
    for t, pct in traffic.series.get("error_pct", ()):
        r = rps.get(t)
        if pct is None or r is None:
            continue
        weighted += r * pct
        total += r
    return weighted / total if total > 0 else None


def judged(upstream: str, figure: str) -> bool:
    """The runbook's throughput floor is the service's, not each upstream's."""
    return figure != "rps" or upstream == ALL


def summarise(traffic: Traffic, limit: Limit) -> Summary:
    """Latency: the median of the points is the period's figure; errors: weighted by
    throughput; throughput: the mean.  Worst is the highest (lowest for throughput)."""
    values = traffic.values(limit.figure)
    fair = judged(traffic.upstream, limit.figure)
    if not values:
        return Summary(traffic.upstream, limit, 0, None, None, None, 0, fair)
    median = statistics.median(values)
    if limit.figure == "error_pct":
        overall = overall_error_pct(traffic)
    elif limit.figure == "rps":
        overall = statistics.fmean(values)
    else:
        overall = median
    worst = max(values) if limit.higher_is_worse else min(values)
    breaching = sum(1 for v in values if limit.breached(v)) if fair else 0
    return Summary(traffic.upstream, limit, len(values), overall, median, worst, breaching, fair)


def summaries(traffic: list[Traffic], th: Thresholds) -> list[Summary]:
    found = limits(th)
    return [summarise(t, found[f]) for t in traffic for f in FIGURES]
