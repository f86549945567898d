"""Server time per poll: the cockpit's PostgreSQL source against pg_activity 3.6.2.

    python -m bench.bench_postgres [--cycles 30] [--clients 200] [--mix issue|varied]

Starts a throwaway server (tests/fixtures/postgres.py) with pg_stat_statements
preloaded, opens `--clients` connections (`--mix issue`, the default: 75 % idle, 20 %
active, 5 % idle in transaction, i.e. 150 / 40 / 10 of 200, as issue 12 measured;
`--mix varied`: idle, idle in transaction, aborted, active, blocked on a row lock), then
runs each tool's per-refresh queries `--cycles` times as its own pg_monitor role and
sums pg_stat_statements' total_exec_time for that role: the server's time spent
answering the monitor (execution only: parse, plan and the network are not in it).

The tools: the cockpit's source as it polls (its default views: busy sessions, idle
candidates and blockers as rows, the rest counted on the server), the same with the
pane's "all" view (every row), the cockpit's previous statement (every session as a
row, counted in Python: the baseline that is always there), and pg_activity.

pg_activity's SQL comes from its package (`pgactivity.queries`): `make bench` installs
pg-activity==3.6.2 (the `bench` extra); without it that baseline is left out and said
so (the bench installs nothing itself; PYTHONPATH may point at its source).  Per refresh
pg_activity runs its server-information query (database sizes included: its default),
the temporary-files query (between two statement_timeout changes), the WAL sender,
WAL receiver and replication slot counts, and the query of the view on screen:
`activities` by default, `waiting` or `blocking` when switched.  Both "one view" (its
default refresh) and "all three views" (the same information the cockpit reads in one
poll) are reported.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/bench_postgres.py` from anywhere
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402
from psycopg.rows import dict_row  # noqa: E402

from cockpit.config import PostgresSettings, Settings  # noqa: E402
from cockpit.sources.postgres.build import QUERY_LEN, TEXT_LEN  # noqa: E402
from cockpit.sources.postgres.queries import PING  # noqa: E402
from cockpit.sources.postgres.source import DB_SIZE_EVERY_S, PostgresSource  # noqa: E402
from tests.fixtures.postgres import ThrowawayServer, create_role, start_throwaway  # noqa: E402

PG_ACTIVITY = "pg-activity==3.6.2"
POLL_INTERVAL_S = 2.0  # both tools' default refresh


def pg_activity_queries() -> Any | None:
    """pgactivity.queries, or None when pg-activity is not installed."""
    try:
        module = importlib.import_module("pgactivity.queries")
        version = importlib.import_module("pgactivity").__version__
    except ModuleNotFoundError:
        print(
            f"pg-activity is not installed (`make bench` installs {PG_ACTIVITY}): the "
            "baseline is the cockpit's previous statement only",
            flush=True,
        )
        return None
    if version != PG_ACTIVITY.split("==")[1]:
        print(f"note: pg_activity {version}, not {PG_ACTIVITY}: its SQL may differ")
    return module


# The cockpit's poll statement before issue 12: every session as a row (28 columns),
# counted by state in Python.  Run as it was, as the baseline that needs no package.
OLD_POLL = """
WITH server AS (
    SELECT current_setting('max_connections')::int AS max_connections,
           current_setting('superuser_reserved_connections')::int AS reserved,
           sum(d.numbackends)::bigint AS numbackends,
           sum(d.xact_commit + d.xact_rollback)::bigint AS xacts,
           sum(d.blks_hit)::bigint AS blks_hit,
           sum(d.blks_read)::bigint AS blks_read,
           CASE WHEN %(with_size)s THEN pg_database_size(current_database()) END AS db_size
      FROM pg_stat_database d
)
SELECT s.max_connections, s.reserved, s.numbackends, s.xacts, s.blks_hit, s.blks_read,
       s.db_size,
       a.pid, a.backend_start, a.usename, a.datname,
       left(a.application_name, %(text_len)s) AS application_name,
       host(a.client_addr) AS client_addr, a.client_hostname, a.client_port,
       a.state, a.wait_event_type, a.wait_event, a.backend_type,
       left(a.query, %(query_len)s) AS query,
       a.query_start, a.xact_start, a.state_change,
       extract(epoch FROM now() - a.query_start)::float8 AS query_s,
       extract(epoch FROM now() - a.xact_start)::float8 AS xact_s,
       extract(epoch FROM now() - a.state_change)::float8 AS state_s,
       CASE WHEN a.wait_event_type = 'Lock' THEN pg_blocking_pids(a.pid) END AS blocked_by,
       (a.state = 'idle'
        AND a.state_change < now() - make_interval(secs => %(idle_s)s)) AS idle_candidate
  FROM server s
  LEFT JOIN pg_stat_activity a
    ON a.pid <> pg_backend_pid()
   AND (a.backend_type IN ('client backend', 'autovacuum worker')
        OR (a.backend_type IS NULL AND a.usename IS NOT NULL))
