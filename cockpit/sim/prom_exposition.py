"""The app pods' Prometheus metrics, in the text exposition format, and a scrape config.

Each rails/fastapi pod exposes `http_requests_total{app,pod,method,status}` and the
`http_request_duration_seconds` histogram.  They count exactly the requests that the
nginx access logs attribute to that pod (`Counts.add` is fed the same `traffic.Request`s
the log lines are printed from), with the status the pod answered and, as duration, the
`$upstream_response_time` nginx printed for it.

A request nginx answered 502 because the pod *refused the connection* (a crash-looping
pod) is not counted by the app: the app never saw it.  Its access line names the pod in
`$upstream_addr` all the same; only the app-side counters leave it out.

Counters start at zero when the metrics server starts (`process_start_time_seconds`), as
an app's do when its process starts; Prometheus only uses their rates.
"""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from cockpit.sim.traffic import Request

# Seconds; 0.2, 0.5 and 1 are the runbook's p50/p95/p99 thresholds.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass(slots=True)
class PodCounts:
    app: str
    requests: dict[tuple[str, int], int] = field(default_factory=dict)  # (method, status)
    buckets: list[int] = field(default_factory=lambda: [0] * (len(BUCKETS) + 1))
    total: float = 0.0
    count: int = 0


class Counts:
    """Per app pod: requests by (method, status) and the duration histogram."""

    def __init__(self, start: float) -> None:
        self.start = start
        self.until = start  # every request with start < t <= until is counted
        self.pods: dict[str, PodCounts] = {}

    def add(self, r: Request) -> None:
        for x in r.tries:
            if x.refused:  # the app never saw it (see the module's docstring)
                continue
            pc = self.pods.get(x.pod)
            if pc is None:
                pc = self.pods[x.pod] = PodCounts(r.app)
            key = (r.method, x.status)
            pc.requests[key] = pc.requests.get(key, 0) + 1
            pc.buckets[bisect.bisect_left(BUCKETS, x.seconds)] += 1
            pc.total += x.seconds
            pc.count += 1

    def forget(self, keep: set[str]) -> None:
        """Drop the pods that are gone (memory stays bounded as pods come and go)."""
        for name in [p for p in self.pods if p not in keep]:
            del self.pods[name]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(**kv: str) -> str:
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in kv.items()) + "}"


def _num(v: float) -> str:
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return repr(float(v))


def pod_text(app: str, pod: str, counts: PodCounts | None, start: float) -> str:
    """One app pod's /metrics page."""
    pc = counts or PodCounts(app)
    out = [
        "# HELP http_requests_total Requests the app answered, by method and status.",
        "# TYPE http_requests_total counter",
    ]
    for (method, status), n in sorted(pc.requests.items()):
        out.append(
            f"http_requests_total{_labels(app=app, pod=pod, method=method, status=str(status))} {n}"
        )
    out += [
        "# HELP http_request_duration_seconds Time the app took to answer a request.",
        "# TYPE http_request_duration_seconds histogram",
    ]
    running = 0
    for le, n in zip((*BUCKETS, None), pc.buckets, strict=True):
        running += n
        bound = "+Inf" if le is None else _num(le)
        labels = _labels(app=app, pod=pod, le=bound)
        out.append(f"http_request_duration_seconds_bucket{labels} {running}")
    base = _labels(app=app, pod=pod)
    out += [
        f"http_request_duration_seconds_sum{base} {_num(round(pc.total, 6))}",
        f"http_request_duration_seconds_count{base} {pc.count}",
        "# HELP process_start_time_seconds Start time of the process since unix epoch.",
        "# TYPE process_start_time_seconds gauge",
        f"process_start_time_seconds{base} {_num(round(start, 3))}",
    ]
    return "\n".join(out) + "\n"


def memory_text(rows: list[tuple[str, str, str, float, float | None]]) -> str:
    """cAdvisor's two memory gauges: rows of (namespace, pod, container, usage, limit);
    no limit series for a container without a memory limit (as x/0 would be +Inf)."""
    usage = [
        "# HELP container_memory_usage_bytes Current memory usage in bytes, including all "
        "memory regardless of when it was accessed",
        "# TYPE container_memory_usage_bytes gauge",
    ]
    limit = [
        "# HELP container_spec_memory_limit_bytes Memory limit for the container.",
        "# TYPE container_spec_memory_limit_bytes gauge",
    ]
    for ns, pod, container, used, lim in rows:
        labels = _labels(namespace=ns, pod=pod, container=container)
        usage.append(f"container_memory_usage_bytes{labels} {_num(round(used))}")
        if lim:
            limit.append(f"container_spec_memory_limit_bytes{labels} {_num(round(lim))}")
    return "\n".join(usage + limit) + "\n"


def sd_targets(metrics_url: str, pods: list[tuple[str, str]]) -> list[dict]:
    """Prometheus http_sd targets: one per app pod (app, name), its own metrics path, and
    `instance` set to the pod's name (every target shares one address)."""
    address = urlsplit(metrics_url).netloc
    return [
        {
            "targets": [address],
            "labels": {"__metrics_path__": f"/metrics/pods/{name}", "instance": name},
        }
        for _app, name in pods
    ]


def scrape_config(
    metrics_url: str,
    rule_files: list[str] | tuple[str, ...] = (),
    scrape_interval: str = "5s",
    evaluation_interval: str = "5s",
) -> str:
    """A complete prometheus.yml for the simulated cluster (JSON, which is valid YAML).

    The app pods come from `<metrics_url>/sd` (http_sd, refreshed every scrape
    interval), so the config never goes stale as pods come and go; the memory gauges
    from `<metrics_url>/metrics/cadvisor`.  The metrics carry their own `app` and `pod`
    labels, so `honor_labels` keeps them as they are."""
    base = metrics_url.rstrip("/")
    address = urlsplit(base).netloc
    config = {
        "global": {
            "scrape_interval": scrape_interval,
            "scrape_timeout": scrape_interval,
            "evaluation_interval": evaluation_interval,
            "external_labels": {"cluster": "cockpit-sim"},
        },
        "rule_files": [str(p) for p in rule_files],
        "scrape_configs": [
            {
                "job_name": "excel-unified",
                "honor_labels": True,
                "http_sd_configs": [{"url": f"{base}/sd", "refresh_interval": scrape_interval}],
            },
            {
                "job_name": "kubernetes-cadvisor",
                "honor_labels": True,
                "metrics_path": "/metrics/cadvisor",
                "static_configs": [{"targets": [address], "labels": {"instance": "cadvisor"}}],
            },
        ],
    }
    return json.dumps(config, indent=2) + "\n"
