"""The nginx access logs of the simulated cluster: format, volume, latency, errors.

Clusters run on a stepped clock, so a minute (or five) of traffic is read at once, through
the real kubernetes client."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator

import pytest
from kubernetes import client as k8s

from cockpit.sim.log_lines import Bits
from cockpit.sim.runner import SimCluster
from cockpit.sim.traffic import Context, Knobs, Pool, Upstreams, access_lines, request
from tests.sim.traffic_helpers import (
    ACCESS,
    ERROR_LOG,
    Line,
    SteppedClock,
    nginx_lines,
    pod_ips,
    quantile,
    stepped_sim,
)


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


def _bits(i: int) -> Bits:
    h = hashlib.blake2b(i.to_bytes(5, "big"), digest_size=32).digest()
    return Bits(int.from_bytes(h, "big") >> 16)


class _Fixed(Upstreams):
    def __init__(self, roster: dict[str, Pool]) -> None:
        super().__init__()
        self._rosters = [roster]


def test_every_kind_of_line_parses_with_the_formats_regex() -> None:
    roster = {
        "rails": Pool(
            serving=(("rails-a", "10.0.1.23"), ("rails-b", "10.0.1.25")),
            refusing=(("rails-c", "10.0.1.24"),),
        ),
        "fastapi": Pool(serving=(("fastapi-a", "10.0.2.11"),)),
    }
    ctx = Context(Knobs(incident=True, refused_ratio=0.3), _Fixed(roster))
    seen_status: set[str] = set()
    names: set[str] = set()
    retried = errors = 0
    for i in range(6000):
        lines = access_lines(request(_bits(i), 1_800_000_000.5 + i / 100, ctx), 1_800_000_000.5)
        *head, last = lines
        m = ACCESS.match(last)
        assert m, last
        assert all(ERROR_LOG.match(x) for x in head), head
        errors += len(head)
        seen_status.add(m["status"])
        names.add(m["proxy_upstream_name"])
        statuses = m["upstream_status"].split(", ")
        retried += len(statuses) == 2
        addrs = m["upstream_addr"]
        if m["proxy_upstream_name"] == "-":
            assert (
                m["path"] == "/healthz"
                and addrs == "-"
                and m["http_user_agent"].startswith("kube-probe/")
            )
        else:
            port = "8000" if m["path"].startswith("/api/ai/") else "3000"
            assert all(a.endswith(":" + port) for a in addrs.split(", "))
            assert ("fastapi" if port == "8000" else "rails") in m["proxy_upstream_name"]
            n = len(statuses)
            assert len(m["upstream_response_time"].split(", ")) == n
            assert len(m["upstream_response_length"].split(", ")) == n
            assert float(m["request_time"]) >= sum(
                float(x) for x in m["upstream_response_time"].split(", ")
            )
    assert {"200", "502", "500", "503"} <= seen_status
    assert names == {
        "-",
        "excel-unified-rails-service-3000",
        "excel-unified-fastapi-service-8000",
    }
    assert retried > 0 and errors > retried  # a refused GET is retried; a POST is not


def _figures(lines: list[Line], seconds: float) -> dict[str, dict[str, float]]:
    out = {}
    for name, want in (("all", None), ("rails", "rails"), ("fastapi", "fastapi")):
        mine = [
            x
            for x in lines
            if x.fields["proxy_upstream_name"] != "-"
            and (want is None or want in x.fields["proxy_upstream_name"])
        ]
        times = [float(x.fields["request_time"]) for x in mine]
        out[name] = {
            "rps": len(mine) / seconds,
            "errors": sum(x.fields["status"].startswith("5") for x in mine) / len(mine),
            "p50": quantile(times, 0.5),
            "p95": quantile(times, 0.95),
            "p99": quantile(times, 0.99),
        }
    return out


def test_healthy_traffic_is_within_the_runbooks_thresholds(
    healthy: tuple[SimCluster, SteppedClock],
) -> None:
    sim, clock = healthy
    start = clock.t
    end = clock.step(120.0)
    lines, refused, other = nginx_lines(sim, start, end)
    assert refused == 0 and other == 0
    f = _figures(lines, end - start)["all"]
    # Throughput > 100 req/s, p50 < 200 ms, p95 < 500 ms, p99 < 1 s, errors < 0.1 %.
    assert 120 < f["rps"] < 180, f
    assert f["p50"] < 0.2 and f["p95"] < 0.5 and f["p99"] < 1.0, f
    assert f["errors"] < 0.001, f
    # Every minute on its own is above the threshold too.
    for k in range(2):
        minute = [x for x in lines if start + 60 * k < x.t <= start + 60 * (k + 1)]
        assert len(minute) / 60 > 100


def test_incident_fastapi_fails_and_is_slow_and_rails_fails_now_and_then(
    incident: tuple[SimCluster, SteppedClock],
) -> None:
    sim, clock = incident
    start = clock.t
    end = clock.step(120.0)
    lines, refused, _other = nginx_lines(sim, start, end)
    f = _figures(lines, end - start)
    assert f["fastapi"]["errors"] > 0.03, f["fastapi"]  # several %
    assert f["fastapi"]["p99"] > 3.0, f["fastapi"]  # several seconds
    assert f["all"]["p99"] > 1.0 and f["all"]["errors"] > 0.001, f["all"]
    # rails: the crash-looping pod refuses connections; nginx answers 502 now and then.
    rails = [x for x in lines if "rails" in x.fields["proxy_upstream_name"]]
    r502 = [x for x in rails if x.fields["status"] == "502"]
    assert 0 < len(r502) < 0.05 * len(rails)
    assert refused > len(r502)  # each refused try has its error-log line, retried or not
    crashing = sim.broken["crashloop"]
    ips = pod_ips(sim)
    assert all(
        ips[x.split(", ")[0].split(":")[0]] == crashing
        for x in (r.fields["upstream_addr"] for r in r502)
    )
    statuses = {x.fields["status"] for x in lines if "fastapi" in x.fields["proxy_upstream_name"]}
    assert {"500", "503"} <= statuses


def test_upstream_addresses_are_the_app_pods_ips_and_follow_a_replacement(
    healthy: tuple[SimCluster, SteppedClock],
) -> None:
    sim, clock = healthy
    ips = pod_ips(sim)
    start = clock.t
    lines, _, _ = nginx_lines(sim, start, clock.step(20.0))
    used = {a.split(":")[0] for x in lines for a in x.split("upstream_addr")}
    apps = {ips[ip].split("-")[0] for ip in used}
    assert apps == {"rails", "fastapi"}
    rails_pods = {n for n in ips.values() if n.startswith("rails-")}
    assert {ips[ip] for ip in used if ips[ip].startswith("rails-")} == rails_pods

    # A deleted rails pod stops receiving requests; its replacement gets them.
    victim = sorted(rails_pods)[0]
    api = k8s.ApiClient(sim.client_configuration())
    try:
        k8s.CoreV1Api(api).delete_namespaced_pod(victim, "excel-unified")
    finally:
        api.close()
    gone_at = clock.step(1.0)
    for _ in range(20):  # the controller runs on real time; let it replace the pod
        clock.step(0.5)
        time.sleep(0.2)
    later = clock.step(20.0)
    after, _, _ = nginx_lines(sim, gone_at + 15.0, later)
    now_ips = pod_ips(sim)
    names = {now_ips.get(a.split(":")[0], "?") for x in after for a in x.split("upstream_addr")}
    assert victim not in names
    assert len({n for n in names if n.startswith("rails-")}) == 3
