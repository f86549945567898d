"""Reading the simulated cluster's traffic back: the access-log regex (written from the
log_format, independently of the simulator), a stepped clock, and readers that go through
the real kubernetes client and real HTTP."""

from __future__ import annotations

import math
import re
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from kubernetes import client as k8s

from cockpit.sim.pace import Pace
from cockpit.sim.runner import SimCluster

NS = "excel-unified"

# log_format upstreaminfo '$remote_addr - $remote_user [$time_local] "$request" $status
#   $body_bytes_sent "$http_referer" "$http_user_agent" $request_length $request_time
#   [$proxy_upstream_name] [$proxy_alternative_upstream_name] $upstream_addr
#   $upstream_response_length $upstream_response_time $upstream_status $req_id';
_LIST = r"(?:-|[^\s,]+(?:, [^\s,]+)*)"
ACCESS = re.compile(
    r"^(?P<remote_addr>\S+) - (?P<remote_user>\S+) \[(?P<time_local>\d\d/\w{3}/\d{4}:"
    r'\d\d:\d\d:\d\d [+-]\d{4})\] "(?P<method>[A-Z]+) (?P<path>\S+) (?P<proto>HTTP/[\d.]+)" '
    r'(?P<status>\d{3}) (?P<body_bytes_sent>\d+) "(?P<http_referer>[^"]*)" '
    r'"(?P<http_user_agent>[^"]*)" (?P<request_length>\d+) (?P<request_time>\d+\.\d{3}) '
    r"\[(?P<proxy_upstream_name>[^\]]*)\] \[(?P<proxy_alternative_upstream_name>[^\]]*)\] "
    rf"(?P<upstream_addr>{_LIST}) (?P<upstream_response_length>{_LIST}) "
    rf"(?P<upstream_response_time>{_LIST}) (?P<upstream_status>{_LIST}) "
    r"(?P<req_id>[0-9a-f]{32})$"
)
ERROR_LOG = re.compile(
    r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[error\] \d+#\d+: \*\d+ connect\(\) failed"
)


class SteppedClock:
    """The cluster's clock, moved by the test: a minute of traffic without the wait."""

    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def step(self, seconds: float) -> float:
        self.t += seconds
        return self.t


def stepped_sim(scenario: str) -> tuple[SimCluster, SteppedClock]:
    clock = SteppedClock(float(math.floor(datetime.now().timestamp())))
    sim = SimCluster(scenario, pace=Pace.fast())
    sim.clock = clock
    return sim.start(), clock


@dataclass(frozen=True)
class Line:
    t: float
    fields: dict[str, str]

    def split(self, name: str) -> list[str]:
        v = self.fields[name]
        return [] if v == "-" else v.split(", ")


def _ts(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def nginx_lines(sim: SimCluster, after: float, until: float) -> tuple[list[Line], int, int]:
    """(access lines with after < t <= until, error-log lines, other lines) of every
    nginx pod, read with timestamps through the kubernetes client."""
    api = k8s.ApiClient(sim.client_configuration())
    try:
        core = k8s.CoreV1Api(api)
        pods = core.list_namespaced_pod(NS, label_selector="app=nginx").items
        access: list[Line] = []
        errors = other = 0
        for pod in pods:
            text = core.read_namespaced_pod_log(
                pod.metadata.name,
                NS,
                container="nginx",
                timestamps=True,
                since_seconds=math.ceil(until - after) + 2,
            )
            for raw in text.splitlines():
                stamp, _, line = raw.partition(" ")
                t = _ts(stamp)
                if not after < t <= until:
                    continue
                m = ACCESS.match(line)
                if m:
                    access.append(Line(t, m.groupdict()))
                elif ERROR_LOG.match(line):
                    errors += 1
                else:
                    other += 1
        return access, errors, other
    finally:
        api.close()


def pod_ips(sim: SimCluster) -> dict[str, str]:
    api = k8s.ApiClient(sim.client_configuration())
    try:
        pods = k8s.CoreV1Api(api).list_namespaced_pod(NS).items
        return {p.status.pod_ip: p.metadata.name for p in pods if p.status.pod_ip}
    finally:
        api.close()


def http_get(url: str) -> tuple[int, str, str]:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return resp.status, resp.headers.get("Content-Type", ""), resp.read().decode()


_SAMPLE = re.compile(
    r'^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|'
    r'\\.)*",?)*)\})? (?P<value>\S+)$'
)
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_exposition(text: str) -> list[tuple[str, dict[str, str], float]]:
    """A strict reader of the text format: HELP/TYPE before a family's samples, every
    sample's family typed, values numbers, histograms' buckets cumulative and ending in
    +Inf equal to _count. Raises AssertionError on anything off."""
    assert text.endswith("\n")
    types: dict[str, str] = {}
    out = []
    for line in text.splitlines():
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            parts = line.split(" ", 3)
            assert len(parts) == 4, line
            if parts[1] == "TYPE":
                assert parts[3] in ("counter", "gauge", "histogram", "summary", "untyped")
                assert parts[2] not in types, f"family typed twice: {line}"
                types[parts[2]] = parts[3]
            continue
        assert line and not line.startswith("#"), repr(line)
        m = _SAMPLE.match(line)
        assert m, f"not a sample: {line!r}"
        name = m["name"]
        family = re.sub(r"_(bucket|sum|count)$", "", name) if name not in types else name
        assert family in types, f"untyped sample: {line}"
        labels = dict(_LABEL.findall(m["labels"] or ""))
        out.append((name, labels, float(m["value"])))
    for family, kind in types.items():
        if kind != "histogram":
            continue
        series: dict[tuple, list[tuple[float, float]]] = {}
        counts: dict[tuple, float] = {}
        for name, labels, v in out:
            key = tuple(sorted((k, x) for k, x in labels.items() if k != "le"))
            if name == f"{family}_bucket":
                le = labels["le"]
                series.setdefault(key, []).append((math.inf if le == "+Inf" else float(le), v))
            elif name == f"{family}_count":
                counts[key] = v
        for key, buckets in series.items():
            bounds = [b for b, _ in buckets]
            values = [v for _, v in buckets]
            assert bounds == sorted(bounds) and bounds[-1] == math.inf
            assert values == sorted(values), "buckets are not cumulative"
            assert values[-1] == counts[key]
    return out


def quantile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(q * len(s)) - 1))]


def series(samples: list[tuple[str, dict[str, str], float]], name: str) -> Iterator[tuple]:
    for n, labels, v in samples:
        if n == name:
            yield labels, v
