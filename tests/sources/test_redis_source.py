"""RedisSource against real, throwaway redis-server processes (no mocked client)."""

from __future__ import annotations

import asyncio
import dataclasses
import signal
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from cockpit.config import RedisSettings, Settings, Threshold, Thresholds
from cockpit.errors import SourceError
from cockpit.model import Level, RedisSnapshot, SourceFailure
from cockpit.polling import Poller
from cockpit.sources.redis.client import describe_url
from cockpit.sources.redis.health import OOM_ERROR
from cockpit.sources.redis.source import RedisSource
from tests.fixtures.redis import LIMITED_MAXMEMORY, MakeRedis, RedisServer, fill_memory, free_port


def settings_for(url: str, **thresholds: Threshold) -> Settings:
    return Settings(
        redis=RedisSettings(url=url, connect_timeout=2.0),
        thresholds=Thresholds(**thresholds),
    )


@pytest.fixture
async def open_source() -> AsyncIterator[Callable[..., RedisSource]]:
    """`open_source(url, **thresholds)`; every source made is closed afterwards."""
    made: list[RedisSource] = []

    def make(url: str, **thresholds: Threshold) -> RedisSource:
        source = RedisSource(settings_for(url, **thresholds))
        made.append(source)
        return source

    yield make
    for source in made:
        await source.close()


async def test_plain_server_snapshot(redis_server: Any, open_source: Any) -> None:
    source = open_source(redis_server.url)
    snap = await source.snapshot()
    assert isinstance(snap, RedisSnapshot)
    assert snap.server == source.server == describe_url(redis_server.url).server
    assert snap.version and snap.version[0].isdigit()
    assert snap.used_memory > 0
    assert snap.connected_clients >= 1
    assert snap.rtt_ms > 0
    assert snap.uptime_s is not None
    assert snap.policy_from == "CONFIG"
    if redis_server.owned:
        assert snap.maxmemory == 0 and snap.memory_pct is None
        assert snap.policy == "noeviction"  # the server default
        assert snap.level is Level.OK and snap.warnings == ()
        assert any("no maxmemory" in note for note in snap.notes)
        assert snap.last_save is not None  # at startup, even with `save ""`
        assert snap.last_save_ok is True


async def test_keys_per_db_and_ttl(owned_redis_server: RedisServer, open_source: Any) -> None:
    with owned_redis_server.client(0) as db0, owned_redis_server.client(3) as db3:
        db0.mset({f"k{i}": "v" for i in range(7)})
        db0.set("ttl-key", "v", ex=600)
        db3.set("only", "one")
    snap = await open_source(owned_redis_server.url).snapshot()
    assert snap.keys == ((0, 8), (3, 1))
    assert snap.expires == ((0, 1), (3, 0))
    assert snap.total_keys == 9


async def test_hit_ratio_ops_and_expired_from_deltas(redis_server: Any, open_source: Any) -> None:
    source = open_source(redis_server.url)
    source.read_every_s = 0  # every poll reads INFO: the deltas poll by poll
    prefix = f"cockpit-test:{time.monotonic_ns()}:"
    with redis_server.client() as client:
        try:
            client.set(prefix + "a", "1")
            first = await source.snapshot()
            assert first.hit_ratio is None  # no delta yet
            assert first.evicted_per_sec is None and first.expired_per_sec is None
            for _ in range(3):
                client.get(prefix + "a")  # hit
            client.get(prefix + "missing")  # miss
            for i in range(20):
                client.set(f"{prefix}exp{i}", "v", px=1)
            await asyncio.sleep(0.05)
            for i in range(20):
                client.get(f"{prefix}exp{i}")  # expires lazily on access: 20 misses
            await asyncio.sleep(0.05)
            second = await source.snapshot()
            # An idle interval: the source's own INFO/PING commands are not load.
            await asyncio.sleep(0.05)
            third = await source.snapshot()
        finally:
            client.delete(prefix + "a")
    assert second.ops_per_sec is not None and second.ops_per_sec > 0
    assert second.expired_per_sec is not None and second.expired_per_sec > 0
    assert second.evicted_per_sec == 0
    if redis_server.owned:  # nothing else talks to it: the figures are exactly ours
        assert second.hit_ratio == pytest.approx(3 / 24)
        assert third.ops_per_sec == 0
        assert third.hit_ratio is None
        assert third.hit_ratio_total == pytest.approx(3 / 24)


