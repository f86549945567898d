"""The PostgreSQL deep views, opened by the app as view "pg-deep" (see cockpit.views).

They read over the PostgreSQL action connection (`app.action_context("postgres")`),
never the polling one, so a slow pg_stat_statements cannot delay the pane.  The first
read happens before the screen opens: if the server cannot be reached, the app says
so and no empty screen appears.
"""

from __future__ import annotations

from typing import Any

from cockpit.model import PgDeepSnapshot
from cockpit.sources.postgres.deep import deep_snapshot
from widgets.postgres_deep import TABS, PgDeepScreen


async def open_deep_view(app: Any, tab: str = "slow", **_: Any) -> PgDeepScreen:
    ctx = await app.action_context("postgres")
    recommended = dict(app.settings.postgres.recommended)

    async def load() -> PgDeepSnapshot:
        return await ctx.using(lambda conn: deep_snapshot(conn, recommended))

    first = await load()
    tab = tab if tab in TABS else "slow"
    return PgDeepScreen(load, first, tab=tab, read_only=lambda: app.read_only)
