"""The runbook's Redis remedies, as actions the app finds by id (actions.catalog).

- `redis.policy`: CONFIG SET maxmemory-policy (allkeys-lru first), read back.
- `redis.policy-revert`: put back what the last policy change replaced (from the journal).
- `redis.flushdb`: FLUSHDB of one chosen database, typed confirmation, verified.

`make_context` gives them a context with clients of its own (never the polling one).

They live in context.py (the context), policy.py (policy, policy-revert) and flush.py
(flushdb); the classes are re-exported here, and only here, because actions.catalog
scans `vars(actions.redis)` for them.
"""

from __future__ import annotations

from actions.redis.context import RedisActionContext, make_context
from actions.redis.flush import FlushDb
from actions.redis.policy import RevertPolicy, SetPolicy

__all__ = ["FlushDb", "RedisActionContext", "RevertPolicy", "SetPolicy", "make_context"]
