"""PostgreSQL actions against real servers the tests own: what is hit, and only that.

Everything that terminates sessions or runs ALTER SYSTEM runs on a throwaway server
(`owned_pg_server`, `owned_pg_server_factory`), never on the shared 127.0.0.1:5432.
Sessions the test opens connect as a password-authenticated role, and the cockpit
itself connects with a password too, so every journal entry is checked for it.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from actions.base import Refused
from actions.postgres import (
    ApplySettings,
    CancelSession,
    ConnectivityTest,
    PgActionContext,
    TerminateIdle,
    TerminateSession,
    make_context,
)
from actions.runner import ActionRunner, Who
from cockpit.audit import Journal
from cockpit.config import PostgresSettings, Settings
from tests.fixtures.postgres import (
    PgRole,
    PgServer,
    close_sessions,
    free_port,
    live_sessions,
    open_sessions,
    pg_session,
)


def settings_for(dsn: str) -> Settings:
    return Settings(
        postgres=PostgresSettings(dsn=dsn, statement_timeout_ms=3000, connect_timeout=2.0)
    )


class Harness:
    """The runner and context as the app builds them, with a journal of the test's own."""

    def __init__(self, settings: Settings, journal: Journal, ctx: PgActionContext, **kw) -> None:
        self.settings = settings
        self.journal = journal
        self.ctx = ctx
        self.runner = ActionRunner(
            journal,
            Who("test", "", ""),
            read_only=kw.get("read_only", False),
            dry_run=False,
            timeout=20,
            verify_timeout=20,
        )

    async def run(self, action, *, dry_run: bool = False, params: dict | None = None):
        action = await action.prepare(self.ctx)
        if params:
            action = action.with_params(params)
        return await self.runner.run(action, self.ctx, dry_run=dry_run)

    def entries(self) -> list[dict]:
        """The outcome lines (each execution's intent line precedes its outcome)."""
        return [e for e in self.journal.read() if e["outcome"] != "started"]

    def assert_no_secret(self, *secret_values: str) -> None:
        text = self.journal.path.read_text() if self.journal.path.exists() else ""
        for value in secret_values:
            assert value not in text


async def harness(dsn: str, tmp_path: Path, **kw) -> Harness:
    settings = settings_for(dsn)
    journal = Journal(tmp_path / "journal.jsonl")
    ctx = await make_context(settings, journal)
    return Harness(settings, journal, ctx, **kw)


def cockpit_role(server: PgServer, make_pg_role, *, signal: bool = True) -> PgRole:
    """The role the cockpit connects as: pg_monitor (+ pg_signal_backend), a password."""
    role = make_pg_role(server, monitor=True)
    if signal:
        with server.connect() as conn:
            conn.execute(sql.SQL("GRANT pg_signal_backend TO {}").format(sql.Identifier(role.name)))
    return role


def tag() -> str:
    return f"rails-test-{secrets.token_hex(3)}"


# -- terminate idle sessions -------------------------------------------------------------