"""


# -- load: client sessions in mixed states ----------------------------------------------


class Load:
    """`clients` sessions: idle, idle in transaction, aborted, active, and blocked."""

    def __init__(self, server: ThrowawayServer, clients: int, mix: str = "issue") -> None:
        self.server = server
        self.clients = clients
        self.kind = mix
        self.conns: list[psycopg.AsyncConnection] = []
        self.tasks: list[asyncio.Task[Any]] = []
        self.mix: dict[str, int] = {}

    async def _open(self, n: int, app: str) -> list[psycopg.AsyncConnection]:
        conns = [
            await psycopg.AsyncConnection.connect(
                self.server.dsn(), autocommit=True, application_name=app
            )
            for _ in range(n)
        ]
        self.conns += conns
        return conns

    async def start(self) -> None:
        with self.server.connect() as setup:
            setup.execute("CREATE TABLE IF NOT EXISTS bench_rows (id int PRIMARY KEY, v int)")
            setup.execute(
                "INSERT INTO bench_rows SELECT g, 0 FROM generate_series(1, 10000) g "
                "ON CONFLICT DO NOTHING"
            )
        if self.kind == "issue":
            await self._start_issue()
        else:
            await self._start_varied()

    async def _start_issue(self) -> None:
        """Issue 12's measurement: 150 idle, 40 active, 10 idle in transaction of 200."""
        n = self.clients
        active = round(n * 0.20)
        in_xact = round(n * 0.05)
        idle = n - active - in_xact
        for conn in await self._open(idle, "rails"):
            await conn.execute("SELECT v FROM bench_rows WHERE id = %s", (conn.info.backend_pid,))
        for conn in await self._open(in_xact, "sidekiq"):
            await conn.execute("BEGIN")
            await conn.execute("SELECT count(*) FROM bench_rows")
        for conn in await self._open(active, "report"):
            self.tasks.append(asyncio.create_task(conn.execute("SELECT pg_sleep(3600)")))
        await asyncio.sleep(0.5)  # let the active ones get going
        self.mix = {"idle": idle, "active": active, "idle in transaction": in_xact}

    async def _start_varied(self) -> None:
        n = self.clients
        blocked = max(1, n // 14)
        active = max(1, n // 8)
        in_xact = max(1, n // 5)
        aborted = max(1, n // 20)
        idle = n - blocked - 1 - active - in_xact - aborted
        for conn in await self._open(idle, "rails"):
            await conn.execute("SELECT v FROM bench_rows WHERE id = %s", (conn.info.backend_pid,))
        for conn in await self._open(in_xact, "sidekiq"):
            await conn.execute("BEGIN")
            await conn.execute("SELECT count(*) FROM bench_rows")
        for conn in await self._open(aborted, "fastapi"):
            await conn.execute("BEGIN")
            with contextlib.suppress(psycopg.errors.DivisionByZero):
                await conn.execute("SELECT 1 / 0")
        for conn in await self._open(active, "report"):
            self.tasks.append(asyncio.create_task(conn.execute("SELECT pg_sleep(3600)")))
        (holder,) = await self._open(1, "migration")
        await holder.execute("BEGIN")
        await holder.execute("UPDATE bench_rows SET v = v + 1 WHERE id = 1")
        for conn in await self._open(blocked, "rails-worker"):
            self.tasks.append(
                asyncio.create_task(conn.execute("UPDATE bench_rows SET v = v + 1 WHERE id = 1"))
            )
        await asyncio.sleep(0.5)  # let the active and blocked ones get going
        self.mix = {
            "idle": idle,
            "idle in transaction": in_xact + 1,
            "aborted": aborted,
            "active": active,
            "blocked": blocked,
        }

    async def stop(self) -> None:
        for conn in self.conns:
            with contextlib.suppress(Exception):
                conn.pgconn.finish()  # no goodbye needed: the server is thrown away
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


# -- measuring ---------------------------------------------------------------------------


def reset_statements(admin: psycopg.Connection) -> None:
    admin.execute("SELECT pg_stat_statements_reset()")


def server_time(admin: psycopg.Connection, role: str) -> tuple[float, int, list[tuple]]:
    """(total ms, calls, per-statement rows) that pg_stat_statements holds for `role`."""
    rows = admin.execute(
        "SELECT total_exec_time, calls, regexp_replace(left(query, 70), '\\s+', ' ', 'g') "
        "FROM pg_stat_statements WHERE userid = to_regrole(%s) ORDER BY total_exec_time DESC",
        (role,),
    ).fetchall()
    return sum(r[0] for r in rows), sum(r[1] for r in rows), rows


class PgActivityRefresh:
    """What pg_activity 3.6.2 sends per refresh (pgactivity/data.py, ui.py), verbatim SQL."""

    def __init__(self, conn: psycopg.Connection, queries: Any, version: int) -> None:
        self.conn = conn
        self.q = queries
        assert version >= 140000, "the bench picks pg_activity's queries for PostgreSQL 14+"
        self.prev_total_size = 0
        fmt = {
            "dbname_filter": sql.NULL,
            "duration_column": sql.Identifier("query_start"),
            "min_duration": sql.Literal(0),
        }
        self.params = {"min_duration": 0, "dbname_filter": None}
        self.views = {
            name: sql.SQL(queries.get(file)).format(**fmt)
            for name, file in (
                ("activities", "get_pg_activity_post_130000"),
                ("waiting", "get_waiting_post_090200"),
                ("blocking", "get_blocking_post_090600"),
            )
        }
        self.server_info = sql.SQL(queries.get("get_server_info_post_110000")).format(
            dbname_filter=sql.NULL
        )

    def _fetchall(self, query: Any, params: Any = None) -> list[dict]:
        with self.conn.cursor(row_factory=dict_row) as cur:
            return cur.execute(query, params, prepare=True).fetchall()

    def refresh(self, views: tuple[str, ...]) -> None:
        q = self.q
        info = self._fetchall(
            self.server_info,
            {
                "dbname_filter": None,
                "skip_db_size": False,
                "prev_total_size": self.prev_total_size,
                "using_rds": False,
            },
        )[0]
        self.prev_total_size = info["total_size"]
        self.conn.execute(sql.SQL("SET statement_timeout TO {}").format(sql.Literal("400ms")))
        self._fetchall(q.get("get_temporary_files_post_120000"))
        self.conn.execute(q.get("reset_statement_timeout"), prepare=True)
        self._fetchall(q.get("get_wal_senders_post_090100"))
        self._fetchall(q.get("get_wal_receivers_post_090600"))
        self._fetchall(q.get("get_replication_slots_post_140000"))
        for view in views:
            self._fetchall(self.views[view], self.params)


async def measure(
    admin: psycopg.Connection,
    role: str,
    poll: Callable[[], Awaitable[Any]],
    n: int,
    interval: float = 0.0,
) -> dict[str, Any]:
    """`n` polls, `interval` s apart (0: back to back): server ms and statements per
    poll, median wall ms."""
    reset_statements(admin)
    walls = []
    for i in range(n):
        if i and interval:
            await asyncio.sleep(interval)
        started = time.perf_counter()
        await poll()
        walls.append((time.perf_counter() - started) * 1000)
    total, calls, rows = server_time(admin, role)
    return {
        "server_ms": total / n,
        "calls": calls / n,
        "wall_ms": statistics.median(walls),
        "rows": rows,
    }


class Cockpit:
    """The cockpit's source, its database size forced on the cadence it has at 2 s."""

    def __init__(self, dsn: str, size_every_polls: int, every_session: bool = False) -> None:
        settings = Settings(postgres=PostgresSettings(dsn=dsn))
        # Polls run back to back here, so the bench, not the clock, decides when the
        # size is due: every DB_SIZE_EVERY_S / POLL_INTERVAL_S polls.
        self.source = PostgresSource(settings, db_size_every_s=float("inf"))
        self.source.every_session = every_session  # the pane's "all" view
        self.every = size_every_polls
        self.polls = 0
        self.last: Any = None

    async def poll(self) -> None:
        if self.polls % self.every == 0:
            self.source._size_at = None
        self.polls += 1
        self.last = await self.source.snapshot()


class OldCockpit:
    """The cockpit's previous poll (SELECT 1, then OLD_POLL), on the same cadence."""

    def __init__(self, dsn: str, size_every_polls: int) -> None:
        self.conn = psycopg.connect(dsn, autocommit=True, application_name="cockpit-old")
        self.every = size_every_polls
        self.polls = 0
        self.rows = 0

    async def poll(self) -> None:
        params = {
            "with_size": self.polls % self.every == 0,
            "idle_s": 600.0,
            "text_len": TEXT_LEN,
            "query_len": QUERY_LEN,
        }
        self.polls += 1
        self.conn.execute(PING).fetchone()
        with self.conn.cursor(row_factory=dict_row, binary=True) as cur:
            self.rows = len(cur.execute(OLD_POLL, params).fetchall())


class PgActivity:
    def __init__(self, dsn: str, queries: Any, views: tuple[str, ...]) -> None:
        self.conn = psycopg.connect(dsn, autocommit=True, application_name="pg_activity")
        self.tool = PgActivityRefresh(self.conn, queries, self.conn.info.server_version)
        self.views = views

    async def poll(self) -> None:
        self.tool.refresh(self.views)


def median_of(results: list[dict[str, Any]]) -> dict[str, Any]:
    ordered = sorted(results, key=lambda r: r["server_ms"])
    middle = ordered[len(ordered) // 2]
    return {
        **middle,
        "wall_ms": statistics.median(r["wall_ms"] for r in results),
        "spread": (ordered[0]["server_ms"], ordered[-1]["server_ms"]),
    }


def show(title: str, result: dict[str, Any], verbose: bool) -> None:
    low, high = result["spread"]
    print(
        f"  {title:<44} {result['server_ms']:6.3f} ms server/poll ({low:.2f}-{high:.2f})  "
        f"{result['calls']:4.1f} statements  {result['wall_ms']:6.2f} ms wall"
    )
    if verbose:
        for total, calls, query in result["rows"][:8]:
            print(f"      {total:9.2f} ms {calls:5d}x  {query}")


TARGET = 0.5  # issue 12: the cockpit's server time at most half pg_activity's


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--cycles", type=int, default=30, help="polls per tool per round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds, tools interleaved")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--mix", choices=("issue", "varied"), default="issue")
    parser.add_argument(
        "--interval", type=float, default=0.0, help="seconds between polls (0: back to back)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="per-statement figures")
    args = parser.parse_args(argv)

    queries = pg_activity_queries()
    print(f"starting a throwaway PostgreSQL with pg_stat_statements, {args.clients} clients ...")
    server = start_throwaway(
        max_connections=args.clients + 40,
        preload=("pg_stat_statements",),
        settings={"pg_stat_statements.track_utility": "on"},
    )
    load = Load(server, args.clients, args.mix)
    tools: dict[str, Any] = {}
    try:
        with server.connect() as admin:
            admin.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            ours = create_role(server, monitor=True, prefix="bench_cockpit_")
            old = create_role(server, monitor=True, prefix="bench_old_")
            theirs = create_role(server, monitor=True, prefix="bench_pgactivity_")
            await load.start()
            version = admin.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
            every = max(1, round(DB_SIZE_EVERY_S / POLL_INTERVAL_S))
            tools = {
                "cockpit": (Cockpit(ours.dsn(), every), ours.name),
                "cockpit_all": (Cockpit(ours.dsn(), every, every_session=True), ours.name),
                "cockpit_size": (Cockpit(ours.dsn(), 1), ours.name),
                "old": (OldCockpit(old.dsn(), every), old.name),
            }
            if queries is not None:
                tools["pga_one"] = (
                    PgActivity(theirs.dsn(), queries, ("activities",)),
                    theirs.name,
                )
                tools["pga_three"] = (
                    PgActivity(theirs.dsn(), queries, ("activities", "waiting", "blocking")),
                    theirs.name,
                )
            for tool, _role in tools.values():  # warm up: prepared statements, caches
                for _ in range(6):
                    await tool.poll()
            # Interleaved rounds, medians: the machine's other load drifts over time.
            runs: dict[str, list[dict[str, Any]]] = {name: [] for name in tools}
            for _ in range(args.rounds):
                for name, (tool, role) in tools.items():
                    runs[name].append(
                        await measure(admin, role, tool.poll, args.cycles, args.interval)
                    )
        result = {name: median_of(r) for name, r in runs.items()}
        snap = tools["cockpit"][0].last
        spacing = f"{args.interval:g} s apart" if args.interval else "back to back"
        print(
            f"PostgreSQL {version}, {snap.connections} connections "
            f"({', '.join(f'{k} {v}' for k, v in load.mix.items())}); "
            f"{args.rounds} rounds x {args.cycles} polls per tool ({spacing}), median round; "
            "server time = pg_stat_statements.total_exec_time"
        )
        print(
            f"  cockpit saw: {dict(snap.by_state)}, waiting {snap.waiting}, "
            f"blocked {len(snap.blocked)}; rows sent: {len(snap.sessions)} of "
            f"{snap.session_count} sessions (all view: {len(tools['cockpit_all'][0].last.sessions)}"
            f"; previous statement: {tools['old'][0].rows} rows)"
        )
        show("cockpit (db size every 15th poll, as at 2 s)", result["cockpit"], args.verbose)
        show("cockpit, the pane's all view", result["cockpit_all"], args.verbose)
        show("cockpit (db size every poll)", result["cockpit_size"], args.verbose)
        show("cockpit's previous statement (baseline)", result["old"], args.verbose)
        ours_ms = result["cockpit"]["server_ms"]
        old_ms = result["old"]["server_ms"]
        print(
            f"  ratio cockpit / its previous statement: {ours_ms / old_ms:.2f} "
            f"(all view {result['cockpit_all']['server_ms'] / old_ms:.2f})"
        )
        if queries is None:
            print("  pg_activity: not installed, no ratio against it")
            return 0
        show("pg_activity 3.6.2, one view (its refresh)", result["pga_one"], args.verbose)
        show("pg_activity 3.6.2, all three views", result["pga_three"], args.verbose)
        one_ms = result["pga_one"]["server_ms"]
        print(
            f"  ratio cockpit / pg_activity: {ours_ms / one_ms:.2f} (one view), "
            f"{ours_ms / result['pga_three']['server_ms']:.2f} (three views); "
            f"all view {result['cockpit_all']['server_ms'] / one_ms:.2f}; "
            f"db size every poll: {result['cockpit_size']['server_ms'] / one_ms:.2f}; "
            f"previous statement: {old_ms / one_ms:.2f}"
        )
        ok = ours_ms <= TARGET * one_ms
        print(
            f"  target cockpit <= {TARGET:g} x pg_activity (one view): {'met' if ok else 'NOT met'}"
        )
        return 0 if ok else 1
    finally:
        for tool, _role in tools.values():
            if isinstance(tool, Cockpit):
                await tool.source.close()
            else:
                tool.conn.close()
        await load.stop()
        server.destroy()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
