"""Redis keys through the real CockpitApp: pane → modal → runner → journal → server.

The app runs against a simulated cluster (Pace.fast) and a redis-server the test owns;
PostgreSQL points at a closed port (its pane just shows the failure).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Button, Input

from cockpit.app import CockpitApp, Launch
from cockpit.config import KubeSettings, PollSettings, PostgresSettings, RedisSettings, Settings
from cockpit.sim.pace import Pace
from cockpit.sim.runner import SimCluster
from tests.fixtures.redis import RedisServer, db_sizes, fill_dbs
from tests.pilot import cockpit_running, confirm_modal
from tests.pilot import wait_for as wait_until
from widgets.confirm import ConfirmScreen
from widgets.redis import RedisPane
from widgets.redis_deep import RedisDeepScreen

POLL = PollSettings(
    pods=0.5, metrics=1.0, events=1.0, logs=0.5, postgres=5.0, redis=0.3, host=2.0,
    health=30.0, backups=30.0, timeout=3.0, backoff_max=5.0,
)  # fmt: skip
NO_POSTGRES = PostgresSettings(dsn="host=127.0.0.1 port=1 user=none dbname=none", connect_timeout=1)


@pytest.fixture(scope="module")
def sim() -> Iterator[SimCluster]:
    # Little log history: 26 h of it keeps the app's loop busy for seconds at start,
    # and these tests are about Redis.
    pace = Pace.fast().with_(history_hours=0.05, log_lines_per_s=0.5)
    cluster = SimCluster("healthy", pace=pace).start()
    yield cluster
    cluster.stop()


@pytest.fixture
def make_app(sim: SimCluster, tmp_path: Path) -> Callable[..., CockpitApp]:
    def make(redis_url: str, **overrides: Any) -> CockpitApp:
        settings = Settings(
            journal_path=tmp_path / "journal.jsonl",
            kube=KubeSettings(
                kubeconfig=sim.write_kubeconfig(tmp_path / "kubeconfig"), context="cockpit-sim"
            ),
            postgres=NO_POSTGRES,
            redis=RedisSettings(url=redis_url, connect_timeout=2.0),
            poll=POLL,
            **overrides,
        )
        return CockpitApp(Launch(settings=settings, context="cockpit-sim"))

    return make


async def wait_for(pilot: Any, condition: Callable[[], Any], what: str, timeout: float = 20) -> Any:
    return await wait_until(pilot, condition, timeout=timeout, what=what)


async def focused_redis_pane(app: CockpitApp, pilot: Any, keys: Any = None) -> RedisPane:
    pane = app.query_one(RedisPane)
    await wait_for(pilot, lambda: pane.snapshot is not None, "redis data")
    if keys is not None:
        await wait_for(pilot, lambda: pane.snapshot.keys == keys, f"keys {keys}")  # type: ignore[union-attr]
    app.main.focus_pane(pane)
    await pilot.pause()
    assert app.focused is pane.query_one("#redis-body")
    return pane


def journal(app: CockpitApp) -> list[dict[str, Any]]:
    return app.journal.read()


def policy_of(server: RedisServer) -> str:
    with server.client() as client:
        return client.config_get("maxmemory-policy")["maxmemory-policy"]


async def test_flushdb_from_the_pane_needs_the_db_number_typed(
    owned_redis_server: RedisServer, make_app: Callable[..., CockpitApp]
) -> None:
    server = owned_redis_server
    fill_dbs(server, {0: 50, 1: 30, 2: 40})
    app = make_app(server.url)
    async with cockpit_running(app, size=(160, 45)) as pilot:
        pane = await focused_redis_pane(app, pilot, ((0, 50), (1, 30), (2, 40)))
        assert pane.target_db == 0  # the URL's db until another is chosen
        await pilot.press("right_square_bracket")
        assert pane.target_db == 1
        body = pane.query_one("#redis-body").render()
        assert "▸db1 30" in str(body)
        await pilot.press("F")
        modal = await confirm_modal(pilot, app)
        assert "delete all 30 keys of db1" in modal.plan.title
        assert modal.plan.confirm_phrase == "1"
        execute = modal.query_one("#execute", Button)
        assert execute.disabled and app.focused is modal.query_one("#cancel", Button)
        await pilot.press("enter")  # Enter on the focused Cancel: cancelled, nothing flushed
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmScreen), "cancel")
        assert journal(app)[-1]["outcome"] == "cancelled"

        await pilot.press("F")
        modal = await confirm_modal(pilot, app)
        execute = modal.query_one("#execute", Button)
        modal.query_one("#confirm-phrase", Input).focus()
        await pilot.press("2")
        assert execute.disabled  # the wrong database number
        await pilot.press("backspace", "d", "b", "1")
        assert execute.disabled  # only the number itself
        await pilot.press("backspace", "backspace", "backspace", "1")
        assert not execute.disabled
        await pilot.click("#execute")
        done = await wait_for(
            pilot,
            lambda: [e for e in journal(app) if e["outcome"] == "succeeded"],
            "the journal entry",
        )
        assert done[-1]["action"] == "redis.flushdb" and done[-1]["result"]["deleted"] == 30
        assert db_sizes(server, (0, 1, 2)) == {0: 50, 1: 0, 2: 40}
        await wait_for(
            pilot, lambda: pane.snapshot.keys == ((0, 50), (2, 40)), "the pane refreshed"
        )  # type: ignore[union-attr]


async def test_policy_and_revert_keys(
    redis_server_limited: RedisServer, make_app: Callable[..., CockpitApp]
) -> None:
    server = redis_server_limited
    app = make_app(server.url)
    async with cockpit_running(app, size=(160, 45)) as pilot:
        await focused_redis_pane(app, pilot)
        await pilot.press("ctrl+z")  # nothing to revert yet: refused, journaled, no modal
        await wait_for(pilot, lambda: journal(app), "the refusal")
        assert journal(app)[-1]["outcome"] == "refused"
        assert "nothing to revert" in journal(app)[-1]["error"]
        assert not isinstance(app.screen, ConfirmScreen)

        await pilot.press("P")
        modal = await confirm_modal(pilot, app)
        field = modal.query_one("#param-policy", Input)
        assert field.value == "allkeys-lru"  # the runbook's choice is the default
        assert "noeviction → allkeys-lru" in modal.plan.title
        field.value = "allkeys-lfu"
        await pilot.pause()
        assert "noeviction → allkeys-lfu" in modal.plan.title  # re-planned on the change
        field.value = "allkeys-lru"
        await pilot.pause()
        await pilot.click("#execute")
        await wait_for(pilot, lambda: policy_of(server) == "allkeys-lru", "the change")
        await wait_for(pilot, lambda: journal(app)[-1]["outcome"] == "succeeded", "journal")
        assert journal(app)[-1]["result"]["old"] == "noeviction"

        await pilot.press("ctrl+z")
        modal = await confirm_modal(pilot, app)
        assert "allkeys-lru → noeviction (revert of " in modal.plan.title
        await pilot.click("#execute")
        await wait_for(pilot, lambda: policy_of(server) == "noeviction", "the revert")
        await wait_for(
            pilot, lambda: journal(app)[-1]["action"] == "redis.policy-revert", "journal"
        )
        assert journal(app)[-1]["outcome"] == "succeeded"


async def test_read_only_hides_the_mutating_keys_but_not_the_deep_views(
    owned_redis_server: RedisServer, make_app: Callable[..., CockpitApp]
) -> None:
    fill_dbs(owned_redis_server, {0: 5})
    app = make_app(owned_redis_server.url, read_only=True)
    async with cockpit_running(app, size=(160, 45)) as pilot:
        pane = await focused_redis_pane(app, pilot)
        shown = {b.binding.action for b in app.active_bindings.values() if b.enabled}
        assert "deep_view" in shown and not shown & {"flushdb", "policy", "revert_policy"}
        for key in ("F", "P", "ctrl+z"):
            await pilot.press(key)
            await pilot.pause(0.1)
            assert not isinstance(app.screen, ConfirmScreen)
        assert journal(app) == []
        assert db_sizes(owned_redis_server, (0,)) == {0: 5}
        await pilot.press("D")
        deep = await wait_for(
            pilot, lambda: isinstance(app.screen, RedisDeepScreen) and app.screen, "deep view"
        )
        assert deep.feeds.db == pane.target_db == 0
        await pilot.press("4", "s")
        await wait_for(pilot, lambda: deep.scan is not None and deep.scan.done, "the sample")
        assert deep.scan.state == "complete" and len(deep.scan.top) == 5  # type: ignore[union-attr]
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, RedisDeepScreen), "closed")


async def test_the_password_never_reaches_the_screen(
    redis_server_auth: RedisServer, make_app: Callable[..., CockpitApp]
) -> None:
    server = redis_server_auth
    secret = server.password
    assert secret
    fill_dbs(server, {0: 3})
    app = make_app(server.url)
    async with cockpit_running(app, size=(160, 45)) as pilot:
        await focused_redis_pane(app, pilot)
        screens = [app.export_screenshot()]
        await pilot.press("F")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the modal")
        screens.append(app.export_screenshot())
        await pilot.press("escape")
        await pilot.press("D")
        await wait_for(pilot, lambda: isinstance(app.screen, RedisDeepScreen), "deep view")
        await pilot.pause(0.2)
        screens.append(app.export_screenshot())
        await pilot.press("escape")
    wrong = make_app(server.url_for(password="Wr0ng-" + secret))
    async with cockpit_running(wrong, size=(160, 45)) as pilot:
        pane = wrong.query_one(RedisPane)
        await wait_for(pilot, lambda: pane.failure is not None, "the failure")
        assert "authentication failed" in pane.failure.message  # type: ignore[union-attr]
        screens.append(wrong.export_screenshot())
    for svg in screens:
        assert secret not in svg and "Wr0ng" not in svg
    assert secret not in Path(app.journal.path).read_text()
