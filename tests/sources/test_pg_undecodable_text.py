"""One session's undecodable text must not blind the PostgreSQL pane, actions or views.

A client of a SQL_ASCII database may send any bytes; pg_stat_activity (and
pg_stat_statements) hand them to every other database's readers unconverted.  Run on a
throwaway server: while the odd session lives, every reader of that server sees it.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import psycopg
from psycopg import sql

from actions.postgres import PgActionContext, TerminateIdle
from cockpit.config import PostgresSettings, Settings
from cockpit.sources.postgres.deep import NO_TEXT, NO_TEXT_NOTE, deep_snapshot
from cockpit.sources.postgres.source import PostgresSource
from tests.fixtures.postgres import (
    PgServer,
    ThrowawayServer,
    create_database,
    drop_database,
    temporary_role,
)

RECOMMENDED = PostgresSettings().recommended
# Byte 0xff is never valid UTF-8: a SQL_ASCII database keeps it as it came.
ODD_QUERY = b"SELECT 1 AS odd /* bytes \xff here */"
REPLACED = "bytes \ufffd here"


def settings_for(dsn: str) -> Settings:
    return Settings(
        postgres=PostgresSettings(
            dsn=dsn, idle_minutes=1 / 60, statement_timeout_ms=3000, connect_timeout=2.0
        )
    )


@contextlib.contextmanager
def sql_ascii_database(server: PgServer) -> Iterator[PgServer]:
    name = f"cockpit_ascii_{secrets.token_hex(4)}"
    with server.connect() as conn:
        conn.execute(
            sql.SQL(
                "CREATE DATABASE {} ENCODING 'SQL_ASCII' TEMPLATE template0 "
                "LC_COLLATE 'C' LC_CTYPE 'C'"
            ).format(sql.Identifier(name))
        )
    try:
        yield server.with_params(dbname=name)
    finally:
        drop_database(server, name)


@dataclass
class Scene:
    cockpit: Settings  # the cockpit connects to a UTF8 database of the same server
    odd: psycopg.AsyncConnection  # idle in transaction, holding a lock, last query undecodable
    waiter: int  # pid of a session blocked by `odd`


@contextlib.asynccontextmanager
async def odd_session(server: ThrowawayServer) -> AsyncIterator[Scene]:
    """A SQL_ASCII client whose last query has byte 0xff, blocking another session.

    The client is not a superuser (terminate-idle would leave it out of the plan)."""
    home = create_database(server, prefix="cockpit_utf8_")
    try:
        with (
            temporary_role(server.with_params(dbname=home), monitor=False) as role,
            sql_ascii_database(server) as ascii_db,
        ):
            with server.connect(dbname=home) as conn:
                conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            with ascii_db.connect() as conn:
                conn.execute("CREATE TABLE held (id int)")
                conn.execute(sql.SQL("GRANT ALL ON held TO {}").format(sql.Identifier(role.name)))
            odd = await role.server.aconnect(
                dbname=ascii_db.dbname,
                application_name="sql-ascii-client",
                client_encoding="SQL_ASCII",
            )
            waiter = await ascii_db.aconnect(application_name="waiter")
            waiting = None
            try:
                await odd.execute("BEGIN")
                await odd.execute("LOCK TABLE held IN ACCESS EXCLUSIVE MODE")
                await odd.execute(ODD_QUERY)
                waiting = asyncio.create_task(waiter.execute("SELECT count(*) FROM held"))
                await asyncio.sleep(1.2)  # odd is now idle in transaction > 1 s
                yield Scene(settings_for(server.dsn(dbname=home)), odd, waiter.info.backend_pid)
            finally:
                await odd.close()
                if waiting is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(waiting, 5)
                await waiter.close()
    finally:
        drop_database(server, home)


async def test_the_pane_polls_and_shows_the_bytes_replaced(owned_pg_server) -> None:
    async with odd_session(owned_pg_server) as scene:
        source = PostgresSource(scene.cockpit)
        try:
            snap = await source.snapshot()  # `cockpit check` polls this way too
        finally:
            await source.close()
        odd = next(s for s in snap.sessions if s.pid == scene.odd.info.backend_pid)
        assert REPLACED in odd.query
        assert odd.state == "idle in transaction"
        assert [s.pid for s in snap.blocked] == [scene.waiter]


async def test_terminate_idle_lists_the_session_with_the_bytes_replaced(owned_pg_server) -> None:
    async with odd_session(owned_pg_server) as scene:
        ctx = PgActionContext(scene.cockpit)
        try:
            action = await TerminateIdle().prepare(ctx)
            action = action.with_params({"minutes": "1s", "states": "idle in transaction"})
            plan = action.plan()
            # Planning only: nothing is executed here.
            line = next(d for d in plan.details if f"pid {scene.odd.info.backend_pid} " in d)
            assert REPLACED in line
        finally:
            await ctx.close()


async def test_deep_views_show_the_blocker_and_statement_replaced(owned_pg_server) -> None:
    async with odd_session(owned_pg_server) as scene:
        ctx = PgActionContext(scene.cockpit)
        try:
            deep = await ctx.using(lambda conn: deep_snapshot(conn, RECOMMENDED, limit=50))
        finally:
            await ctx.close()
        assert deep.blocking_note == ""
        root = deep.blocking[0]
        assert root.session.pid == scene.odd.info.backend_pid
        assert REPLACED in root.session.query
        # pg_stat_statements itself refuses that text: the statements come without texts.
        assert deep.statements_note == NO_TEXT_NOTE
        assert deep.statements and all(s.query == NO_TEXT for s in deep.statements)
