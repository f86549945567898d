"""Redis on demand: memory breakdown, slow log, clients, and a gentle big-keys sample.

Everything here uses a client of its own (never the polling one), opened with
`open_raw_client`: replies stay bytes and are decoded here with `backslashreplace`, so a
key name that is not UTF-8 is still shown (as \\xNN) and can still be passed back to the
server byte for byte.  A command refused by an ACL or renamed away becomes a sentence in
the result, not an exception; a dead server raises SourceError (password masked).

The big-keys sample walks the keyspace with SCAN in small batches (COUNT ~100), sizes
each batch with one pipelined round of `MEMORY USAGE key SAMPLES n` and `TYPE`, and
sleeps between batches, within a key budget and a time budget: Redis serves other
clients between batches and the event loop never waits on more than one batch.
"""

from __future__ import annotations

import asyncio
import heapq
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from redis import exceptions as rexc
from redis.asyncio import Redis
from redis.asyncio.connection import parse_url
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from cockpit.errors import SourceError
from cockpit.model import (
    RedisBigKey,
    RedisBigKeyScan,
    RedisClientList,
    RedisClientRow,
    RedisMemoryReport,
    RedisSlowEntry,
    RedisSlowlog,
)
from cockpit.sources.redis.client import RedisTarget, describe_url, redis_error
from cockpit.textsafe import clean, one_line

SLOWLOG_ENTRIES = 128
ARG_CHARS = 64  # one argument of a slow-log command, shown
COMMAND_CHARS = 240  # the whole command line, shown
T = TypeVar("T")


# -- connecting ------------------------------------------------------------------------


def url_db(url: str) -> int:
    """The database a URL selects, as redis-py reads it (?db= wins over the path)."""
    try:
        return int(parse_url(url).get("db") or 0)
    except (ValueError, TypeError):
        return 0


def url_with_db(url: str, db: int) -> str:
    """The same URL selecting database `db` (path for redis://, ?db= for unix://)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "db"]
    if parts.scheme == "unix":
        query.append(("db", str(db)))
        return urlunsplit(parts._replace(query=urlencode(query)))
    return urlunsplit(parts._replace(path=f"/{db}", query=urlencode(query)))


def open_raw_client(url: str, timeout: float) -> Redis:
    """A small-pool client that keeps replies as bytes (see the module docstring).

    Same options as the polling client (RESP2, timeouts, one retry on a broken
    connection) so that both behave alike against the same server.
    """
    target = describe_url(url)
    try:
        return Redis.from_url(
            url,
            decode_responses=False,
            protocol=2,
            socket_connect_timeout=timeout,
            socket_timeout=timeout,
            retry=Retry(NoBackoff(), 1, supported_errors=(rexc.ConnectionError,)),
            max_connections=4,
        )
    except (ValueError, TypeError) as exc:
        raise SourceError(f"Redis {target.server}: invalid URL", str(type(exc).__name__)) from exc


def text(value: Any) -> str:
    """A reply element as text; bytes that are not UTF-8 become \\xNN."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    return "" if value is None else str(value)


def refusal(exc: BaseException, command: str) -> str | None:
    """Words for a command the server will not run for us, or None for other errors."""
    if isinstance(exc, rexc.NoPermissionError):
        return f"{command} is not permitted for this Redis user (ACL)"
    if isinstance(exc, rexc.ResponseError):
        said = str(exc).lower()
        if "unknown command" in said or "unknown subcommand" in said:
            return f"{command} is renamed or disabled on this server"
        if "noperm" in said or "no permissions" in said:
            return f"{command} is not permitted for this Redis user (ACL)"
    return None


def _now() -> datetime:
    return datetime.now(UTC)


# -- MEMORY STATS / MEMORY DOCTOR ------------------------------------------------------


def flatten_pairs(reply: Iterable[Any], prefix: str = "") -> list[tuple[str, str]]:
    """MEMORY STATS' flat name/value list, nested db.N maps flattened to db.N.name."""
    items = list(reply)
    pairs: list[tuple[str, str]] = []
    for name, value in zip(items[::2], items[1::2], strict=False):
        label = prefix + text(name)
        if isinstance(value, list):
            pairs.extend(flatten_pairs(value, label + "."))
        else:
            pairs.append((clean(label, 80), clean(text(value), 200)))
    return pairs


async def memory_report(client: Redis) -> RedisMemoryReport:
    stats: tuple[tuple[str, str], ...] = ()
    doctor = ""
    stats_error = doctor_error = ""
    try:
        stats = tuple(flatten_pairs(await client.execute_command("MEMORY", "STATS")))
    except rexc.ResponseError as exc:
        stats_error = refusal(exc, "MEMORY STATS") or f"MEMORY STATS failed: {one_line(str(exc))}"
    try:
        doctor = text(await client.execute_command("MEMORY", "DOCTOR"))
    except rexc.ResponseError as exc:
        doctor_error = (
            refusal(exc, "MEMORY DOCTOR") or f"MEMORY DOCTOR failed: {one_line(str(exc))}"
        )
    return RedisMemoryReport(stats, doctor, _now(), stats_error, doctor_error)


