"""PostgreSQL actions through the real CockpitApp: pane key → modal → execution → journal.

The app runs against a simulated cluster and a throwaway PostgreSQL server the tests
own, connecting as a password-authenticated role; every test checks that the password
reaches neither the screen nor the journal.  Effects are checked on the server.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from psycopg import sql
from textual.widgets import Button, Input

from cockpit.app import CockpitApp, Launch
from cockpit.audit import Journal
from cockpit.config import KubeSettings, PollSettings, PostgresSettings, RedisSettings, Settings
from cockpit.sim.pace import Pace
from cockpit.sim.runner import SimCluster
from tests.fixtures.postgres import (
    PgRole,
    PgServer,
    close_sessions,
    free_port,
    live_sessions,
    open_sessions,
)
from tests.pilot import cockpit_running, confirm_modal, wait_for
from widgets.confirm import ConfirmScreen
from widgets.postgres import PostgresPane
from widgets.postgres_deep import PgDeepScreen

POLL = PollSettings(
    pods=0.5, metrics=1.0, events=1.0, logs=0.5, postgres=0.3, redis=5.0, host=2.0,
    health=30.0, backups=30.0, timeout=3.0, backoff_max=2.0,
)  # fmt: skip


@pytest.fixture
def make_app(tmp_path: Path) -> Iterator[Callable[..., CockpitApp]]:
    """`make(server, dsn, cluster=False, **settings)`.  Without a cluster the kubeconfig
    is missing (the Kubernetes panes just say so): the app starts several times faster,
    and these tests are about PostgreSQL.  One test runs beside a simulated cluster."""
    clusters: list[SimCluster] = []

    def make(server: PgServer, dsn: str, cluster: bool = False, **overrides: Any) -> CockpitApp:
        kubeconfig = tmp_path / "missing-kubeconfig"
        if cluster:
            clusters.append(SimCluster("healthy", pace=Pace.fast()).start())
            kubeconfig = clusters[-1].write_kubeconfig(tmp_path / "kubeconfig")
        settings = Settings(
            journal_path=tmp_path / "journal.jsonl",
            kube=KubeSettings(kubeconfig=kubeconfig, context="cockpit-sim"),
            postgres=PostgresSettings(dsn=dsn, idle_minutes=10),
            redis=RedisSettings(url=f"redis://127.0.0.1:{free_port()}/0"),  # nothing there
            poll=POLL,
            **overrides,
        )
        return CockpitApp(Launch(settings=settings, context="cockpit-sim"))

    yield make
    for cluster in clusters:
        cluster.stop()


def cockpit_role(server: PgServer, make_pg_role) -> PgRole:
    role = make_pg_role(server, monitor=True)
    with server.connect() as conn:
        conn.execute(sql.SQL("GRANT pg_signal_backend TO {}").format(sql.Identifier(role.name)))
    return role


def journal(app: CockpitApp) -> list[dict]:
    """The outcome lines (each execution's intent line precedes its outcome)."""
    entries = Journal(app.settings.effective_journal_path()).read()
    return [e for e in entries if e["outcome"] != "started"]


async def ready_pane(pilot, app: CockpitApp, check=lambda snap: True) -> PostgresPane:
    pane = app.main.query_one(PostgresPane)
    # Beside a simulated cluster the first poll can wait seconds for a busy loop
    # (the cluster's logs and watches start at the same time) on a loaded machine.
    await wait_for(
        pilot,
        lambda: pane.snapshot is not None and check(pane.snapshot),
        timeout=60.0,
        what="a PostgreSQL snapshot",
    )
    pane.table.focus()
    await pilot.pause()
    return pane


modal = confirm_modal


async def outcome(pilot, app: CockpitApp, action: str, wanted: str) -> dict:
    return await wait_for(
        pilot,
        lambda: next(
            (e for e in journal(app) if e["action"] == action and e["outcome"] == wanted), None
        ),
        what=f"{action} {wanted} in the journal",
    )


def assert_secret_nowhere(app: CockpitApp, *values: str) -> None:
    screen = app.export_screenshot()
    text = json.dumps(journal(app))
    for value in values:
        assert value not in screen and value not in text


async def test_terminate_idle_from_the_pane_with_typed_confirmation(
    owned_pg_server, make_pg_role, make_app
) -> None:
    cockpit = cockpit_role(owned_pg_server, make_pg_role)
    app_role = make_pg_role(owned_pg_server, monitor=False)
    name = f"rails-test-{secrets.token_hex(3)}"
    victims = await open_sessions(app_role.server, 7, name)
    pids = [c.info.backend_pid for c in victims]
    app = make_app(owned_pg_server, cockpit.dsn(), cluster=True)
    try:
        async with cockpit_running(app, size=(160, 50)) as pilot:
            # Young idle sessions: counted by the server, not listed (the idle view lists
            # those past the limit, and the action lists its own).
            pane = await ready_pane(pilot, app, lambda s: s.count("idle") >= 7)
            before = pane.snapshot.connections
            idle_before = pane.snapshot.count("idle")
            await asyncio.sleep(1.1)  # the victims are now idle > 1 s
            await pilot.press("K")
            screen = await modal(pilot, app)
            assert screen.focused.id == "cancel"
            assert screen.plan.title.startswith("Terminate 0 session(s) idle > 10 min")
            screen.query_one("#param-minutes", Input).value = "1s"
            await pilot.pause()
            plan = screen.plan
            assert plan.title.startswith("Terminate 7 session(s) idle > 1 s")
            assert {int(line.split()[1]) for line in plan.details[1:]} == set(pids)
            assert plan.confirm_phrase == "terminate"  # more than a handful
            execute = screen.query_one("#execute", Button)
            assert execute.disabled
            screen.query_one("#confirm-phrase", Input).value = "terminate"
            await pilot.pause()
            assert not execute.disabled
            await pilot.click("#execute")
            entry = await outcome(pilot, app, "postgres.terminate-idle", "succeeded")
            assert sorted(entry["result"]["terminated"]) == sorted(pids)
            assert entry["message"].startswith("terminated 7 session(s)")
            assert not live_sessions(owned_pg_server, pids)
            # The pane then shows the connection count falling.
            await wait_for(
                pilot,
                # 7 fewer, and one more: the action connection the cockpit opened.
                lambda: (
                    pane.snapshot.connections == before - 7 + 1
                    and pane.snapshot.count("idle") == idle_before - 7 + 1
                    and not any(s.application == name for s in pane.snapshot.sessions)
                ),
                what="the pane's connection count to fall",
            )
            assert_secret_nowhere(app, cockpit.password, app_role.password)
    finally:
        await close_sessions(victims)


async def test_one_session_cancelled_at_the_modal_then_terminated(
    owned_pg_server, make_pg_role, make_app
) -> None:
    cockpit = cockpit_role(owned_pg_server, make_pg_role)
    app_role = make_pg_role(owned_pg_server, monitor=False)
    name = f"sidekiq-test-{secrets.token_hex(3)}"
    (victim,) = await open_sessions(app_role.server, 1, name)
    pid = victim.info.backend_pid
    app = make_app(owned_pg_server, cockpit.dsn())
    try:
        async with cockpit_running(app, size=(160, 50)) as pilot:
            pane = await ready_pane(pilot, app, lambda s: s.count("idle") >= 1)
            # A young idle session is counted, not listed, until the "all" view asks
            # the source for every row (polled again at once).
            assert not any(x.application == name for x in pane.snapshot.sessions)
            assert not pane.snapshot.every_session
            pane.set_view("all")
            await wait_for(
                pilot,
                lambda: any(x.application == name for x in pane.snapshot.sessions),
                what="every session listed in the all view",
            )
            assert pane.snapshot.every_session
            session = next(s for s in pane.snapshot.sessions if s.pid == pid)
            assert pane.table.select_key(session.key)
            await pilot.press("x")
            screen = await modal(pilot, app)
            assert screen.plan.title == f"Terminate PostgreSQL session {pid}"
            await pilot.press("enter")  # Cancel has the focus
            await outcome(pilot, app, "postgres.terminate", "cancelled")
            assert pid in live_sessions(owned_pg_server, [pid])
            await pilot.press("x")
            await modal(pilot, app)
            await pilot.click("#execute")
            entry = await outcome(pilot, app, "postgres.terminate", "succeeded")
            assert entry["message"].endswith("terminated; the session is gone")
            assert pid not in live_sessions(owned_pg_server, [pid])
            assert_secret_nowhere(app, cockpit.password, app_role.password)
    finally:
        await close_sessions([victim])


async def test_connectivity_key_runs_at_once_and_is_journaled(
    owned_pg_server, make_pg_role, make_app
) -> None:
    cockpit = cockpit_role(owned_pg_server, make_pg_role)
    app = make_app(owned_pg_server, cockpit.dsn())
    async with cockpit_running(app, size=(160, 50)) as pilot:
        await ready_pane(pilot, app)
        await pilot.press("t")
        entry = await outcome(pilot, app, "postgres.connectivity", "succeeded")
        assert not isinstance(app.screen, ConfirmScreen)  # it changes nothing: no modal
        assert entry["message"].startswith("SELECT 1 answered 1 in ")
        assert "connections" in entry["message"] and cockpit.name in entry["message"]
        assert_secret_nowhere(app, cockpit.password)


async def test_deep_views_apply_the_runbook_settings(
    owned_pg_server_factory, make_pg_role, make_app
) -> None:
    server = owned_pg_server_factory(max_connections=40)  # ALTER SYSTEM: a server of its own
    app = make_app(server, server.dsn())
    async with cockpit_running(app, size=(160, 50)) as pilot:
        await ready_pane(pilot, app)
        await pilot.press("D")
        deep = await wait_for(
            pilot,
            lambda: app.screen if isinstance(app.screen, PgDeepScreen) else None,
            what="the deep views",
        )
        await pilot.press("3")
        assert deep.tab == "settings"
        await pilot.press("A")
        screen = await modal(pilot, app)
        plan = screen.plan
        assert [c.split(":")[0] for c in plan.changes] == [
            "max_connections",
            "shared_buffers",
            "effective_cache_size",
        ]
        assert plan.confirm_phrase == "alter system" and not screen.query("#dry-run")
        screen.query_one("#confirm-phrase", Input).value = "alter system"
        await pilot.pause()
        await pilot.click("#execute")
        entry = await outcome(pilot, app, "postgres.apply-settings", "succeeded")
        assert entry["message"] == (
            "max_connections = 200 written, waits for a restart (running 40); "
            "shared_buffers = 256MB written, waits for a restart (running 128MB); "
            "effective_cache_size = 1GB in effect"
        )
        # Back on the deep view, re-read: the settings tab shows what is pending.
        await wait_for(pilot, lambda: app.screen is deep, what="the deep view again")
        await wait_for(
            pilot,
            lambda: (
                deep.snapshot is not None
                and {r.name: r for r in deep.snapshot.settings}["effective_cache_size"].matches
            ),
            what="the deep view to re-read",
        )
        rows = {r.name: r for r in deep.snapshot.settings}
        assert rows["max_connections"].pending_restart
    with server.connect() as control:
        assert control.execute("SHOW effective_cache_size").fetchone() == ("1GB",)


async def test_read_only_app_offers_no_postgres_remedy(
    owned_pg_server, make_pg_role, make_app
) -> None:
    app_role = make_pg_role(owned_pg_server, monitor=False)
    name = f"rails-test-{secrets.token_hex(3)}"
    (victim,) = await open_sessions(app_role.server, 1, name)
    pid = victim.info.backend_pid
    app = make_app(owned_pg_server, owned_pg_server.dsn(), read_only=True)
    try:
        async with cockpit_running(app, size=(160, 50)) as pilot:
            pane = await ready_pane(pilot, app)
            pane.set_view("all")  # young idle sessions are listed in the all view only
            await wait_for(
                pilot,
                lambda: any(x.application == name for x in pane.snapshot.sessions),
                what="every session listed in the all view",
            )
            session = next(s for s in pane.snapshot.sessions if s.pid == pid)
            pane.table.select_key(session.key)
            await pilot.press("K", "c", "x")
            await pilot.pause(0.3)
            assert not isinstance(app.screen, ConfirmScreen)
            assert journal(app) == []
            await pilot.press("t")  # changes nothing: still there
            await outcome(pilot, app, "postgres.connectivity", "succeeded")
            await pilot.press("D")
            deep = await wait_for(
                pilot,
                lambda: app.screen if isinstance(app.screen, PgDeepScreen) else None,
                what="the deep views",
            )
            await pilot.press("3", "A", "a", "4", "x")
            await pilot.pause(0.3)
            assert app.screen is deep
            assert [e["action"] for e in journal(app)] == ["postgres.connectivity"]
            assert pid in live_sessions(owned_pg_server, [pid])
    finally:
        await close_sessions([victim])
