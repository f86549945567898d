"""Read-only views the panes ask for by name, opened by the app with data it fetches.

Each entry names a coroutine `open(app, **args) -> Screen | None` in a module of its
own (that module may import sources and widgets, like app.py).  Keeping them here
stops app.py from growing a branch per view.
"""

from __future__ import annotations

import importlib
from typing import Any

# view name -> "module:function"
VIEWS: dict[str, str] = {
    "pg-deep": "cockpit.views_postgres:open_deep_view",
    "redis-deep": "cockpit.views_redis:open_deep_view",
}


async def open_view(app: Any, view: str, args: dict[str, Any]) -> Any:
    """The screen for `view`, or None when the view has nothing to show."""
    target = VIEWS.get(view)
    if target is None:
        raise KeyError(f"no such view: {view}")
    module_name, function = target.split(":")
    module = importlib.import_module(module_name)
    return await getattr(module, function)(app, **args)
