"""Redis: memory against maxmemory, the eviction policy, rates, clients, keys, persistence.

A poll is one round trip.  INFO is the server's dearest read, section by section (on
a 2-core VM, at a 2 s interval, `INFO memory` costs the server some 35-60 µs, `INFO
stats` 25-40 µs, even an empty section 13 µs: cold caches, not the work), so a
reading asks only for what moves: `INFO memory stats` (memory against maxmemory and
the policy, the counters the rates come from), timed for the latency.  A calm server
is read every READ_EVERY_S and only PINGed in between (cadence.py says when the next
poll must read again: memory near the warning, evictions, no rates yet...).  The rest
(version, run id and uptime; the clients; the last save; keys per database; the error
counts; `CONFIG GET maxmemory-policy`) is read every SLOW_EVERY_S, at the first poll,
after a reconnect (a restart: the client sees its connection made anew), while the
server loads its dataset, and when the app asks (`refresh_all()`, after a Redis action
or a refresh key).  The error counts are read again as soon as
`total_error_replies` moves, so the OOM rate is never late.  Redis 7 takes several
sections in one INFO; older servers get one INFO per section.

One client is kept; after a failure the client reconnects on the next poll, so a
restarted Redis recovers by itself while the app's Poller backs off.  A refused CONFIG
(renamed command, ACL) becomes a note and the policy is read from INFO instead.

Remediation (CONFIG SET maxmemory-policy, FLUSHDB) and on-demand detail (MEMORY STATS,
SLOWLOG, CLIENT LIST, a SCAN sample of big keys) belong in their own modules with their
own client from `client.open_client`, so that a slow SCAN never delays a poll;
`RedisSource.target` tells them where to connect and which secrets to mask.
"""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, datetime

from redis import exceptions as rexc
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.asyncio.connection import AbstractConnection

from cockpit.config import Settings
from cockpit.errors import SourceError
from cockpit.model import RedisSnapshot
from cockpit.sources.redis.cadence import READ_EVERY_S, due, watch_closely
from cockpit.sources.redis.client import RedisTarget, describe_url, open_client, redis_error
from cockpit.sources.redis.health import assess
from cockpit.sources.redis.info import (
    Counters,
    Info,
    as_float,
    as_int,
    as_time,
    keyspace,
    lifetime_hit_ratio,
    parse_info,
    rates,
)
from cockpit.textsafe import one_line

# Every poll: what moves between two polls.
FAST = ("memory", "stats")
# Now and then (see the module's docstring).  errorstats counts the "OOM command not
# allowed" replies clients actually got (6.2+): read again as soon as
# total_error_replies (INFO stats) moves; clients as soon as total_connections_received
# does (a new connection: the count may be nearing maxclients).
SLOW = ("server", "clients", "persistence", "keyspace", "errorstats")
# A fast poll reads these again when the counter of INFO stats beside them moved.
ON_CHANGE = (("total_error_replies", "errorstats"), ("total_connections_received", "clients"))
SLOW_EVERY_S = 30.0
# After CONFIG GET is refused, ask again this rarely: an ACL denial is logged by the
# server (ACL LOG), and a poll every 2 s must not flood it.
CONFIG_RETRY_S = 300.0


def _raw(response: object, **_: object) -> object:
    return response


def _major(version: str) -> int:
    head = version.split(".", 1)[0]
    return int(head) if head.isdigit() else 0


