"""Rolling windows: quantiles within DDSketch's accuracy, error share, rates over the
covered time, late lines, eviction and the memory bound, burn rates and levels."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from cockpit.config import Thresholds
from cockpit.model import Level
from cockpit.slo.figures import (
    BURN_PAIRS,
    build_snapshot,
    burn_rate,
    error_level,
    latency_level,
    throughput_level,
    window_figures,
)
from cockpit.slo.parse import OTHER
from cockpit.slo.report import burn_line, check_lines, summary
from cockpit.slo.windows import ALL, COARSE_SPAN_S, FINE_S, RELATIVE_ACCURACY, SloWindows

T0 = 1_800_000_000.0  # a multiple of 60: bucket edges are easy to reason about
NAMES = ("rails", "fastapi")


def exact_quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[int(q * (len(ordered) - 1))]


def test_quantiles_within_ddsketch_accuracy() -> None:
    rng = random.Random(7)
    w = SloWindows(NAMES, origin=T0 - 3600)
    latencies = [rng.lognormvariate(4, 1) for _ in range(20_000)]  # ms, median ~55
    for n, ms in enumerate(latencies):
        w.add(T0 + (n % 300), "rails", False, ms)
    now = T0 + 299.5
    five = w.window("rails", 300, now)
    assert five.requests == 20_000
    for got, q in ((five.p50_ms, 0.5), (five.p95_ms, 0.95), (five.p99_ms, 0.99)):
        assert got == pytest.approx(exact_quantile(latencies, q), rel=2 * RELATIVE_ACCURACY)
    # The 1 m window: the last 6 ten-second buckets only.
    one = w.window("rails", 60, now)
    recent = [ms for n, ms in enumerate(latencies) if (n % 300) >= 240]
    assert one.requests == len(recent)
    assert one.p99_ms == pytest.approx(exact_quantile(recent, 0.99), rel=2 * RELATIVE_ACCURACY)


def test_all_merges_upstreams_and_counts_other_but_not_in_named() -> None:
    w = SloWindows(NAMES, origin=T0 - 3600)
    for n in range(100):
        w.add(T0 + n * 0.5, "rails", False, 10.0)
        w.add(T0 + n * 0.5, "fastapi", n % 10 == 0, 1000.0)
        w.add(T0 + n * 0.5, OTHER, False, 100.0)
    now = T0 + 59
    assert w.window("rails", 60, now).requests == 100
    fastapi = w.window("fastapi", 60, now)
    assert (fastapi.requests, fastapi.errors) == (100, 10)
    assert fastapi.error_ratio == pytest.approx(0.1)
    everything = w.window(ALL, 60, now)
    assert (everything.requests, everything.errors) == (300, 10)
    assert everything.p50_ms == pytest.approx(100.0, rel=RELATIVE_ACCURACY)
    assert everything.p99_ms == pytest.approx(1000.0, rel=RELATIVE_ACCURACY)
    # An unknown upstream name is "other" too.
    w.add(T0 + 50, "sidekiq-web", False, 1.0)
    assert w.window(ALL, 60, now).requests == 301


def test_rates_divide_by_the_covered_time() -> None:
    # The cockpit started 20 s ago (origin): 10 req/s for 20 s is 10 req/s, not 200/60.
    w = SloWindows(NAMES, origin=T0)
    for n in range(200):
        w.add(T0 + n * 0.1, "rails", False, 5.0)
    one = w.window("rails", 60, T0 + 20)
    assert one.seconds == pytest.approx(20)
    assert one.rps == pytest.approx(10)
    # Long after: the window covers its whole length (whole 10-s buckets: 50-60 s).
    w2 = SloWindows(NAMES, origin=T0 - 3600)
    for n in range(600):
        w2.add(T0 + n * 0.1, "rails", False, 5.0)
    at = T0 + 59.9
    full = w2.window("rails", 60, at)
    assert 50 <= full.seconds <= 60
    assert full.rps == pytest.approx(600 / full.seconds)
    empty = w2.window("fastapi", 60, at)
    assert (empty.requests, empty.rps, empty.error_ratio, empty.p99_ms) == (0, 0, None, None)


def test_late_and_out_of_order_lines_land_in_their_own_bucket() -> None:
    w = SloWindows(NAMES, origin=T0 - 3600)
    w.add(T0 + 100, "rails", False, 5.0)
    w.add(T0 + 95, "rails", True, 5.0)  # 5 s late, another pod
    w.add(T0 + 40, "rails", True, 5.0)  # a minute late: outside the last minute
    assert w.window("rails", 60, T0 + 100).errors == 1
    assert w.window("rails", 300, T0 + 100).errors == 2
    # Older than the longest window (6 h): dropped and counted.
    assert w.add(T0 + 100 - COARSE_SPAN_S - 120, "rails", True, 5.0) is False
    assert w.too_old == 1
    # Older than 5 minutes but within 6 hours: counted for the burn rates only.
    assert w.add(T0 - 1000, "rails", True, 5.0) is True
    assert w.counts("rails", 3600, T0 + 100).errors == 3
    assert w.window("rails", 300, T0 + 100).errors == 2


def test_memory_is_bounded_by_buckets_whatever_the_traffic() -> None:
    w = SloWindows(NAMES, origin=T0)
    for second in range(2 * 3600):  # two hours, 3 lines a second
        t = T0 + second
        w.add(t, "rails", False, 20.0)
        w.add(t, "fastapi", second % 100 == 0, 200.0)
        w.add(t, OTHER, False, 1.0)
    # 31 ten-second buckets (5 m + the one being filled) and 120 minutes so far.
    assert w.bucket_count() == 31 + 120
    for second in range(2 * 3600, 7 * 3600, 7):  # five more hours
        w.add(T0 + second, "rails", False, 20.0)
    assert w.bucket_count() == 31 + 361  # the rings are full: no more, ever
    # Hostile latencies do not grow a sketch past its bin limit.
    for n in range(5000):
        w.add(T0 + 7 * 3600, "rails", False, 10.0 ** (n % 30 - 10))
    now = T0 + 7 * 3600
    cell = w._fine[int(now // FINE_S) % len(w._fine)]
    assert cell is not None
    store = cell.sketches["rails"]._store
    assert len(store.bins) <= 2048


def test_history_one_point_per_ten_seconds() -> None:
    w = SloWindows(NAMES, origin=T0 - 3600)
    for n in range(300):
        w.add(T0 + n, "fastapi", n >= 290, 100.0 if n < 290 else 3000.0)
    rps, err, p99 = w.history("fastapi", T0 + 299.9)
    assert len(rps) == len(err) == len(p99) == 30
    assert rps[0] == pytest.approx(1.0) and err[0] == 0
    assert err[-1] == pytest.approx(100) and p99[-1] == pytest.approx(3000, rel=0.01)
    # Before the data starts there is nothing to draw (not zeros).
    young = SloWindows(NAMES, origin=T0)
    young.add(T0 + 5, "rails", False, 1.0)
    assert len(young.history("rails", T0 + 25)[0]) == 3


def test_burn_rates_for_crafted_error_ratios() -> None:
    w = SloWindows(NAMES, origin=T0 - 7 * 3600)
    # An hour at 2 % errors (burn 20x a 99.9 % budget), with the last 5 minutes at 3 %.
    for second in range(3600):
        t = T0 + second
        recent = second >= 3300
        for k in range(100):
            w.add(t, "fastapi", k < (3 if recent else 2), 50.0)
    now = T0 + 3599.5
    page = burn_rate(w, "fastapi", BURN_PAIRS[0], 99.9, now)
    assert page.long_burn == pytest.approx((2 * 3300 + 3 * 300) / 3600 / 100 / 0.001, rel=1e-6)
    assert page.short_burn == pytest.approx(30, rel=1e-6)
    assert page.firing and page.level is Level.CRIT
    assert page.covered_s == pytest.approx(3600, abs=60)
    assert burn_line(page) == "burn 1h/5m 20.8×/30.0× ≥14.4× PAGE"
    ticket = burn_rate(w, "fastapi", BURN_PAIRS[1], 99.9, now)
    assert ticket.firing and ticket.level is Level.WARN
    # No rails traffic: nothing to burn.
    rails = burn_rate(w, "rails", BURN_PAIRS[0], 99.9, now)
    assert (rails.long_burn, rails.firing, rails.level) == (None, False, Level.OK)
    # 1 % errors is a burn of 10x: not enough to page, enough for a ticket.
    w2 = SloWindows(NAMES, origin=T0 - 7 * 3600)
    for second in range(0, 3600, 2):
        for k in range(100):
            w2.add(T0 + second, "rails", k == 0, 50.0)
    assert not burn_rate(w2, "rails", BURN_PAIRS[0], 99.9, now).firing
    assert burn_rate(w2, "rails", BURN_PAIRS[1], 99.9, now).firing
    # The cockpit has seen ten minutes of the hour: it says so.
    young = SloWindows(NAMES, origin=now - 600)
    young.add(now - 10, "rails", True, 5.0)
    early = burn_rate(young, "rails", BURN_PAIRS[0], 99.9, now)
    assert early.covered_s == pytest.approx(600)


def test_levels_of_single_valued_limits() -> None:
    assert latency_level(None, 200) is Level.OK
    assert latency_level(200, 200) is Level.OK
    assert latency_level(201, 200) is Level.WARN
    assert latency_level(401, 200) is Level.CRIT
    assert error_level(0.1, 0.1) is Level.OK
    assert error_level(0.5, 0.1) is Level.WARN
    assert error_level(1.5, 0.1) is Level.CRIT
    assert error_level(5.0, 3.0) is Level.WARN  # with a custom limit, CRIT is twice it
    assert throughput_level(99, 100) is Level.WARN
    assert throughput_level(0, 100) is Level.WARN
    assert throughput_level(150, 100) is Level.OK


def test_snapshot_levels_summary_and_check_lines() -> None:
    w = SloWindows(NAMES, origin=T0 - 7 * 3600)
    thresholds = Thresholds(throughput_rps=1)
    for second in range(600):
        t = T0 + second
        w.add(t, "rails", False, 40.0)
        w.add(t, "rails", False, 60.0)
        # fastapi: a third of its answers are 503s after 2.9 s
        w.add(t, "fastapi", second % 3 == 0, 2900.0 if second % 3 == 0 else 80.0)
    now = T0 + 599.9
    rails = window_figures(w, "rails", 300, now, thresholds)
    assert rails.level is Level.OK and rails.error_pct == 0
    snap = build_snapshot(
        w,
        thresholds,
        99.9,
        now,
        taken_at=datetime.now(UTC),
        lines=1800,
        unparsed=3,
        dropped=0,
        streams=2,
    )
    assert [u.name for u in snap.upstreams] == ["all", "rails", "fastapi"]
    fastapi = snap.upstreams[2]
    assert fastapi.five_minutes.error_level is Level.CRIT
    assert fastapi.five_minutes.p99_level is Level.CRIT
    assert fastapi.five_minutes.p50_level is Level.OK
    assert snap.upstreams[1].level is Level.OK
    assert snap.level is Level.CRIT
    firing = {(b.upstream, b.long_window) for b in snap.burn if b.firing}
    assert ("fastapi", "1h") in firing and ("rails", "1h") not in firing
    assert summary(snap).startswith("fastapi burn ")
    assert "fastapi err 33.3 %, p99 2.9 s" in summary(snap)
    lines = check_lines(snap)
    texts = [text for _, text in lines]
    assert any(t.startswith("fastapi 5m: ") and "err 33.3 %" in t for t in texts)
    assert any(level is Level.CRIT and "fastapi burn 1h/5m" in t for level, t in lines)
    assert texts[-1] == "1800 lines, 3 unparsed, 0 dropped"
    # The throughput limit is the service's: below it, "all" is WARN, never CRIT.
    quiet = build_snapshot(
        SloWindows(NAMES, origin=now - 60),
        Thresholds(),
        99.9,
        now,
        taken_at=datetime.now(UTC),
        lines=0,
        unparsed=0,
        dropped=0,
        streams=1,
    )
    assert quiet.upstreams[0].one_minute.rps_level is Level.WARN
    assert quiet.upstreams[1].one_minute.rps_level is Level.OK
    assert quiet.level is Level.WARN
