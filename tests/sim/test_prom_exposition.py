"""The simulated app pods' Prometheus metrics, over real HTTP, against the access logs
read through the real kubernetes client; the exposition checked strictly and by promtool;
the scrape configuration checked by promtool."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client as k8s

from cockpit.sim.prom_exposition import BUCKETS, scrape_config
from cockpit.sim.runner import SimCluster
from tests.sim.traffic_helpers import (
    NS,
    SteppedClock,
    http_get,
    nginx_lines,
    parse_exposition,
    pod_ips,
    series,
    stepped_sim,
)

PROMTOOL = shutil.which("promtool")


@pytest.fixture
def healthy() -> Iterator[tuple[SimCluster, SteppedClock]]:
    sim, clock = stepped_sim("healthy")
    yield sim, clock
    sim.stop()


@pytest.fixture
def incident() -> Iterator[tuple[SimCluster, SteppedClock]]:
    sim, clock = stepped_sim("incident")
    yield sim, clock
    sim.stop()


def _sd(sim: SimCluster) -> list[dict]:
    status, ctype, body = http_get(sim.metrics_url + "/sd")
    assert status == 200 and ctype.startswith("application/json")
    return json.loads(body)


def _scrape_all(sim: SimCluster) -> dict[str, list[tuple[str, dict[str, str], float]]]:
    out = {}
    for target in _sd(sim):
        labels = target["labels"]
        status, ctype, text = http_get(sim.metrics_url + labels["__metrics_path__"])
        assert status == 200 and ctype.startswith("text/plain; version=0.0.4")
        out[labels["instance"]] = parse_exposition(text)
    return out


def test_each_pods_counters_equal_its_access_lines(
    incident: tuple[SimCluster, SteppedClock],
) -> None:
    sim, clock = incident
    start = clock.t
    end = clock.step(60.0)
    scraped = _scrape_all(sim)
    lines, refused, _ = nginx_lines(sim, start, end)
    ips = pod_ips(sim)

    want: dict[str, Counter] = {}
    durations: dict[str, list[float]] = {}
    refused_tries = Counter()
    for x in lines:
        addrs = x.split("upstream_addr")
        for addr, status, length, secs in zip(
            addrs,
            x.split("upstream_status"),
            x.split("upstream_response_length"),
            x.split("upstream_response_time"),
            strict=True,
        ):
            pod = ips[addr.split(":")[0]]
            if status == "502" and length == "0":  # connection refused: the app never saw it
                refused_tries[pod] += 1
                continue
            want.setdefault(pod, Counter())[(x.fields["method"], status)] += 1
            durations.setdefault(pod, []).append(float(secs))
    assert sum(refused_tries.values()) == refused > 0
    assert set(refused_tries) <= {sim.broken["crashloop"], sim.broken["oomkill"]}

    for pod, samples in scraped.items():
        (start_time,) = [v for _, v in series(samples, "process_start_time_seconds")]
        assert start_time == start
        got = Counter(
            {
                (labels["method"], labels["status"]): int(v)
                for labels, v in series(samples, "http_requests_total")
            }
        )
        assert got == want.get(pod, Counter()), pod
        for labels, _ in series(samples, "http_requests_total"):
            assert labels["pod"] == pod and labels["app"] == pod.split("-")[0]
        mine = durations.get(pod, [])
        (count,) = [v for _, v in series(samples, "http_request_duration_seconds_count")]
        (total,) = [v for _, v in series(samples, "http_request_duration_seconds_sum")]
        assert count == len(mine) and total == pytest.approx(sum(mine), abs=1e-6)
        buckets = {
            labels["le"]: v for labels, v in series(samples, "http_request_duration_seconds_bucket")
        }
        for le in BUCKETS:
            assert buckets[f"{le:g}"] == sum(1 for d in mine if d <= le), (pod, le)
    # The crash-looping pod's lines name it, but it answered nothing.
    crashing = sim.broken["crashloop"]
    assert refused_tries[crashing] > 0 and crashing in scraped
    assert not list(series(scraped[crashing], "http_requests_total"))
    assert sum(sum(c.values()) for c in want.values()) > 60 * 100


def test_a_second_scrape_adds_exactly_the_lines_in_between(
    healthy: tuple[SimCluster, SteppedClock],
) -> None:
    sim, clock = healthy
    clock.step(7.3)
    first = _scrape_all(sim)
    t1 = clock.t
    t2 = clock.step(11.9)
    second = _scrape_all(sim)
    lines, _, _ = nginx_lines(sim, t1, t2)
    ips = pod_ips(sim)
    per_pod = Counter(ips[a.split(":")[0]] for x in lines for a in x.split("upstream_addr"))
    for pod in second:
        n1 = sum(v for _, v in series(first[pod], "http_requests_total"))
        n2 = sum(v for _, v in series(second[pod], "http_requests_total"))
        assert n2 - n1 == per_pod[pod] > 100, pod


def test_the_exposition_is_valid_for_promtool(incident: tuple[SimCluster, SteppedClock]) -> None:
    sim, clock = incident
    clock.step(5.0)
    pages = [sim.metrics_url + t["labels"]["__metrics_path__"] for t in _sd(sim)]
    pages.append(sim.metrics_url + "/metrics/cadvisor")
    for url in pages:
        _, _, text = http_get(url)
        assert parse_exposition(text)
        if PROMTOOL:  # Debian's prometheus package; the strict parse above runs anyway
            done = subprocess.run(
                [PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True
            )
            assert done.returncode == 0, (url, done.stdout, done.stderr)


def test_sd_lists_the_current_app_pods_and_follows_a_replacement(
    sim: SimCluster,
) -> None:
    def app_pods() -> set[str]:
        api = k8s.ApiClient(sim.client_configuration())
        try:
            pods = k8s.CoreV1Api(api).list_namespaced_pod(NS).items
        finally:
            api.close()
        return {
            p.metadata.name
            for p in pods
            if p.metadata.labels.get("app") in ("rails", "fastapi")
            and p.metadata.deletion_timestamp is None
        }

    targets = _sd(sim)
    address = sim.metrics_url.removeprefix("http://")
    assert all(t["targets"] == [address] for t in targets)
    listed = {t["labels"]["instance"] for t in targets}
    assert listed == app_pods() and len(listed) == 5
    assert all(
        t["labels"]["__metrics_path__"] == f"/metrics/pods/{t['labels']['instance']}"
        for t in targets
    )
    victim = sorted(listed)[0]
    api = k8s.ApiClient(sim.client_configuration())
    try:
        k8s.CoreV1Api(api).delete_namespaced_pod(victim, NS)
    finally:
        api.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        now = {t["labels"]["instance"] for t in _sd(sim)}
        if victim not in now and len(now) == 5:
            break
        time.sleep(0.1)
    assert victim not in now and now == app_pods() and len(now) == 5


def _memory(sim: SimCluster) -> dict[str, float]:
    _, _, text = http_get(sim.metrics_url + "/metrics/cadvisor")
    samples = parse_exposition(text)
    used = {lab["pod"]: v for lab, v in series(samples, "container_memory_usage_bytes")}
    limit = {lab["pod"]: v for lab, v in series(samples, "container_spec_memory_limit_bytes")}
    assert limit and set(limit) <= set(used)
    return {pod: used[pod] / limit[pod] for pod in limit}


def test_memory_share_is_high_only_for_the_oom_killed_pod(
    incident: tuple[SimCluster, SteppedClock], sim: SimCluster
) -> None:
    broken, _ = incident
    shares = _memory(broken)
    assert shares[broken.broken["oomkill"]] > 0.9
    high = {p for p, s in shares.items() if s > 0.9}
    assert high <= {broken.broken["oomkill"], "redis-0"}  # Redis at maxmemory, as the incident
    healthy = _memory(sim)
    assert len(healthy) > 10 and max(healthy.values()) < 0.9


def _error_rates(sim: SimCluster, clock: SteppedClock, seconds: float) -> dict[tuple, float]:
    before = _scrape_all(sim)
    clock.step(seconds)
    after = _scrape_all(sim)

    def fives(pages: dict) -> dict[tuple, float]:
        return {
            (lab["pod"], lab["method"], lab["status"]): v
            for samples in pages.values()
            for lab, v in series(samples, "http_requests_total")
            if lab["status"].startswith("5")
        }

    b, a = fives(before), fives(after)
    return {k: (v - b.get(k, 0.0)) / seconds for k, v in a.items()}


def test_high_error_rate_would_fire_in_the_incident_only(
    incident: tuple[SimCluster, SteppedClock], healthy: tuple[SimCluster, SteppedClock]
) -> None:
    # rate(http_requests_total{status=~"5.."}[5m]) > 0.05, per series as the rule is written
    bad = _error_rates(*incident, 300.0)
    assert max(bad.values()) > 0.15, bad
    assert {k[0] for k, v in bad.items() if v > 0.05} == {
        n for n in {k[0] for k in bad} if n.startswith("fastapi-")
    }
    good = _error_rates(*healthy, 300.0)
    assert max(good.values(), default=0.0) < 0.05, good


def test_scrape_config_is_accepted_by_promtool(sim: SimCluster, tmp_path: Path) -> None:
    rules = tmp_path / "rules.yml"
    rules.write_text(
        "groups:\n- name: excel-unified\n  rules:\n  - alert: HighErrorRate\n"
        '    expr: rate(http_requests_total{status=~"5.."}[5m]) > 0.05\n    for: 5m\n'
    )
    text = scrape_config(sim.metrics_url, [str(rules)], "1s", "1s")
    config = json.loads(text)
    assert config["rule_files"] == [str(rules)]
    assert config["global"]["scrape_interval"] == "1s"
    jobs = {j["job_name"]: j for j in config["scrape_configs"]}
    assert jobs["excel-unified"]["http_sd_configs"][0]["url"] == sim.metrics_url + "/sd"
    assert jobs["kubernetes-cadvisor"]["metrics_path"] == "/metrics/cadvisor"
    path = sim.write_prometheus_config(tmp_path / "prometheus.yml", [str(rules)], "1s", "1s")
    assert path.read_text() == text
    assert PROMTOOL, "promtool (Debian's prometheus package) is needed to check the config"
    done = subprocess.run(
        [PROMTOOL, "check", "config", str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
