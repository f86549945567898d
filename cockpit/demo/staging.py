"""The runbook's incidents, staged on the demo's own throwaway servers (never on others).

Redis: maxmemory reached under `noeviction`, a writer whose writes fail with OOM.
PostgreSQL: many idle sessions, one `idle in transaction` holding a row lock with
sessions blocked behind it, one long query.  The sessions are real connections held by
this process; once the cockpit terminates them they stay gone (nothing reconnects).

Every entry point checks that the server was started by cockpit.demo.servers
(`is_demo_server`): a server the user configured can never be staged on.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
from dataclasses import dataclass, field

import psycopg
import redis
from psycopg import sql

from cockpit.demo.pg_server import ThrowawayServer
from cockpit.demo.redis_server import RedisServer

DEMO_MAXMEMORY = 64 * 1024 * 1024
FILL_PCT = 100.0  # noeviction refuses writes only past the limit: fill up to it
IDLE_SESSIONS = 40
BLOCKED_SESSIONS = 3
DEMO_DATABASE = "excel_unified"
APP_ROLE = "excel_user"  # the runbook's application role

# Identity of the servers cockpit.demo.servers started: the staging's only targets.
_DEMO_SERVERS: set[int] = set()


def mark_demo_server(server: RedisServer | ThrowawayServer) -> None:
    _DEMO_SERVERS.add(id(server))


def unmark_demo_server(server: RedisServer | ThrowawayServer) -> None:
    _DEMO_SERVERS.discard(id(server))


def is_demo_server(server: object) -> bool:
    return id(server) in _DEMO_SERVERS and getattr(server, "owned", False) is True


def _require_demo(server: object) -> None:
    if not is_demo_server(server):
        raise PermissionError(f"refusing to stage an incident on {server!r}: not a demo server")


# -- Redis -----------------------------------------------------------------------------


def stage_redis(server: RedisServer, maxmemory: int = DEMO_MAXMEMORY) -> float:
    """maxmemory + noeviction, filled with app-like keys until writes fail; returns the %."""
    _require_demo(server)
    with server.client() as client:
        client.config_set("maxmemory", str(maxmemory))
        client.config_set("maxmemory-policy", "noeviction")
        session = "x" * 900  # a serialized Rails session
        fragment = "<div>" + "c" * 2000 + "</div>"  # a cached view fragment
        job = '{"class":"ExportWorker","args":[%d],"retry":true,"queue":"default"}' + " " * 300
        n = 0
        reached = 0.0
        while reached < FILL_PCT:
            pipe = client.pipeline(transaction=False)
            for i in range(n, n + 200):
                if i % 3 == 0:
                    pipe.set(f"_excel_session:{i:08x}", session, ex=86400)
                elif i % 3 == 1:
                    pipe.set(f"cache:views/reports/{i}", fragment)
                else:
                    pipe.lpush("queue:default" if i % 2 else "queue:mailers", job % i)
            n += 200
            results = pipe.execute(raise_on_error=False)
            used = int(client.info("memory")["used_memory"])
            reached = 100.0 * used / maxmemory
            if any(isinstance(r, redis.exceptions.OutOfMemoryError) for r in results):
                break
        return reached


def _redis_writer(server: RedisServer, stop: threading.Event) -> None:
    """Keeps writing like the app does: under noeviction at the limit, each write is an OOM.

    Values of 16 KiB push used_memory past maxmemory as soon as a little room appears
    (client buffers come and go), so writes keep failing instead of trickling in.
    """
    payload = "y" * 16384
    i = 0
    while not stop.wait(0.25):
        with contextlib.suppress(redis.exceptions.RedisError, OSError), server.client() as client:
            pipe = client.pipeline(transaction=False)
            for _ in range(10):
                i += 1
                pipe.set(f"cache:views/live/{i}", payload)
            pipe.execute(raise_on_error=False)


# -- PostgreSQL ------------------------------------------------------------------------

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (id bigserial PRIMARY KEY, email text NOT NULL);
CREATE TABLE IF NOT EXISTS workbooks (
  id bigserial PRIMARY KEY, user_id bigint REFERENCES users, name text, updated_at timestamptz
);
CREATE TABLE IF NOT EXISTS export_jobs (
  id bigserial PRIMARY KEY, workbook_id bigint REFERENCES workbooks, state text
);
INSERT INTO users (email) SELECT 'user' || g || '@example.com' FROM generate_series(1, 200) g;
INSERT INTO workbooks (user_id, name, updated_at)
  SELECT 1 + g % 200, 'Budget ' || g, now() FROM generate_series(1, 1000) g;
INSERT INTO export_jobs (workbook_id, state)
  SELECT 1 + g % 1000, 'queued' FROM generate_series(1, 500) g;
"""