class RedisSource:
    """`await snapshot()` on the app's Poller; `await close()` when the app exits."""

    name = "redis"

    def __init__(
        self,
        settings: Settings,
        *,
        slow_every_s: float = SLOW_EVERY_S,
        read_every_s: float = READ_EVERY_S,
    ) -> None:
        self.settings = settings
        self.slow_every_s = slow_every_s
        self.read_every_s = read_every_s
        self.target: RedisTarget = describe_url(settings.effective_redis_url())
        self._client: Redis | None = None
        self._prev: Counters | None = None
        self._config_refused: str | None = None  # why CONFIG GET failed, in words
        self._config_refused_at = 0.0
        self._sent_after_info = 0  # commands sent since the last INFO ran
        self._own_commands = 0  # of them, before this reading's INFO: not load, for ops/s
        # The slow sections as last read, when (monotonic), and what CONFIG GET said.
        self._slow: Info = {}
        self._slow_at: float | None = None
        self._config_policy: str | None = None
        self._slow_wanted = True  # the next poll reads them (first poll, refresh_all)
        self._multi = False  # the server takes several sections in one INFO (7.0+)
        # Connections made (the client's handshake counts them) and at the last reading:
        # a new one means the old one broke, most likely with a restart.
        self._connects = 0
        self._connects_read = 0
        self._last: RedisSnapshot | None = None  # the last reading, what a calm poll shows
        self._read_at = 0.0  # monotonic, of the last reading
        self._closely = True  # the next poll reads INFO (cadence.watch_closely)
        self._moved: dict[str, int | None] = {}  # the ON_CHANGE counters at the last poll
        self.slow_reads = 0  # how many polls read the slow sections (tests, the bench)
        self.readings = 0  # how many polls read INFO (tests, the bench)

    def refresh_all(self) -> None:
        """Read everything at the next poll (after an action changed the server)."""
        self._slow_wanted = True

    @property
    def server(self) -> str:
        """host:port/db of the configured server; never the password."""
        return self.target.server

    @property
    def tls(self) -> bool:
        return self.target.tls

    async def close(self) -> None:
        self._slow_wanted = True
        client, self._client = self._client, None
        if client is not None:
            try:
                await client.aclose()
            except Exception:
                pass

    async def snapshot(self) -> RedisSnapshot:
        client = self._ensure_client()
        try:
            if not self._read_due():
                connects = self._connects
                started = time.perf_counter()
                await client.ping()
                rtt_ms = (time.perf_counter() - started) * 1000
                self._sent_after_info += 1
                if self._connects == connects and self._last is not None:
                    return dataclasses.replace(self._last, rtt_ms=rtt_ms)
                self._slow_wanted = True  # a new connection: a restart? read it all, now
            info, config_policy, rtt_ms = await self._read(client)
        except BaseException as exc:
            # Whatever answers next is read in full, one INFO per section until its
            # version says it takes several (a Redis 6 behind the same address).
            self._slow_wanted = True
            self._multi = False
            if isinstance(exc, SourceError):
                raise
            if isinstance(exc, (rexc.ConnectionError, rexc.TimeoutError, OSError)):
                # Drop every pooled connection: a half-read reply must never be reused.
                await self._reset_pool(client)
            if isinstance(exc, Exception):
                raise redis_error(exc, self.target) from exc
            raise
        previous = self._last
        snap = self._build(info, config_policy, rtt_ms)
        self._last = snap
        self._read_at = time.monotonic()
        self.readings += 1
        warn = self.settings.thresholds.redis_memory_pct.warn
        self._closely = watch_closely(snap, warn, previous.memory_pct if previous else None)
        return snap

    # -- talking to the server ----------------------------------------------------------

    def _ensure_client(self) -> Redis:
        if self._client is None:
            self._client = open_client(
                self.target.url, self.settings.redis.connect_timeout, self._on_connect
            )
            # Keep INFO as text: redis-py's parser guesses types ("7.2" -> 7.2).
            self._client.set_response_callback("INFO", _raw)
        return self._client

    async def _on_connect(self, connection: AbstractConnection) -> None:
        await connection.on_connect()  # the client's own handshake (AUTH, SELECT)
        self._connects += 1

    async def _reset_pool(self, client: Redis) -> None:
        try:
            await client.connection_pool.disconnect()
        except Exception:
            pass

    def _ask_config(self) -> bool:
        if self._config_refused is None:
            return True
        return time.monotonic() - self._config_refused_at >= CONFIG_RETRY_S

    def _slow_due(self) -> bool:
        if self._slow_wanted or self._slow_at is None:
            return True
        if self._slow.get("loading") == "1":  # loading: the next reading changes it
            return True
        return due(time.monotonic() - self._slow_at, self.slow_every_s)

    def _read_due(self) -> bool:
        if self._closely or self._last is None or self._slow_due():
            return True
        return due(time.monotonic() - self._read_at, self.read_every_s)

    def _queue_info(self, pipe: Pipeline, sections: tuple[str, ...]) -> int:
        """INFO for these sections (one command on Redis 7+); returns how many."""
        if self._multi:
            pipe.execute_command("INFO", *sections)
            return 1
        for section in sections:
            pipe.execute_command("INFO", section)
        return len(sections)

    async def _read(self, client: Redis) -> tuple[Info, str | None, float]:
        """INFO (and what else is due) in one round trip, whose time is the latency."""
        slow = self._slow_due()
        pipe = client.pipeline(transaction=False)
        infos = self._queue_info(pipe, FAST + SLOW if slow else FAST)
        ask_config = slow and self._ask_config()
        if ask_config:
            pipe.execute_command("CONFIG", "GET", "maxmemory-policy")
        connects = self._connects
        started = time.perf_counter()
        replies = await pipe.execute(raise_on_error=False)
        rtt_ms = (time.perf_counter() - started) * 1000
        # What the server counted between the previous INFO and this one came from us
        # (INFO counts itself after it ran): the rates leave it out.
        self._own_commands = self._sent_after_info
        sent = len(replies)
        if self._connects != connects:  # that round trip included connecting: time a PING
            started = time.perf_counter()
            await client.ping()
            rtt_ms = (time.perf_counter() - started) * 1000
            sent += 1
        info = parse_info(*self._texts(replies[:infos]))
        restarted = self._counters_went_back(info)
        if self._connects_read and self._connects != self._connects_read:
            restarted = True
        self._connects_read = self._connects
        if slow:
            self._keep_slow(info, self._config_policy_from(replies[-1]) if ask_config else None)
        elif restarted:
            # Another process, or another connection: read it all again, now.
            sent += await self._read_slow(client, SLOW, with_config=self._ask_config())
        elif moved := self._sections_moved(info):
            sent += await self._read_slow(client, moved, with_config=False)
        self._moved = {counter: as_int(info, counter) for counter, _ in ON_CHANGE}
        self._sent_after_info = sent
        merged = {**self._slow, **info}
        return merged, self._policy(info), rtt_ms

    async def _read_slow(
        self, client: Redis, sections: tuple[str, ...], *, with_config: bool
    ) -> int:
        pipe = client.pipeline(transaction=False)
        infos = self._queue_info(pipe, sections)
        if with_config:
            pipe.execute_command("CONFIG", "GET", "maxmemory-policy")
        replies = await pipe.execute(raise_on_error=False)
        info = parse_info(*self._texts(replies[:infos]))
        if sections != SLOW:  # errorstats and/or clients, anew
            kept = self._slow
            if "errorstats" in sections:
                kept = {k: v for k, v in kept.items() if not k.startswith("errorstat_")}
            self._slow = {**kept, **info}
        else:
            config = self._config_policy_from(replies[-1]) if with_config else None
            self._keep_slow(info, config)
        return len(replies)

    @staticmethod
    def _texts(replies: list[object]) -> list[str]:
        texts = []
        for reply in replies:
            if isinstance(reply, BaseException):
                raise reply
            texts.append(reply if isinstance(reply, str) else str(reply))
        return texts

    def _keep_slow(self, info: Info, config_policy: str | None) -> None:
        self._slow = info  # the fast sections in it are read anew (and win) every poll
        self._slow_at = time.monotonic()
        self._slow_wanted = False
        self.slow_reads += 1
        if config_policy is not None or self._config_refused is not None:
            self._config_policy = config_policy
        self._multi = _major(info.get("redis_version", "")) >= 7

    def _counters_went_back(self, info: Info) -> bool:
        """A restart (or CONFIG RESETSTAT) between two polls: the counters start over."""
        prev = self._prev
        if prev is None:
            return False
        commands = as_int(info, "total_commands_processed")
        return commands is not None and commands < prev.commands

    def _sections_moved(self, info: Info) -> tuple[str, ...]:
        """The sections to read again because their counter in INFO stats moved."""
        moved = []
        for counter, section in ON_CHANGE:
            now, before = as_int(info, counter), self._moved.get(counter)
            if now is not None and before is not None and now != before:
                moved.append(section)
        return tuple(moved)

    def _policy(self, info: Info) -> str | None:
        """CONFIG GET's answer while INFO (read every poll) still agrees with it."""
        config = self._config_policy
        if config is None:
            return None
        now = info.get("maxmemory_policy")
        return config if now is None or now == config else None

    def _config_policy_from(self, reply: object) -> str | None:
        if isinstance(reply, rexc.NoPermissionError):
            self._refuse("not permitted for this user")
            return None
        if isinstance(reply, rexc.ResponseError):
            text = str(reply).lower()
            words = "renamed or disabled" if "unknown command" in text else one_line(text, 80)
            self._refuse(words)
            return None
        if isinstance(reply, BaseException):
            raise reply
        value = None
        if isinstance(reply, dict):
            value = reply.get("maxmemory-policy")
        elif isinstance(reply, (list, tuple)) and len(reply) >= 2:
            value = reply[1]
        self._config_refused = None
        return str(value) if value is not None else None

    def _refuse(self, why: str) -> None:
        self._config_refused = why
        self._config_refused_at = time.monotonic()

    # -- turning INFO into a snapshot ---------------------------------------------------

    def _build(self, info: Info, config_policy: str | None, rtt_ms: float) -> RedisSnapshot:
        now = time.monotonic()
        counters = Counters.read(info, now)
        rate = rates(self._prev, counters, self._own_commands)
        self._prev = counters
        keys, expires = keyspace(info)
        used = as_int(info, "used_memory") or 0
        maxmemory = as_int(info, "maxmemory") or 0
        policy = config_policy or info.get("maxmemory_policy", "") or "?"
        notes = []
        if self._config_refused is not None:
            notes.append(f"CONFIG GET refused ({self._config_refused}): policy read from INFO")
        verdict = assess(
            info,
            used=used,
            maxmemory=maxmemory,
            policy=policy,
            keys_with_ttl=sum(n for _, n in expires),
            rejected_per_sec=rate.rejected,
            restarted=rate.restarted,
            oom_per_sec=rate.oom,
            threshold=self.settings.thresholds.redis_memory_pct,
            recommended_policy=self.settings.redis.recommended_policy,
        )
        bgsave = info.get("rdb_last_bgsave_status")
        fork_usec = as_int(info, "latest_fork_usec")
        uptime = as_int(info, "uptime_in_seconds")
        if uptime is not None and self._slow_at is not None:  # read with the slow sections
            uptime += int(now - self._slow_at)
        return RedisSnapshot(
            server=self.server,
            version=info.get("redis_version", "?"),
            used_memory=used,
            maxmemory=maxmemory,
            policy=policy,
            fragmentation=as_float(info, "mem_fragmentation_ratio"),
            hit_ratio=rate.hit_ratio,
            # The first reading (and the first after a restart) has no delta yet.
            ops_per_sec=rate.ops
            if rate.ops is not None
            else as_float(info, "instantaneous_ops_per_sec"),
            evicted_per_sec=rate.evicted,
            connected_clients=as_int(info, "connected_clients") or 0,
            blocked_clients=as_int(info, "blocked_clients") or 0,
            rejected_connections=counters.rejected,
            keys=keys,
            last_save=as_time(info, "rdb_last_save_time"),
            last_fork_usec=fork_usec or None,  # 0: no fork yet
            rtt_ms=rtt_ms,
            warnings=verdict.warnings,
            taken_at=datetime.now(UTC),
            level=verdict.level,
            expired_per_sec=rate.expired,
            rejected_per_sec=rate.rejected,
            oom_errors=counters.oom,
            oom_per_sec=rate.oom,
            notes=tuple(notes) + verdict.notes,
            expires=expires,
            hit_ratio_total=lifetime_hit_ratio(info),
            used_memory_peak=as_int(info, "used_memory_peak"),
            maxclients=as_int(info, "maxclients"),
            uptime_s=uptime,
            memory_level=verdict.memory_level,
            policy_from="CONFIG" if config_policy else "INFO",
            changes_since_save=as_int(info, "rdb_changes_since_last_save"),
            last_save_ok=None if bgsave is None else bgsave == "ok",
        )
