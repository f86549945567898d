"""End to end: a real Prometheus scrapes the simulated cluster (incident scenario) with
the shipped rules; HighErrorRate goes pending, then firing; the cockpit's
PrometheusSource sees it and the Alerts pane shows it; and the PromQL figures of fastapi
agree with the ones the cockpit derives from the nginx access logs of the same requests.

The rules are the shipped file with each `for: 5m` rewritten to `for: 10s` (the
expressions unchanged), scraped and evaluated every second, so the whole test takes
about half a minute instead of five.  The traffic is denser than the default incident
(PACE below): see there why.

Tolerances, and why:
  error %  within 4 percentage points (measured: 0.5 to 2.3 points low, on ~25 %):
           both count the same requests, but (1) rate() covers first-to-last scrape,
           extrapolated, while the logs cover the lines since Prometheus started, and
           (2) Prometheus cannot count what a counter held at its first sample: each of
           the sparse 5xx series (pod x method x status) loses the few errors it had
           when first scraped, so on a test of seconds PromQL reads low; the gap shrinks
           as the window fills.
  p99      within the width of the histogram bucket that holds the log-derived p99 (plus
           1 % for DDSketch's relative accuracy and 50 ms for nginx's own time):
           histogram_quantile only knows the bucket and interpolates linearly inside it,
           so its answer can be anywhere in that bucket (e.g. 1-2.5 s: up to 1.5 s off).
"""

from __future__ import annotations

import bisect
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from rich.text import Text
from textual.app import App, ComposeResult

from cockpit.config import PrometheusSettings, Settings
from cockpit.model import Level, PrometheusSnapshot
from cockpit.sim.pace import Pace
from cockpit.sim.prom_exposition import BUCKETS
from cockpit.sim.runner import SimCluster
from cockpit.slo.parse import AccessParser, split_kubelet
from cockpit.slo.windows import SloWindows
from cockpit.sources.prometheus.source import PrometheusSource
from tests.sources.prom_real import RULES, RealPrometheus
from widgets.alerts import AlertsPane
from widgets.table import KeyedTable

FOR = "10s"
# More traffic and errors than the default incident: Prometheus has only seconds of
# samples, and rate(...[5m]) over T seconds of data reads about T/300 of the true rate
# (it extrapolates by at most half a scrape interval), so the per-series 5xx rate must be
# several per second for the runbook's 0.05/s to be crossed within seconds.
PACE = Pace.fast().with_(nginx_requests_per_s=300.0, incident_fastapi_error_ratio=0.25)
ERROR_PCT_TOLERANCE = 4.0


def short_rules(target: Path) -> Path:
    text, n = re.subn(r"(?m)^(\s+for:) 5m$", rf"\1 {FOR}", RULES.read_text())
    assert n == 2
    target.write_text(text)
    return target


@pytest.fixture
def incident(tmp_path: Path) -> Iterator[tuple[SimCluster, RealPrometheus]]:
    sim = SimCluster("incident", pace=PACE).start()
    try:
        rules = short_rules(tmp_path / "rules.yml")
        config = sim.write_prometheus_config(
            tmp_path / "prometheus.yml",
            [str(rules)],
            scrape_interval="1s",
            evaluation_interval="1s",
        )
        with RealPrometheus(config.read_text()) as prom:
            yield sim, prom
    finally:
        sim.stop()


class PaneApp(App[None]):
    def compose(self) -> ComposeResult:
        yield AlertsPane(id="alerts")


