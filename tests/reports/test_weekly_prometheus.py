"""The weekly report's performance figures from a real Prometheus scraping the simulated
cluster (incident scenario, dense traffic), compared with the same range queries asked
of that Prometheus by the test itself, and with figures recomputed from those answers."""

from __future__ import annotations

import asyncio
import statistics
import time
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cockpit.config import PrometheusSettings
from cockpit.reports.figures import FIGURES
from cockpit.reports.render_weekly import render_weekly
from cockpit.reports.weekly import PROMETHEUS, build_weekly
from cockpit.sim.pace import Pace
from cockpit.sim.runner import SimCluster
from tests.reports.conftest import settings_for
from tests.sources.prom_real import RealPrometheus

PACE = Pace.fast().with_(nginx_requests_per_s=300.0, incident_fastapi_error_ratio=0.25)
STEP = 3.0
SPAN = timedelta(seconds=18)


@pytest.fixture
def scraped(tmp_path: Path) -> Iterator[tuple[SimCluster, RealPrometheus]]:
    sim = SimCluster("incident", pace=PACE).start()
    try:
        config = sim.write_prometheus_config(
            tmp_path / "prometheus.yml", [], scrape_interval="1s", evaluation_interval="1s"
        )
        with RealPrometheus(config.read_text()) as prom:
            yield sim, prom
    finally:
        sim.stop()


def range_query(prom: RealPrometheus, query: str, start: float, end: float, step: float) -> dict:
    params = urllib.parse.urlencode(
        {"query": query, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"}
    )
    return prom.api(f"/api/v1/query_range?{params}")


def wait_for_points(prom: RealPrometheus, needed: int, deadline_s: float) -> None:
    """Until the request counters have been scraped for `needed` steps (not a sleep)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < deadline_s:
        end = time.time()
        data = range_query(prom, "sum(http_requests_total)", end - SPAN.total_seconds(), end, STEP)
        if data["result"] and len(data["result"][0]["values"]) >= needed:
            return
        time.sleep(0.5)
    raise AssertionError(f"fewer than {needed} points within {deadline_s} s: {prom.log()}")


def test_weekly_figures_match_prometheus_range_queries(
    scraped: tuple[SimCluster, RealPrometheus], tmp_path: Path
) -> None:
    sim, prom = scraped
    wait_for_points(prom, needed=5, deadline_s=60)
    end = datetime.fromtimestamp(time.time() - 2, UTC)  # scrapes before it are all in
    settings = settings_for(sim, tmp_path, prometheus=PrometheusSettings(url=prom.url))
    report = asyncio.run(build_weekly(settings, end=end, length=SPAN, step=STEP))

    assert report.figures_source == PROMETHEUS, report.problems
    assert report.asked is not None and set(report.asked.queries) == set(FIGURES)
    assert report.asked.url == prom.url
    by_app = {t.upstream: t for t in report.traffic}
    assert report.traffic[0].upstream == "all" and {"rails", "fastapi"} <= set(by_app)

    # The same queries, asked by the test: every point of every series agrees.
    start_s, end_s = end.timestamp() - SPAN.total_seconds(), end.timestamp()
    for figure, query in report.asked.queries.items():
        data = range_query(prom, query, start_s, end_s, STEP)
        theirs = {
            r["metric"]["app"]: [(float(t), float(v)) for t, v in r["values"]]
            for r in data["result"]
        }
        for app, series in theirs.items():
            mine = [(t, v) for t, v in by_app[app].series[figure] if v is not None]
            assert len(mine) >= 3 or figure != "rps", (figure, app, mine)
            assert mine == [(t, v) for t, v in series if v == v and abs(v) != float("inf")], (
                figure,
                app,
            )

    # The period's figures, recomputed from the answers.
    summary = {(s.upstream, s.limit.figure): s for s in report.summaries}
    fastapi = by_app["fastapi"].series
    rps = dict(fastapi["rps"])
    pairs = [(rps[t], e) for t, e in fastapi["error_pct"] if e is not None and t in rps]
    weighted = sum(r * e for r, e in pairs) / sum(r for r, _ in pairs)
    assert summary[("fastapi", "error_pct")].overall == pytest.approx(weighted)
    p99 = [v for _, v in by_app["all"].series["p99_ms"] if v is not None]
    assert summary[("all", "p99_ms")].overall == pytest.approx(statistics.median(p99))
    assert summary[("all", "p99_ms")].worst == pytest.approx(max(p99))
    all_rps = [v for _, v in by_app["all"].series["rps"] if v is not None]
    assert summary[("all", "rps")].overall == pytest.approx(statistics.fmean(all_rps))
    # And they are the incident's: a quarter of fastapi's requests fail.
    assert 15.0 < weighted < 35.0
    assert summary[("fastapi", "error_pct")].met is False  # the runbook allows 0.1 %
    assert summary[("fastapi", "error_pct")].breaching == summary[("fastapi", "error_pct")].points

    # The page shows the period's figure and the verdict, and the queries it asked.
    page = render_weekly(report, settings.backups.min_size_ratio)
    assert f"{weighted:.3f} %" in page
    assert "missed" in page and "http_request_duration_seconds_bucket" in page
    assert page.count('<img class="chart"') == 3