# -- SLOWLOG ---------------------------------------------------------------------------


def shorten_args(args: Iterable[Any]) -> tuple[str, ...]:
    """Each argument neutralised and cut; the whole line bounded too."""
    shown: list[str] = []
    used = 0
    items = list(args)
    for index, arg in enumerate(items):
        piece = one_line(text(arg), ARG_CHARS)
        if used + len(piece) > COMMAND_CHARS:
            shown.append(f"… (+{len(items) - index} more)")
            break
        shown.append(piece)
        used += len(piece) + 1
    return tuple(shown)


def parse_slow_entry(raw: list[Any]) -> RedisSlowEntry:
    return RedisSlowEntry(
        id=int(raw[0]),
        started=datetime.fromtimestamp(int(raw[1]), UTC),
        duration_us=int(raw[2]),
        args=shorten_args(raw[3] if len(raw) > 3 else ()),
        client_addr=clean(text(raw[4]), 60) if len(raw) > 4 else "",
        client_name=clean(text(raw[5]), 60) if len(raw) > 5 else "",
    )


async def slowlog(client: Redis, count: int = SLOWLOG_ENTRIES) -> RedisSlowlog:
    try:
        raw = await client.execute_command("SLOWLOG", "GET", count)
        length = int(await client.execute_command("SLOWLOG", "LEN"))
    except rexc.ResponseError as exc:
        why = refusal(exc, "SLOWLOG") or f"SLOWLOG failed: {one_line(str(exc))}"
        return RedisSlowlog((), 0, _now(), why)
    return RedisSlowlog(tuple(parse_slow_entry(e) for e in raw or ()), length, _now())


# -- CLIENT LIST -----------------------------------------------------------------------


def _int(fields: dict[str, str], name: str, default: int = 0) -> int:
    try:
        return int(fields.get(name, default))
    except ValueError:
        return default


def parse_client_line(line: str) -> RedisClientRow | None:
    """One CLIENT LIST line (space-separated name=value; names cannot hold spaces)."""
    fields = dict(part.split("=", 1) for part in line.split(" ") if "=" in part)
    if "id" not in fields:
        return None
    memory = fields.get("tot-mem", fields.get("omem"))
    return RedisClientRow(
        id=_int(fields, "id"),
        addr=clean(fields.get("addr", ""), 60),
        name=clean(fields.get("name", ""), 80),
        age_s=_int(fields, "age"),
        idle_s=_int(fields, "idle"),
        db=_int(fields, "db"),
        cmd=clean(fields.get("cmd", ""), 60),
        flags=clean(fields.get("flags", ""), 20),
        user=clean(fields.get("user", ""), 60),
        memory=int(memory) if memory is not None and memory.isdigit() else None,
    )


async def client_list(client: Redis) -> RedisClientList:
    try:
        raw = text(await client.execute_command("CLIENT", "LIST"))
    except rexc.ResponseError as exc:
        why = refusal(exc, "CLIENT LIST") or f"CLIENT LIST failed: {one_line(str(exc))}"
        return RedisClientList((), _now(), why)
    rows = [row for line in raw.splitlines() if (row := parse_client_line(line.strip()))]
    rows.sort(key=lambda r: (-r.idle_s, r.id))
    return RedisClientList(tuple(rows), _now())


# -- sizing keys -----------------------------------------------------------------------


async def keyspace(client: Redis) -> dict[int, int]:
    """Key count per database, from INFO keyspace (dbs without keys are absent)."""
    info = await client.info("keyspace")
    counts: dict[int, int] = {}
    for name, fields in info.items():
        if name.startswith("db") and name[2:].isdigit() and isinstance(fields, dict):
            counts[int(name[2:])] = int(fields.get("keys", 0))
    return counts


async def measure(
    client: Redis, keys: list[bytes], samples: int
) -> tuple[list[RedisBigKey], str | None]:
    """MEMORY USAGE and TYPE of `keys` in one round trip; (sized keys, refusal or None)."""
    if not keys:
        return [], None
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.execute_command("MEMORY", "USAGE", key, "SAMPLES", samples)
        pipe.execute_command("TYPE", key)
    replies = await pipe.execute(raise_on_error=False)
    found: list[RedisBigKey] = []
    for key, size, kind in zip(keys, replies[::2], replies[1::2], strict=True):
        for reply, command in ((size, "MEMORY USAGE"), (kind, "TYPE")):
            if isinstance(reply, BaseException):
                why = refusal(reply, command)
                if why is None:
                    raise reply
                return found, why
        kind_text = text(kind)
        if size is None or kind_text == "none":
            continue  # expired or deleted between SCAN and now
        found.append(RedisBigKey(text(key), kind_text, int(size)))
    return found, None


