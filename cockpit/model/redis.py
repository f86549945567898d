"""Redis: INFO, and the deep views (on demand)."""

from __future__ import annotations

from datetime import datetime

from cockpit.model import Level, frozen

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