async def test_terminates_exactly_the_idle_sessions_it_showed(
    owned_pg_server, make_pg_role, tmp_path
) -> None:
    server = owned_pg_server
    app_role = make_pg_role(server, monitor=False)
    cockpit = cockpit_role(server, make_pg_role)
    app = tag()
    victims = await open_sessions(app_role.server, 4, app)
    in_xact, cockpit_like = await open_sessions(app_role.server, 2, app)
    superuser = await server.aconnect(application_name=app)
    await in_xact.execute("BEGIN")
    await in_xact.execute("SELECT 1")
    await cockpit_like.execute("SET application_name = 'cockpit-other'")
    victims.append(cockpit_like)  # a name is no exemption: only the cockpit's own are spared
    others = [in_xact, superuser]
    h = await harness(cockpit.dsn(), tmp_path)
    try:
        with server.connect() as control:
            await asyncio.sleep(1.3)  # everything above is now idle > 1 s
            action = await TerminateIdle().prepare(h.ctx)
            action = action.with_params({"minutes": "1s", "states": "idle"})
            plan = action.plan()
            shown = {int(line.split()[1]) for line in plan.details[1:]}
            victim_pids = {c.info.backend_pid for c in victims}
            assert shown == victim_pids  # not the idle-in-transaction or superuser
            assert any("superuser session(s)" in w for w in plan.warnings)
            assert "terminate" not in (plan.confirm_phrase or "")  # 5: a handful
            # One victim works again before execution: the server's re-check spares it.
            busy = victims[0]
            await busy.execute("SELECT 'busy again'")
            result = await h.runner.run(action, h.ctx)
            assert result.ok, result.message
            terminated = set(result.data["terminated"])
            assert terminated == victim_pids - {busy.info.backend_pid}
            assert result.data["left_alone"] == [busy.info.backend_pid]
            assert result.message.startswith("terminated 4 session(s)")
            assert "no longer matched and were left alone" in result.message
            assert "all gone — client connections" in result.message
            alive = live_sessions(server, [c.info.backend_pid for c in victims + others])
            assert not terminated & set(alive)
            assert {c.info.backend_pid for c in others} | {busy.info.backend_pid} <= set(alive)
            assert control.execute("SELECT 1").fetchone() == (1,)  # the test's own lives
            assert h.ctx.connected  # and so does the cockpit's
            entry = h.entries()[-1]
            assert entry["action"] == "postgres.terminate-idle"
            assert entry["outcome"] == "succeeded"
            assert entry["result"]["terminated"] == sorted(terminated)
            assert len(entry["plan"]["details"]) == 6
    finally:
        await close_sessions(victims + others)
        await h.ctx.close()
    h.assert_no_secret(cockpit.password, app_role.password)


async def test_dry_run_says_what_would_go_and_terminates_nothing(
    owned_pg_server, make_pg_role, tmp_path
) -> None:
    app_role = make_pg_role(owned_pg_server, monitor=False)
    victims = await open_sessions(app_role.server, 2, tag())
    h = await harness(owned_pg_server.dsn(), tmp_path)
    try:
        await asyncio.sleep(1.1)
        result = await h.run(TerminateIdle(), dry_run=True, params={"minutes": "1s"})
        pids = sorted(c.info.backend_pid for c in victims)
        assert result.ok and result.dry_run
        assert result.data["would_terminate"] == pids
        assert "would be terminated" in result.message and "nothing changed" in result.message
        assert set(live_sessions(owned_pg_server, pids)) == set(pids)
        assert h.entries()[-1]["outcome"] == "dry-run ok"
    finally:
        await close_sessions(victims)
        await h.ctx.close()


async def test_idle_in_transaction_filter(owned_pg_server, make_pg_role, tmp_path) -> None:
    app_role = make_pg_role(owned_pg_server, monitor=False)
    plain, stuck = await open_sessions(app_role.server, 2, tag())
    await stuck.execute("BEGIN")
    await stuck.execute("SELECT 1")
    h = await harness(owned_pg_server.dsn(), tmp_path)
    try:
        await asyncio.sleep(1.1)
        result = await h.run(
            TerminateIdle(), params={"minutes": "1s", "states": "idle in transaction"}
        )
        assert result.data["terminated"] == [stuck.info.backend_pid]
        alive = live_sessions(owned_pg_server, [plain.info.backend_pid, stuck.info.backend_pid])
        assert list(alive) == [plain.info.backend_pid]
    finally:
        await close_sessions([plain, stuck])
        await h.ctx.close()


