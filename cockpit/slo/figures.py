"""The windows' counts -> the snapshot's figures, each with its level.

The runbook gives one limit per figure (p50 < 200 ms, p95 < 500 ms, p99 < 1 s, error
rate < 0.1 %, throughput > 100 req/s).  Levels from them:

- latency: over the limit WARN, over twice the limit CRIT;
- error rate: over the limit WARN; over 1 % (or twice the limit, if that is higher)
  CRIT: ten times the runbook's budget is an incident, not a drift; fewer than three
  5xx in the window are no signal either way (OK);
- throughput (overall only: the limit is the service's, not an upstream's): under the
  limit WARN, never CRIT (a quiet night is not an outage; errors and latency say when
  users suffer);
- error-budget burn (SRE workbook, multiwindow, multi-burn-rate): 1 h and 5 m both
  burning at 14.4x the budget is a page (CRIT); 6 h and 30 m at 6x a ticket (WARN);
  neither fires before the pair's short window has been seen whole (5 m, 30 m): the
  rates are shown from the start, with how much of the long window they cover.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cockpit.config import Thresholds
from cockpit.model import BurnRate, Level, SloSnapshot, UpstreamSlo, WindowFigures, worst
from cockpit.slo.windows import ALL, SloWindows

ERROR_CRIT_PCT = 1.0
FINE_SLACK_S = 10  # one sketch bucket: a window "seen whole" within a bucket
MIN_ERRORS = 3  # fewer 5xx in a window than this never colour its error rate


@dataclass(frozen=True, slots=True)
class BurnPair:
    long_s: int
    short_s: int
    factor: float
    level: Level  # when firing
    name: str  # what firing means: "PAGE" or "TICKET"


BURN_PAIRS = (
    BurnPair(3600, 300, 14.4, Level.CRIT, "PAGE"),
    BurnPair(6 * 3600, 1800, 6.0, Level.WARN, "TICKET"),
)


def window_label(seconds: int) -> str:
    return f"{seconds // 3600}h" if seconds % 3600 == 0 else f"{seconds // 60}m"


def latency_level(value_ms: float | None, limit_ms: float) -> Level:
    if value_ms is None or value_ms <= limit_ms:
        return Level.OK
    return Level.CRIT if value_ms > 2 * limit_ms else Level.WARN


def error_level(pct: float | None, limit_pct: float, errors: int | None = None) -> Level:
    """`errors`: how many 5xx the share is made of.  Fewer than MIN_ERRORS is no signal:
    a minute of 1,800 requests at a healthy 0.03 % has two errors one time in ten, and
    0.11 % would flicker WARN on a quiet upstream."""
    if pct is None or pct <= limit_pct:
        return Level.OK
    if errors is not None and errors < MIN_ERRORS:
        return Level.OK
    return Level.CRIT if pct > max(ERROR_CRIT_PCT, 2 * limit_pct) else Level.WARN


def throughput_level(rps: float, limit_rps: float) -> Level:
    return Level.WARN if rps < limit_rps else Level.OK


def window_figures(
    windows: SloWindows,
    upstream: str,
    seconds: int,
    now: float,
    thresholds: Thresholds,
    judge_throughput: bool = True,
) -> WindowFigures:
    totals = windows.window(upstream, seconds, now)
    ratio = totals.error_ratio
    error_pct = None if ratio is None else 100.0 * ratio
    rps = totals.rps
    return WindowFigures(
        seconds=totals.seconds,
        requests=totals.requests,
        rps=rps,
        errors=totals.errors,
        error_pct=error_pct,
        p50_ms=totals.p50_ms,
        p95_ms=totals.p95_ms,
        p99_ms=totals.p99_ms,
        rps_level=throughput_level(rps, thresholds.throughput_rps)
        if upstream == ALL and judge_throughput
        else Level.OK,
        error_level=error_level(error_pct, thresholds.error_rate_pct, totals.errors),
        p50_level=latency_level(totals.p50_ms, thresholds.latency_p50_ms),
        p95_level=latency_level(totals.p95_ms, thresholds.latency_p95_ms),
        p99_level=latency_level(totals.p99_ms, thresholds.latency_p99_ms),
    )


def upstream_slo(
    windows: SloWindows,
    upstream: str,
    now: float,
    thresholds: Thresholds,
    judge_throughput: bool = True,
) -> UpstreamSlo:
    one = window_figures(windows, upstream, 60, now, thresholds, judge_throughput)
    five = window_figures(windows, upstream, 300, now, thresholds, judge_throughput)
    rps, err, p99 = windows.history(upstream, now)
    return UpstreamSlo(
        name=upstream,
        one_minute=one,
        five_minutes=five,
        rps_history=rps,
        error_pct_history=err,
        p99_history=p99,
        level=worst((one.level, five.level)),
    )


def burn_rate(
    windows: SloWindows, upstream: str, pair: BurnPair, objective_pct: float, now: float
) -> BurnRate:
    budget = 1.0 - objective_pct / 100.0
    long = windows.counts(upstream, pair.long_s, now)
    short = windows.counts(upstream, pair.short_s, now)
    long_burn = None if long.error_ratio is None else long.error_ratio / budget
    short_burn = None if short.error_ratio is None else short.error_ratio / budget
    # Not before the short window has been seen whole: a minute of data after start
    # is no 5-minute window, and a page on it would be a blip paging someone.
    firing = (
        long_burn is not None
        and short_burn is not None
        and long_burn >= pair.factor
        and short_burn >= pair.factor
        and long.seconds >= pair.short_s - FINE_SLACK_S
    )
    return BurnRate(
        long_window=window_label(pair.long_s),
        short_window=window_label(pair.short_s),
        factor=pair.factor,
        long_burn=long_burn,
        short_burn=short_burn,
        covered_s=min(float(pair.long_s), long.seconds),
        firing=firing,
        level=pair.level if firing else Level.OK,
        upstream=upstream,
    )


def build_snapshot(
    windows: SloWindows,
    thresholds: Thresholds,
    objective_pct: float,
    now: float,
    *,
    taken_at: datetime,
    lines: int,
    unparsed: int,
    dropped: int,
    streams: int,
    message: str = "",
    message_level: Level = Level.OK,
    hint: str = "",
) -> SloSnapshot:
    """Every upstream ("all" first) and its burn rates at `now` (epoch seconds).

    Low throughput is judged only while access logs are read: with no stream and no
    line, zero requests means "not measured", not "no users"."""
    names = (ALL, *windows.names)
    judge = streams > 0 or lines > 0
    upstreams = tuple(upstream_slo(windows, name, now, thresholds, judge) for name in names)
    burn = tuple(
        burn_rate(windows, name, pair, objective_pct, now) for name in names for pair in BURN_PAIRS
    )
    level = worst((message_level, *(u.level for u in upstreams), *(b.level for b in burn)))
    return SloSnapshot(
        upstreams=upstreams,
        burn=burn,
        objective_pct=objective_pct,
        lines=lines,
        unparsed=unparsed,
        dropped=dropped,
        streams=streams,
        taken_at=taken_at,
        level=level,
        message=message,
        message_level=message_level,
        hint=hint,
    )
