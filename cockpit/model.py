"""Immutable snapshots: what a source saw at one moment, ready for a pane to render.

Sources build these; panes only read them.  Every class is a frozen, slotted dataclass
so a snapshot can cross from a worker to the UI without copies or locks.  Free text in
them (names, log lines, queries, messages) is untrusted: panes render it as plain text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum


class Level(IntEnum):
    """Severity, ordered so that max() gives the worst."""

    OK = 0
    WARN = 1
    CRIT = 2

    @property
    def css(self) -> str:
        return ("ok", "warn", "crit")[self]

    @property
    def label(self) -> str:
        return ("OK", "WARN", "CRIT")[self]


def worst(levels: object) -> Level:
    return max((lv for lv in levels if isinstance(lv, Level)), default=Level.OK)  # type: ignore[union-attr]


frozen = dataclass(frozen=True, slots=True)


@frozen
class SourceFailure:
    """Why a source could not produce a snapshot, worded for the person at the screen."""

    source: str
    message: str  # "Redis 127.0.0.1:6379: connection refused"
    hint: str = ""  # what to do about it
    since: datetime | None = None  # first failure of this streak
    retry_in: float | None = None  # seconds until the next attempt
    failures: int = 1


# -- Kubernetes: workloads and pods ----------------------------------------------------


@frozen
class ContainerRow:
    name: str
    image: str
    ready: bool
    restarts: int
    state: str  # running / waiting / terminated
    reason: str  # the waiting/terminated reason, "" when running
    exit_code: int | None
    last_reason: str  # lastState.terminated.reason (e.g. OOMKilled)
    last_exit_code: int | None
    last_finished: datetime | None
    started: datetime | None


@frozen
class PodRow:
    uid: str
    name: str
    namespace: str
    app: str  # the `app` label, "" if none
    owner_kind: str  # ReplicaSet / StatefulSet / Job / "" for a bare pod
    owner_name: str
    workload: str  # the Deployment / StatefulSet / Job / CronJob the pod belongs to
    phase: str
    status: str  # as `kubectl get pods` shows it
    ready: int
    total: int
    restarts: int
    last_restart: datetime | None
    created: datetime | None
    node: str
    ip: str
    deleting: bool
    level: Level
    containers: tuple[ContainerRow, ...] = ()
    cpu_request_m: float | None = None  # summed over containers
    cpu_limit_m: float | None = None
    mem_request: int | None = None  # bytes
    mem_limit: int | None = None
    resource_version: str = ""

    @property
    def ready_text(self) -> str:
        return f"{self.ready}/{self.total}"


@frozen
class WorkloadRow:
    kind: str  # Deployment / StatefulSet
    name: str
    uid: str
    namespace: str
    desired: int
    ready: int
    updated: int
    available: int
    revision: str  # deployment.kubernetes.io/revision, or the sts currentRevision
    generation: int
    observed_generation: int
    rollout: str  # complete / progressing / stalled / scaled to 0 / paused
    level: Level
    images: tuple[str, ...] = ()
    selector: tuple[tuple[str, str], ...] = ()
    resource_version: str = ""
    created: datetime | None = None

    @property
    def ready_text(self) -> str:
        return f"{self.ready}/{self.desired}"


@frozen
class KubeSnapshot:
    context: str
    namespace: str
    pods: tuple[PodRow, ...]
    workloads: tuple[WorkloadRow, ...]
    taken_at: datetime
    version: int = 0  # bumps whenever anything in the watched sets changed
    # The first screen's pods from a server-side Table, before the full objects are in:
    # no containers nor resources yet (cockpit/sources/kube/first_pods.py).
    provisional: bool = False

    @property
    def level(self) -> Level:
        return worst([p.level for p in self.pods] + [w.level for w in self.workloads])

    @property
    def not_ready(self) -> int:
        """Pods that should serve and do not (finished Job pods are not counted)."""
        return sum(
            1 for p in self.pods if p.phase not in ("Succeeded", "Failed") and p.ready < p.total
        )


# -- Kubernetes: top (metrics.k8s.io) --------------------------------------------------


@frozen
class PodUsage:
    uid: str
    name: str
    workload: str
    cpu_m: float
    mem_bytes: int
    cpu_request_pct: float | None
    cpu_limit_pct: float | None
    mem_request_pct: float | None
    mem_limit_pct: float | None
    level: Level


@frozen
class WorkloadUsage:
    workload: str
    pods: int
    cpu_m: float
    mem_bytes: int
    cpu_limit_pct: float | None
    mem_limit_pct: float | None
    level: Level


@frozen
class TopSnapshot:
    available: bool  # False: metrics.k8s.io is not served
    message: str  # why not, when not available
    pods: tuple[PodUsage, ...]
    workloads: tuple[WorkloadUsage, ...]
    sample_time: datetime | None  # the metrics' own timestamp
    window_s: float | None
    taken_at: datetime

    @property
    def level(self) -> Level:
        return worst([p.level for p in self.pods])


# -- Kubernetes: logs -------------------------------------------------------------------


@frozen
class LogLine:
    seq: int  # monotonically increasing per follower set, for "new since" reads
    time: datetime | None
    pod: str
    container: str
    app: str
    text: str  # control sequences already neutralised


@frozen
class LogBatch:
    """The error lines that arrived since the previous batch, plus the live picture."""

    lines: tuple[LogLine, ...]
    per_minute: tuple[int, ...]  # error lines per minute, oldest first
    followed: tuple[str, ...]  # pods currently followed
    capped: int  # pods not followed because of max_streams
    problems: tuple[str, ...]  # streams that failed, in words
    taken_at: datetime
    backlog_done: bool  # the window's history has been read for every followed pod
    level: Level  # the last full minute's rate against the runbook's threshold

    @property
    def rate(self) -> int:
        return rate_of(self.per_minute)


def rate_of(per_minute: tuple[int, ...]) -> int:
    """Error lines in the last full minute (the current one is still filling)."""
    return per_minute[-2] if len(per_minute) >= 2 else sum(per_minute)


# -- Kubernetes: events ----------------------------------------------------------------


@frozen
class EventRow:
    uid: str
    type: str  # Normal / Warning
    reason: str
    object_kind: str
    object_name: str
    message: str
    count: int
    last_seen: datetime | None
    first_seen: datetime | None
    level: Level


@frozen
class EventsSnapshot:
    events: tuple[EventRow, ...]  # warnings first, newest first
    taken_at: datetime
    recent: tuple[EventRow, ...]  # warnings seen in the last RECENT_EVENTS_S, newest first
    level: Level  # WARN while there is a recent warning


RECENT_EVENTS_S = 600.0  # a warning older than this no longer colours the pane


# -- PostgreSQL ------------------------------------------------------------------------


@frozen
class PgSession:
    """One backend of pg_stat_activity.  Text fields are neutralised (textsafe)."""

    pid: int
    backend_start: datetime | None
    user: str
    database: str
    application: str
    client: str  # address or host name, "local" for a unix socket, "" when hidden
    state: str  # active / idle / idle in transaction / ... ; "" when hidden
    wait_event_type: str
    wait_event: str
    backend_type: str  # client backend / autovacuum worker; "" when hidden
    query: str  # the current or last query, one line, bounded
    query_start: datetime | None
    xact_start: datetime | None
    state_change: datetime | None
    query_seconds: float | None
    xact_seconds: float | None
    state_seconds: float | None  # time in the current state (idle for, waiting for, ...)
    blocked_by: tuple[int, ...] = ()  # pids holding the lock this session waits for
    level: Level = Level.OK
    blocking: tuple[int, ...] = ()  # pids waiting for a lock this session holds
    idle_candidate: bool = False  # the runbook's: idle and state_change older than the limit
    hidden: bool = False  # the role may not see this session's details (no pg_monitor)

    @property
    def key(self) -> str:
        """pid plus backend start, so that a reused pid is a different session."""
        start = self.backend_start.timestamp() if self.backend_start else 0.0
        return f"{self.pid}:{start:.6f}"

    @property
    def waiting(self) -> bool:
        return self.wait_event_type == "Lock"

    @property
    def running_seconds(self) -> float:
        """How long it has been holding on: its transaction, or its active query."""
        xact = self.xact_seconds or 0.0
        query = (self.query_seconds or 0.0) if self.state == "active" else 0.0
        return max(xact, query)


PG_STATES = (
    "active",
    "idle",
    "idle in transaction",
    "idle in transaction (aborted)",
    "fastpath function call",
    "disabled",
)


@frozen
class PgSnapshot:
    server: str  # host:port/db, no secrets
    version: str
    max_connections: int
    connections: int  # client backends, the cockpit's own included (it takes a slot too)
    by_state: tuple[tuple[str, int], ...]  # ("active", 3), ("idle", 10), ...: other sessions
    waiting: int  # sessions waiting on a lock
    idle_over_threshold: tuple[PgSession, ...]  # the runbook's termination candidates
    longest: tuple[PgSession, ...]  # longest running queries / transactions, longest first
    blocked: tuple[PgSession, ...]  # sessions with blockers
    tps: float | None  # transactions per second, all databases, the cockpit's own excluded
    cache_hit_ratio: float | None  # 0..1 over the last interval; None: no block access
    db_size_bytes: int | None
    rtt_ms: float
    idle_threshold_s: float
    notes: tuple[str, ...]  # views disabled for lack of privilege/extension, in words
    taken_at: datetime
    level: Level = Level.OK
    sessions: tuple[PgSession, ...] = ()  # every session but the cockpit's own
    database: str = ""  # the database the cockpit is connected to (and sizes)
    role: str = ""  # the role it connects as
    own_pid: int | None = None
    reserved_connections: int = 0  # superuser_reserved_connections
    hidden: int = 0  # sessions whose details the role may not see
    connections_exact: bool = True  # False: some sessions hidden, count from pg_stat_database
    pg_stat_statements: bool = False  # the extension is installed in `database`
    problems: tuple[str, ...] = ()  # why the level is not OK, in words
    connections_level: Level = Level.OK  # connections against max_connections alone
    # `sessions` holds every session (True), or only those the views list: not plain
    # idle ones under the limit, nor hidden ones (they are counted in by_state, hidden).
    every_session: bool = True
    session_count: int | None = None  # every session but the cockpit's own, listed or not

    @property
    def connections_pct(self) -> float | None:
        return 100.0 * self.connections / self.max_connections if self.max_connections else None

    @property
    def idle_candidates(self) -> int:
        return len(self.idle_over_threshold)

    def count(self, state: str) -> int:
        return dict(self.by_state).get(state, 0)

    @property
    def blocking(self) -> tuple[PgSession, ...]:
        """Sessions holding a lock someone waits for, the root blockers first."""
        roots = [s for s in self.sessions if s.blocking and not s.blocked_by]
        rest = [s for s in self.sessions if s.blocking and s.blocked_by]
        return tuple(roots + rest)


# -- PostgreSQL deep views (on demand, from the action connection) ----------------------


@frozen
class PgStatement:
    """One row of pg_stat_statements.  `query` is untrusted, one line, bounded."""

    queryid: int | None
    query: str
    calls: int
    total_ms: float
    mean_ms: float
    rows: int
    user: str
    database: str


@frozen
class PgIndexUsage:
    """One row of pg_stat_user_indexes, with its size and what it enforces."""

    schema: str
    table: str
    index: str
    scans: int
    size_bytes: int | None
    tuples_read: int
    tuples_fetched: int
    unique: bool  # enforces uniqueness: unused is no reason to drop it
    primary: bool
    valid: bool = True


@frozen
class PgSettingRow:
    """One setting from pg_settings against the runbook's recommendation."""

    name: str
    setting: str  # as pg_settings has it, in `unit`s
    unit: str  # "8kB", "kB", "ms", "" ...
    shown: str  # in words people use: "128MB"
    recommended: str  # the runbook's value, "" when it names none
    context: str  # postmaster (restart) / sighup (reload) / user ...
    pending_restart: bool  # changed in the files, waits for a restart
    source: str  # default / configuration file / ...
    vartype: str  # integer / real / bool / enum / string
    min_val: str = ""
    max_val: str = ""
    matches: bool | None = None  # None: not comparable (unknown unit, no recommendation)

    @property
    def needs_restart(self) -> bool:
        return self.context == "postmaster"