async def test_noeviction_near_limit_is_crit_with_runbook_remedy(
    redis_server_limited: RedisServer, open_source: Any
) -> None:
    source = open_source(redis_server_limited.url)
    reached = fill_memory(redis_server_limited, 85)
    assert 85 <= reached < 100
    snap = await source.snapshot()
    assert snap.maxmemory == LIMITED_MAXMEMORY
    assert snap.memory_pct is not None and snap.memory_pct >= 85
    assert snap.policy == "noeviction"
    # 85 % is only WARN by the threshold (80/95), but noeviction makes it CRIT.
    assert snap.level is Level.CRIT and snap.memory_level is Level.CRIT
    first = snap.warnings[0]
    assert first.startswith("writes will fail: noeviction at 8") and OOM_ERROR in first
    assert "runbook: CONFIG SET maxmemory-policy allkeys-lru" in first
    assert snap.oom_errors == 0 and snap.oom_per_sec is None  # first poll: no delta yet

    # Fill up: the warning's prophecy comes true, and the next poll says so (errorstats).
    fill_memory(redis_server_limited, 101)
    with (
        redis_server_limited.client() as client,
        pytest.raises(Exception, match="command not allowed"),
    ):
        # used_memory can dip back under the limit once the fill's buffers are freed:
        # write on until the server refuses (a few KB at most).
        for n in range(1000):
            client.set(f"one-more:{n}", "x" * 4096)
    full = await source.snapshot()
    assert full.level is Level.CRIT
    assert full.oom_errors >= 1 and full.oom_per_sec is not None and full.oom_per_sec > 0
    assert full.warnings[0].startswith("WRITES FAILING: ")
    assert "OOM errors/s (noeviction at " in full.warnings[0]


async def test_evicting_policy_near_limit_warns_and_counts_evictions(
    redis_server_lru: RedisServer, open_source: Any
) -> None:
    source = open_source(redis_server_lru.url, redis_memory_pct=Threshold(warn=70, crit=99.9))
    fill_memory(redis_server_lru, 75)
    before = await source.snapshot()
    assert before.policy == "allkeys-lru"
    assert before.level is Level.WARN  # near the limit, but it can make room
    assert "noeviction" not in " ".join(before.warnings)
    assert "maxmemory" in before.warnings[0]
    # Writing far past the limit makes it evict; the rate comes from the deltas.
    with redis_server_lru.client() as client:
        pipe = client.pipeline(transaction=False)
        for i in range(3000):
            pipe.set(f"more:{i}", "y" * 1024)
        pipe.execute()
    after = await source.snapshot()
    assert after.evicted_per_sec is not None and after.evicted_per_sec > 0


async def test_volatile_policy_without_ttls_cannot_evict(
    redis_server_factory: MakeRedis, open_source: Any
) -> None:
    server = redis_server_factory(
        config=(f"maxmemory {LIMITED_MAXMEMORY}", "maxmemory-policy volatile-lru")
    )
    fill_memory(server, 85)
    snap = await open_source(server.url).snapshot()
    assert snap.level is Level.CRIT
    assert "volatile-lru and no key has a TTL" in snap.warnings[0]


async def test_config_renamed_becomes_a_note(
    redis_server_factory: MakeRedis, open_source: Any
) -> None:
    server = redis_server_factory(
        config=('rename-command CONFIG ""', "maxmemory-policy allkeys-lfu")
    )
    source = open_source(server.url)
    snap = await source.snapshot()
    assert snap.policy == "allkeys-lfu" and snap.policy_from == "INFO"
    assert any("CONFIG GET refused (renamed or disabled)" in note for note in snap.notes)
    again = await source.snapshot()  # not asked again every poll; still a note
    assert again.policy == "allkeys-lfu"
    assert any("CONFIG GET refused" in note for note in again.notes)


