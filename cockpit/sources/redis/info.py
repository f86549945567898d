"""Reading `INFO` text, and rates from the deltas between two readings.

INFO is parsed here rather than by redis-py, whose parser guesses types (a version
"7.2" becomes the float 7.2); every value stays a string until a field asks for a type.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

Info = dict[str, str]

_DB_KEY = re.compile(r"db(\d+)")


def parse_info(*texts: str) -> Info:
    """`key:value` lines of one or more INFO replies; `# Section` lines are skipped."""
    info: Info = {}
    for text in texts:
        for line in text.splitlines():
            if not line or line.startswith("#") or ":" not in line:
                continue
            key, value = line.split(":", 1)
            info[key.strip()] = value.strip()
    return info


def as_int(info: Info, key: str) -> int | None:
    try:
        return int(info[key])
    except (KeyError, ValueError):
        return None


def as_float(info: Info, key: str) -> float | None:
    try:
        return float(info[key])
    except (KeyError, ValueError):
        return None


def as_time(info: Info, key: str) -> datetime | None:
    seconds = as_int(info, key)
    if not seconds or seconds < 0:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def keyspace(info: Info) -> tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]:
    """((db, keys), ...) and ((db, keys with a TTL), ...) from `db0:keys=5,expires=1,...`."""
    keys: list[tuple[int, int]] = []
    expires: list[tuple[int, int]] = []
    for name, value in info.items():
        match = _DB_KEY.fullmatch(name)
        if not match:
            continue
        fields = dict(item.split("=", 1) for item in value.split(",") if "=" in item)
        db = int(match.group(1))
        try:
            keys.append((db, int(fields.get("keys", "0"))))
            expires.append((db, int(fields.get("expires", "0"))))
        except ValueError:
            continue
    return tuple(sorted(keys)), tuple(sorted(expires))


def error_count(info: Info, prefix: str) -> int:
    """`errorstat_OOM:count=3` -> 3 (0 when absent: no such error yet, or Redis < 6.2)."""
    value = info.get(f"errorstat_{prefix}", "")
    for item in value.split(","):
        name, _, number = item.partition("=")
        if name == "count" and number.isdigit():
            return int(number)
    return 0


@dataclass(frozen=True, slots=True)
class Counters:
    """The monotonically growing INFO counters at one moment (monotonic clock)."""

    at: float
    run_id: str
    commands: int
    hits: int
    misses: int
    evicted: int
    expired: int
    rejected: int
    oom: int = 0  # OOM error replies (INFO errorstats, Redis 6.2+)

    @classmethod
    def read(cls, info: Info, at: float) -> Counters:
        def n(key: str) -> int:
            return as_int(info, key) or 0

        return cls(
            at=at,
            run_id=info.get("run_id", ""),
            commands=n("total_commands_processed"),
            hits=n("keyspace_hits"),
            misses=n("keyspace_misses"),
            evicted=n("evicted_keys"),
            expired=n("expired_keys"),
            rejected=n("rejected_connections"),
            oom=error_count(info, "OOM"),
        )


@dataclass(frozen=True, slots=True)
class Rates:
    ops: float | None = None
    hit_ratio: float | None = None  # over the interval; None when nothing was looked up
    evicted: float | None = None
    expired: float | None = None
    rejected: float | None = None
    oom: float | None = None
    restarted: bool = False  # the server is not the one of the previous reading


def rates(prev: Counters | None, cur: Counters, own_commands: int = 0) -> Rates:
    """Per-second rates between two readings.

    `own_commands` is how many commands the poller itself sent in between (they show up
    in total_commands_processed, and an idle server should read 0 ops/s).

    A restart (new run_id) makes the previous reading meaningless: no rates this time.
    A counter that went backwards without a restart (CONFIG RESETSTAT) restarted from
    zero in between, so its increase is its new value (as Prometheus treats resets).
    """
    if prev is None:
        return Rates()
    if prev.run_id and cur.run_id and prev.run_id != cur.run_id:
        return Rates(restarted=True)
    elapsed = cur.at - prev.at
    if elapsed <= 0:
        return Rates()

    def grew(before: int, after: int) -> int:
        return after - before if after >= before else after

    hits = grew(prev.hits, cur.hits)
    misses = grew(prev.misses, cur.misses)
    return Rates(
        ops=max(0, grew(prev.commands, cur.commands) - own_commands) / elapsed,
        hit_ratio=hits / (hits + misses) if hits + misses else None,
        evicted=grew(prev.evicted, cur.evicted) / elapsed,
        expired=grew(prev.expired, cur.expired) / elapsed,
        rejected=grew(prev.rejected, cur.rejected) / elapsed,
        oom=grew(prev.oom, cur.oom) / elapsed,
    )


def lifetime_hit_ratio(info: Info) -> float | None:
    hits = as_int(info, "keyspace_hits") or 0
    misses = as_int(info, "keyspace_misses") or 0
    return hits / (hits + misses) if hits + misses else None