@frozen
class PgBlockNode:
    """A session in the blocking tree, under the session it waits for (depth 0: a root)."""

    session: PgSession
    depth: int
    waits_for: int | None  # the parent's pid; None for a root blocker
    wanted_mode: str  # the lock mode this session waits for ("" for a root)
    held_mode: str  # what the parent holds (or queues for) on that object
    lock_object: str  # "relation public.t", "transactionid 1234", ...
    wait_seconds: float | None  # how long it has been waiting (None for a root)
    blocks: int = 0  # sessions waiting for this one, directly


@frozen
class PgDeepSnapshot:
    """Everything the deep views show, read at one moment.  A *_note says why a part is
    missing (no extension, no privilege) in words; the part is then empty."""

    server: str
    database: str
    taken_at: datetime
    # The top `limit` by mean time, by total time, by calls and by rows, together: a
    # view sorts them by one measure and shows its first `limit`.
    statements: tuple[PgStatement, ...] = ()
    limit: int = 50
    statements_note: str = ""
    statements_hidden: int = 0  # rows whose query text the role may not read
    indexes: tuple[PgIndexUsage, ...] = ()  # unused first, then least used, biggest first
    indexes_note: str = ""
    settings: tuple[PgSettingRow, ...] = ()
    settings_note: str = ""
    blocking: tuple[PgBlockNode, ...] = ()  # depth-first from the root blockers
    blocking_note: str = ""