async def test_a_monitor_only_role_cannot_terminate_and_says_so(
    owned_pg_server, make_pg_role, tmp_path
) -> None:
    app_role = make_pg_role(owned_pg_server, monitor=False)
    watcher = cockpit_role(owned_pg_server, make_pg_role, signal=False)
    victims = await open_sessions(app_role.server, 2, tag())
    h = await harness(watcher.dsn(), tmp_path)
    try:
        await asyncio.sleep(1.1)
        action = (await TerminateIdle().prepare(h.ctx)).with_params({"minutes": "1s"})
        warnings = " ".join(action.plan().warnings)
        assert app_role.name in warnings and "may not signal them" in warnings
        with pytest.raises(Refused, match="that this role may terminate"):
            await h.runner.run(action, h.ctx)
        # One session, picked in the pane: the server's own refusal, word for word.
        session = pg_session(owned_pg_server, victims[0].info.backend_pid)
        with pytest.raises(Refused) as refused:
            await h.run(TerminateSession(session))
        assert "not permitted: must be a member of the role" in str(refused.value)
        assert "pg_signal_backend" in str(refused.value)
        pids = [c.info.backend_pid for c in victims]
        assert set(live_sessions(owned_pg_server, pids)) == set(pids)
        outcomes = [(e["action"], e["outcome"]) for e in h.entries()]
        assert outcomes == [
            ("postgres.terminate-idle", "refused"),
            ("postgres.terminate", "refused"),
        ]
        assert "not permitted" in h.entries()[-1]["error"]
    finally:
        await close_sessions(victims)
        await h.ctx.close()
    h.assert_no_secret(watcher.password, app_role.password)


# -- one session -------------------------------------------------------------------------


async def test_a_reused_pid_is_never_hit(owned_pg_server, make_pg_role, tmp_path) -> None:
    app_role = make_pg_role(owned_pg_server, monitor=False)
    (victim,) = await open_sessions(app_role.server, 1, tag())
    pid = victim.info.backend_pid
    shown = pg_session(owned_pg_server, pid)
    h = await harness(owned_pg_server.dsn(), tmp_path)
    try:
        # Same pid, another backend_start: what a reused pid looks like.
        stale = replace(shown, backend_start=shown.backend_start - timedelta(seconds=1))
        for action in (TerminateSession(stale), CancelSession(stale)):
            with pytest.raises(Refused, match=f"pid {pid} is now a different session"):
                await h.run(action)
        with pytest.raises(Refused, match="nothing done"):
            await h.run(TerminateSession(stale), dry_run=True)
        assert pid in live_sessions(owned_pg_server, [pid])
        # The session as shown: terminated, and verified gone.
        result = await h.run(TerminateSession(shown))
        assert result.ok, result.message
        assert result.message == (
            f"pg_terminate_backend({pid}) returned true: pid {pid} terminated; the session is gone"
        )
        assert pid not in live_sessions(owned_pg_server, [pid])
        # Once it has gone, the same request is refused in words.
        with pytest.raises(Refused, match=f"pid {pid} has ended already"):
            await h.run(TerminateSession(shown))
        outcomes = [e["outcome"] for e in h.entries()]
        assert outcomes == ["refused", "refused", "refused", "succeeded", "refused"]
    finally:
        await close_sessions([victim])
        await h.ctx.close()


async def test_cancel_stops_the_running_query_and_keeps_the_connection(
    owned_pg_server, make_pg_role, tmp_path
) -> None:
    app_role = make_pg_role(owned_pg_server, monitor=False)
    (worker,) = await open_sessions(app_role.server, 1, tag())
    pid = worker.info.backend_pid
    running = asyncio.ensure_future(worker.execute("SELECT pg_sleep(30)"))
    h = await harness(owned_pg_server.dsn(), tmp_path)
    try:
        for _ in range(50):
            session = pg_session(owned_pg_server, pid)
            if session.state == "active":
                break
            await asyncio.sleep(0.05)
        dry = await h.run(CancelSession(session), dry_run=True)
        assert "pg_cancel_backend" in dry.message and "would be called" in dry.message
        result = await h.run(CancelSession(session))
        assert result.ok and "its query stopped" in result.message, result.message
        with pytest.raises(psycopg.errors.QueryCanceled):
            await running
        assert pid in live_sessions(owned_pg_server, [pid])  # the connection stays
    finally:
        running.cancel()
        await close_sessions([worker])
        await h.ctx.close()


