"""Redis: memory against maxmemory, the eviction policy, rates, clients, keys, persistence.

One poll is one pipelined round trip (the INFO sections it needs, not `INFO all`, and
`CONFIG GET maxmemory-policy`) plus a timed PING.  One client is kept; after a failure
the client reconnects on the next poll, so a restarted Redis recovers by itself while
the app's Poller backs off.  A refused CONFIG (renamed command, ACL) becomes a note and
the policy is read from INFO instead.

Remediation (CONFIG SET maxmemory-policy, FLUSHDB) and on-demand detail (MEMORY STATS,
SLOWLOG, CLIENT LIST, a SCAN sample of big keys) belong in their own modules with their
own client from `client.open_client`, so that a slow SCAN never delays a poll;
`RedisSource.target` tells them where to connect and which secrets to mask.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from redis import exceptions as rexc
from redis.asyncio import Redis

from cockpit.config import Settings
from cockpit.errors import SourceError
from cockpit.model import RedisSnapshot
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

# errorstats counts the "OOM command not allowed" replies clients actually got (6.2+).
SECTIONS = ("server", "clients", "memory", "stats", "persistence", "keyspace", "errorstats")
# After CONFIG GET is refused, ask again this rarely: an ACL denial is logged by the
# server (ACL LOG), and a poll every 2 s must not flood it.
CONFIG_RETRY_S = 300.0


def _raw(response: object, **_: object) -> object:
    return response


class RedisSource:
    """`await snapshot()` on the app's Poller; `await close()` when the app exits."""

    name = "redis"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.target: RedisTarget = describe_url(settings.effective_redis_url())
        self._client: Redis | None = None
        self._prev: Counters | None = None
        self._config_refused: str | None = None  # why CONFIG GET failed, in words
        self._config_refused_at = 0.0
        self._own_commands = 0  # commands the previous poll sent, for ops/s

    @property
    def server(self) -> str:
        """host:port/db of the configured server; never the password."""
        return self.target.server

    @property
    def tls(self) -> bool:
        return self.target.tls

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                await client.aclose()
            except Exception:
                pass

    async def snapshot(self) -> RedisSnapshot:
        client = self._ensure_client()
        try:
            info, config_policy = await self._read(client)
            started = time.perf_counter()
            await client.ping()
            rtt_ms = (time.perf_counter() - started) * 1000
        except SourceError:
            raise
        except (rexc.ConnectionError, rexc.TimeoutError, OSError) as exc:
            # Drop every pooled connection: a half-read reply must never be reused.
            await self._reset_pool(client)
            raise redis_error(exc, self.target) from exc
        except Exception as exc:
            raise redis_error(exc, self.target) from exc
        return self._build(info, config_policy, rtt_ms)

    # -- talking to the server ----------------------------------------------------------

    def _ensure_client(self) -> Redis:
        if self._client is None:
            self._client = open_client(self.target.url, self.settings.redis.connect_timeout)
            # Keep INFO as text: redis-py's parser guesses types ("7.2" -> 7.2).
            self._client.set_response_callback("INFO", _raw)
        return self._client

    async def _reset_pool(self, client: Redis) -> None:
        try:
            await client.connection_pool.disconnect()
        except Exception:
            pass

    def _ask_config(self) -> bool:
        if self._config_refused is None:
            return True
        return time.monotonic() - self._config_refused_at >= CONFIG_RETRY_S

    async def _read(self, client: Redis) -> tuple[Info, str | None]:
        ask_config = self._ask_config()
        pipe = client.pipeline(transaction=False)
        for section in SECTIONS:
            pipe.execute_command("INFO", section)
        if ask_config:
            pipe.execute_command("CONFIG", "GET", "maxmemory-policy")
        replies = await pipe.execute(raise_on_error=False)
        self._own_commands = len(replies) + 1  # and the PING that follows
        texts = []
        for reply in replies[: len(SECTIONS)]:
            if isinstance(reply, BaseException):
                raise reply
            texts.append(reply if isinstance(reply, str) else str(reply))
        policy = self._config_policy(replies[-1]) if ask_config else None
        return parse_info(*texts), policy

    def _config_policy(self, reply: object) -> str | None:
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
            uptime_s=as_int(info, "uptime_in_seconds"),
            memory_level=verdict.memory_level,
            policy_from="CONFIG" if config_policy else "INFO",
            changes_since_save=as_int(info, "rdb_changes_since_last_save"),
            last_save_ok=None if bgsave is None else bgsave == "ok",
        )