async def test_config_denied_by_acl_becomes_a_note(
    redis_server_factory: MakeRedis, open_source: Any
) -> None:
    server = redis_server_factory()
    with server.client() as admin:
        admin.acl_setuser(
            "watcher", enabled=True, passwords=["+watch-pw"], keys=["*"],
            commands=["+info", "+ping", "+client"],
        )  # fmt: skip
    snap = await open_source(server.url_for(password="watch-pw", user="watcher")).snapshot()
    assert snap.policy == "noeviction" and snap.policy_from == "INFO"
    assert any("not permitted" in note for note in snap.notes)


async def test_info_denied_is_a_clear_error(
    redis_server_factory: MakeRedis, open_source: Any
) -> None:
    server = redis_server_factory()
    with server.client() as admin:
        admin.acl_setuser("nobody", enabled=True, passwords=["+pw"], keys=["*"], commands=["+ping"])
    with pytest.raises(SourceError) as caught:
        await open_source(server.url_for(password="pw", user="nobody")).snapshot()
    assert "not permitted" in caught.value.message
    assert "+info" in caught.value.hint


async def test_wrong_password_never_shows_it(
    redis_server_auth: RedisServer, open_source: Any
) -> None:
    wrong = "Wr0ng-Pa55word-xyz"
    source = open_source(redis_server_auth.url_for(password=wrong))
    with pytest.raises(SourceError) as caught:
        await source.snapshot()
    error = caught.value
    assert error.message == f"Redis {source.server}: authentication failed (wrong user or password)"
    assert "REDIS_URL" in error.hint
    for text in (error.message, error.hint, str(error), source.server):
        assert wrong not in text and redis_server_auth.password not in text

    with pytest.raises(SourceError, match="authentication required"):
        await open_source(redis_server_auth.url_for(password="")).snapshot()

    ok = await open_source(redis_server_auth.url).snapshot()
    assert redis_server_auth.password not in ok.server


async def test_tls_url(redis_server_tls: RedisServer, open_source: Any) -> None:
    source = open_source(redis_server_tls.tls_url)
    assert source.tls and source.server == f"127.0.0.1:{redis_server_tls.tls_port}/0"
    snap = await source.snapshot()
    assert snap.version and snap.server == source.server


async def test_tls_with_an_unknown_ca_says_so(
    redis_server_tls: RedisServer, open_source: Any
) -> None:
    url = f"rediss://127.0.0.1:{redis_server_tls.tls_port}/0"  # system CAs only
    with pytest.raises(SourceError) as caught:
        await open_source(url).snapshot()
    assert "TLS handshake failed" in caught.value.message
    assert "ssl_ca_certs" in caught.value.hint


async def test_connection_refused_names_server_and_fix(open_source: Any) -> None:
    port = free_port()  # nothing listens there
    source = open_source(f"redis://:hunter2@127.0.0.1:{port}/2")
    with pytest.raises(SourceError) as caught:
        await source.snapshot()
    assert caught.value.message == f"Redis 127.0.0.1:{port}/2: connection refused"
    assert "REDIS_URL" in caught.value.hint and "COCKPIT_REDIS__URL" in caught.value.hint
    assert "hunter2" not in caught.value.message + caught.value.hint


async def test_invalid_url_is_a_source_error_not_a_crash(open_source: Any) -> None:
    source = open_source("redis://:s3cret@127.0.0.1:notaport/0")
    assert source.server == "(invalid REDIS_URL)"
    with pytest.raises(SourceError, match="invalid URL") as caught:
        await source.snapshot()
    assert "s3cret" not in caught.value.message


