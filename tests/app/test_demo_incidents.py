"""The incident demo's own servers, fixed for real with the cockpit's keys.

The real CockpitApp watches the demo's throwaway Redis and PostgreSQL (set up exactly as
`cockpit demo --scenario incident` does, through `DemoServers.settings_for`).  The Redis
policy key and the PostgreSQL terminate-idle key are pressed and confirmed from the
keyboard; the fix is then checked on the servers themselves.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Button, Input

from cockpit.app import CockpitApp, Launch
from cockpit.config import KubeSettings, PollSettings, Settings
from cockpit.demo.servers import DEMO_IDLE_MINUTES, DemoServers, binaries_available
from cockpit.demo.staging import APPS, IDLE_SESSIONS
from tests.fixtures.demo import staged_demo
from tests.pilot import cockpit_running, confirm_modal, wait_for
from widgets.postgres import PostgresPane
from widgets.redis import RedisPane

pytestmark = pytest.mark.skipif(
    not binaries_available(), reason="needs redis-server and PostgreSQL's initdb/pg_ctl"
)
POLL = PollSettings(
    pods=0.5, metrics=1.0, events=1.0, logs=0.5, postgres=0.3, redis=0.3, host=2.0,
    health=30.0, backups=30.0, timeout=3.0, backoff_max=2.0,
)  # fmt: skip


@pytest.fixture
def demo() -> Iterator[DemoServers]:
    with staged_demo() as servers:
        yield servers


def staged_idle(servers: DemoServers) -> int:
    """The staged app sessions still idle on the demo's PostgreSQL."""
    assert servers.pg is not None
    with servers.pg.connect() as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle'"
            " AND application_name = ANY(%s)",
            (list(APPS),),
        ).fetchone()
    return int(row[0]) if row else 0


def staged_idle_longer_than(servers: DemoServers, seconds: float) -> int:
    """The staged app sessions idle on the server for longer than `seconds`."""
    assert servers.pg is not None
    with servers.pg.connect() as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle'"
            " AND application_name = ANY(%s)"
            " AND state_change < now() - make_interval(secs => %s)",
            (list(APPS), seconds),
        ).fetchone()
    return int(row[0]) if row else 0


def policy(servers: DemoServers) -> str:
    assert servers.redis is not None
    with servers.redis.client() as client:
        return str(client.config_get("maxmemory-policy")["maxmemory-policy"])


async def test_the_keys_fix_the_staged_incidents(demo: DemoServers, tmp_path: Path) -> None:
    base = Settings(
        journal_path=tmp_path / "journal.jsonl",
        # No cluster: the Kubernetes panes just say so, the app starts faster.
        kube=KubeSettings(kubeconfig=tmp_path / "missing-kubeconfig", context="cockpit-sim"),
        poll=POLL,
    )
    settings = demo.settings_for(base)
    assert settings.postgres.idle_minutes == DEMO_IDLE_MINUTES
    assert staged_idle(demo) == IDLE_SESSIONS
    app = CockpitApp(Launch(settings=settings, context="cockpit-sim", note="demo"))
    async with cockpit_running(app, size=(160, 50)) as pilot:
        # Redis: noeviction at the limit -> the runbook's allkeys-lru, from the keyboard.
        redis_pane = app.query_one(RedisPane)
        await wait_for(pilot, lambda: redis_pane.snapshot is not None, what="redis data")
        assert redis_pane.snapshot.policy == "noeviction"
        app.main.focus_pane(redis_pane)
        await pilot.pause()
        await pilot.press("P")
        modal = await confirm_modal(pilot, app)
        assert "noeviction → allkeys-lru" in modal.plan.title
        execute = modal.query_one("#execute", Button)
        execute.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: policy(demo) == "allkeys-lru", what="the policy change")

        # PostgreSQL: the demo's 30 s threshold, then every staged idle session ended.
        pg_pane = app.query_one(PostgresPane)
        await wait_for(pilot, lambda: pg_pane.snapshot is not None, what="pg data")
        # The plan lists the sessions as they are when K is pressed: on a loaded machine
        # the app can be here within a second of the staging, before the last staged
        # session has been idle for the 1 s typed below.
        await wait_for(
            pilot,
            lambda: staged_idle_longer_than(demo, 1.5) == IDLE_SESSIONS,
            what="the staged sessions idle > 1.5 s",
        )
        pg_pane.table.focus()
        await pilot.pause()
        await pilot.press("K")
        modal = await confirm_modal(pilot, app)
        assert "idle > 30 s" in modal.plan.title, modal.plan.title
        minutes = modal.query_one("#param-minutes", Input)
        minutes.focus()
        erase = ["backspace"] * len(minutes.value)
        await pilot.press("end", *erase, "1", "s")  # typed: the staged sessions are idle > 1 s
        await wait_for(pilot, lambda: "idle > 1 s" in modal.plan.title, what="the re-plan")
        assert modal.plan.title.startswith(f"Terminate {IDLE_SESSIONS} session(s)"), modal.plan
        assert modal.plan.confirm_phrase, modal.plan
        modal.query_one("#confirm-phrase", Input).focus()
        await pilot.press(*modal.plan.confirm_phrase)
        execute = modal.query_one("#execute", Button)
        await wait_for(pilot, lambda: not execute.disabled, what="the typed confirmation")
        execute.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: staged_idle(demo) == 0, what="the idle sessions gone")
    await asyncio.sleep(1.0)
    assert staged_idle(demo) == 0  # the staging does not bring them back
    assert policy(demo) == "allkeys-lru"
