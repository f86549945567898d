"""The runbook's Redis remedies, as actions the app finds by id (actions.catalog).

- `redis.policy`: CONFIG SET maxmemory-policy (allkeys-lru first), read back.
- `redis.policy-revert`: put back what the last policy change replaced (from the journal).
- `redis.flushdb`: FLUSHDB of one chosen database, typed confirmation, verified.

`make_context` gives them a context with clients of its own (never the polling one).
"""

from __future__ import annotations

from actions.redis_context import RedisActionContext, make_context
from actions.redis_flush import FlushDb
from actions.redis_policy import RevertPolicy, SetPolicy

__all__ = ["FlushDb", "RedisActionContext", "RevertPolicy", "SetPolicy", "make_context"]
