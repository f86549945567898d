"""Every action class by its id, so panes can ask for one by name, and the context each
kind of action executes in.

Panes must not import the action modules (those import the backend clients); they
post ActionRequested(id, **args) and the app builds `catalog()[id](**args)`.  The
modules are imported on first use, not at startup: the clients they pull in cost the
first screen a fifth of a second.
"""

from __future__ import annotations

from functools import cache
from types import ModuleType
from typing import Any

from actions.base import Action


def _modules() -> tuple[ModuleType, ...]:
    from actions import backup, disk, kube, notify, postgres, redis

    return (kube, postgres, redis, notify, disk, backup)


@cache
def catalog() -> dict[str, type[Action]]:
    found: dict[str, type[Action]] = {}
    for module in _modules():
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Action) and value.id:
                found[value.id] = value
    return found


def build(action_id: str, **args: object) -> Action:
    try:
        cls = catalog()[action_id]
    except KeyError:
        raise KeyError(f"no such action: {action_id}") from None
    return cls(**args)  # type: ignore[arg-type]


async def make_context(kind: str, settings: Any, journal: Any) -> Any:
    """The context PostgreSQL, Redis and notify actions execute in (Kubernetes' comes from the
    connection the app already has)."""
    if kind == "postgres":
        from actions import postgres

        return await postgres.make_context(settings, journal)
    if kind == "redis":
        from actions import redis

        return await redis.make_context(settings, journal)
    if kind == "backup":
        from actions import backup

        return await backup.make_context(settings, journal)
    if kind == "notify":
        from actions import notify

        return await notify.make_context(settings, journal)
    raise KeyError(f"no context for actions of kind {kind!r}")