# -- Redis -----------------------------------------------------------------------------


@frozen
class RedisSnapshot:
    server: str  # host:port/db, no secrets
    version: str  # as the server reports it: untrusted text
    used_memory: int
    maxmemory: int  # 0: no limit
    policy: str  # maxmemory-policy (untrusted text)
    fragmentation: float | None
    hit_ratio: float | None  # 0..1 over the last poll interval; None: no lookups in it
    ops_per_sec: float | None  # from deltas (the poller's own commands left out)
    evicted_per_sec: float | None
    connected_clients: int
    blocked_clients: int
    rejected_connections: int  # since the server started
    keys: tuple[tuple[int, int], ...]  # (db number, key count)
    last_save: datetime | None
    last_fork_usec: int | None
    rtt_ms: float
    warnings: tuple[str, ...]  # worst first, worded with the runbook's remedy
    taken_at: datetime
    level: Level = Level.OK
    expired_per_sec: float | None = None
    rejected_per_sec: float | None = None
    oom_errors: int = 0  # "OOM command not allowed" replies since start (Redis 6.2+)
    oom_per_sec: float | None = None
    notes: tuple[str, ...] = ()  # things to know that are not problems (CONFIG refused, ...)
    expires: tuple[tuple[int, int], ...] = ()  # (db number, keys with a TTL)
    hit_ratio_total: float | None = None  # 0..1 since the server started
    used_memory_peak: int | None = None
    maxclients: int | None = None
    uptime_s: int | None = None
    memory_level: Level = Level.OK  # used vs maxmemory alone (with the policy's risk)
    policy_from: str = "CONFIG"  # where the policy was read: CONFIG or INFO
    changes_since_save: int | None = None
    last_save_ok: bool | None = None

    @property
    def memory_pct(self) -> float | None:
        return 100.0 * self.used_memory / self.maxmemory if self.maxmemory else None

    @property
    def total_keys(self) -> int:
        return sum(count for _, count in self.keys)


