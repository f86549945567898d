"""The deep views' data from real servers: pg_stat_statements present and absent, index
usage, settings against the runbook, and a real blocking tree with its lock modes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import psycopg
import pytest
from psycopg import sql

from actions.postgres import PgActionContext
from cockpit.config import PostgresSettings, Settings
from cockpit.model import PgDeepSnapshot
from cockpit.sources.postgres.deep import deep_snapshot
from tests.fixtures.postgres import PgServer, create_database, drop_database

RECOMMENDED = PostgresSettings().recommended


@contextlib.contextmanager
def database(server: PgServer):
    """A database of the test's own on `server`, dropped afterwards."""
    name = create_database(server, prefix="cockpit_deep_")
    try:
        yield server.with_params(dbname=name)
    finally:
        drop_database(server, name)


@contextlib.asynccontextmanager
async def context(server: PgServer) -> AsyncIterator[PgActionContext]:
    ctx = PgActionContext(Settings(postgres=PostgresSettings(dsn=server.dsn())))
    try:
        yield ctx
    finally:
        await ctx.close()


async def read(ctx: PgActionContext) -> PgDeepSnapshot:
    return await ctx.using(lambda conn: deep_snapshot(conn, RECOMMENDED, limit=20))


def flush_stats(conn: psycopg.Connection) -> None:
    # PG15+: statistics are flushed at most once a second unless asked.
    with contextlib.suppress(psycopg.Error):
        conn.execute("SELECT pg_stat_force_next_flush()")


async def test_slow_queries_indexes_and_settings(owned_pg_server, make_pg_role) -> None:
    with database(owned_pg_server) as db:
        with db.connect() as setup:
            setup.execute("CREATE EXTENSION pg_stat_statements")
            setup.execute(
                "CREATE TABLE excel_files (id int PRIMARY KEY, v int, code text UNIQUE);"
                "CREATE INDEX excel_files_v ON excel_files (v);"
                "INSERT INTO excel_files SELECT g, g, 'c' || g FROM generate_series(1, 500) g;"
                "ANALYZE excel_files"
            )
            setup.execute("SELECT pg_stat_statements_reset()")
            for i in range(30):
                setup.execute("SELECT v FROM excel_files WHERE id = %s", (i + 1,))
            setup.execute("SELECT pg_sleep(0.15)")
            setup.execute("SELECT '[bold]x[/] \x1b[2J' AS hostile")
            setup.execute("ALTER ROLE postgres PASSWORD NULL")  # utility text is kept verbatim
            flush_stats(setup)
        async with context(db) as ctx:
            snap = await read(ctx)
        assert snap.statements_note == "" and snap.statements_hidden == 0
        by_mean = sorted(snap.statements, key=lambda s: -s.mean_ms)
        assert by_mean[0].query == "SELECT pg_sleep($1)" and by_mean[0].mean_ms >= 150
        lookup = next(s for s in snap.statements if "WHERE id = $1" in s.query)
        assert lookup.calls == 30 and lookup.rows == 30 and lookup.total_ms > 0
        assert lookup.database == db.dbname and lookup.user == "postgres"
        assert not any("\x1b" in s.query for s in snap.statements)
        # Index usage: never-used ones first; the primary key was used 30 times.
        names = [ix.index for ix in snap.indexes]
        assert names[-1] == "excel_files_pkey" and snap.indexes[-1].scans >= 30
        unused = {ix.index: ix for ix in snap.indexes if ix.scans == 0}
        assert set(unused) == {"excel_files_v", "excel_files_code_key"}
        assert unused["excel_files_code_key"].unique and not unused["excel_files_v"].unique
        assert all(ix.size_bytes and ix.size_bytes >= 8192 for ix in snap.indexes)
        # Settings against the runbook's values, units normalised.
        settings = {r.name: r for r in snap.settings}
        assert list(settings) == list(RECOMMENDED)
        assert settings["shared_buffers"].shown == "128MB"
        assert settings["shared_buffers"].matches is False
        assert settings["shared_buffers"].needs_restart
        assert settings["maintenance_work_mem"].matches is True
        assert settings["work_mem"].recommended == "4MB" and settings["work_mem"].matches
        assert settings["max_connections"].shown == "50"

        # A role outside pg_read_all_stats sees the numbers, not other roles' text.
        role = make_pg_role(db, monitor=False)
        async with context(role.server) as ctx:
            limited = await read(ctx)
        assert limited.statements_hidden > 0
        assert "show no text" in limited.statements_note and role.name in limited.statements_note