async def test_stopped_redis_fails_then_recovers_through_the_poller(
    owned_redis_server: RedisServer, open_source: Any
) -> None:
    server = owned_redis_server
    source = open_source(server.url)
    events: list[tuple[str, Any]] = []
    changed = asyncio.Event()

    def on_result(name: str, snap: RedisSnapshot) -> None:
        events.append(("ok", snap))
        changed.set()

    def on_failure(failure: SourceFailure) -> None:
        events.append(("fail", failure))
        changed.set()

    poller = Poller(
        "redis", source.snapshot, interval=0.05, timeout=3.0,
        on_result=on_result, on_failure=on_failure, backoff_base=0.05, backoff_max=0.2,
    )  # fmt: skip

    async def wait_for(kind: str, after: int) -> int:
        async with asyncio.timeout(10):
            while True:
                for index in range(after, len(events)):
                    if events[index][0] == kind:
                        return index
                changed.clear()
                await changed.wait()

    task = asyncio.create_task(poller.run())
    try:
        first_ok = await wait_for("ok", 0)
        await asyncio.to_thread(server.stop)
        fail_at = await wait_for("fail", first_ok)
        failure: SourceFailure = events[fail_at][1]
        # No label: the app's wiring, and the message already names the backend.
        assert failure.message == f"Redis {source.server}: connection refused"
        assert "REDIS_URL" in failure.hint
        assert failure.retry_in is not None and failure.since is not None
        await asyncio.to_thread(server.start)
        back_at = await wait_for("ok", fail_at)
        recovered: RedisSnapshot = events[back_at][1]
        assert recovered.uptime_s is not None and recovered.uptime_s < 60
        # The restart is noticed: no rate from counters of another server process.
        later_at = await wait_for("ok", back_at + 1)
        later: RedisSnapshot = events[later_at][1]
        assert later.evicted_per_sec is not None and later.evicted_per_sec >= 0
        assert poller.failures == 0
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_restart_between_polls_needs_no_failed_poll(
    owned_redis_server: RedisServer, open_source: Any
) -> None:
    """The pooled connection died with the old process: one immediate reconnect hides it."""
    source = open_source(owned_redis_server.url)
    await source.snapshot()
    await source.snapshot()  # the second reading has rates: the next poll only PINGs...
    owned_redis_server.stop()
    owned_redis_server.start()
    snap = await source.snapshot()  # ...on a new connection: a restart? read it all now
    assert source.readings == 3 and source.slow_reads == 2
    assert any("restarted" in note for note in snap.notes)
    assert snap.ops_per_sec is not None  # INFO's instantaneous figure, not a bogus delta


async def test_hung_server_times_out_then_recovers(owned_redis_server: RedisServer) -> None:
    """A frozen server (SIGSTOP) must cost one bounded poll, not a stuck one or a bad reply."""
    source = RedisSource(
        Settings(redis=RedisSettings(url=owned_redis_server.url, connect_timeout=0.3))
    )
    proc = owned_redis_server.proc
    assert proc is not None
    try:
        await source.snapshot()
        proc.send_signal(signal.SIGSTOP)
        started = time.monotonic()
        with pytest.raises(SourceError, match="timed out"):
            await source.snapshot()
        assert time.monotonic() - started < 2
        proc.send_signal(signal.SIGCONT)
        # The half-read replies of the frozen poll were dropped with their connection.
        snap = await source.snapshot()
        assert snap.version and snap.connected_clients >= 1
    finally:
        proc.send_signal(signal.SIGCONT)
        await source.close()


async def test_close_is_idempotent_and_snapshot_reopens(
    redis_server: Any, open_source: Any
) -> None:
    source = open_source(redis_server.url)
    await source.snapshot()
    await source.close()
    await source.close()
    assert (await source.snapshot()).version


# -- how much a poll asks of the server -----------------------------------------------


def command_calls(admin: Any) -> dict[str, int]:
    """Calls per command since the server started, from INFO commandstats.

    `admin` stays connected: a new connection's CLIENT SETINFO is an error reply on
    Redis 7.0, which the source would (rightly) read errorstats again for."""
    stats = admin.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()}


