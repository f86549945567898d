"""Redis actions through the ActionRunner against real, throwaway redis-server processes.

No mocked client: every change is read back from the server the test owns, and every
run is checked in the journal (old and new values, refusals, dry runs).
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import redis

from actions.base import Refused, Risk
from actions.redis import FlushDb, RedisActionContext, RevertPolicy, SetPolicy
from actions.redis.policy import POLICIES, last_change
from actions.runner import ActionRunner, Who
from cockpit.audit import Journal
from cockpit.config import RedisSettings, Settings
from tests.fixtures.redis import (
    MakeRedis,
    RedisServer,
    add_acl_user,
    command_calls,
    db_sizes,
    fill_dbs,
)

MakeCtx = Callable[..., RedisActionContext]


@pytest.fixture
async def make_ctx(tmp_path: Path) -> AsyncIterator[MakeCtx]:
    """`make_ctx(url)`: a context with its own journal; closed afterwards."""
    made: list[RedisActionContext] = []

    def make(url: str, journal: Journal | None = None) -> RedisActionContext:
        settings = Settings(
            redis=RedisSettings(url=url, connect_timeout=2.0),
            journal_path=tmp_path / "journal.jsonl",
        )
        ctx = RedisActionContext(settings, journal or Journal(settings.effective_journal_path()))
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        await ctx.close()


def runner(ctx: RedisActionContext, read_only: bool = False) -> ActionRunner:
    return ActionRunner(ctx.journal, Who("test", "", ""), read_only=read_only, dry_run=False)


def policy_of(server: RedisServer) -> str:
    with server.client() as client:
        return client.config_get("maxmemory-policy")["maxmemory-policy"]


def last_entry(ctx: RedisActionContext) -> dict[str, Any]:
    return ctx.journal.read(1)[0]


# -- maxmemory-policy ------------------------------------------------------------------


async def test_policy_change_and_revert_are_read_back(
    redis_server_limited: RedisServer, make_ctx: MakeCtx
) -> None:
    server = redis_server_limited
    ctx = make_ctx(server.url)
    action = await SetPolicy().prepare(ctx)
    assert action.policy == "allkeys-lru"  # the runbook's recommendation is the default
    (param,) = action.params()
    assert param.choices == POLICIES and param.value == "allkeys-lru"
    assert "now noeviction" in param.help
    plan = action.plan()
    assert "noeviction → allkeys-lru" in plan.title
    assert plan.changes == (
        "noeviction → allkeys-lru: writes stop failing with OOM; "
        "least-recently-used keys of any kind are evicted",
    )
    assert any("noeviction (current)" in line for line in plan.details)
    assert any(line.startswith("▸ allkeys-lru (runbook)") for line in plan.details)
    assert plan.command == "redis-cli CONFIG SET maxmemory-policy allkeys-lru"
    assert plan.risk is Risk.MEDIUM and plan.confirm_phrase is None

    result = await runner(ctx).run(action, ctx)
    assert result.ok, result.message
    assert policy_of(server) == "allkeys-lru"
    entry = last_entry(ctx)
    assert entry["action"] == "redis.policy" and entry["outcome"] == "succeeded"
    assert entry["targets"] == [f"redis/127.0.0.1:{server.port}"]
    assert entry["result"]["old"] == "noeviction"
    assert entry["result"]["new"] == "allkeys-lru"
    assert entry["result"]["read_back"] == "allkeys-lru"
    changed_at = entry["time"]

    revert = await RevertPolicy().prepare(ctx)
    plan = revert.plan()
    assert "allkeys-lru → noeviction (revert of " in plan.title
    assert changed_at[:19].replace("T", " ") in plan.title
    assert plan.changes[0].startswith("allkeys-lru → noeviction: eviction stops")
    result = await runner(ctx).run(revert, ctx)
    assert result.ok, result.message
    assert policy_of(server) == "noeviction"
    entry = last_entry(ctx)
    assert entry["action"] == "redis.policy-revert" and entry["outcome"] == "succeeded"
    assert (entry["result"]["old"], entry["result"]["new"]) == ("allkeys-lru", "noeviction")
    assert entry["result"]["reverts"] == changed_at
    with pytest.raises(Refused, match="nothing to revert"):
        await RevertPolicy().prepare(ctx)  # undone: the key does not flip-flop


async def test_revert_refused_without_a_change_or_after_another_change(
    redis_server_limited: RedisServer, make_ctx: MakeCtx
) -> None:
    ctx = make_ctx(redis_server_limited.url)
    with pytest.raises(Refused, match="nothing to revert"):
        await RevertPolicy().prepare(ctx)
    action = (await SetPolicy().prepare(ctx)).with_params({"policy": "allkeys-lfu"})
    assert (await runner(ctx).run(action, ctx)).ok
    with redis_server_limited.client() as client:
        client.config_set("maxmemory-policy", "volatile-ttl")  # someone else, since
    with pytest.raises(Refused, match=r"now volatile-ttl, not allkeys-lfu .* changed since"):
        await RevertPolicy().prepare(ctx)
    assert policy_of(redis_server_limited) == "volatile-ttl"


async def test_policy_refuses_a_value_changed_since_it_was_shown(
    redis_server_limited: RedisServer, make_ctx: MakeCtx
) -> None:
    ctx = make_ctx(redis_server_limited.url)
    action = await SetPolicy().prepare(ctx)
    with redis_server_limited.client() as client:
        client.config_set("maxmemory-policy", "allkeys-random")
    with pytest.raises(Refused, match="changed since it was shown"):
        await runner(ctx).run(action, ctx)
    assert policy_of(redis_server_limited) == "allkeys-random"
    assert last_entry(ctx)["outcome"] == "refused"


def test_last_change_is_an_undo_stack_of_this_servers_changes() -> None:
    def entry(
        outcome: str, server: str, old: str, new: str, t: str, reverts: str = ""
    ) -> dict[str, Any]:
        result = {"server": server, "old": old, "new": new, "run_id": "r"}
        action = "redis.policy"
        if reverts:
            result["reverts"], action = reverts, "redis.policy-revert"
        return {"action": action, "outcome": outcome, "time": t, "result": result}

    entries = [
        entry("succeeded", "h:1", "noeviction", "allkeys-lru", "t1"),
        entry("dry-run ok", "h:1", "allkeys-lru", "volatile-lru", "t2"),
        entry("failed", "h:1", "allkeys-lru", "allkeys-lfu", "t3"),
        entry("succeeded", "other:2", "noeviction", "allkeys-random", "t4"),
        {"action": "redis.flushdb", "outcome": "succeeded", "time": "t5", "result": {}},
    ]
    change = last_change(entries, "h:1")
    assert change is not None
    assert (change.old, change.new, change.time) == ("noeviction", "allkeys-lru", "t1")
    assert last_change(entries, "nowhere:3") is None
    # A second change, reverted: the key then undoes the first one, not the revert.
    entries.append(entry("succeeded", "h:1", "allkeys-lru", "allkeys-lfu", "t6"))
    assert last_change(entries, "h:1").time == "t6"  # type: ignore[union-attr]
    entries.append(entry("succeeded", "h:1", "allkeys-lfu", "allkeys-lru", "t7", reverts="t6"))
    assert last_change(entries, "h:1").time == "t1"  # type: ignore[union-attr]
    entries.append(entry("succeeded", "h:1", "allkeys-lru", "noeviction", "t8", reverts="t1"))
    assert last_change(entries, "h:1") is None


async def test_policy_choices_are_validated_and_explained(
    redis_server_limited: RedisServer, make_ctx: MakeCtx
) -> None:
    action = await SetPolicy().prepare(make_ctx(redis_server_limited.url))
    with pytest.raises(ValueError, match="must be one of"):
        action.with_params({"policy": "allkeys-lru; FLUSHDB"})
    for ambiguous in ("", "allkeys-l", "volatile"):
        with pytest.raises(ValueError):
            action.with_params({"policy": ambiguous})
    assert action.with_params({"policy": "allkeys-lf"}).policy == "allkeys-lfu"
    ttl = action.with_params({"policy": " Volatile-TTL "})
    assert ttl.policy == "volatile-ttl"
    plan = ttl.plan()
    assert "volatile-ttl" in plan.command
    assert any("no key has a TTL" in w for w in plan.warnings)
    same = action.with_params({"policy": "noeviction"})
    assert any("already noeviction" in w for w in same.plan().warnings)


async def test_policy_dry_run_changes_nothing(
    redis_server_limited: RedisServer, make_ctx: MakeCtx
) -> None:
    ctx = make_ctx(redis_server_limited.url)
    action = await SetPolicy().prepare(ctx)
    result = await runner(ctx).run(action, ctx, dry_run=True)
    assert result.ok and result.dry_run and "would go noeviction → allkeys-lru" in result.message
    assert policy_of(redis_server_limited) == "noeviction"
    assert last_entry(ctx)["outcome"] == "dry-run ok"
    with pytest.raises(Refused, match="nothing to revert"):
        await RevertPolicy().prepare(ctx)  # a dry run is not a change


async def test_config_refused_by_acl_is_a_clear_refusal(
    redis_server_factory: MakeRedis, make_ctx: MakeCtx
) -> None:
    server = redis_server_factory()
    no_config = make_ctx(add_acl_user(server, "noconfig", "pw1", "-config"))
    with pytest.raises(Refused, match=r"CONFIG GET is not permitted .*ACL.*\+config\|get"):
        await SetPolicy().prepare(no_config)
    read_only_config = make_ctx(add_acl_user(server, "getonly", "pw2", "-config|set"))
    action = await SetPolicy().prepare(read_only_config)
    with pytest.raises(Refused, match=r"CONFIG SET is not permitted .*nothing changed"):
        await runner(read_only_config).run(action, read_only_config)
    entry = last_entry(read_only_config)
    assert entry["outcome"] == "refused" and "CONFIG SET is not permitted" in entry["error"]
    assert policy_of(server) == "noeviction"


async def test_renamed_config_is_a_clear_refusal(
    redis_server_factory: MakeRedis, make_ctx: MakeCtx
) -> None:
    server = redis_server_factory(config=('rename-command CONFIG ""',))
    with pytest.raises(Refused, match="CONFIG GET is renamed or disabled"):
        await SetPolicy().prepare(make_ctx(server.url))


# -- FLUSHDB -----------------------------------------------------------------------------


class Monitor:
    """Every command the server runs, with its db, from MONITOR on a thread."""

    def __init__(self, server: RedisServer) -> None:
        self.server = server
        self.client = redis.Redis.from_url(server.url, decode_responses=True, protocol=2)
        self.commands: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Monitor:
        self._thread.start()
        self._ready.wait(5)
        return self

    def _run(self) -> None:
        with self.client.monitor() as monitor:
            self._ready.set()
            while not self._stop.is_set():
                command = monitor.next_command()
                self.commands.append(command)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        with self.server.client() as poke:
            poke.ping()  # wakes the monitor up so it sees the stop
        self._thread.join(5)
        self.client.close()


async def test_flushdb_empties_only_the_chosen_db(
    owned_redis_server: RedisServer, make_ctx: MakeCtx
) -> None:
    server = owned_redis_server
    fill_dbs(server, {0: 50, 1: 30, 2: 40})
    ctx = make_ctx(server.url)  # the URL selects db 0: the action must not flush it
    action = await FlushDb(db=1).prepare(ctx)
    plan = action.plan()
    assert plan.risk is Risk.HIGH and plan.confirm_phrase == "1"
    assert "delete all 30 keys of db1" in plan.title
    assert plan.command == "redis-cli -n 1 FLUSHDB"
    assert "db0 (50 keys)" in plan.changes[1] and "db2 (40 keys)" in plan.changes[1]
    details = "\n".join(plan.details)
    assert "keys: 30" in details and "used_memory of the whole server" in details
    assert re.search(r"db1 ≈ [\d.]+ (B|KiB) — an ESTIMATE: MEMORY USAGE of 30 sampled", details)
    before = command_calls(server)

    result = await runner(ctx).run(action, ctx)
    assert result.ok, result.message
    assert "30 keys deleted" in result.message and "db1 is empty" in result.message
    assert db_sizes(server, (0, 1, 2)) == {0: 50, 1: 0, 2: 40}
    calls = command_calls(server)
    assert calls.get("flushdb", 0) == before.get("flushdb", 0) + 1
    assert "flushall" not in calls
    entry = last_entry(ctx)
    assert entry["action"] == "redis.flushdb" and entry["outcome"] == "succeeded"
    assert entry["targets"] == [f"redis/127.0.0.1:{server.port}/db1"]
    assert entry["result"]["deleted"] == 30 and entry["result"]["dbsize_after"] == 0
    assert entry["result"]["keyspace_before"] == {"0": 50, "1": 30, "2": 40}


async def test_flushdb_selects_its_db_on_its_own_connection(
    owned_redis_server: RedisServer, make_ctx: MakeCtx
) -> None:
    server = owned_redis_server
    fill_dbs(server, {0: 5, 2: 7})
    ctx = make_ctx(server.url_for(0))
    action = await FlushDb(db=2).prepare(ctx)
    with Monitor(server) as monitor:
        assert (await runner(ctx).run(action, ctx)).ok
        await asyncio.sleep(0.1)
    flushes = [c for c in monitor.commands if c["command"].upper().startswith("FLUSH")]
    assert [c["command"] for c in flushes] == ["FLUSHDB"]
    flush = flushes[0]
    assert int(flush["db"]) == 2  # MONITOR reports the db the command ran in
    same_connection = [
        c["command"]
        for c in monitor.commands
        if (c["client_address"], c["client_port"])
        == (flush["client_address"], flush["client_port"])
    ]
    assert same_connection[-5:] == ["MULTI", "SELECT 2", "DBSIZE", "FLUSHDB", "EXEC"]
    assert all(c == "SELECT 2" for c in same_connection if c.startswith("SELECT"))
    assert db_sizes(server, (0, 2)) == {0: 5, 2: 0}


def test_no_code_path_can_flush_every_database() -> None:
    root = Path(__file__).resolve().parents[2]
    modules = [
        *sorted((root / "actions" / "redis").glob("*.py")),
        root / "cockpit/sources/redis/deep.py",
    ]
    assert len(modules) >= 4
    for module in modules:
        assert "flushall" not in module.read_text().lower(), module


async def test_flushdb_refused_in_read_only_mode(
    owned_redis_server: RedisServer, make_ctx: MakeCtx
) -> None:
    fill_dbs(owned_redis_server, {1: 10})
    ctx = make_ctx(owned_redis_server.url)
    for action in (FlushDb(db=1), SetPolicy(policy="allkeys-lru"), RevertPolicy()):
        with pytest.raises(Refused, match="read-only"):
            await runner(ctx, read_only=True).run(action, ctx)
        entry = last_entry(ctx)
        assert entry["action"] == action.id and entry["outcome"] == "refused"
        assert "read-only" in entry["error"] and entry["mode"] == "read-only"
    assert db_sizes(owned_redis_server, (1,)) == {1: 10}
    assert policy_of(owned_redis_server) == "noeviction"


async def test_flushdb_dry_run_deletes_nothing(
    owned_redis_server: RedisServer, make_ctx: MakeCtx
) -> None:
    fill_dbs(owned_redis_server, {3: 12})
    ctx = make_ctx(owned_redis_server.url)
    action = await FlushDb(db=3).prepare(ctx)
    result = await runner(ctx).run(action, ctx, dry_run=True)
    assert result.ok and "would delete 12 keys from db3" in result.message
    assert db_sizes(owned_redis_server, (3,)) == {3: 12}
    entry = last_entry(ctx)
    assert entry["outcome"] == "dry-run ok" and entry["mode"] == "dry-run"


async def test_flushdb_async_mode_and_its_plan(
    owned_redis_server: RedisServer, make_ctx: MakeCtx
) -> None:
    fill_dbs(owned_redis_server, {1: 20, 4: 3})
    ctx = make_ctx(owned_redis_server.url)
    action = await FlushDb(db=1).prepare(ctx)
    assert action.mode == "sync"  # few keys: the runbook's plain FLUSHDB
    with pytest.raises(ValueError):
        action.with_params({"mode": "all"})
    action = action.with_params({"mode": "async"})
    assert action.plan().command == "redis-cli -n 1 FLUSHDB ASYNC"
    result = await runner(ctx).run(action, ctx)
    assert result.ok, result.message
    assert db_sizes(owned_redis_server, (1, 4)) == {1: 0, 4: 3}
    assert last_entry(ctx)["result"]["mode"] == "async"


async def test_flushdb_renamed_away_is_refused(
    redis_server_factory: MakeRedis, make_ctx: MakeCtx
) -> None:
    server = redis_server_factory(config=('rename-command FLUSHDB ""',))
    fill_dbs(server, {1: 10})
    ctx = make_ctx(server.url)
    action = await FlushDb(db=1).prepare(ctx)
    with pytest.raises(Refused, match=r"FLUSHDB is renamed or disabled.*nothing was deleted"):
        await runner(ctx).run(action, ctx)
    assert last_entry(ctx)["outcome"] == "refused"
    assert db_sizes(server, (1,)) == {1: 10}


async def test_flushdb_estimate_says_when_memory_usage_is_refused(
    redis_server_factory: MakeRedis, make_ctx: MakeCtx
) -> None:
    server = redis_server_factory()
    fill_dbs(server, {0: 10})
    ctx = make_ctx(add_acl_user(server, "nomemory", "pw3", "-memory"))
    plan = (await FlushDb(db=0).prepare(ctx)).plan()
    assert any("no estimate: MEMORY USAGE is not permitted" in line for line in plan.details), (
        plan.details
    )
    assert "keys: 10" in plan.details


# -- secrets -------------------------------------------------------------------------------


async def test_the_password_never_reaches_plans_results_or_the_journal(
    redis_server_auth: RedisServer, make_ctx: MakeCtx
) -> None:
    server = redis_server_auth
    secret = server.password
    assert secret
    fill_dbs(server, {1: 5})
    ctx = make_ctx(server.url)
    shown: list[str] = []
    for action in (await SetPolicy().prepare(ctx), await FlushDb(db=1).prepare(ctx)):
        shown.append(json.dumps(action.plan().as_journal()) + action.plan().title)
        result = await runner(ctx).run(action, ctx)
        assert result.ok, result.message
        shown.append(result.message)
    revert = await RevertPolicy().prepare(ctx)
    shown.append(revert.plan().title)
    assert (await runner(ctx).run(revert, ctx)).ok
    with pytest.raises(Refused):
        await runner(ctx, read_only=True).run(FlushDb(db=1), ctx)
    # A wrong password: the failure is journaled, in words, without either password.
    wrong = make_ctx(server.url_for(password="Wr0ng-" + secret), journal=ctx.journal)
    result = await runner(wrong).run(FlushDb(db=1), wrong)
    assert not result.ok and "authentication failed" in result.message
    shown.append(result.message)
    journal = ctx.journal.path.read_text()
    outcomes = [e for e in ctx.journal.read() if e["outcome"] != "started"]
    assert len(outcomes) == 5
    for text in (journal, *shown):
        assert secret not in text and quote(secret, safe="") not in text
    assert "Wr0ng" not in journal
