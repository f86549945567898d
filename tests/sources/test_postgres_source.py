"""PostgresSource against real servers: sessions the tests open must show up as they are."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncIterator

import psycopg
import pytest
from psycopg import sql

from cockpit.config import PostgresSettings, Settings
from cockpit.errors import SourceError
from cockpit.model import Level, PgSnapshot
from cockpit.polling import Poller
from cockpit.sources.postgres.build import PgLimits
from cockpit.sources.postgres.source import PostgresSource
from tests.fixtures.postgres import PgServer, ThrowawayServer, free_port


def settings_for(dsn: str, **postgres: object) -> Settings:
    options = {"idle_minutes": 1 / 60, "statement_timeout_ms": 2000, "connect_timeout": 2.0}
    options.update(postgres)
    return Settings(postgres=PostgresSettings(dsn=dsn, **options))  # type: ignore[arg-type]


def tag() -> str:
    return f"cockpit-test-{secrets.token_hex(3)}"


@contextlib.asynccontextmanager
async def source_for(dsn: str, **kwargs: object) -> AsyncIterator[PostgresSource]:
    limits = kwargs.pop("limits", None)
    every = bool(kwargs.pop("every_session", False))
    source = PostgresSource(settings_for(dsn, **kwargs), limits=limits)  # type: ignore[arg-type]
    source.every_session = every  # the pane's "all" view: young idle rows too
    try:
        yield source
    finally:
        await source.close()


async def snapshot_until(source: PostgresSource, check, timeout: float = 5.0) -> PgSnapshot:
    """Poll until `check(snapshot)` holds (session states change asynchronously)."""
    deadline = time.monotonic() + timeout
    while True:
        snap = await source.snapshot()
        if check(snap) or time.monotonic() > deadline:
            return snap
        await asyncio.sleep(0.1)


@contextlib.asynccontextmanager
async def sessions(server: PgServer, count: int, app: str) -> AsyncIterator[list]:
    conns = [await server.aconnect(application_name=app) for _ in range(count)]
    try:
        yield conns
    finally:
        for conn in conns:
            await conn.close()


# -- what the snapshot shows --------------------------------------------------------------


async def test_sessions_by_state_idle_candidates_and_blockers(pg_server: PgServer) -> None:
    app = tag()
    table = f"locks_{secrets.token_hex(3)}"
    async with sessions(pg_server, 4, app) as (idle, in_xact, holder, waiter):
        await idle.execute("SELECT 'idle one'")
        await holder.execute(
            sql.SQL("CREATE TABLE {} (id int PRIMARY KEY, v int)").format(sql.Identifier(table))
        )
        await holder.execute(sql.SQL("INSERT INTO {} VALUES (1, 0)").format(sql.Identifier(table)))
        await in_xact.execute("BEGIN")
        await in_xact.execute("SELECT 'in a transaction'")
        await holder.execute("BEGIN")
        await holder.execute(
            sql.SQL("UPDATE {} SET v = 1 WHERE id = 1").format(sql.Identifier(table))
        )
        blocked = asyncio.create_task(
            waiter.execute(
                sql.SQL("UPDATE {} SET v = 2 WHERE id = 1").format(sql.Identifier(table))
            )
        )
        await asyncio.sleep(1.2)  # the idle limit in these settings is 1 s
        limits = PgLimits(blocked_warn_s=0.5)
        async with source_for(pg_server.dsn(), limits=limits) as source:
            pids = {c.info.backend_pid for c in (idle, in_xact, holder, waiter)}

            def ready(snap: PgSnapshot) -> bool:
                return any(s.pid == waiter.info.backend_pid for s in snap.blocked)

            snap = await snapshot_until(source, ready)
            ours = {s.pid: s for s in snap.sessions if s.pid in pids}
            assert set(ours) == pids
            assert ours[idle.info.backend_pid].state == "idle"
            assert ours[idle.info.backend_pid].idle_candidate
            assert ours[idle.info.backend_pid].application == app
            assert idle.info.backend_pid in {s.pid for s in snap.idle_over_threshold}
            assert snap.idle_candidates >= 1
            assert ours[in_xact.info.backend_pid].state == "idle in transaction"
            assert not ours[in_xact.info.backend_pid].idle_candidate  # not idle: in a transaction
            assert snap.count("idle in transaction") >= 2  # in_xact and holder
            assert snap.count("active") >= 1  # the waiter
            w = ours[waiter.info.backend_pid]
            assert w.blocked_by == (holder.info.backend_pid,)
            assert w.waiting and snap.waiting >= 1
            assert ours[holder.info.backend_pid].blocking == (waiter.info.backend_pid,)
            assert holder.info.backend_pid in {s.pid for s in snap.blocking}
            assert snap.level >= Level.WARN
            assert any("blocked" in p for p in snap.problems)
            # the cockpit's own backend takes a slot but is never a candidate or a row
            assert snap.own_pid == source.backend_pid
            assert snap.own_pid not in {s.pid for s in snap.sessions}
            assert snap.connections >= 5
            assert 0 < snap.connections <= snap.max_connections
            assert snap.rtt_ms > 0
            assert snap.db_size_bytes and snap.db_size_bytes > 1_000_000
            assert snap.database == pg_server.dbname
            assert snap.server.endswith(f":{pg_server.port}/{pg_server.dbname}")
            assert w in snap.longest or any(s.pid == w.pid for s in snap.longest)
        await holder.execute("ROLLBACK")
        await asyncio.wait_for(blocked, 5)
        await in_xact.execute("ROLLBACK")
        await holder.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(table)))


async def test_own_connection_names_itself_and_sets_a_timeout(pg_server: PgServer) -> None:
    async with source_for(pg_server.dsn(), statement_timeout_ms=1500) as source:
        await source.snapshot()
        with pg_server.connect() as conn:
            row = conn.execute(
                "SELECT application_name FROM pg_stat_activity WHERE pid = %s",
                (source.backend_pid,),
            ).fetchone()
        assert row == ("cockpit",)
        assert source._conn is not None
        shown = await (await source._conn.execute("SHOW statement_timeout")).fetchone()
        assert shown == ("1500ms",)


async def test_hostile_text_comes_through_neutralised(pg_server: PgServer) -> None:
    app = "[@click=app.quit]x[/]"
    query = "SELECT '\x1b]0;pwned\x07\x1b[2J[bold]x[/]' AS q"
    async with sessions(pg_server, 1, app) as (conn,):
        await conn.execute(query)
        async with source_for(pg_server.dsn(), every_session=True) as source:
            snap = await source.snapshot()
        s = next(s for s in snap.sessions if s.pid == conn.info.backend_pid)
        assert s.application == app  # markup characters kept, as text
        assert "\x1b" not in s.query and "\x07" not in s.query
        assert "␛]0;pwned␇␛[2J[bold]x[/]" in s.query


async def test_tps_and_cache_hit_ratio_from_deltas(owned_pg_server: ThrowawayServer) -> None:
    async with source_for(owned_pg_server.dsn()) as source:
        with owned_pg_server.connect() as setup:
            setup.execute("DROP TABLE IF EXISTS hot")
            setup.execute("CREATE TABLE hot AS SELECT g AS id FROM generate_series(1, 5000) g")
        first = await source.snapshot()
        assert first.tps is None and first.cache_hit_ratio is None  # nothing to compare yet
        started = time.monotonic()
        with owned_pg_server.connect() as work:
            for _ in range(200):
                work.execute("SELECT count(*) FROM hot")
            # A backend flushes its statistics at most once a second: one more
            # statement after that second makes it report the burst.
            time.sleep(1.1)
            work.execute("SELECT 1")
        second = await source.snapshot()
        elapsed = time.monotonic() - started
        assert second.tps is not None
        transactions = second.tps * elapsed
        assert 180 <= transactions <= 260, (second.tps, elapsed)
        assert second.cache_hit_ratio is not None and second.cache_hit_ratio > 0.95


async def test_counts_are_exact_on_a_quiet_server(owned_pg_server: ThrowawayServer) -> None:
    async with sessions(owned_pg_server, 3, tag()) as conns:
        await conns[0].execute("BEGIN")
        await conns[0].execute("SELECT 1")
        await conns[1].execute("SELECT 1")
        await conns[2].execute("SELECT 1")
        await asyncio.sleep(1.1)
        async with source_for(owned_pg_server.dsn()) as source:
            snap = await source.snapshot()
        await conns[0].execute("ROLLBACK")
    assert snap.connections == 4  # three sessions and the cockpit
    assert snap.count("idle") == 2
    assert snap.count("idle in transaction") == 1
    assert snap.idle_candidates == 2
    assert snap.max_connections == 50
    assert snap.pg_stat_statements is False  # preloaded, but not created in this database
    assert any("pg_stat_statements" in n for n in snap.notes)


async def test_only_the_rows_a_view_lists_come_back_and_the_counts_stay_exact(
    owned_pg_server: ThrowawayServer,
) -> None:
    """The server counts every session; young idle ones are counted, not sent, except
    an idle one that holds a lock someone waits for; the "all" view gets every row."""
    async with contextlib.AsyncExitStack() as stack:
        old = await stack.enter_async_context(sessions(owned_pg_server, 2, tag()))
        for conn in old:
            await conn.execute("SELECT 'idle for long'")
        await asyncio.sleep(1.2)  # the idle limit in these settings is 1 s
        young = await stack.enter_async_context(sessions(owned_pg_server, 6, tag()))
        for conn in young:
            await conn.execute("SELECT 'just now'")
        in_xact, holder, waiter = await stack.enter_async_context(
            sessions(owned_pg_server, 3, tag())
        )
        await in_xact.execute("BEGIN")
        await in_xact.execute("SELECT 1")
        await holder.execute("SELECT pg_advisory_lock(4242)")  # then idle, holding it
        blocked = asyncio.create_task(waiter.execute("SELECT pg_advisory_lock(4242)"))
        stack.push_async_callback(asyncio.wait_for, blocked, 5)
        stack.push_async_callback(holder.execute, "SELECT pg_advisory_unlock(4242)")
        async with source_for(owned_pg_server.dsn()) as source:

            def ready(snap: PgSnapshot) -> bool:
                return any(s.pid == waiter.info.backend_pid for s in snap.blocked)

            snap = await snapshot_until(source, ready)
            source.every_session = True
            full = await snapshot_until(source, ready)
        await in_xact.execute("ROLLBACK")
        young_pids = {c.info.backend_pid for c in young}
        old_pids = {c.info.backend_pid for c in old}
        busy_pids = {c.info.backend_pid for c in (in_xact, holder, waiter)}
        holder_pid, waiter_pid = holder.info.backend_pid, waiter.info.backend_pid

    listed = {s.pid for s in snap.sessions}
    assert not snap.every_session and full.every_session
    # Counted by the server, exactly, with or without the rows.
    for shot in (snap, full):
        assert shot.count("idle") == 9  # 2 old, 6 young, the idle holder
        assert shot.count("idle in transaction") == 1
        assert shot.count("active") == 1  # the waiter
        assert shot.waiting == 1
        assert shot.connections == 12  # eleven sessions and the cockpit
        assert shot.session_count == 11
        assert shot.idle_candidates == 2
        assert {s.pid for s in shot.idle_over_threshold} == old_pids
    # Sent: the busy ones, the idle candidates, and the idle session that blocks.
    assert not listed & young_pids
    assert listed == old_pids | busy_pids
    root = next(s for s in snap.blocking if s.pid == holder_pid)
    assert root.state == "idle" and root.blocking == (waiter_pid,)
    # The "all" view: every row, the same counts.
    assert {s.pid for s in full.sessions} == listed | young_pids
    assert len(full.sessions) == 11


# -- privileges ---------------------------------------------------------------------------


async def test_pg_monitor_role_sees_other_roles_sessions(pg_server: PgServer, make_pg_role) -> None:
    role = make_pg_role(pg_server, monitor=True)
    async with sessions(pg_server, 1, tag()) as (other,):
        await other.execute("SELECT 'other role text'")
        pid = other.info.backend_pid
        async with source_for(role.dsn(), every_session=True) as source:
            snap = await source.snapshot()
    s = next(s for s in snap.sessions if s.pid == pid)
    assert not s.hidden
    assert "other role text" in s.query
    assert s.state == "idle"
    assert snap.role == role.name
    assert snap.connections_exact
    assert not any("pg_monitor" in n for n in snap.notes)


async def test_without_pg_monitor_hidden_sessions_are_a_note(pg_server: PgServer, make_pg_role):
    role = make_pg_role(pg_server, monitor=False)
    async with sessions(pg_server, 1, tag()) as (other,):
        await other.execute("SELECT 'not for your eyes'")
        pid = other.info.backend_pid
        async with source_for(role.dsn(), every_session=True) as source:
            snap = await source.snapshot()
    s = next(s for s in snap.sessions if s.pid == pid)
    assert s.hidden
    assert "not for your eyes" not in s.query
    assert s.state == ""
    assert snap.hidden >= 1
    assert not snap.connections_exact
    assert snap.connections >= 2
    note = next(n for n in snap.notes if "pg_monitor" in n)
    assert role.name in note and "GRANT pg_monitor" in note


# -- failures -----------------------------------------------------------------------------


async def test_refused_connection_is_worded(pg_server: PgServer) -> None:
    port = free_port()
    async with source_for(f"host=127.0.0.1 port={port} user=x dbname=db") as source:
        with pytest.raises(SourceError) as info:
            await source.snapshot()
    assert info.value.message == f"PostgreSQL 127.0.0.1:{port}/db: connection refused"
    assert "is the server running?" in info.value.hint
    assert "DATABASE_URL" in info.value.hint


async def test_wrong_password_never_shows_a_password(
    owned_pg_server: ThrowawayServer, make_pg_role
) -> None:
    role = make_pg_role(owned_pg_server, monitor=True)
    wrong = "Wr0ng-" + secrets.token_hex(6)
    for dsn in (
        owned_pg_server.dsn(user=role.name, password=wrong),
        f"postgresql://{role.name}:{wrong}@127.0.0.1:{owned_pg_server.port}/postgres",
    ):
        async with source_for(dsn) as source:
            with pytest.raises(SourceError) as info:
                await source.snapshot()
            shown = f"{info.value.message} {info.value.hint} {info.value!r} {source.server}"
        assert f'password authentication failed for user "{role.name}"' in info.value.message
        assert info.value.message.startswith(f"PostgreSQL 127.0.0.1:{owned_pg_server.port}/")
        assert "password" in info.value.hint
        assert wrong not in shown and role.password not in shown
        assert info.value.__cause__ is None or wrong not in str(info.value.__cause__)
    # and the right one works
    async with source_for(role.dsn(user=role.name, password=role.password)) as source:
        assert (await source.snapshot()).role == role.name


async def test_restart_fails_one_poll_then_recovers_by_itself(
    owned_pg_server: ThrowawayServer,
) -> None:
    async with source_for(owned_pg_server.dsn()) as source:
        before = await source.snapshot()
        owned_pg_server.restart()
        with pytest.raises(SourceError) as info:
            await source.snapshot()
        assert "connection lost" in info.value.message or "terminat" in info.value.message
        after = await source.snapshot()  # reconnects on the next call
        assert after.own_pid != before.own_pid
        owned_pg_server.stop()
        with pytest.raises(SourceError) as info:
            await source.snapshot()
        assert info.value.message.endswith("connection refused") or "lost" in info.value.message
        owned_pg_server.start()
        assert (await source.snapshot()).connections >= 1


async def test_poller_rides_out_a_restart(owned_pg_server: ThrowawayServer) -> None:
    results: list[PgSnapshot] = []
    failures: list[str] = []
    async with source_for(owned_pg_server.dsn()) as source:
        poller = Poller(
            "postgres",
            source.snapshot,
            interval=0.1,
            timeout=5,
            on_result=lambda _name, snap: results.append(snap),
            on_failure=lambda failure: failures.append(failure.message),
            backoff_base=0.1,
            backoff_max=0.3,
        )
        task = asyncio.create_task(poller.run())
        try:
            while not results:
                await asyncio.sleep(0.05)
            await asyncio.to_thread(owned_pg_server.stop)
            deadline = time.monotonic() + 10
            while not failures and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            await asyncio.to_thread(owned_pg_server.start)
            seen = len(results)
            while len(results) == seen and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    assert failures and all("PostgreSQL 127.0.0.1" in m for m in failures)
    assert len(results) > seen


async def _connect_once_freed(dsn: str, within: float = 20.0) -> psycopg.Connection:
    """A closed connection's backend exits a moment after the client lets go: under load,
    that moment is long enough for a connection made at once to find no slot."""
    deadline = time.monotonic() + within
    while True:
        try:
            return psycopg.connect(dsn, autocommit=True)
        except psycopg.OperationalError as exc:
            if "too many clients" not in str(exc) or time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)


async def test_too_many_clients_is_the_runbook_incident(owned_pg_server_factory) -> None:
    server = owned_pg_server_factory(max_connections=6)
    held = [psycopg.connect(server.dsn(), autocommit=True) for _ in range(5)]
    try:
        async with source_for(server.dsn()) as source:
            snap = await source.snapshot()  # the sixth and last slot
            assert snap.connections == 6
            assert snap.level is Level.CRIT and snap.connections_level is Level.CRIT
            assert any("connections 100%" in p for p in snap.problems)
            await source.close()
            held.append(await _connect_once_freed(server.dsn()))  # take the slot it left
            with pytest.raises(SourceError) as info:
                await source.snapshot()
        assert "too many connections" in info.value.message
        assert "terminate" in info.value.hint
    finally:
        for conn in held:
            conn.close()


async def test_statement_timeout_is_worded_and_keeps_the_connection(
    owned_pg_server: ThrowawayServer,
) -> None:
    async with source_for(owned_pg_server.dsn(), statement_timeout_ms=200) as source:
        pid = (await source.snapshot()).own_pid
        with owned_pg_server.connect() as locker:
            # Catalogs locked by someone else: the poll waits, then statement_timeout ends it.
            locker.execute("BEGIN")
            locker.execute("LOCK TABLE pg_database IN ACCESS EXCLUSIVE MODE")
            with pytest.raises(SourceError) as info:
                await source.snapshot()
            locker.execute("ROLLBACK")
        assert "statement_timeout (200 ms)" in info.value.message
        assert "overloaded" in info.value.hint
        assert (await source.snapshot()).own_pid == pid  # same connection, still good
