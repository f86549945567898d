"""Every action class by its id, so panes can ask for one by name.

Panes must not import the action modules (those import the backend clients); they
post ActionRequested(id, **args) and the app builds `catalog()[id](**args)`.
"""

from __future__ import annotations

import importlib
from functools import cache

from actions.base import Action

MODULES = ("actions.kube", "actions.postgres", "actions.redis")


@cache
def catalog() -> dict[str, type[Action]]:
    found: dict[str, type[Action]] = {}
    for name in MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # not written yet
            raise
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
