"""Fixed snapshots of an incident, for SVG snapshots and hostile-text tests.

Everything is relative to NOW so that, with time frozen at NOW, every age on screen is
the same on every run.  Kubernetes rows go through the real converters (raw dicts →
rows), so the snapshots are what the sources would produce.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cockpit.config import Thresholds
from cockpit.model import (
    Alert,
    BackupObject,
    BackupsSnapshot,
    BurnRate,
    DiskUsage,
    EndpointHealth,
    EventsSnapshot,
    HealthSnapshot,
    HostSnapshot,
    JobRow,
    KubeSnapshot,
    Level,
    LogBatch,
    LogLine,
    PgSession,
    PgSnapshot,
    PrometheusSnapshot,
    PromFigures,
    RedisSnapshot,
    SloSnapshot,
    TopSnapshot,
    UpstreamSlo,
    WindowFigures,
    rate_of,
)
from cockpit.sources.kube.convert import (
    deployment_row,
    event_row,
    events_snapshot,
    pod_row,
    statefulset_row,
)
from cockpit.sources.kube.source import top_from_metrics
from cockpit.thresholds import level_for

NOW = datetime(2026, 11, 28, 3, 12, 45, tzinfo=UTC)
NS = "excel-unified"
HOSTILE = "[bold red]boom[/] [@click=app.quit]quit[/] \x1b[31mred\x1b]0;title\x07"


def ts(seconds_ago: float) -> str:
    return (NOW - timedelta(seconds=seconds_ago)).isoformat().replace("+00:00", "Z")


def ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


def _pod(
    name: str,
    app: str,
    rs: str,
    *,
    age: float,
    state: dict,
    ready: bool,
    restarts: int = 0,
    last: dict | None = None,
    node: str = "node-1",
    cpu_limit: str = "1",
    mem_limit: str = "2Gi",
) -> dict:
    status = {
        "name": app,
        "ready": ready,
        "restartCount": restarts,
        "state": state,
        "image": f"excel-unified/{app}:v2.4.1",
    }
    if last:
        status["lastState"] = {"terminated": last}
    owner_kind = "StatefulSet" if rs in ("postgres", "redis") else "ReplicaSet"
    return {
        "metadata": {
            "name": name,
            "namespace": NS,
            "uid": f"uid-{name}",
            "creationTimestamp": ts(age),
            "labels": {"app": app},
            "ownerReferences": [{"kind": owner_kind, "name": rs, "controller": True}],
        },
        "spec": {
            "nodeName": node,
            "containers": [
                {
                    "name": app,
                    "image": f"excel-unified/{app}:v2.4.1",
                    "resources": {
                        "requests": {"cpu": "250m", "memory": "512Mi"},
                        "limits": {"cpu": cpu_limit, "memory": mem_limit},
                    },
                }
            ],
        },
        "status": {
            "phase": "Running",
            "podIP": "10.0.1.7",
            "containerStatuses": [status],
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
    }


RUNNING = {"running": {"startedAt": ts(3600)}}


def pods() -> list[dict]:
    crash = {"waiting": {"reason": "CrashLoopBackOff"}}
    return [
        _pod(
            "rails-7d9c8b6f5-q7rcl",
            "rails",
            "rails-7d9c8b6f5",
            age=5 * 3600,
            state=crash,
            ready=False,
            restarts=14,
            last={"reason": "Error", "exitCode": 1, "finishedAt": ts(8)},
        ),
        _pod(
            "rails-7d9c8b6f5-g7fz8",
            "rails",
            "rails-7d9c8b6f5",
            age=5 * 3600,
            state=RUNNING,
            ready=True,
        ),
        _pod(
            "rails-7d9c8b6f5-twfpr",
            "rails",
            "rails-7d9c8b6f5",
            age=47 * 60,
            state=RUNNING,
            ready=True,
        ),
        _pod(
            "fastapi-5f6b7c8d9-d69q5",
            "fastapi",
            "fastapi-5f6b7c8d9",
            age=2 * 86400,
            state={"terminated": {"reason": "OOMKilled", "exitCode": 137}},
            ready=False,
            restarts=6,
            last={"reason": "OOMKilled", "exitCode": 137, "finishedAt": ts(60)},
        ),
        _pod(
            "fastapi-5f6b7c8d9-xkk8g",
            "fastapi",
            "fastapi-5f6b7c8d9",
            age=2 * 86400,
            state=RUNNING,
            ready=True,
        ),
        _pod(
            "sidekiq-6c7d8e9f0-hcz4l",
            "sidekiq",
            "sidekiq-6c7d8e9f0",
            age=5 * 3600,
            state=RUNNING,
            ready=True,
            node="node-2",
        ),
        _pod(
            "nginx-8a9b0c1d2-58pdn",
            "nginx",
            "nginx-8a9b0c1d2",
            age=43 * 86400,
            state=RUNNING,
            ready=True,
            node="node-3",
        ),
        _pod(
            "postgres-0",
            "postgres",
            "postgres",
            age=12 * 86400,
            state=RUNNING,
            ready=True,
            mem_limit="4Gi",
            node="node-2",
        ),
        _pod(
            "redis-0",
            "redis",
            "redis",
            age=3 * 86400,
            state=RUNNING,
            ready=True,
            mem_limit="1Gi",
            node="node-3",
        ),
    ]


def _deployment(name: str, desired: int, ready: int, revision: str) -> dict:
    return {
        "metadata": {
            "name": name,
            "namespace": NS,
            "uid": f"uid-deploy-{name}",
            "generation": 4,
            "creationTimestamp": ts(120 * 86400),
            "annotations": {"deployment.kubernetes.io/revision": revision},
        },
        "spec": {
            "replicas": desired,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "spec": {"containers": [{"name": name, "image": f"excel-unified/{name}:v2.4.1"}]}
            },
        },
        "status": {
            "replicas": desired,
            "readyReplicas": ready,
            "updatedReplicas": desired,
            "availableReplicas": ready,
            "observedGeneration": 4,
        },
    }


def _statefulset(name: str) -> dict:
    return {
        "metadata": {
            "name": name,
            "namespace": NS,
            "uid": f"uid-sts-{name}",
            "generation": 1,
            "creationTimestamp": ts(200 * 86400),
        },
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {"spec": {"containers": [{"name": name, "image": f"{name}:15"}]}},
        },
        "status": {
            "replicas": 1,
            "readyReplicas": 1,
            "updatedReplicas": 1,
            "currentRevision": f"{name}-6d5f",
            "updateRevision": f"{name}-6d5f",
            "observedGeneration": 1,
        },
    }


def kube() -> KubeSnapshot:
    workloads = [
        deployment_row(_deployment("fastapi", 2, 1, "2")),
        deployment_row(_deployment("nginx", 2, 2, "1")),
        deployment_row(_deployment("rails", 3, 2, "3")),
        deployment_row(_deployment("sidekiq", 2, 2, "1")),
        statefulset_row(_statefulset("postgres")),
        statefulset_row(_statefulset("redis")),
    ]
    return KubeSnapshot(
        context="cockpit-sim",
        namespace=NS,
        pods=tuple(pod_row(p) for p in pods()),
        workloads=tuple(workloads),
        taken_at=NOW,
        version=1,
    )


def top(snapshot: KubeSnapshot, settings) -> TopSnapshot:
    usage = {
        "rails-7d9c8b6f5-g7fz8": ("210m", "1100Mi"),
        "rails-7d9c8b6f5-twfpr": ("180m", "1050Mi"),
        "fastapi-5f6b7c8d9-xkk8g": ("320m", "1300Mi"),
        "sidekiq-6c7d8e9f0-hcz4l": ("150m", "510Mi"),
        "nginx-8a9b0c1d2-58pdn": ("20m", "80Mi"),
        "postgres-0": ("310m", "2400Mi"),
        "redis-0": ("90m", "975Mi"),
    }
    raw = {
        "items": [
            {
                "metadata": {"name": name},
                "timestamp": ts(7),
                "window": "15s",
                "containers": [{"name": "c", "usage": {"cpu": cpu, "memory": mem}}],
            }
            for name, (cpu, mem) in usage.items()
        ]
    }
    result = top_from_metrics(raw, {p.name: p for p in snapshot.pods}, settings)
    return TopSnapshot(
        result.available,
        result.message,
        result.pods,
        result.workloads,
        result.sample_time,
        result.window_s,
        NOW,
    )


def events() -> EventsSnapshot:
    def event(
        i: int, kind: str, reason: str, obj: str, message: str, count: int, seconds: float
    ) -> dict:
        object_kind, name = obj.split("/")
        return {
            "metadata": {"uid": f"ev-{i}", "name": f"ev-{i}"},
            "type": kind,
            "reason": reason,
            "involvedObject": {"kind": object_kind, "name": name},
            "message": message,
            "count": count,
            "lastTimestamp": ts(seconds),
            "firstTimestamp": ts(seconds + 600),
        }

    rows = [
        event(
            1,
            "Warning",
            "BackOff",
            "Pod/rails-7d9c8b6f5-q7rcl",
            "Back-off restarting failed container rails",
            56,
            8,
        ),
        event(
            2,
            "Warning",
            "BackOff",
            "Pod/fastapi-5f6b7c8d9-d69q5",
            "Back-off restarting failed container fastapi",
            24,
            60,
        ),
        event(
            3,
            "Warning",
            "BackoffLimitExceeded",
            "Job/postgres-backup-29930520",
            "Job has reached the specified backoff limit",
            1,
            9 * 3600,
        ),
        event(
            4,
            "Normal",
            "Pulled",
            "Pod/rails-7d9c8b6f5-twfpr",
            "Container image already present on machine",
            1,
            47 * 60,
        ),
    ]
    return events_snapshot([event_row(e) for e in rows], NOW, limit=200)


def logs(hostile: bool = False) -> LogBatch:
    texts = [
        (
            "rails-7d9c8b6f5-q7rcl",
            "rails (previous)",
            "rails",
            "E, [2026-11-28T03:12:37.358593 #1] ERROR -- : ActiveRecord::ConnectionNotEstablished: "
            "could not connect to server: Connection refused",
        ),
        (
            "fastapi-5f6b7c8d9-d69q5",
            "fastapi (previous)",
            "fastapi",
            "ERROR:    memory usage 1.98 GiB of 2.00 GiB limit (99%)",
        ),
        (
            "rails-7d9c8b6f5-g7fz8",
            "rails",
            "rails",
            "E, [2026-11-28T03:12:40.387594 #12] ERROR -- : "
            "Faraday::TimeoutError (Net::ReadTimeout)",
        ),
        (
            "fastapi-5f6b7c8d9-xkk8g",
            "fastapi",
            "fastapi",
            "ERROR:    Exception in ASGI application",
        ),
    ]
    if hostile:
        texts.append(("rails-7d9c8b6f5-g7fz8", "rails", "rails", "ERROR " + HOSTILE))
    lines = tuple(
        LogLine(
            seq=i + 1,
            time=ago(10 - i),
            pod=pod,
            container=container,
            app=app,
            text=__import__("cockpit.textsafe", fromlist=["clean"]).clean(text),
        )
        for i, (pod, container, app, text) in enumerate(texts)
    )
    per_minute = tuple(
        [3, 5, 2, 4, 8, 6, 9, 12, 15, 22, 31, 40, 38, 44, 52, 61, 65, 58, 63, 67] + [0] * 0
    )
    return LogBatch(
        lines=lines,
        per_minute=per_minute,
        followed=(
            "fastapi-5f6b7c8d9-d69q5",
            "fastapi-5f6b7c8d9-xkk8g",
            "rails-7d9c8b6f5-g7fz8",
            "rails-7d9c8b6f5-q7rcl",
            "rails-7d9c8b6f5-twfpr",
        ),
        capped=0,
        problems=(),
        taken_at=NOW,
        backlog_done=True,
        level=level_for(rate_of(per_minute), Thresholds().error_lines_per_min),
    )


def _session(
    pid: int,
    state: str,
    seconds: float,
    app: str,
    query: str,
    *,
    user: str = "excel_user",
    blocked_by: tuple[int, ...] = (),
    level: Level = Level.OK,
    idle_candidate: bool = False,
) -> PgSession:
    return PgSession(
        pid=pid,
        backend_start=ago(seconds + 60),
        user=user,
        database="excel_unified",
        application=app,
        client="10.0.1.7",
        state=state,
        wait_event_type="Lock" if blocked_by else ("Client" if state.startswith("idle") else ""),
        wait_event="transactionid" if blocked_by else "",
        backend_type="client backend",
        query=query,
        query_start=ago(seconds),
        xact_start=ago(seconds) if state != "idle" else None,
        state_change=ago(seconds),
        query_seconds=seconds,
        xact_seconds=seconds if state != "idle" else None,
        state_seconds=seconds,
        blocked_by=blocked_by,
        level=level,
        idle_candidate=idle_candidate,
    )


def postgres(hostile: bool = False) -> PgSnapshot:
    idle = tuple(
        _session(
            4100 + i,
            "idle",
            900 + 60 * i,
            "puma: cluster worker",
            "COMMIT",
            idle_candidate=True,
            level=Level.WARN,
        )
        for i in range(3)
    )
    blocker = _session(
        4201,
        "idle in transaction",
        420,
        "rails console",
        "UPDATE excel_files SET status = 'processing' WHERE id = 42",
        level=Level.CRIT,
    )
    blocked = _session(
        4202,
        "active",
        95,
        HOSTILE if hostile else "sidekiq 7.2.1 excel_unified [0 of 10 busy]",
        HOSTILE if hostile else "UPDATE excel_files SET status = 'done' WHERE id = 42",
        blocked_by=(4201,),
        level=Level.CRIT,
    )
    sessions = (*idle, blocker, blocked)
    return PgSnapshot(
        server="127.0.0.1:5432/excel_unified",
        version="15.20",
        max_connections=100,
        connections=87,
        by_state=(("active", 9), ("idle", 71), ("idle in transaction", 6)),
        waiting=1,
        idle_over_threshold=idle,
        longest=(blocker, blocked),
        blocked=(blocked,),
        tps=412.5,
        cache_hit_ratio=0.987,
        db_size_bytes=7_400_000_000,
        rtt_ms=0.9,
        idle_threshold_s=600,
        notes=(),
        taken_at=NOW,
        level=Level.CRIT,
        sessions=sessions,
        database="excel_unified",
        role="postgres",
    )


def redis() -> RedisSnapshot:
    return RedisSnapshot(
        server="127.0.0.1:6379/0",
        version="7.0.15",
        used_memory=805_000_000,
        maxmemory=838_860_800,
        policy="noeviction",
        fragmentation=1.08,
        hit_ratio=0.71,
        ops_per_sec=1840.0,
        evicted_per_sec=0.0,
        connected_clients=57,
        blocked_clients=2,
        rejected_connections=0,
        keys=((0, 183_220), (1, 4_021)),
        last_save=ago(23 * 60),
        last_fork_usec=1830,
        rtt_ms=0.3,
        warnings=(
            "writes will fail: noeviction at 96% of maxmemory · runbook: "
            "CONFIG SET maxmemory-policy allkeys-lru",
        ),
        taken_at=NOW,
        level=Level.CRIT,
        expired_per_sec=3.0,
        memory_level=Level.CRIT,
        uptime_s=3 * 86400,
    )


def backups() -> BackupsSnapshot:
    jobs = (
        JobRow(
            "postgres-backup-29930520",
            "uid-j1",
            "Failed",
            ago(9 * 3600),
            ago(9 * 3600 - 300),
            False,
            Level.CRIT,
        ),
        JobRow(
            "postgres-backup-29929080",
            "uid-j2",
            "Complete",
            ago(33 * 3600),
            ago(33 * 3600 - 240),
            False,
            Level.OK,
        ),
    )
    objects = tuple(
        BackupObject(
            f"backup_202611{27 - i:02d}_020000.sql.gz",
            1_400_000_000 - i * 1_000_000,
            ago((25 + 24 * i) * 3600),
        )
        for i in range(3)
    )
    return BackupsSnapshot(
        cronjob="postgres-backup",
        schedule="0 2 * * *",
        suspended=False,
        last_schedule=ago(9 * 3600),
        last_success=ago(33 * 3600),
        jobs=jobs,
        objects=objects,
        taken_at=NOW,
        level=Level.CRIT,
        s3_checked=True,
        s3_listed_at=NOW,
        bucket="excel-unified-backups",
        object_count=31,
        total_bytes=43_000_000_000,
        past_retention=1,
        problems=((Level.CRIT, "last backup Job postgres-backup-29930520 failed"),),
    )


def host() -> HostSnapshot:
    return HostSnapshot(
        hostname="ops-bastion",
        cpu_pct=23.5,
        cpu_count=2,
        load=(0.61, 0.55, 0.49),
        mem_total=24 * 2**30,
        mem_used=3 * 2**30,
        mem_pct=12.5,
        disks=(DiskUsage("/", 252 * 2**30, 22 * 2**30, 8.7, Level.OK),),
        net_rx_bps=120_000.0,
        net_tx_bps=45_000.0,
        taken_at=NOW,
    )


# -- the service as its users see it ---------------------------------------------------


def health() -> HealthSnapshot:
    def endpoint(name: str, via: str, status: int | None, ms: float | None, **kw) -> EndpointHealth:
        history = tuple(kw.pop("history", (120.0, 118.0, 131.0, ms)))
        return EndpointHealth(
            name=name,
            url=kw.pop("url", f"https://{name}/health"),
            via=via,
            status=status,
            ms=ms,
            history=history,
            app_status=kw.pop("app_status", "ok" if status == 200 else None),
            cert_days=kw.pop("cert_days", None),
            error=kw.pop("error", ""),
            hint=kw.pop("hint", ""),
            level=kw.pop("level", Level.OK),
            checked_at=NOW,
            failing_since=kw.pop("failing_since", None),
        )

    proxy = "/api/v1/namespaces/excel-unified/services/{}/proxy/health"
    endpoints = (
        endpoint("excel-unified.com", "direct", 200, 142.0, cert_days=61.2),
        endpoint("api.excel-unified.com", "direct", 200, 188.0, cert_days=9.5, level=Level.WARN),
        endpoint(
            "rails-service:3000",
            "service proxy",
            503,
            41.0,
            url=proxy.format("rails-service:3000"),
            app_status="error",
            error="HTTP 503: " + HOSTILE,
            hint="rails answers but is not healthy: see its logs",
            level=Level.CRIT,
            failing_since=ago(95),
        ),
        endpoint(
            "fastapi-service:8000",
            "service proxy",
            200,
            2480.0,
            url=proxy.format("fastapi-service:8000"),
            history=(1900.0, None, 2710.0, 2480.0),
            level=Level.CRIT,
        ),
    )
    return HealthSnapshot(endpoints=endpoints, taken_at=NOW, level=Level.CRIT)


def _window(seconds: float, requests: int, errors: int, p50: float, p95: float, p99: float,
            **levels: Level) -> WindowFigures:  # fmt: skip
    return WindowFigures(
        seconds=seconds,
        requests=requests,
        rps=requests / seconds,
        errors=errors,
        error_pct=100 * errors / requests if requests else None,
        p50_ms=p50,
        p95_ms=p95,
        p99_ms=p99,
        **levels,
    )


def slo() -> SloSnapshot:
    crit, warn = Level.CRIT, Level.WARN
    every = UpstreamSlo(
        "all",
        _window(60, 9120, 412, 96, 1210, 2870, error_level=crit, p95_level=crit, p99_level=crit),
        _window(300, 45300, 1730, 91, 980, 2610, error_level=crit, p95_level=warn, p99_level=crit),
        rps_history=(150.0, 152.0, 149.0, 151.0, 152.0),
        error_pct_history=(0.0, 0.1, 2.5, 4.1, 4.5),
        p99_history=(310.0, 330.0, 1900.0, 2700.0, 2870.0),
        level=crit,
    )
    rails = UpstreamSlo(
        "rails",
        _window(60, 6840, 27, 84, 310, 720, error_level=crit),
        _window(300, 34100, 120, 82, 300, 690, error_level=crit),
        level=crit,
    )
    fastapi = UpstreamSlo(
        "fastapi",
        _window(
            60,
            2280,
            385,
            880,
            2410,
            2990,
            error_level=crit,
            p50_level=crit,
            p95_level=crit,
            p99_level=crit,
        ),
        _window(
            300,
            11200,
            1610,
            850,
            2300,
            2950,
            error_level=crit,
            p50_level=crit,
            p95_level=crit,
            p99_level=crit,
        ),
        level=crit,
    )
    burn = (
        BurnRate("1h", "5m", 14.4, 9.8, 38.2, 900.0, False, Level.WARN),
        BurnRate("6h", "30m", 6.0, 9.8, 24.0, 900.0, True, Level.WARN),
    )
    return SloSnapshot(
        upstreams=(every, rails, fastapi),
        burn=burn,
        objective_pct=99.9,
        lines=540_211,
        unparsed=1_204,
        dropped=0,
        streams=2,
        taken_at=NOW,
        level=crit,
    )


def prometheus() -> PrometheusSnapshot:
    alerts = (
        Alert(
            name="HighErrorRate",
            state="firing",
            severity="critical",
            since=ago(420),
            summary="5xx rate above 0.05/s on fastapi-7c9d " + HOSTILE,
            runbook="Incident: high error rate",
            labels=(("app", "fastapi"), ("pod", "fastapi-7c9d")),
            value="0.31",
            level=Level.CRIT,
        ),
        Alert(
            name="HighMemoryUsage",
            state="pending",
            severity="warning",
            since=ago(95),
            summary="fastapi-7c9d memory at 93 % of its limit",
            runbook="Incident: pod OOMKilled",
            level=Level.WARN,
        ),
    )
    figures = (
        PromFigures("all", 151.2, 4.4, 95.0, 1300.0, 2900.0),
        PromFigures("rails", 113.9, 0.3, 85.0, 320.0, 740.0),
        PromFigures("fastapi", 37.3, 16.9, 900.0, 2500.0, 3000.0),
    )
    return PrometheusSnapshot(
        url="http://127.0.0.1:9090",
        configured=True,
        alerts=alerts,
        figures=figures,
        taken_at=NOW,
        level=Level.CRIT,
    )
