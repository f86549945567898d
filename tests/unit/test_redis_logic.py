"""The Redis source's pure parts: INFO parsing, rates from deltas, verdicts, URLs."""

from __future__ import annotations

import pytest

from cockpit.config import Threshold
from cockpit.model import Level
from cockpit.sources.redis.client import describe_url
from cockpit.sources.redis.health import OOM_ERROR, assess, cannot_evict
from cockpit.sources.redis.info import Counters, error_count, keyspace, parse_info, rates

INFO = """# Server\r
redis_version:7.2\r
run_id:abc\r
uptime_in_seconds:12\r
\r
# Keyspace\r
db0:keys=10,expires=2,avg_ttl=0\r
db12:keys=3,expires=0,avg_ttl=0\r
"""
TH = Threshold(warn=80, crit=95)


def test_error_count() -> None:
    info = parse_info("errorstat_OOM:count=7\nerrorstat_ERR:count=2\n")
    assert error_count(info, "OOM") == 7 and error_count(info, "NOPERM") == 0


def test_parse_info_keeps_strings_and_reads_keyspace() -> None:
    info = parse_info(INFO, "# Memory\nused_memory:100\nodd:a:b\n")
    assert info["redis_version"] == "7.2"  # not the float 7.2
    assert info["odd"] == "a:b"
    assert keyspace(info) == (((0, 10), (12, 3)), ((0, 2), (12, 0)))


def counters(at: float, run_id: str = "a", **values: int) -> Counters:
    base = dict(commands=0, hits=0, misses=0, evicted=0, expired=0, rejected=0)
    return Counters(at=at, run_id=run_id, **{**base, **values})


def test_rates_from_deltas_leave_out_own_commands() -> None:
    prev = counters(10.0, commands=100, hits=10, misses=10, evicted=5)
    cur = counters(12.0, commands=208, hits=13, misses=11, evicted=9)
    got = rates(prev, cur, own_commands=8)
    assert got.ops == 50 and got.evicted == 2 and got.hit_ratio == 0.75
    assert rates(None, cur).ops is None


def test_counter_reset_is_clamped_and_restart_gives_no_rates() -> None:
    prev = counters(10.0, commands=500, evicted=50, rejected=7)
    reset = counters(11.0, commands=20, evicted=0, rejected=1)  # CONFIG RESETSTAT
    got = rates(prev, reset)  # counted from zero again: never negative
    assert got.ops == 20 and got.evicted == 0 and got.rejected == 1
    restarted = rates(prev, counters(11.0, run_id="b", commands=5))
    assert restarted.restarted and restarted.ops is None and restarted.evicted is None


@pytest.mark.parametrize(
    ("policy", "ttl_keys", "expected"),
    [
        ("noeviction", 5, True),
        ("volatile-lru", 0, True),
        ("volatile-ttl", 3, False),
        ("allkeys-lru", 0, False),
    ],
)
def test_cannot_evict(policy: str, ttl_keys: int, expected: bool) -> None:
    assert cannot_evict(policy, ttl_keys) is expected


def verdict(info: dict[str, str] | None = None, **kw: object):  # type: ignore[no-untyped-def]
    args = dict(
        used=0, maxmemory=0, policy="allkeys-lru", keys_with_ttl=0, rejected_per_sec=0.0,
        restarted=False, threshold=TH, recommended_policy="allkeys-lru",
    )  # fmt: skip
    args.update(kw)
    return assess(info or {}, **args)  # type: ignore[arg-type]


def test_memory_levels_follow_threshold_and_policy() -> None:
    assert verdict(used=50, maxmemory=100).level is Level.OK
    assert verdict(used=85, maxmemory=100).level is Level.WARN
    assert verdict(used=96, maxmemory=100).level is Level.CRIT
    loud = verdict(used=85, maxmemory=100, policy="noeviction")
    assert loud.level is Level.CRIT and loud.memory_level is Level.CRIT
    assert OOM_ERROR in loud.warnings[0] and "allkeys-lru" in loud.warnings[0]
    failing = verdict(used=100, maxmemory=100, policy="noeviction")
    assert failing.warnings[0].startswith("WRITES FAILING: noeviction at 100%")
    # Seen rather than predicted: OOM replies counted by INFO errorstats.
    seen = verdict(used=90, maxmemory=100, policy="noeviction", oom_per_sec=2.5)
    assert seen.warnings[0].startswith("WRITES FAILING: 2.5 OOM errors/s (noeviction at 90%")
    # The remedy comes before the long error text, which a small pane may cut.
    first = loud.warnings[0]
    assert first.index("CONFIG SET") < first.index(OOM_ERROR)
    # No limit: nothing to compare against, only a note.
    none = verdict(used=10**12, maxmemory=0, policy="noeviction")
    assert none.level is Level.OK and "no maxmemory" in none.notes[0]


def test_other_warnings_and_notes() -> None:
    got = verdict(
        {"rdb_last_bgsave_status": "err", "loading": "1", "maxclients": "10",
         "uptime_in_seconds": "3"},
        rejected_per_sec=2.0, restarted=True, used=1, maxmemory=100,
    )  # fmt: skip
    assert got.level is Level.WARN
    text = " | ".join(got.warnings)
    assert "RDB save failed" in text and "loading" in text and "maxclients (10)" in text
    assert any("restarted 3 s ago" in note for note in got.notes)


@pytest.mark.parametrize(
    ("url", "server", "tls"),
    [
        ("redis://127.0.0.1:6379/0", "127.0.0.1:6379/0", False),
        ("redis://:p%40ss@cache:6380/4", "cache:6380/4", False),
        ("rediss://user:pw@[::1]/", "[::1]:6379/0", True),
        ("redis://host?db=3", "host:6379/3", False),
        ("unix:///run/redis.sock?db=2", "/run/redis.sock/2", False),
        ("redis://h:bad/0", "(invalid REDIS_URL)", False),
    ],
)
def test_describe_url_never_shows_the_password(url: str, server: str, tls: bool) -> None:
    target = describe_url(url)
    assert (target.server, target.tls) == (server, tls)
    for secret in target.secrets:
        assert secret not in target.server


def test_describe_url_collects_raw_and_decoded_password() -> None:
    assert set(describe_url("redis://:p%40ss@h/0").secrets) == {"p%40ss", "p@ss"}
