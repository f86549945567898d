"""Waiting on a running app under Pilot: shared by every test that drives the cockpit."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from widgets.confirm import ConfirmScreen


async def wait_for(
    pilot: Any, condition: Callable[[], Any], timeout: float = 20.0, what: str = "condition"
) -> Any:
    """Let the app run until `condition()` is truthy; fail with `what` otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        await pilot.pause(0.05)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


@asynccontextmanager
async def cockpit_running(app: Any, *, size: tuple[int, int]) -> AsyncIterator[Any]:
    """A CockpitApp (or a viewer of one) under Pilot once its whole main screen is
    there: the panes around the pods are mounted after the first pods have been drawn
    (cockpit/main_screen.py), so a test that asks for one at once would miss it."""
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: app.main.later_mounted, what="the panes around the pods")
        yield pilot


async def confirm_modal(pilot: Any, app: Any) -> ConfirmScreen:
    """The confirmation modal once mounted and focused.  Textual applies the `focus()`
    of on_mount on a later turn of the loop, so a just-pushed screen can have no focused
    widget yet (a CI run failed on exactly that)."""

    def ready() -> ConfirmScreen | None:
        screen = app.screen
        if isinstance(screen, ConfirmScreen) and screen.query("#execute") and screen.focused:
            return screen
        return None

    screen = await wait_for(pilot, ready, what="the confirmation modal")
    await pilot.pause()
    return screen
