"""Fire drill: Redis out of memory (`cockpit demo --scenario incident`'s own Redis).

Runbook, "Redis 메모리 부족": "OOM command not allowed when used memory > 'maxmemory'";
check `info memory`, `FLUSHDB` (with care), `CONFIG SET maxmemory-policy allkeys-lru`.
The demo fills its throwaway Redis to maxmemory under `noeviction` while a writer keeps
writing, so writes fail with OOM.  In the cockpit: the Redis pane is red, says WRITES
FAILING and shows the policy on red; `0` focuses it, `P` sets the runbook's policy,
`F` flushes db0 after its number is typed.  The fix is checked on the server: the
policy is allkeys-lru, memory is far below the limit, and a write succeeds.
"""

from __future__ import annotations

from pathlib import Path

import redis

from cockpit.demo.servers import DemoServers
from cockpit.model import Level
from cockpit.sim.runner import SimCluster
from tests.drills.helpers import (
    SIZE,
    confirm_with_keys,
    demo_settings,
    focus_pane,
    launch,
    outcome,
    shows_level,
)
from tests.pilot import cockpit_running, wait_for
from widgets.confirm import ConfirmScreen
from widgets.redis import RedisPane


def server_state(servers: DemoServers) -> dict:
    assert servers.redis is not None
    with servers.redis.client() as client:
        memory = client.info("memory")
        return {
            "policy": client.config_get("maxmemory-policy")["maxmemory-policy"],
            "used": int(memory["used_memory"]),
            "max": int(memory["maxmemory"]),
            "keys": int(client.dbsize()),
        }


def failed_writes(servers: DemoServers, key: str, count: int = 20) -> int:
    """Of `count` app-sized writes (16 KiB, as the demo's writer does), how many were
    refused with "OOM command not allowed" (one may slip in when a little room appears)."""
    assert servers.redis is not None
    with servers.redis.client() as client:
        pipe = client.pipeline(transaction=False)
        for n in range(count):
            pipe.set(f"{key}:{n}", "x" * 16384)
        results = pipe.execute(raise_on_error=False)
    return sum(isinstance(r, redis.exceptions.OutOfMemoryError) for r in results)


async def test_redis_oom_fixed_with_policy_and_flushdb(
    incident_sim: SimCluster, demo_servers: DemoServers, tmp_path: Path
) -> None:
    before = server_state(demo_servers)
    assert before["policy"] == "noeviction" and before["used"] >= 0.95 * before["max"]
    assert failed_writes(demo_servers, "drill:before") > 0  # the runbook's symptom, for real
    settings = demo_settings(incident_sim, tmp_path, servers=demo_servers)
    app = launch(settings, demo_servers)
    async with cockpit_running(app, size=SIZE) as pilot:
        pane = app.main.query_one(RedisPane)
        # The incident on screen: red, WRITES FAILING, the runbook's remedy named.
        await wait_for(
            pilot,
            lambda: pane.snapshot is not None and pane.snapshot.oom_per_sec,
            timeout=20,
            what="the writer's OOM errors counted",
        )
        snap = pane.snapshot
        assert shows_level(pane, Level.CRIT) and snap.policy == "noeviction"
        assert snap.warnings[0].startswith("WRITES FAILING"), snap.warnings
        assert "CONFIG SET maxmemory-policy allkeys-lru" in snap.warnings[0]
        warnings = pane.query_one("#redis-warnings")
        assert warnings.has_class("shown") and "WRITES FAILING" in str(warnings.render())
        body = str(pane.query_one("#redis-body").render())
        assert "policy noeviction" in body and "100%" in body and "OOM " in body

        # 0: the Redis pane; P: the runbook's policy (offered as the default).
        await focus_pane(pilot, app, "0", RedisPane)
        await pilot.press("P")

        def policy_plan(modal: ConfirmScreen) -> None:
            assert "noeviction → allkeys-lru" in modal.plan.title, modal.plan.title

        await confirm_with_keys(pilot, app, check=policy_plan)
        entry = await outcome(pilot, app, "redis.policy")
        assert entry["outcome"] == "succeeded" and entry["result"]["old"] == "noeviction", entry
        assert server_state(demo_servers)["policy"] == "allkeys-lru"
        assert failed_writes(demo_servers, "drill:after-policy") == 0  # it evicts instead

        # F: FLUSHDB of db0 (the URL's database): typed confirmation with its number.
        assert pane.target_db == 0
        await pilot.press("F")

        def flush_plan(modal: ConfirmScreen) -> None:
            assert modal.plan.confirm_phrase == "0" and "db0" in modal.plan.title

        await confirm_with_keys(pilot, app, check=flush_plan)
        entry = await outcome(pilot, app, "redis.flushdb")
        assert entry["outcome"] == "succeeded" and entry["result"]["deleted"] > 1000, entry

        # The server: the runbook's policy, memory far below the limit, writes work.
        after = server_state(demo_servers)
        assert after["policy"] == "allkeys-lru"
        assert after["used"] < 0.5 * after["max"], after
        assert after["keys"] < before["keys"] // 10, (before, after)
        assert failed_writes(demo_servers, "drill:after-flush") == 0

        # The screen: the pane is OK again, its warnings gone.
        await wait_for(
            pilot,
            lambda: shows_level(pane, Level.OK) and not pane.snapshot.warnings,
            timeout=15,
            what="the Redis pane healthy",
        )
        assert pane.snapshot.policy == "allkeys-lru" and not pane.snapshot.oom_per_sec
        assert not pane.query_one("#redis-warnings").has_class("shown")
