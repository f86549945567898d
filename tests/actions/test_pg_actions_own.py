"""terminate-idle spares the cockpit's own connections by identity, not by name.

Any client may call itself 'cockpit-…'; only the polling and action connections of this
cockpit (pid and backend start) are left alone.  On a throwaway server: it terminates.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from psycopg import sql

from actions.postgres import TerminateIdle, make_context
from actions.runner import ActionRunner, Who
from cockpit.audit import Journal
from cockpit.config import PostgresSettings, Settings
from cockpit.sources.postgres.source import PostgresSource
from tests.fixtures.postgres import PgRole, PgServer, close_sessions, live_sessions


def settings_for(dsn: str) -> Settings:
    return Settings(
        postgres=PostgresSettings(
            dsn=dsn, idle_minutes=1 / 60, statement_timeout_ms=3000, connect_timeout=2.0
        )
    )


def cockpit_role(server: PgServer, make_pg_role) -> PgRole:
    """Not a superuser: its own sessions are spared as the cockpit's, not as a superuser's."""
    role = make_pg_role(server, monitor=True)
    with server.connect() as conn:
        conn.execute(sql.SQL("GRANT pg_signal_backend TO {}").format(sql.Identifier(role.name)))
    return role


async def test_a_client_named_cockpit_is_terminated_the_cockpit_is_not(
    owned_pg_server, make_pg_role, tmp_path: Path
) -> None:
    server = owned_pg_server
    app_role = make_pg_role(server, monitor=False)
    cockpit = cockpit_role(server, make_pg_role)
    settings = settings_for(cockpit.dsn())
    evil = await app_role.server.aconnect(application_name="cockpit-evil")
    # A session of the cockpit's role, under the polling connection's own name.
    twin = await cockpit.server.aconnect(application_name="cockpit")
    source = PostgresSource(settings)
    journal = Journal(tmp_path / "journal.jsonl")
    ctx = await make_context(settings, journal)
    runner = ActionRunner(
        journal,
        Who("test", "", ""),
        read_only=False,
        dry_run=False,
        timeout=20,
        verify_timeout=20,
    )
    try:
        await source.snapshot()  # the polling connection, idle from now on
        own = {source.backend_pid, await ctx.backend_pid()}
        await asyncio.sleep(1.3)  # everything above is now idle > 1 s
        action = await TerminateIdle().prepare(ctx)
        action = action.with_params({"minutes": "1s", "states": "idle"})
        plan = action.plan()
        shown = {int(line.split()[1]) for line in plan.details[1:]}
        strangers = {evil.info.backend_pid, twin.info.backend_pid}
        assert shown == strangers  # the plan lists what the server will terminate
        assert any("1 cockpit session(s)" in w for w in plan.warnings)  # the polling one
        assert {s.pid for s in action.sessions if s.cockpit} == {source.backend_pid}
        # Even a plan that offered the cockpit's own connections: the server spares them.
        careless = replace(
            action, sessions=tuple(replace(s, cockpit=False) for s in action.sessions)
        )
        dry = await careless.execute(ctx, dry_run=True)
        assert set(dry.data["would_terminate"]) == strangers
        result = await runner.run(careless, ctx)
        assert result.ok, result.message
        assert set(result.data["terminated"]) == strangers
        alive = live_sessions(server, [*strangers, *own])
        assert set(alive) == own
        assert (await source.snapshot()).own_pid == source.backend_pid  # still connected
    finally:
        await close_sessions([evil, twin])
        await source.close()
        await ctx.close()