# -- Redis deep views (on demand, from their own client) ----------------------------


@frozen
class RedisMemoryReport:
    """`MEMORY STATS` as (name, value) pairs and `MEMORY DOCTOR`'s advice."""

    stats: tuple[tuple[str, str], ...]
    doctor: str  # untrusted, multi-line
    taken_at: datetime
    stats_error: str = ""  # why the stats are missing (ACL, renamed command), in words
    doctor_error: str = ""


@frozen
class RedisSlowEntry:
    id: int
    started: datetime
    duration_us: int
    args: tuple[str, ...]  # the command and its arguments: untrusted, already shortened
    client_addr: str
    client_name: str


@frozen
class RedisSlowlog:
    entries: tuple[RedisSlowEntry, ...]  # newest first
    length: int  # SLOWLOG LEN: entries kept by the server
    taken_at: datetime
    error: str = ""


@frozen
class RedisClientRow:
    id: int
    addr: str
    name: str  # untrusted
    age_s: int
    idle_s: int
    db: int
    cmd: str  # the last command (untrusted)
    flags: str
    user: str = ""
    memory: int | None = None  # tot-mem (Redis 7+), else omem


@frozen
class RedisClientList:
    clients: tuple[RedisClientRow, ...]  # most idle first
    taken_at: datetime
    error: str = ""