# -- the connectivity test ----------------------------------------------------------------


async def test_connectivity_test_in_plain_words(pg_server, tmp_path) -> None:
    h = await harness(pg_server.dsn(), tmp_path, read_only=True)  # allowed: it changes nothing
    try:
        result = await h.run(ConnectivityTest())
        assert result.ok
        assert result.message.startswith("SELECT 1 answered 1 in ")
        assert f"/{result.data['max_connections']} connections" in result.message
        assert result.data["connections"] >= 1
        assert "PostgreSQL 1" in result.message
        entry = h.entries()[-1]
        assert (entry["action"], entry["outcome"], entry["mode"]) == (
            "postgres.connectivity",
            "succeeded",
            "read-only",
        )
    finally:
        await h.ctx.close()


async def test_connectivity_failure_is_worded(tmp_path) -> None:
    port = free_port()
    h = await harness(f"host=127.0.0.1 port={port} user=nobody password=hunter2-x", tmp_path)
    result = await h.run(ConnectivityTest())
    assert not result.ok
    assert f"PostgreSQL 127.0.0.1:{port}/nobody: connection refused" in result.message
    assert h.entries()[-1]["outcome"] == "failed"
    h.assert_no_secret("hunter2-x")


async def test_connectivity_when_the_slots_are_gone(
    owned_pg_server_factory, make_pg_role, tmp_path
) -> None:
    """The runbook's incident: new connections fail, the open one still tells the count."""
    server = owned_pg_server_factory(max_connections=6)  # 3 slots, 3 reserved for superusers
    cockpit = cockpit_role(server, make_pg_role)
    app_role = make_pg_role(server, monitor=False)
    h = await harness(cockpit.dsn(), tmp_path)
    hogs: list[psycopg.AsyncConnection] = []
    try:
        await h.ctx.connection()
        hogs = await open_sessions(app_role.server, 2, tag())
        result = await h.run(ConnectivityTest())
        assert not result.ok
        assert "too many connections" in result.message
        assert "the cockpit's open connection still answers: 3/6 connections" in result.message
    finally:
        await close_sessions(hogs)
        await h.ctx.close()
    h.assert_no_secret(cockpit.password)


# -- settings ----------------------------------------------------------------------------


async def test_apply_settings_reads_back_what_took_effect(
    owned_pg_server_factory, tmp_path
) -> None:
    server = owned_pg_server_factory(max_connections=40)
    h = await harness(server.dsn(), tmp_path)
    try:
        action = await ApplySettings(
            values=(("work_mem", "4MB"), ("max_connections", "200"), ("shared_buffers", "128MB"))
        ).prepare(h.ctx)
        action = action.with_params({"work_mem": "8MB"})  # edited in the modal
        plan = action.plan()
        assert plan.confirm_phrase == "alter system"
        assert plan.changes[0] == "work_mem: 4MB → 8MB — takes effect on the reload"
        assert plan.changes[1].startswith("max_connections: 40 → 200 — takes effect only after")
        assert plan.details == ("shared_buffers = 128MB: already 128MB, unchanged",)
        with pytest.raises(Refused, match="no server-side dry run"):
            await h.runner.run(action, h.ctx, dry_run=True)
        result = await h.runner.run(action, h.ctx)
        assert result.ok, result.message
        assert result.message == (
            "work_mem = 8MB in effect; max_connections = 200 written, waits for a restart "
            "(running 40)"
        )
        with server.connect() as control:
            rows = dict(
                (name, (setting, pending))
                for name, setting, pending in control.execute(
                    "SELECT name, setting, pending_restart FROM pg_settings "
                    "WHERE name IN ('work_mem', 'max_connections')"
                ).fetchall()
            )
        assert rows == {"work_mem": ("8192", False), "max_connections": ("40", True)}
        # The same values again: nothing to change, refused in words.
        again = await ApplySettings(values=(("work_mem", "8MB"),)).prepare(h.ctx)
        with pytest.raises(Refused, match="already in effect"):
            await h.runner.run(again, h.ctx)
        # Back to the default.
        reset = await h.run(ApplySettings(values=(("work_mem", "default"),)))
        assert reset.ok and reset.message.startswith("work_mem reset: now 4MB")
        outcomes = [e["outcome"] for e in h.entries()]
        assert outcomes == ["refused", "succeeded", "refused", "succeeded"]
        assert h.entries()[1]["plan"]["command"].startswith(
            "ALTER SYSTEM SET \"work_mem\" = '8MB';"
        )
    finally:
        await h.ctx.close()


