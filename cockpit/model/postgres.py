"""PostgreSQL: activity, and the deep views (on demand)."""

from __future__ import annotations

from datetime import datetime

from cockpit.model import Level, frozen

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