@frozen
class RedisBigKey:
    key: str  # display form: bytes that are not UTF-8 appear as \xNN (untrusted)
    type: str
    size: int | None  # MEMORY USAGE in bytes (estimated for aggregates); None: refused


@frozen
class RedisBigKeyScan:
    """Where a SCAN sample of big keys stands: one of these after every batch."""

    db: int
    dbsize: int  # DBSIZE when the scan started
    scanned: int  # keys looked at so far
    batches: int
    elapsed_s: float
    top: tuple[RedisBigKey, ...]  # biggest first
    state: str  # "running", "complete", "key budget", "time budget", "cancelled", "failed"
    message: str = ""  # the stop reason in words, or the error
    sized_bytes: int = 0  # sum of MEMORY USAGE over the keys scanned

    @property
    def done(self) -> bool:
        return self.state != "running"

    @property
    def fraction(self) -> float | None:
        return min(1.0, self.scanned / self.dbsize) if self.dbsize else None


# -- the host --------------------------------------------------------------------------


@frozen
class DiskUsage:
    mount: str
    total: int
    used: int
    percent: float
    level: Level


@frozen
class HostSnapshot:
    hostname: str
    cpu_pct: float
    cpu_count: int
    load: tuple[float, float, float]
    mem_total: int
    mem_used: int
    mem_pct: float
    disks: tuple[DiskUsage, ...]
    net_rx_bps: float | None
    net_tx_bps: float | None
    taken_at: datetime
    level: Level = Level.OK
    cpu_level: Level = Level.OK
    mem_level: Level = Level.OK


# -- backups and health ----------------------------------------------------------------


@frozen
class JobRow:
    name: str
    uid: str
    status: str  # Running / Complete / Failed
    started: datetime | None
    finished: datetime | None
    manual: bool
    level: Level

    def duration_s(self, now: datetime) -> float | None:
        """How long it ran (or has been running, measured to `now`)."""
        if self.started is None:
            return None
        end = self.finished or (now if self.status == "Running" else None)
        return None if end is None else max(0.0, (end - self.started).total_seconds())


@frozen
class BackupObject:
    """One object under s3://<bucket>/<prefix>.  `key` is untrusted text."""

    key: str
    size: int
    modified: datetime | None  # S3's LastModified (the upload, not the dump)
    taken: datetime | None = None  # from the name, backup_YYYYMMDD_HHMMSS (UTC), if any
    etag: str = ""  # S3's ETag (unquoted): a verdict is cached per key and ETag

    @property
    def when(self) -> datetime | None:
        """When the dump was taken: the name's timestamp, else the upload time."""
        return self.taken or self.modified


