"""What a Redis reading means for the person on call: a level and warnings in words.

The runbook's incident is "OOM command not allowed when used memory > 'maxmemory'":
with `noeviction` (or a volatile-* policy and no key with a TTL) Redis cannot make room,
so writes fail once memory reaches the limit.  Its remedy is
`CONFIG SET maxmemory-policy allkeys-lru` (and FLUSHDB, with care).
"""

from __future__ import annotations

from dataclasses import dataclass

from cockpit.config import Threshold
from cockpit.model import Level, worst
from cockpit.sources.redis.info import Info, as_int
from cockpit.thresholds import level_for

OOM_ERROR = "OOM command not allowed when used memory > 'maxmemory'"


@dataclass(frozen=True, slots=True)
class Verdict:
    level: Level
    warnings: tuple[str, ...]  # worst first
    notes: tuple[str, ...]
    memory_level: Level = Level.OK


def cannot_evict(policy: str, keys_with_ttl: int) -> bool:
    """True when reaching maxmemory means refusing writes rather than evicting."""
    if policy == "noeviction":
        return True
    return policy.startswith("volatile-") and keys_with_ttl == 0


def memory_verdict(
    used: int,
    maxmemory: int,
    policy: str,
    keys_with_ttl: int,
    threshold: Threshold,
    recommended_policy: str,
    oom_per_sec: float | None = None,
) -> tuple[Level, str | None]:
    """The memory level and its warning.  The wording puts the consequence and the
    runbook's remedy first and the error text last: a squeezed pane cuts the end."""
    remedy = f"runbook: CONFIG SET maxmemory-policy {recommended_policy}"
    pct = 100.0 * used / maxmemory if maxmemory > 0 else None
    at = f" at {pct:.0f}% of maxmemory" if pct is not None else ""
    if oom_per_sec:
        # Seen, not predicted: the server is sending clients OOM errors right now.
        text = f"WRITES FAILING: {oom_per_sec:.1f} OOM errors/s ({policy}{at})"
        return Level.CRIT, f'{text} · {remedy} · "{OOM_ERROR}"'
    if pct is None:
        return Level.OK, None
    level = level_for(pct, threshold)
    if level is Level.OK:
        return Level.OK, None
    if cannot_evict(policy, keys_with_ttl):
        why = policy if policy == "noeviction" else f"{policy} and no key has a TTL"
        lead = "WRITES FAILING" if used >= maxmemory else "writes will fail"
        return Level.CRIT, f'{lead}: {why}{at} · {remedy} · "{OOM_ERROR}"'
    return level, f"memory{at} ({policy} evicts to make room)"


def assess(
    info: Info,
    *,
    used: int,
    maxmemory: int,
    policy: str,
    keys_with_ttl: int,
    rejected_per_sec: float | None,
    restarted: bool,
    oom_per_sec: float | None = None,
    threshold: Threshold,
    recommended_policy: str,
) -> Verdict:
    found: list[tuple[Level, str]] = []
    notes: list[str] = []
    memory_level, text = memory_verdict(
        used, maxmemory, policy, keys_with_ttl, threshold, recommended_policy, oom_per_sec
    )
    if text:
        found.append((memory_level, text))
    if maxmemory <= 0:
        notes.append("no maxmemory: memory grows until the pod's limit (OOMKilled)")
    if info.get("loading") == "1":
        found.append((Level.WARN, "loading its dataset: commands wait until it is done"))
    if info.get("rdb_last_bgsave_status", "ok") != "ok":
        found.append(
            (Level.WARN, "last RDB save failed: writes may be refused (MISCONF); check disk")
        )
    if info.get("aof_enabled") == "1" and info.get("aof_last_write_status", "ok") != "ok":
        found.append((Level.WARN, "AOF write failed: check the disk"))
    if rejected_per_sec:
        limit = as_int(info, "maxclients")
        at = f" ({limit})" if limit else ""
        found.append(
            (Level.WARN, f"rejecting {rejected_per_sec:.1f} connections/s: maxclients{at} reached")
        )
    if restarted:
        uptime = as_int(info, "uptime_in_seconds")
        ago = f" {uptime} s ago" if uptime is not None else ""
        notes.append(f"server restarted{ago}: rates start again")
    found.sort(key=lambda item: -item[0])
    return Verdict(
        level=worst(lv for lv, _ in found),
        warnings=tuple(text for _, text in found),
        notes=tuple(notes),
        memory_level=memory_level,
    )
