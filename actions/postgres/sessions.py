"""One session: cancel its query or terminate it; and the runbook's connectivity test.

A pid is only an address: PostgreSQL reuses them.  Every call is guarded by the
backend's start time in the same statement, so a session that ended and whose pid went
to a newcomer is never hit; the function's boolean is reported as the server gave it.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import ClassVar

import psycopg

from actions.base import Action, Plan, Progress, Refused, Result, Risk
from actions.postgres.context import PgActionContext
from cockpit.errors import SourceError
from cockpit.model import PgSession
from cockpit.sources.postgres.conn import open_connection
from cockpit.sources.postgres.deep import mask_passwords
from cockpit.textsafe import one_line
from cockpit.units import duration

VERIFY_S = 5.0
POLL_S = 0.1

SIGNAL = {
    "pg_cancel_backend": """
SELECT pg_cancel_backend(pid) AS done FROM pg_stat_activity
 WHERE pid = %(pid)s AND backend_start = %(start)s
""",
    "pg_terminate_backend": """
SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity
 WHERE pid = %(pid)s AND backend_start = %(start)s
""",
}

# What a dry run can honestly check: still that session, and may this role signal it.
CHECK = """
SELECT a.state, a.query_start, coalesce(r.rolsuper, false) AS superuser,
       (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS i_am_super,
       coalesce(pg_has_role(current_user, 'pg_signal_backend', 'USAGE')
                OR pg_has_role(current_user, a.usesysid, 'USAGE'), false) AS permitted
  FROM pg_stat_activity a LEFT JOIN pg_roles r ON r.oid = a.usesysid
 WHERE a.pid = %(pid)s AND a.backend_start = %(start)s
"""

WHO_HAS = "SELECT backend_start FROM pg_stat_activity WHERE pid = %(pid)s"


def session_words(s: PgSession) -> str:
    parts = [f"pid {s.pid}", s.user or "?"]
    if s.application:
        parts.append(f"app {s.application}")
    if s.client:
        parts.append(f"from {s.client}")
    if s.state:
        parts.append(f"{s.state} for {duration(s.state_seconds, ms=False)}")
    return ", ".join(parts)


@dataclass(frozen=True)
class CancelSession(Action):
    """pg_cancel_backend: the session's current query stops; the connection stays."""

    id = "postgres.cancel"
    label = "Cancel the session's query"
    context_kind = "postgres"
    FUNCTION: ClassVar[str] = "pg_cancel_backend"
    session: PgSession

    @property
    def terminating(self) -> bool:
        return self.FUNCTION == "pg_terminate_backend"

    def _effect(self) -> tuple[str, str]:
        s = self.session
        if self.terminating:
            change = f"terminate the backend of pid {s.pid}: its client loses the connection"
            if s.state.startswith("idle in transaction") or s.state == "active":
                change += " and its open transaction is rolled back"
            return change, f"one connection of {s.user or '?'} ({s.application or 'no app name'})"
        if s.state == "active":
            change = f"cancel the running query of pid {s.pid} (its transaction aborts)"
        else:
            change = f"pid {s.pid} is {s.state or 'in an unknown state'}: nothing runs to cancel"
        return change, "one query; the connection stays open"

    def plan(self) -> Plan:
        s = self.session
        change, blast = self._effect()
        warnings = []
        if s.application.startswith("cockpit"):
            warnings.append("this is a cockpit session")
        if s.backend_start is None:
            warnings.append(
                "its start time is hidden from this role (no pg_monitor): it cannot be "
                "checked, so the action will be refused"
            )
        start = s.backend_start.isoformat(sep=" ", timespec="seconds") if s.backend_start else "?"
        return Plan(
            action=self.id,
            title=f"{'Terminate' if self.terminating else 'Cancel the query of'} "
            f"PostgreSQL session {s.pid}",
            changes=(change, f"only if pid {s.pid} is still the session started {start}"),
            command=f"SELECT {self.FUNCTION}({s.pid}) FROM pg_stat_activity\n"
            f" WHERE pid = {s.pid} AND backend_start = '{start}'",
            targets=(f"postgres/pid/{s.pid}",),
            blast_radius=blast,
            risk=Risk.MEDIUM if self.terminating else Risk.LOW,
            details=(session_words(s), f"query: {mask_passwords(s.query) or '-'}"),
            lock_key=f"postgres/pid/{s.pid}",
            warnings=tuple(warnings),
        )

    def _guard(self) -> dict[str, object]:
        s = self.session
        if s.backend_start is None:
            raise Refused(
                f"pid {s.pid}: its start time is hidden from this role, so it cannot be "
                "checked to be the session shown; nothing done (GRANT pg_monitor)"
            )
        return {"pid": s.pid, "start": s.backend_start}

    async def _not_there(self, ctx: PgActionContext) -> Refused:
        rows = await ctx.rows(WHO_HAS, {"pid": self.session.pid})
        if rows and rows[0]["backend_start"] is not None:
            return Refused(
                f"pid {self.session.pid} is now a different session (started "
                f"{rows[0]['backend_start'].isoformat(sep=' ', timespec='seconds')}); "
                "nothing done"
            )
        return Refused(f"pid {self.session.pid} has ended already; nothing done")

    async def execute(self, ctx: PgActionContext, dry_run: bool) -> Result:
        params = self._guard()
        pid = self.session.pid
        if pid == await ctx.backend_pid():
            raise Refused(f"pid {pid} is the cockpit's own action connection; nothing done")
        if dry_run:
            rows = await ctx.rows(CHECK, params)
            if not rows:
                raise await self._not_there(ctx)
            row = rows[0]
            # Only superusers may signal a superuser's backend, whatever else they hold.
            allowed = row["permitted"] and (row["i_am_super"] or not row["superuser"])
            verdict = "would be called" if allowed else "would be refused (not permitted)"
            return Result(
                True,
                f"dry run: pid {pid} is still the session shown ({row['state'] or '?'}); "
                f"{self.FUNCTION}({pid}) {verdict}; nothing changed",
            )
        try:
            rows = await ctx.mutate(SIGNAL[self.FUNCTION], params)
        except psycopg.errors.InsufficientPrivilege as exc:
            raise Refused(
                f"not permitted: {one_line(str(exc), 200)} — role {ctx.role or '?'} needs "
                f"pg_signal_backend or the privileges of {self.session.user or 'its role'}; "
                "nothing done"
            ) from None
        if not rows:
            raise await self._not_there(ctx)
        if not rows[0]["done"]:
            return Result(
                False,
                f"{self.FUNCTION}({pid}) returned false: the server could not signal it "
                "(the process is gone); nothing done",
            )
        what = "terminated" if self.terminating else "asked to cancel its query"
        return Result(True, f"{self.FUNCTION}({pid}) returned true: pid {pid} {what}", dict(params))

    async def verify(self, ctx: PgActionContext, result: Result, progress: Progress) -> Result:
        s = self.session
        if not self.terminating and s.state != "active":
            return result  # nothing was running: nothing to watch
        deadline = time.monotonic() + VERIFY_S
        while True:
            rows = await ctx.rows(CHECK, {"pid": s.pid, "start": s.backend_start})
            if not rows:
                return Result(True, f"{result.message}; the session is gone")
            row = rows[0]
            if not self.terminating and row["state"] != "active":
                return Result(True, f"{result.message}; its query stopped (now {row['state']})")
            if not self.terminating and row["query_start"] != s.query_start:
                return Result(True, f"{result.message}; it has moved on to another query")
            if time.monotonic() > deadline:
                still = "still there" if self.terminating else "still running its query"
                return Result(
                    self.terminating is False,
                    f"{result.message}; but it is {still} after {VERIFY_S:g} s"
                    + ("" if self.terminating else " (it may not check for interrupts yet)"),
                )
            progress(None, f"waiting for pid {s.pid}")
            await asyncio.sleep(POLL_S)


@dataclass(frozen=True)
class TerminateSession(CancelSession):
    """pg_terminate_backend: the whole connection ends."""

    id = "postgres.terminate"
    label = "Terminate the session"
    FUNCTION: ClassVar[str] = "pg_terminate_backend"


# -- the runbook's connectivity test ---------------------------------------------------

FIGURES = """
SELECT current_setting('server_version') AS version,
       current_setting('max_connections')::int AS max_connections,
       current_setting('superuser_reserved_connections')::int AS reserved,
       (SELECT count(*) FROM pg_stat_activity
         WHERE backend_type = 'client backend'
            OR (backend_type IS NULL AND usename IS NOT NULL)) AS connections,
       current_user AS role, current_database() AS database
"""


@dataclass(frozen=True)
class ConnectivityTest(Action):
    """`psql -c "SELECT 1"` on a NEW connection: the incident is about new connections."""

    id = "postgres.connectivity"
    label = "PostgreSQL connectivity test"
    mutating = False
    context_kind = "postgres"
    server: str = ""

    def plan(self) -> Plan:
        return Plan(
            action=self.id,
            title="PostgreSQL connectivity test" + (f" of {self.server}" if self.server else ""),
            changes=("nothing: opens a new connection, runs SELECT 1, counts connections",),
            command='psql -c "SELECT 1"\npsql -c "SELECT count(*) FROM pg_stat_activity"',
            targets=(f"postgres/{self.server or 'server'}",),
            blast_radius="one short-lived connection",
            risk=Risk.LOW,
            lock_key="postgres:connectivity",
        )

    async def execute(self, ctx: PgActionContext, dry_run: bool) -> Result:
        settings = ctx.settings
        started = time.perf_counter()
        try:
            conn = await open_connection(settings, "cockpit-test")
        except SourceError as exc:
            return await self._failed(ctx, exc)
        connect_ms = (time.perf_counter() - started) * 1000
        try:
            rtt = []
            answer = None
            for _ in range(3):  # the best of three: one slow packet is not the server
                t0 = time.perf_counter()
                answer = (await (await conn.execute("SELECT 1")).fetchone() or (None,))[0]
                rtt.append((time.perf_counter() - t0) * 1000)
            cur = conn.cursor(row_factory=psycopg.rows.dict_row)
            await cur.execute(FIGURES)
            row = await cur.fetchone() or {}
        except psycopg.Error as exc:
            return Result(False, f"connected, but SELECT 1 failed: {one_line(str(exc), 300)}")
        finally:
            await conn.close()
        used, most = int(row["connections"]), int(row["max_connections"])
        pct = 100.0 * used / most if most else 0.0
        limit = settings.thresholds.pg_connections_pct
        level = " — CRIT" if pct >= limit.crit else " — WARN" if pct >= limit.warn else ""
        server = ctx.server
        message = (
            f"SELECT 1 answered {answer} in {min(rtt):.1f} ms (new connection in "
            f"{connect_ms:.0f} ms) · {used}/{most} connections ({pct:.0f}%{level}; "
            f"{row['reserved']} reserved for superusers; this test's own included) · "
            f"PostgreSQL {str(row['version']).split(' ')[0]} · {server} as {row['role']}"
        )
        return Result(
            True,
            message,
            {
                "answer": answer,
                "rtt_ms": round(min(rtt), 3),
                "connect_ms": round(connect_ms, 1),
                "connections": used,
                "max_connections": most,
                "version": str(row["version"]),
            },
        )

    async def _failed(self, ctx: PgActionContext, exc: SourceError) -> Result:
        """A new connection failed: say why, and what the open action connection sees."""
        message = exc.message + (f" ({exc.hint})" if exc.hint else "")
        try:
            rows = await asyncio.wait_for(ctx.rows(FIGURES), 5.0) if ctx.connected else []
        except Exception:
            rows = []
        if rows:
            row = rows[0]
            message += (
                f"; the cockpit's open connection still answers: "
                f"{row['connections']}/{row['max_connections']} connections"
            )
        return Result(False, message, {"error": exc.message})