async def test_apply_settings_without_privilege_is_refused(
    owned_pg_server, make_pg_role, tmp_path
) -> None:
    role = cockpit_role(owned_pg_server, make_pg_role)
    h = await harness(role.dsn(), tmp_path)
    try:
        with pytest.raises(Refused, match="not permitted: permission denied to set parameter"):
            await h.run(ApplySettings(values=(("work_mem", "8MB"),)))
        with owned_pg_server.connect() as control:
            assert control.execute("SHOW work_mem").fetchone() == ("4MB",)
    finally:
        await h.ctx.close()
    h.assert_no_secret(role.password)


# -- read-only mode and the journal --------------------------------------------------------


async def test_read_only_refuses_every_mutating_action_without_touching_the_server(
    owned_pg_server, make_pg_role, tmp_path
) -> None:
    app_role = make_pg_role(owned_pg_server, monitor=False)
    (victim,) = await open_sessions(app_role.server, 1, tag())
    pid = victim.info.backend_pid
    h = await harness(owned_pg_server.dsn(), tmp_path, read_only=True)
    try:
        session = pg_session(owned_pg_server, pid)
        actions = [
            (await TerminateIdle().prepare(h.ctx)).with_params({"minutes": "1s"}),
            CancelSession(session),
            TerminateSession(session),
            await ApplySettings(values=(("work_mem", "8MB"),)).prepare(h.ctx),
        ]
        for action in actions:
            with pytest.raises(Refused, match="read-only mode"):
                await h.runner.run(action, h.ctx)
        assert pid in live_sessions(owned_pg_server, [pid])
        with owned_pg_server.connect() as control:
            assert control.execute("SHOW work_mem").fetchone() == ("4MB",)
        entries = h.entries()
        assert [(e["action"], e["outcome"], e["mode"]) for e in entries] == [
            ("postgres.terminate-idle", "refused", "read-only"),
            ("postgres.cancel", "refused", "read-only"),
            ("postgres.terminate", "refused", "read-only"),
            ("postgres.apply-settings", "refused", "read-only"),
        ]
        for entry in entries:
            json.dumps(entry)  # plain JSON: no datetimes or objects
    finally:
        await close_sessions([victim])
        await h.ctx.close()


async def test_the_action_connection_names_itself_and_reconnects(owned_pg_server, tmp_path) -> None:
    h = await harness(owned_pg_server.dsn(), tmp_path)
    try:
        conn = await h.ctx.connection()
        row = await h.ctx.rows(
            "SELECT current_setting('application_name') AS app, "
            "current_setting('statement_timeout') AS timeout, "
            "current_setting('lock_timeout') AS lock"
        )
        assert row == [{"app": "cockpit-action", "timeout": "3s", "lock": "1s"}]
        pid = conn.info.backend_pid
        # Picked in the pane by mistake: the cockpit does not cut its own branch.
        with pytest.raises(Refused, match="the cockpit's own action connection"):
            await h.run(TerminateSession(pg_session(owned_pg_server, pid)))
        assert h.ctx.connected and (await h.ctx.backend_pid()) == pid
        with owned_pg_server.connect() as control:
            control.execute("SELECT pg_terminate_backend(%s)", (pid,))
        # The next read notices, reconnects and answers.
        again = await h.ctx.rows("SELECT pg_backend_pid() AS pid")
        assert again[0]["pid"] != pid
    finally:
        await h.ctx.close()
    assert not h.ctx.connected