async def sample_size(
    client: Redis, max_keys: int = 200, count: int = 100, samples: int = 5
) -> tuple[int, int, str | None]:
    """(keys sized, their total bytes, refusal) from the first SCAN batches of a db."""
    cursor, sized, total = 0, 0, 0
    while sized < max_keys:
        cursor, keys = await client.scan(cursor=cursor, count=count)
        found, why = await measure(client, list(keys)[: max_keys - sized], samples)
        if why is not None:
            return sized, total, why
        sized += len(found)
        total += sum(k.size or 0 for k in found)
        if cursor == 0:
            break
    return sized, total, None


# -- the big-keys sample ---------------------------------------------------------------


@dataclass(frozen=True)
class ScanLimits:
    count: int = 100  # SCAN COUNT: keys per batch, about
    pause_s: float = 0.02  # between batches: Redis and the UI breathe
    key_budget: int = 20_000
    time_budget_s: float = 30.0
    top_n: int = 30
    samples: int = 5  # MEMORY USAGE SAMPLES: elements looked at in an aggregate


async def scan_big_keys(
    client: Redis,
    db: int,
    limits: ScanLimits = ScanLimits(),
    clock: Callable[[], float] = time.monotonic,
) -> AsyncIterator[RedisBigKeyScan]:
    """Progress after every batch; the last one says why it stopped.  Cancel to stop."""
    started = clock()
    dbsize = int(await client.dbsize())
    heap: list[tuple[int, int, RedisBigKey]] = []  # min-heap of the biggest, by size
    cursor = scanned = batches = sized = seq = 0

    def state(name: str, message: str = "") -> RedisBigKeyScan:
        top = tuple(k for _, _, k in sorted(heap, key=lambda e: (-e[0], e[1])))
        return RedisBigKeyScan(
            db, dbsize, scanned, batches, clock() - started, top, name, message, sized
        )

    yield state("running")
    while True:
        cursor, keys = await client.scan(cursor=cursor, count=limits.count)
        batches += 1
        found, why = await measure(client, list(keys), limits.samples)
        if why is not None:
            yield state("failed", f"{why}: keys cannot be sized")
            return
        scanned += len(keys)
        for key in found:
            size = key.size or 0
            sized += size
            seq += 1
            entry = (size, seq, key)
            if len(heap) < limits.top_n:
                heapq.heappush(heap, entry)
            elif size > heap[0][0]:
                heapq.heapreplace(heap, entry)
        if cursor == 0:
            yield state("complete", f"whole db{db} scanned: {scanned} keys")
            return
        if scanned >= limits.key_budget:
            yield state("key budget", f"stopped at the key budget ({limits.key_budget} keys)")
            return
        if clock() - started >= limits.time_budget_s:
            yield state("time budget", f"stopped at the time budget ({limits.time_budget_s:g} s)")
            return
        yield state("running")
        await asyncio.sleep(limits.pause_s)


# -- the deep views' source ------------------------------------------------------------


class RedisDeepSource:
    """One client of its own for the deep views of one database; `close()` when done."""

    def __init__(
        self, url: str, timeout: float, db: int | None = None, limits: ScanLimits = ScanLimits()
    ) -> None:
        self.target: RedisTarget = describe_url(url)
        self.db = url_db(url) if db is None else db
        self.limits = limits
        self.client = open_raw_client(url_with_db(url, self.db), timeout)

    @property
    def server(self) -> str:
        """host:port/db of the database shown; never the password."""
        return f"{self.target.server.rsplit('/', 1)[0]}/{self.db}"

    async def _read(self, read: Callable[[Redis], Awaitable[T]]) -> T:
        try:
            return await read(self.client)
        except Exception as exc:
            raise redis_error(exc, self.target) from exc

    async def memory(self) -> RedisMemoryReport:
        return await self._read(memory_report)

    async def slowlog(self) -> RedisSlowlog:
        return await self._read(slowlog)

    async def clients(self) -> RedisClientList:
        return await self._read(client_list)

    async def big_keys(self) -> AsyncIterator[RedisBigKeyScan]:
        """The sample within `self.limits`; cancel the consuming task to stop it."""
        try:
            async for progress in scan_big_keys(self.client, self.db, self.limits):
                yield progress
        except (rexc.RedisError, OSError) as exc:
            raise redis_error(exc, self.target) from exc

    async def close(self) -> None:
        try:
            await self.client.aclose()
        except Exception:
            pass