def log_figures(sim: SimCluster, since: float) -> tuple[float | None, float | None, int]:
    """fastapi's error % and p99 (ms) from the nginx pods' access logs, the way the
    cockpit's SLO windows compute them, over the lines since `since`."""
    headers = {"Authorization": f"Bearer {sim.token}"}
    base = f"{sim.url}/api/v1/namespaces/{sim.namespace}/pods"
    parser = AccessParser(Settings().slo.upstreams)
    windows = SloWindows(("rails", "fastapi"), origin=since)
    with httpx.Client(headers=headers, timeout=10) as http:
        pods = http.get(base, params={"labelSelector": "app=nginx"}).json()["items"]
        assert pods, "the simulated cluster has nginx pods"
        for pod in pods:
            name = pod["metadata"]["name"]
            text = http.get(
                f"{base}/{name}/log", params={"timestamps": "true", "sinceSeconds": "300"}
            ).text
            for line in text.splitlines():
                t, rest = split_kubelet(line)
                access = parser.parse(rest, t)
                if access is None or access.t < since or access.upstream is None:
                    continue
                windows.add(access.t, access.upstream, access.status >= 500, access.latency_ms)
    totals = windows.window("fastapi", 300, time.time())
    error_pct = 100 * totals.error_ratio if totals.error_ratio is not None else None
    return error_pct, totals.p99_ms, totals.requests


def bucket_width_ms(value_ms: float) -> float:
    """The width of the histogram bucket (ms) that holds `value_ms`."""
    edges = [0.0, *(b * 1000 for b in BUCKETS)]
    i = bisect.bisect_left(edges, value_ms)
    assert 0 < i < len(edges), f"{value_ms} ms is past the largest finite bucket"
    return edges[i] - edges[i - 1]


async def test_high_error_rate_pending_then_firing_on_screen_and_figures_agree(
    incident: tuple[SimCluster, RealPrometheus],
) -> None:
    sim, prom = incident
    started = time.time()
    source = PrometheusSource(Settings(prometheus=PrometheusSettings(url=prom.url)))
    try:
        prom.wait_for_alert("HighErrorRate", "pending", deadline_s=20)
        pending = await source.snapshot()
        mine = [a for a in pending.alerts if a.name == "HighErrorRate"]
        assert mine and any(a.state == "pending" and a.level is Level.WARN for a in mine)

        prom.wait_for_alert("HighErrorRate", "firing", deadline_s=30)
        snap = await source.snapshot()
    finally:
        await source.close()
    firing = [a for a in snap.alerts if a.name == "HighErrorRate" and a.state == "firing"]
    assert firing and firing[0].level is Level.CRIT and snap.level is Level.CRIT
    assert snap.alerts[0].state == "firing"  # firing first
    assert firing[0].runbook.startswith("4.1")

    await shows_on_the_pane(snap)

    by = {f.upstream: f for f in snap.figures}
    fastapi = by["fastapi"]
    log_error_pct, log_p99, requests = log_figures(sim, started)
    assert requests > 100, "enough fastapi requests to compare"
    assert fastapi.error_pct is not None and log_error_pct is not None
    assert abs(fastapi.error_pct - log_error_pct) <= ERROR_PCT_TOLERANCE, (
        fastapi.error_pct,
        log_error_pct,
    )
    assert fastapi.p99_ms is not None and log_p99 is not None
    allowed = bucket_width_ms(log_p99) + 0.01 * log_p99 + 50
    print(f"fastapi error % promql {fastapi.error_pct:.2f} logs {log_error_pct:.2f}; ")
    print(f"p99 ms promql {fastapi.p99_ms:.0f} logs {log_p99:.0f} (allowed ±{allowed:.0f})")
    assert abs(fastapi.p99_ms - log_p99) <= allowed, (fastapi.p99_ms, log_p99, allowed)


async def shows_on_the_pane(snap: PrometheusSnapshot) -> None:
    app = PaneApp()
    async with app.run_test(size=(160, 20)) as pilot:
        pane = app.query_one(AlertsPane)
        pane.show(snap)
        await pilot.pause()
        table = pane.query_one(KeyedTable)
        rows = [table.row_cells(k) for k in table.keys_in_order()]
        first = rows[0]
        assert first is not None and all(isinstance(c, Text) for c in first)
        assert first[0].plain == "FIRING" and first[1].plain.startswith("HighErrorRate")
        assert first[2].plain == "critical" and first[4].plain == "High error rate detected"
        assert pane.level is Level.CRIT
        assert pane.summary.startswith("HighErrorRate firing")