@frozen
class BackupsSnapshot:
    """The runbook's backup checks: the CronJob and its Jobs, then the S3 objects.

    The two halves fail independently: `kube_message` / `s3_message` say, in words, why
    a half is missing, and the other half is still there.  `problems` lists what is
    wrong, worst first, and `level` is the worst of them.
    """

    cronjob: str
    schedule: str
    suspended: bool
    last_schedule: datetime | None
    last_success: datetime | None
    jobs: tuple[JobRow, ...]  # newest first
    objects: tuple[BackupObject, ...] = ()  # S3, newest first, at most a screenful or so
    s3_message: str = ""  # why S3 is not shown, when not
    taken_at: datetime | None = None
    level: Level = Level.OK
    kube_message: str = ""  # why the CronJob/Jobs half is missing or old, when it is
    s3_hint: str = ""  # what to do about s3_message
    s3_checked: bool = False  # False: S3 was not listed at all (e.g. Kubernetes-only)
    s3_listed_at: datetime | None = None  # when `objects` was listed (older on a failure)
    bucket: str = ""
    prefix: str = ""
    object_count: int = 0  # every object listed, not only those in `objects`
    total_bytes: int = 0
    past_retention: int = 0  # objects older than retention_days
    retention_days: int = 30
    truncated: bool = False  # the listing stopped at its key limit: counts are lower bounds
    key_limit: int = 0
    problems: tuple[tuple[Level, str], ...] = ()  # worst first
    verdict: DumpVerdict | None = None  # the newest dump read end to end, once it has been
    verifying: VerifyProgress | None = None  # a read of the newest dump under way

    @property
    def newest(self) -> BackupObject | None:
        return self.objects[0] if self.objects else None

    @property
    def last_job(self) -> JobRow | None:
        return self.jobs[0] if self.jobs else None


# -- the service as its users see it: health, SLOs, alerts ------------------------------


@frozen
class EndpointHealth:
    """One health endpoint's last check.  `error`, `app_status` and `url` are untrusted."""

    name: str  # "excel-unified.com" or "rails-service:3000"
    url: str  # what was fetched (for a service: the API server's proxy path)
    via: str  # "direct" or "service proxy"
    status: int | None  # the HTTP status code; None when nothing answered
    ms: float | None  # latency of the last check
    history: tuple[float | None, ...]  # latencies, oldest first; None where a check failed
    app_status: str | None  # the JSON body's own "status" field, when there is one
    cert_days: float | None  # https: days until the certificate expires
    error: str  # what went wrong, in words ("" when it answered 2xx)
    hint: str  # what to do about it
    level: Level
    checked_at: datetime | None
    failing_since: datetime | None = None
    reason: str = ""  # a few words on why it is not OK ("503", "timeout", "cert 2 d")


@frozen
class HealthSnapshot:
    endpoints: tuple[EndpointHealth, ...]
    taken_at: datetime
    level: Level = Level.OK


@frozen
class WindowFigures:
    """Traffic over one rolling window (1 min or 5 min), each figure with its level."""

    seconds: float  # the window's length (less while the cockpit has not run that long)
    requests: int
    rps: float
    errors: int  # 5xx answers
    error_pct: float | None  # None: no requests
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    rps_level: Level = Level.OK
    error_level: Level = Level.OK
    p50_level: Level = Level.OK
    p95_level: Level = Level.OK
    p99_level: Level = Level.OK

    @property
    def level(self) -> Level:
        return worst(
            (self.rps_level, self.error_level, self.p50_level, self.p95_level, self.p99_level)
        )


@frozen
class UpstreamSlo:
    """One upstream ("all", "rails", "fastapi"): both windows and a short history."""

    name: str
    one_minute: WindowFigures
    five_minutes: WindowFigures
    # One value per 10 s bucket, oldest first, for the sparklines.
    rps_history: tuple[float, ...] = ()
    error_pct_history: tuple[float, ...] = ()
    p99_history: tuple[float, ...] = ()
    level: Level = Level.OK


@frozen
class BurnRate:
    """Error-budget burn over a long/short window pair (SRE workbook, multiwindow)."""

    long_window: str  # "1h"
    short_window: str  # "5m"
    factor: float  # 14.4 (page) or 6 (ticket)
    long_burn: float | None  # burn rate over the long window; None: no requests
    short_burn: float | None
    covered_s: float  # how much of the long window the cockpit has seen
    firing: bool  # both windows above the factor
    level: Level = Level.OK
    upstream: str = "all"  # whose budget: "all" or one upstream


