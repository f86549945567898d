"""The connection PostgreSQL actions run on: separate from polling, reconnecting on demand.

application_name 'cockpit-action' (so a person reading pg_stat_activity knows it),
autocommit, the settings' statement_timeout and a short lock_timeout (an action must
not queue behind an incident's locks).  Its pid and backend start are remembered when
it opens: bulk actions spare the cockpit's own connections by that identity, never by
application_name, which any client may choose.
Reads are retried once on a lost connection; mutations never are: a mutation whose
connection died mid-way has an unknown outcome, and that is what gets said.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import psycopg
from psycopg.rows import dict_row

from cockpit.config import Settings
from cockpit.errors import SourceError
from cockpit.sources.postgres.conn import (
    close_quietly,
    connected_label,
    normalise_dsn,
    open_connection,
    pg_error,
    remember_own,
    server_label,
)
from cockpit.textsafe import one_line

APPLICATION_NAME = "cockpit-action"
LOCK_TIMEOUT_MS = 1000

T = TypeVar("T")

SETUP = """
SELECT set_config('statement_timeout', %(statement_timeout)s, false),
       set_config('lock_timeout', %(lock_timeout)s, false),
       current_user AS role, pg_backend_pid() AS pid,
       (SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid())
           AS backend_start
"""


class PgActionContext:
    """What PostgreSQL actions and deep views execute with.  Connects on first use."""

    def __init__(self, settings: Settings, application_name: str = APPLICATION_NAME) -> None:
        self.settings = settings
        self.application_name = application_name
        self.server = server_label(normalise_dsn(settings.effective_pg_dsn()))
        self.role = ""
        self._conn: psycopg.AsyncConnection | None = None
        self._connecting = asyncio.Lock()

    @property
    def connected(self) -> bool:
        return self._conn is not None and not self._conn.closed and not self._conn.broken

    async def connection(self) -> psycopg.AsyncConnection:
        async with self._connecting:
            if self.connected:
                assert self._conn is not None
                return self._conn
            await self._drop()
            conn = await open_connection(self.settings, self.application_name)
            try:
                cur = conn.cursor(row_factory=dict_row)
                await cur.execute(
                    SETUP,
                    {
                        "statement_timeout": str(self.settings.postgres.statement_timeout_ms),
                        "lock_timeout": str(LOCK_TIMEOUT_MS),
                    },
                )
                row = await cur.fetchone() or {}
            except Exception as exc:
                await conn.close()
                raise pg_error(exc, self.server, self.settings) from None
            remember_own(conn, row.get("pid"), row.get("backend_start"))
            self.role = one_line(str(row.get("role") or ""), 128)
            self.server = connected_label(conn)
            self._conn = conn
            return conn

    async def rows(
        self, query: Any, params: Any = None, *, retry: bool = True
    ) -> list[dict[str, Any]]:
        """Run one statement; a lost connection is reopened and the statement retried
        once (only pass retry=True for statements that are safe to run twice)."""
        for attempt in (0, 1):
            conn = await self.connection()
            try:
                cur = conn.cursor(row_factory=dict_row)
                await cur.execute(query, params)
                return await cur.fetchall() if cur.description is not None else []
            except psycopg.Error as exc:
                if not (conn.closed or conn.broken):
                    raise  # the server refused this statement: the caller words it
                await self._drop()
                if retry and attempt == 0:
                    continue
                raise pg_error(exc, self.server, self.settings) from None
        raise AssertionError("unreachable")

    async def using(self, read: Callable[[psycopg.AsyncConnection], Awaitable[T]]) -> T:
        """Run a read-only coroutine on the connection, once more on a fresh one if the
        connection was lost (the deep views)."""
        for attempt in (0, 1):
            conn = await self.connection()
            try:
                return await read(conn)
            except psycopg.Error as exc:
                if not (conn.closed or conn.broken):
                    raise
                await self._drop()
                if attempt == 1:
                    raise pg_error(exc, self.server, self.settings) from None
        raise AssertionError("unreachable")

    async def backend_pid(self) -> int:
        """The pid of the action connection's own backend (connecting if need be)."""
        return (await self.connection()).info.backend_pid

    async def ensure(self) -> None:
        """Make sure the connection answers before a mutation (which is never retried)."""
        await self.rows("SELECT 1")

    async def mutate(self, query: Any, params: Any = None) -> list[dict[str, Any]]:
        await self.ensure()
        try:
            return await self.rows(query, params, retry=False)
        except SourceError as exc:
            raise SourceError(
                f"{exc.message}; the outcome of the action is unknown", "check the pane"
            ) from None

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        await close_quietly(conn)

    async def close(self) -> None:
        await self._drop()


def pids_text(pids: list[int], limit: int = 12) -> str:
    shown = ", ".join(map(str, pids[:limit]))
    return shown + (f" and {len(pids) - limit} more" if len(pids) > limit else "")
