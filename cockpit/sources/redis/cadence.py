"""How often a poll reads INFO: every poll while memory or the counters move toward
trouble, every READ_EVERY_S while the server is calm.

Any INFO costs a Redis server 15-60 µs at a 2 s interval (cold caches, not the work:
back to back it costs a fraction of that), a PING 1 µs.  Issue 12 budgets 20 µs of
server time per poll, so a calm server is read every READ_EVERY_S and only PINGed in
between (its latency, and a restart: the PING's connection is a new one).  A reading
that shows memory near the warning, or climbing fast, evictions, refused connections
or OOM errors, or that has no rates yet (first reading, restart) asks for the next
poll to read again, so an alarm is never later than with a read every poll.
"""

from __future__ import annotations

from cockpit.model import Level, RedisSnapshot

READ_EVERY_S = 10.0
# A reading is due when it is this close to its time (at most a tenth of the period):
# polls land a little early or late, and a 10 s period must not become 12 s.
SLACK_S = 0.5
# Read every poll from this many points of maxmemory below the warning threshold...
NEAR_POINTS = 10.0
# ...and while memory climbed at least this many points since the previous reading.
CLIMB_POINTS = 2.0


def due(elapsed: float, every: float) -> bool:
    return elapsed >= every - min(SLACK_S, every / 10)


def watch_closely(snap: RedisSnapshot, warn_pct: float, previous_pct: float | None) -> bool:
    """Whether the poll after this reading must read INFO again."""
    if snap.evicted_per_sec is None:  # no rates yet: the first reading, or a restart
        return True
    if snap.memory_level is not Level.OK:
        return True
    if any(rate for rate in (snap.evicted_per_sec, snap.rejected_per_sec, snap.oom_per_sec)):
        return True
    pct = snap.memory_pct
    if pct is None:  # no maxmemory: nothing to reach
        return False
    if pct >= warn_pct - NEAR_POINTS:
        return True
    return previous_pct is not None and pct - previous_pct >= CLIMB_POINTS