@frozen
class SloSnapshot:
    upstreams: tuple[UpstreamSlo, ...]  # "all" first
    burn: tuple[BurnRate, ...]
    objective_pct: float
    lines: int  # access-log lines read since start
    unparsed: int  # lines that were not access-log lines
    dropped: int  # lines lost because ingest fell behind (0 is the promise)
    streams: int  # nginx pods followed
    taken_at: datetime
    level: Level = Level.OK
    message: str = ""  # e.g. "no nginx pods found (app=nginx)"
    message_level: Level = Level.OK  # the message's own level (e.g. WARN: no pods)
    hint: str = ""  # what to do about the message


@frozen
class Alert:
    """One Prometheus alert (`/api/v1/alerts`).  Every text field is untrusted."""

    name: str
    state: str  # "firing" or "pending"
    severity: str
    since: datetime | None  # activeAt
    summary: str
    runbook: str  # the runbook section it maps to ("" when none)
    labels: tuple[tuple[str, str], ...] = ()
    value: str = ""
    level: Level = Level.OK


@frozen
class PromFigures:
    """The SLO figures of one upstream from PromQL (5-minute rates), beside the logs'."""

    upstream: str
    rps: float | None
    error_pct: float | None
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None


@frozen
class PrometheusSnapshot:
    url: str  # "" when none is configured or discovered
    configured: bool  # False: no Prometheus; `message` says how to add one
    alerts: tuple[Alert, ...]  # firing first, then pending
    figures: tuple[PromFigures, ...]
    taken_at: datetime
    level: Level = Level.OK
    message: str = ""
    hint: str = ""

    @property
    def firing(self) -> int:
        return sum(1 for a in self.alerts if a.state == "firing")


# -- disk usage of the data pods (df over exec) -----------------------------------------


@frozen
class PodMount:
    """One line of `df` in a pod: a persistent volume's mount, or the container's `/`."""

    pod: str
    mount: str
    device: str
    size: int  # bytes
    used: int
    avail: int
    percent: float  # df's own Use% (it leaves out the reserved blocks)
    level: Level
    persistent: bool  # the mount of a persistentVolumeClaim (not the node's overlay)


@frozen
class PodDisk:
    """What `df` said in one pod, or why it could not say anything."""

    pod: str
    mounts: tuple[PodMount, ...]
    level: Level = Level.OK
    error: str = ""  # non-empty: exec failed; `hint` says what to do
    hint: str = ""


@frozen
class DiskSnapshot:
    pods: tuple[PodDisk, ...]
    taken_at: datetime
    level: Level = Level.OK
    message: str = ""  # e.g. "no pod with a persistent volume found"


# -- backups: verification of a dump (issue 11) ---------------------------------------

VERIFIED = "verified"
TRUNCATED = "truncated"
CORRUPT = "corrupt"
TOO_SMALL = "too small"
UNREADABLE = "unreadable"


@frozen
class VerifyProgress:
    key: str
    done: int  # bytes read so far
    total: int  # the object's size

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 0.0


@frozen
class DumpVerdict:
    """What reading one dump in S3 end to end found.  `key` and `message` are untrusted
    text (the key is the bucket's; the message may quote an S3 error)."""

    key: str
    etag: str
    size: int  # compressed bytes read
    status: str  # VERIFIED, TRUNCATED, CORRUPT, TOO_SMALL or UNREADABLE
    level: Level
    message: str
    sha256: str = ""  # of the object's bytes, as computed
    expected_sha256: str = ""  # from the object's metadata, when it has one
    uncompressed: int = 0  # bytes of SQL the gzip stream held
    checked_at: datetime | None = None

    @property
    def usable(self) -> bool:
        """Safe to restore from: intact to the end (a small dump is still a dump)."""
        return self.status in (VERIFIED, TOO_SMALL)