APPS = ("puma: excel-unified-web", "sidekiq 7.2 excel-unified", "uvicorn: excel-api")


@dataclass
class PgIncident:
    """The connections and threads that make up the PostgreSQL incident."""

    server: ThrowawayServer
    idle: list[psycopg.Connection] = field(default_factory=list)
    blocker: psycopg.Connection | None = None
    threads: list[threading.Thread] = field(default_factory=list)
    dsn: str = ""

    def close(self) -> None:
        for conn in [*self.idle, *([self.blocker] if self.blocker else [])]:
            with contextlib.suppress(Exception):
                conn.close()


def _session(dsn: str, app: str) -> psycopg.Connection:
    return psycopg.connect(dsn, autocommit=True, application_name=app)


def _run_quietly(dsn: str, app: str, query: str) -> None:
    """A blocking statement in its own session; ends (with an error) when terminated."""
    with contextlib.suppress(Exception), _session(dsn, app) as conn:
        conn.execute(query)  # type: ignore[arg-type]


def stage_postgres(server: ThrowawayServer, idle: int = IDLE_SESSIONS) -> PgIncident:
    """excel_unified with idle sessions, a lock held idle in transaction, a long query."""
    _require_demo(server)
    with server.connect() as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DEMO_DATABASE,))
        if exists.fetchone() is None:
            admin.execute(f"CREATE DATABASE {DEMO_DATABASE}")
    # The app's sessions log in as the app's role: the cockpit leaves superusers alone.
    password = secrets.token_urlsafe(16)
    with psycopg.connect(server.dsn(dbname=DEMO_DATABASE), autocommit=True) as conn:
        conn.execute(SCHEMA)  # type: ignore[arg-type]
        role = sql.Identifier(APP_ROLE)
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (APP_ROLE,))
        verb = "ALTER" if exists.fetchone() else "CREATE"
        conn.execute(
            sql.SQL(verb + " ROLE {} LOGIN PASSWORD {}").format(role, sql.Literal(password))
        )
        conn.execute(sql.SQL("GRANT ALL ON ALL TABLES IN SCHEMA public TO {}").format(role))
        conn.execute(sql.SQL("GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {}").format(role))
    dsn = server.dsn(dbname=DEMO_DATABASE, user=APP_ROLE, password=password)
    incident = PgIncident(server=server, dsn=dsn)
    for i in range(idle):  # a leaky pool: connections checked out once, never returned
        conn = _session(dsn, APPS[i % len(APPS)])
        conn.execute("SELECT id, email FROM users WHERE id = %s", (1 + i,))
        incident.idle.append(conn)
    # A worker that took a row lock and then went quiet (waiting on an HTTP call, say).
    blocker = psycopg.connect(dsn, application_name="sidekiq 7.2 excel-unified")
    blocker.execute("UPDATE workbooks SET updated_at = now() WHERE id = 1")
    incident.blocker = blocker
    statements = [
        ("puma: excel-unified-web", "UPDATE workbooks SET name = name WHERE id = 1")
    ] * BLOCKED_SESSIONS + [
        ("metabase", "SELECT count(*), pg_sleep(3600) FROM workbooks WHERE id = 1"),
    ]
    for app, query in statements:
        thread = threading.Thread(
            target=_run_quietly, args=(dsn, app, query), name="demo-pg", daemon=True
        )
        thread.start()
        incident.threads.append(thread)
    _wait_until_waiting(dsn, BLOCKED_SESSIONS)
    return incident


def _wait_until_waiting(dsn: str, blocked: int, timeout: float = 10.0) -> None:
    """The first snapshot should already show the blocked sessions and the long query."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(dsn, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT count(*) FILTER (WHERE wait_event_type = 'Lock'),"
                " count(*) FILTER (WHERE query LIKE '%%pg_sleep(3600)%%' AND state = 'active')"
                " FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
            ).fetchone()
            if row is not None and row[0] >= blocked and row[1] >= 1:
                return
            time.sleep(0.05)


# -- both ------------------------------------------------------------------------------


@dataclass
class Staged:
    """What is staged; `stop()` ends the writer and closes the sessions we still hold."""

    redis_pct: float | None = None
    pg: PgIncident | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _writer: threading.Thread | None = None

    def start_redis_writer(self, server: RedisServer) -> None:
        _require_demo(server)
        self._writer = threading.Thread(
            target=_redis_writer, args=(server, self._stop), name="demo-redis", daemon=True
        )
        self._writer.start()

    def stop(self) -> None:
        self._stop.set()
        if self._writer is not None:
            self._writer.join(5)
        if self.pg is not None:
            self.pg.close()
