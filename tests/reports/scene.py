"""A two-minute incident written with RecordingWriter, the way the recorder writes one.

The SLO snapshots are made by the SLO code itself (SloWindows + build_snapshot) from a
request stream with a fastapi error burst; the pods, health and Prometheus snapshots
are the model's dataclasses; the actions are journal entries as actions/runner.py
writes them.  Timeline (seconds after `t0`):

   0  all fine                       45  HighErrorRate pending
  20  rails-1 CrashLoopBackOff       55  alice deletes rails-1 (intent), 58 succeeded
  30  fastapi 40 % errors, to 90     60  rails-1 gone, rails-9 in; HighErrorRate firing
  40  health fails (stale)           70  health back
  80  bob's scale to 0 refused      100  the alert is gone; 120 the end
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cockpit.config import Thresholds
from cockpit.model import (
    Alert,
    ContainerRow,
    EndpointHealth,
    HealthSnapshot,
    KubeSnapshot,
    Level,
    PodRow,
    PrometheusSnapshot,
    SloSnapshot,
    SourceFailure,
    WorkloadRow,
)
from cockpit.recording.store import RecordingWriter
from cockpit.slo.figures import build_snapshot
from cockpit.slo.windows import SloWindows

HOSTILE = "<script>alert(1)</script> & more"
LENGTH_S = 120


def pod(name: str, t0: datetime, status: str = "Running", restarts: int = 0) -> PodRow:
    ok = status == "Running"
    container = ContainerRow(
        "rails", "excel-unified/rails:v2.14.1", ok, restarts, "running" if ok else "waiting",
        "" if ok else status, None, "", None, None, t0,
    )  # fmt: skip
    return PodRow(
        f"uid-{name}", name, "excel-unified", "rails", "ReplicaSet", "rails-abc", "rails",
        "Running", status, int(ok), 1, restarts, None, t0, "node-1", "10.0.0.1", False,
        Level.OK if ok else Level.CRIT, (container,),
    )  # fmt: skip


def kube(pods: list[PodRow], at: datetime) -> KubeSnapshot:
    ready = sum(p.ready for p in pods)
    level = Level.OK if ready == len(pods) else Level.WARN
    workload = WorkloadRow(
        "Deployment", "rails", "uid-rails", "excel-unified", len(pods), ready, len(pods),
        ready, "3", 1, 1, "complete", level,
    )  # fmt: skip
    return KubeSnapshot("cockpit-sim", "excel-unified", tuple(pods), (workload,), at)


def prom(at: datetime, state: str | None) -> PrometheusSnapshot:
    alerts = ()
    if state is not None:
        level = Level.CRIT if state == "firing" else Level.WARN
        alerts = (
            Alert(
                "HighErrorRate", state, "critical", at, HOSTILE, "4.1",
                (("alertname", "HighErrorRate"), ("app", "fastapi")), "0.4", level,
            ),
        )  # fmt: skip
    level = max((a.level for a in alerts), default=Level.OK)
    return PrometheusSnapshot("http://prometheus:9090", True, alerts, (), at, level)


def health(at: datetime) -> HealthSnapshot:
    endpoint = EndpointHealth(
        "rails-service:3000", "/api/v1/namespaces/excel-unified/services/rails-service:3000/proxy/",
        "service proxy", 200, 42.0, (42.0,), "ok", None, "", "", Level.OK, at,
    )  # fmt: skip
    return HealthSnapshot((endpoint,), at, Level.OK)


def entry(**fields: Any) -> dict[str, Any]:
    base = {
        "os_user": "alice",
        "host": "ops-1",
        "context": "cockpit-sim",
        "kube_user": "alice@corp",
        "namespace": "excel-unified",
        "mode": "live",
        "message": "",
        "error": "",
        "duration_s": None,
        "targets": [],
    }
    return {**base, **fields}


@dataclass
class Scene:
    path: Path
    t0: datetime
    slos: list[tuple[datetime, SloSnapshot]] = field(default_factory=list)

    def at(self, seconds: float) -> datetime:
        return self.t0 + timedelta(seconds=seconds)


def write_scene(path: Path, t0: datetime, thresholds: Thresholds | None = None) -> Scene:
    th = thresholds or Thresholds()
    scene = Scene(path, t0)
    rng = random.Random(13)
    windows = SloWindows(("rails", "fastapi"), origin=t0.timestamp())
    writer = RecordingWriter(path)
    pods = [pod(f"rails-{i}", t0) for i in range(3)]
    lines = 0
    try:
        for second in range(LENGTH_S + 1):
            now = scene.at(second)
            for _ in range(40):  # 40 requests a second: 25 rails, 15 fastapi
                t = now.timestamp() - rng.random()
                upstream = "fastapi" if rng.random() < 15 / 40 else "rails"
                burst = upstream == "fastapi" and 30 <= second < 90
                error = rng.random() < (0.4 if burst else 0.0005)
                windows.add(t, upstream, error, rng.uniform(20, 1400 if burst else 300))
                lines += 1
            if second % 2 == 0:
                snap = build_snapshot(
                    windows, th, 99.9, now.timestamp(), taken_at=now, lines=lines,
                    unparsed=0, dropped=0, streams=2,
                )  # fmt: skip
                writer.snapshot("slo", snap, now)
                scene.slos.append((now, snap))
            if second in (0, 20, 60):
                if second == 20:
                    pods[1] = pod("rails-1", t0, "CrashLoopBackOff", 4)
                if second == 60:
                    pods[1] = pod("rails-9", t0)
                writer.snapshot("pods", kube(pods, now), now)
            if second in (0, 70):
                writer.snapshot("health", health(now), now)
            if second == 40:
                failure = SourceFailure("health", "health checks: connection refused", since=now)
                writer.failure(failure, now)
            if second in (0, 45, 60, 100):
                state = {45: "pending", 60: "firing"}.get(second)
                writer.snapshot("prometheus", prom(now, state), now)
            if second == 55:
                intent = entry(
                    run="r1", action="kube.pod.delete", targets=["rails-1"], outcome="started"
                )
                writer.action(intent, now)
            if second == 58:
                done = entry(
                    run="r1", action="kube.pod.delete", targets=["rails-1"],
                    outcome="succeeded", duration_s=2.9, message="rails-1 deleted; rails-9 up",
                )  # fmt: skip
                writer.action(done, now)
            if second == 80:
                refused = entry(
                    os_user="bob", host="ops-2", kube_user="", action="kube.scale.zero",
                    targets=["rails"], outcome="refused", error="the session is read-only",
                )  # fmt: skip
                writer.action(refused, now)
    finally:
        writer.close()
    return scene


def t0_now(minutes_ago: float = 30) -> datetime:
    now = datetime.now(UTC).replace(microsecond=0)
    return now - timedelta(minutes=minutes_ago)
