"""PostgreSQL as the runbook checks it: connections, idle sessions, locks, throughput.

One long-lived polling connection (application_name 'cockpit', autocommit, a short
statement_timeout).  Any failure drops it; the next call reconnects, so a restarted
server is picked up again by the Poller's retries.  A poll is two cheap round trips:
`SELECT 1` (the RTT the pane shows) and one statement reading every session and the
server's counters (see queries.py).  Works with a pg_monitor role; what the role
may not see, or what is not installed, becomes a note, not an error.

The server counts every session by state; the rows that come back are the ones the
pane's views list (busy, idle past the limit, blockers).  `every_session = True` (the
pane's "all" view, set by the app) asks for every row as well.

Actions (terminating sessions) must not share this connection: they open their own
with `open_connection(settings, application_name="cockpit-action")`.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from cockpit.config import Settings
from cockpit.model import PgSnapshot
from cockpit.sources.postgres.build import (
    QUERY_LEN,
    TEXT_LEN,
    Counters,
    PgLimits,
    ServerCounts,
    assess,
    rates,
    session_from_row,
    short_version,
    with_ages,
)
from cockpit.sources.postgres.conn import (
    close_quietly,
    connected_label,
    normalise_dsn,
    open_connection,
    pg_error,
    remember_own,
    server_label,
)
from cockpit.sources.postgres.queries import PING, POLL, SETUP
from cockpit.textsafe import one_line

APPLICATION_NAME = "cockpit"
DB_SIZE_EVERY_S = 30.0  # pg_database_size walks the data directory: not every poll


class PostgresSource:
    name = "postgres"

    def __init__(
        self,
        settings: Settings,
        *,
        limits: PgLimits | None = None,
        application_name: str = APPLICATION_NAME,
        db_size_every_s: float = DB_SIZE_EVERY_S,
    ) -> None:
        self.settings = settings
        self.db_size_every_s = db_size_every_s
        self.limits = limits or PgLimits()
        self.application_name = application_name
        self._label = server_label(normalise_dsn(settings.effective_pg_dsn()))
        self._conn: psycopg.AsyncConnection | None = None
        self._info: dict[str, Any] = {}  # from SETUP, per connection
        self._statements = 0  # run by this source, to take them out of the TPS
        self._prev: Counters | None = None
        self._size: int | None = None
        self._size_at: float | None = None
        # Every session's row, not only those the views list (the pane's "all" view).
        self.every_session = False

    @property
    def server(self) -> str:
        """host:port/dbname, never a password."""
        return self._label

    @property
    def connected(self) -> bool:
        return self._conn is not None and not self._conn.closed

    @property
    def backend_pid(self) -> int | None:
        return self._conn.info.backend_pid if self.connected and self._conn else None

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        await close_quietly(conn)

    # -- the poll ------------------------------------------------------------------------

    async def snapshot(self) -> PgSnapshot:
        conn = await self._connection()
        pg = self.settings.postgres
        idle_s = pg.idle_minutes * 60.0
        now = time.monotonic()
        with_size = self._size_at is None or now - self._size_at >= self.db_size_every_s
        every = self.every_session
        params = {
            "with_size": with_size,
            "every": every,
            "idle_s": idle_s,
            "text_len": TEXT_LEN,
            "query_len": QUERY_LEN,
        }
        try:
            # statement_timeout bounds the server; this bounds a network that went silent.
            async with asyncio.timeout(pg.statement_timeout_ms / 1000 * 2 + pg.connect_timeout):
                started = time.perf_counter()
                await (await conn.execute(PING)).fetchone()
                rtt_ms = (time.perf_counter() - started) * 1000
                self._statements += 1
                own = self._statements
                read_at = time.monotonic()
                # Binary results: the server skips formatting timestamps and numbers.
                cur = conn.cursor(row_factory=dict_row, binary=True)
                await cur.execute(POLL, params)
                rows = await cur.fetchall()
                self._statements += 1
        except BaseException as exc:
            # A query the server refused (statement_timeout, ...) leaves a healthy
            # connection; anything else (lost, cancelled, silent) gets a fresh one.
            if not (isinstance(exc, psycopg.DatabaseError) and self._healthy(conn)):
                await self._drop()
            if isinstance(exc, Exception):
                raise pg_error(exc, self._label, self.settings) from None
            raise
        return self._build(rows, rtt_ms, read_at, own, with_size, idle_s, every)

    @staticmethod
    def _healthy(conn: psycopg.AsyncConnection) -> bool:
        if conn.closed or conn.broken:
            return False
        return conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE

    async def _connection(self) -> psycopg.AsyncConnection:
        if self._conn is not None and not self._conn.closed and not self._conn.broken:
            return self._conn
        await self._drop()
        conn = await open_connection(self.settings, self.application_name)
        try:
            timeout_ms = str(self.settings.postgres.statement_timeout_ms)
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(SETUP, {"statement_timeout": timeout_ms})
            self._info = dict(await cur.fetchone() or {})
            self._statements += 1
        except Exception as exc:
            await conn.close()
            raise pg_error(exc, self._label, self.settings) from None
        remember_own(conn, self._info.get("pid"), self._info.get("backend_start"))
        self._label = connected_label(conn)
        self._conn = conn
        return conn

    async def _drop(self) -> None:
        await self.close()
        self._info = {}

    # -- rows to snapshot ------------------------------------------------------------------

    def _build(
        self,
        rows: list[dict[str, Any]],
        rtt_ms: float,
        read_at: float,
        own: int,
        with_size: bool,
        idle_s: float,
        every: bool = False,
    ) -> PgSnapshot:
        head = rows[0]  # the server row always comes back (LEFT JOIN)
        counters = Counters(
            xacts=int(head["xacts"] or 0),
            blks_hit=int(head["blks_hit"] or 0),
            blks_read=int(head["blks_read"] or 0),
            at=read_at,
            own=own,
        )
        tps, hit = rates(self._prev, counters)
        self._prev = counters
        if with_size:
            self._size = None if head["db_size"] is None else int(head["db_size"])
            self._size_at = read_at
        info = self._info
        sees_all = bool(info.get("sees_all"))
        max_conn = int(head["max_connections"])
        now = head["server_now"]
        sessions = [session_from_row(with_ages(r, now)) for r in rows if r["pid"] is not None]
        counts = ServerCounts.from_row(head)
        hidden = counts.hidden
        visible_clients = counts.clients
        # Without pg_read_all_stats other roles' backends have no type: count them
        # from pg_stat_database instead (every backend connected to a database).
        exact = hidden == 0
        connections = visible_clients + 1 if exact else int(head["numbackends"] or 0)
        pct = 100.0 * connections / max_conn if max_conn else None
        verdict = assess(
            sessions,
            self.limits,
            pct,
            self.settings.thresholds.pg_connections_pct,
            rtt_ms,
            counts=counts,
        )
        database = one_line(str(info.get("database") or ""), TEXT_LEN)
        return PgSnapshot(
            server=self._label,
            version=short_version(str(info.get("version") or "")),
            max_connections=max_conn,
            connections=connections,
            by_state=verdict.by_state,
            waiting=verdict.waiting,
            idle_over_threshold=verdict.idle,
            longest=verdict.longest,
            blocked=verdict.blocked,
            tps=tps,
            cache_hit_ratio=hit,
            db_size_bytes=self._size,
            rtt_ms=rtt_ms,
            idle_threshold_s=idle_s,
            notes=self._notes(sees_all, hidden, database),
            taken_at=datetime.now(UTC),
            level=verdict.level,
            sessions=verdict.sessions,
            database=database,
            role=one_line(str(info.get("role") or ""), TEXT_LEN),
            own_pid=self.backend_pid,
            reserved_connections=int(head["reserved"] or 0),
            hidden=hidden,
            connections_exact=exact,
            pg_stat_statements=bool(info.get("has_pgss")),
            problems=verdict.problems,
            connections_level=verdict.connections_level,
            every_session=every,
            session_count=int(head["sessions"] or 0),
        )

    def _notes(self, sees_all: bool, hidden: int, database: str) -> tuple[str, ...]:
        notes = []
        role = one_line(str(self._info.get("role") or "?"), TEXT_LEN)
        if hidden or not sees_all:
            notes.append(
                f"role {role} is not in pg_monitor: {hidden} sessions of other roles show "
                "no state, query or client, and the connection count is approximate "
                f"(GRANT pg_monitor TO {role})"
            )
        if not self._info.get("has_pgss"):
            notes.append(
                f"pg_stat_statements is not installed in {database or 'this database'}: "
                "no slow-query view (CREATE EXTENSION pg_stat_statements; it needs "
                "shared_preload_libraries)"
            )
        return tuple(notes)