def calls_between(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    grown = {name: n - before.get(name, 0) for name, n in after.items()}
    grown["info"] -= 1  # the INFO commandstats that read `before`
    return {name: n for name, n in grown.items() if n}


async def test_a_poll_asks_only_for_what_moves(owned_redis_server: RedisServer) -> None:
    """A reading is one INFO (memory and stats: one command on Redis 7); a calm server
    is read every READ_EVERY_S and only PINGed in between.  The rest (server, clients,
    persistence, keyspace, errorstats, CONFIG GET) every 30 s, and at once when the app
    asks (after an action), counted by the server itself; clients again as soon as a
    connection comes in."""
    server = owned_redis_server
    source = RedisSource(settings_for(server.url))  # the defaults: 10 s, 30 s
    admin = server.client(0)
    try:
        admin.set("before", "1")
        first = await source.snapshot()  # the first poll reads everything
        assert first.keys == ((0, 1),) and first.policy_from == "CONFIG"
        assert first.version.startswith("7.")  # one INFO takes several sections (7.0+)
        assert first.rtt_ms > 0
        before = command_calls(admin)
        second = await source.snapshot()  # no rates yet after the first: read again
        assert calls_between(before, command_calls(admin)) == {"info": 1}
        assert second.ops_per_sec is not None and second.evicted_per_sec == 0

        before = command_calls(admin)
        polls = [await source.snapshot() for _ in range(5)]  # calm: PING only
        asked = calls_between(before, command_calls(admin))
        assert asked == {"ping": 5}, asked
        assert source.slow_reads == 1 and source.readings == 2
        # What the readings said is still shown; the latency is the PING's.
        last = polls[-1]
        assert last == dataclasses.replace(second, rtt_ms=last.rtt_ms)
        assert last.policy == "noeviction" and last.policy_from == "CONFIG"

        # A new connection: the clients are read again with the next reading.
        source.read_every_s = 0.2
        with server.client(0) as other:
            other.ping()
            await asyncio.sleep(0.25)
            before = command_calls(admin)
            joined = await source.snapshot()
            asked = calls_between(before, command_calls(admin))
        assert asked == {"info": 2}, asked
        assert joined.connected_clients == last.connected_clients + 1
        assert source.slow_reads == 1 and source.readings == 3
        # The PINGs in between were ours, not load (the admin's INFO commandstats are).
        assert joined.ops_per_sec is not None

        # An action changed the server: the app asks for everything at once.
        admin.set("after", "2")
        admin.config_set("maxmemory-policy", "allkeys-lru")
        await asyncio.sleep(0.25)
        changed = await source.snapshot()  # the policy is in INFO memory: every reading
        assert changed.policy == "allkeys-lru" and changed.policy_from == "INFO"
        assert changed.keys == ((0, 1),)  # keyspace is a slow section: not yet
        before = command_calls(admin)
        source.refresh_all()
        fresh = await source.snapshot()
        asked = calls_between(before, command_calls(admin))
        assert asked == {"info": 1, "config|get": 1}, asked
        assert source.slow_reads == 2
        assert fresh.keys == ((0, 2),)
        assert fresh.policy == "allkeys-lru" and fresh.policy_from == "CONFIG"
    finally:
        admin.close()
        await source.close()


async def test_near_the_limit_every_poll_reads(
    redis_server_limited: RedisServer, open_source: Any
) -> None:
    """Memory within 10 points of the warning (80 %): no poll goes without INFO."""
    source = open_source(redis_server_limited.url)
    with redis_server_limited.client() as admin:
        await source.snapshot()
        await source.snapshot()
        before = command_calls(admin)
        for _ in range(3):
            await source.snapshot()
        assert calls_between(before, command_calls(admin)) == {"ping": 3}  # calm
        reached = fill_memory(redis_server_limited, 72)
        assert 70 <= reached < 80
        await asyncio.sleep(0.1)
        source.read_every_s = 0.05  # the next reading sees it...
        near = await source.snapshot()
        assert near.memory_pct is not None and near.memory_pct >= 70
        source.read_every_s = 3600  # ...and from then on every poll reads
        before = command_calls(admin)
        polls = [await source.snapshot() for _ in range(3)]
        assert calls_between(before, command_calls(admin)) == {"info": 3}
        assert all(p.memory_pct and p.memory_pct >= 70 for p in polls)


async def test_slow_sections_come_again_when_due(owned_redis_server: RedisServer) -> None:
    source = RedisSource(settings_for(owned_redis_server.url), slow_every_s=0.3)
    try:
        await source.snapshot()
        await source.snapshot()
        assert source.slow_reads == 1
        with owned_redis_server.client(2) as db2:
            db2.set("new", "key")
        await asyncio.sleep(0.35)
        snap = await source.snapshot()
        assert source.slow_reads == 2
        assert snap.keys == ((2, 1),)
    finally:
        await source.close()