async def test_missing_or_unloaded_extension_is_a_clear_note(pg_server) -> None:
    with database(pg_server) as db:
        async with context(db) as ctx:
            snap = await read(ctx)
            assert snap.statements == ()
            assert snap.statements_note.startswith(
                f"pg_stat_statements is not installed in database {db.dbname}: "
                "CREATE EXTENSION pg_stat_statements"
            )
            assert snap.settings and snap.indexes == ()  # the rest still shows
            assert "no user indexes" in snap.indexes_note
            try:
                await ctx.rows("CREATE EXTENSION pg_stat_statements")
            except psycopg.Error as exc:
                pytest.skip(f"cannot create the extension here: {exc}")
            preloaded = await ctx.rows("SELECT current_setting('shared_preload_libraries') AS p")
            snap = await read(ctx)
        if "pg_stat_statements" in preloaded[0]["p"]:
            assert snap.statements_note == ""
        else:
            assert snap.statements == ()
            assert snap.statements_note == (
                "pg_stat_statements is installed but not loaded: add it to "
                "shared_preload_libraries and restart the server"
            )


async def test_blocking_tree_with_lock_modes_and_waits(owned_pg_server) -> None:
    with database(owned_pg_server) as db:
        with db.connect() as setup:
            setup.execute("CREATE TABLE t (id int PRIMARY KEY, v int)")
            setup.execute("INSERT INTO t VALUES (1, 0)")
        holder = await db.aconnect(application_name="holder")
        waiter = await db.aconnect(application_name="waiter")
        locker = await db.aconnect(application_name="locker")
        tasks: list[asyncio.Future] = []
        try:
            await holder.execute("BEGIN")
            await holder.execute("UPDATE t SET v = 1 WHERE id = 1")
            tasks.append(asyncio.ensure_future(waiter.execute("UPDATE t SET v = 2 WHERE id = 1")))
            await asyncio.sleep(0.2)
            await locker.execute("BEGIN")  # LOCK TABLE needs a transaction
            tasks.append(
                asyncio.ensure_future(locker.execute("LOCK TABLE t IN ACCESS EXCLUSIVE MODE"))
            )
            async with context(db) as ctx:
                snap = None
                for _ in range(40):
                    snap = await read(ctx)
                    if len(snap.blocking) >= 4:
                        break
                    await asyncio.sleep(0.1)
            assert snap is not None
            pid = {
                c.info.backend_pid: name
                for c, name in ((holder, "holder"), (waiter, "waiter"), (locker, "locker"))
            }
            shape = [
                (n.depth, pid[n.session.pid], pid.get(n.waits_for or 0), n.wanted_mode)
                for n in snap.blocking
            ]
            assert shape[0] == (0, "holder", None, "")
            assert snap.blocking[0].session.state == "idle in transaction"
            assert snap.blocking[0].blocks == 2
            assert (1, "waiter", "holder", "ShareLock") in shape
            assert (1, "locker", "holder", "AccessExclusiveLock") in shape
            assert (2, "locker", "waiter", "AccessExclusiveLock") in shape
            by_edge = {(pid[n.session.pid], pid.get(n.waits_for or 0)): n for n in snap.blocking}
            waits = by_edge[("waiter", "holder")]
            assert waits.held_mode == "ExclusiveLock"
            assert waits.lock_object.startswith("transaction ")
            assert waits.wait_seconds is not None and waits.wait_seconds >= 0.1
            table = by_edge[("locker", "holder")]
            assert table.lock_object == "relation t" and table.held_mode == "RowExclusiveLock"
            assert by_edge[("locker", "waiter")].session.query.startswith("LOCK TABLE t")
        finally:
            await holder.execute("ROLLBACK")
            await asyncio.gather(*tasks, return_exceptions=True)
            await locker.execute("ROLLBACK")
            for conn in (holder, waiter, locker):
                await conn.close()


async def test_index_sizes_are_left_out_while_an_index_is_locked(owned_pg_server) -> None:
    """pg_relation_size needs a lock on the index: an incident holding one (a DROP INDEX
    in an open transaction) must not hang the view, only lose the sizes."""
    with database(owned_pg_server) as db:
        with db.connect() as setup:
            setup.execute("CREATE TABLE t (id int PRIMARY KEY, v int)")
            setup.execute("CREATE INDEX t_v ON t (v)")
        dropper = await db.aconnect()
        try:
            await dropper.execute("BEGIN")
            await dropper.execute("DROP INDEX t_v")
            async with context(db) as ctx:
                snap = await read(ctx)
            assert {ix.index for ix in snap.indexes} == {"t_v", "t_pkey"}
            assert all(ix.size_bytes is None for ix in snap.indexes)
            assert snap.indexes_note.startswith("sizes left out")
        finally:
            await dropper.execute("ROLLBACK")
            await dropper.close()


async def test_hostile_names_come_back_neutralised(pg_server) -> None:
    with database(pg_server) as db:
        name = "ix [bold]\x1b[31m"
        with db.connect() as setup:
            setup.execute("CREATE TABLE hostile (id int)")
            setup.execute(sql.SQL("CREATE INDEX {} ON hostile (id)").format(sql.Identifier(name)))
        async with context(db) as ctx:
            snap = await read(ctx)
        (ix,) = snap.indexes
        assert ix.index == "ix [bold]␛[31m"
