"""The Redis deep views, opened by name ("redis-deep") through cockpit.views.

It opens a source with a client of its own on the chosen database (the URL's unless
the pane chose another), reads memory, slow log and clients at once so the screen
opens with data, and hands the screen the source; the screen closes it when it goes.
"""

from __future__ import annotations

import asyncio
from typing import Any

from textual.screen import Screen

from cockpit.sources.redis.deep import RedisDeepSource, ScanLimits
from widgets.redis_deep import RedisDeepScreen

LIMITS = ScanLimits()


def budget_text(limits: ScanLimits) -> str:
    return (
        f"COUNT {limits.count}, {limits.pause_s * 1000:.0f} ms between batches, "
        f"at most {limits.key_budget:,} keys or {limits.time_budget_s:g} s"
    )


async def open_deep_view(
    app: Any, db: int | None = None, limits: ScanLimits | None = None, **_: Any
) -> Screen:
    settings = app.settings
    limits = limits or LIMITS
    source = RedisDeepSource(
        settings.effective_redis_url(), settings.redis.connect_timeout, db, limits
    )
    try:
        memory, slowlog, clients = await asyncio.gather(
            source.memory(), source.slowlog(), source.clients()
        )
    except BaseException:
        await source.close()
        raise
    return RedisDeepScreen(source, memory, slowlog, clients, budget_text(limits))
