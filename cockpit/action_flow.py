"""The one way an action runs from the UI: check -> confirm -> execute -> verify -> toast.

The journal is written by the runner (actions/runner.py) on the same path with or
without the UI; this module adds what a person sees: the read-only and RBAC refusals,
the confirmation modal, the progress row above the footer, the toast, and the refresh of
the panes the action touched.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from actions.base import Action, Progress, Refused, Result
from actions.catalog import build as build_action
from actions.catalog import catalog, make_context
from actions.runner import ActionRunner, Busy
from cockpit.errors import describe
from widgets.actionbar import ActionBar

if TYPE_CHECKING:
    from actions.rbac import AccessChecker  # imports kubernetes: not before the first screen
    from cockpit.app import CockpitApp

# The sources an action's backend feeds: refreshed at once after the action.
REFRESH_AFTER = {
    "kube": ("pods", "events", "top", "disk"),
    "postgres": ("postgres",),
    "redis": ("redis",),
    "notify": (),  # tells people; no source to poll again
    "backup": ("backups", "postgres"),
}


def confirmation_modal(kind: str) -> type[Any]:
    """The modal an action kind is confirmed in (the notify one edits its message);
    imported when first needed, not before the first screen."""
    if kind == "notify":
        from widgets.notify import NotifyScreen

        return NotifyScreen
    from widgets.confirm import ConfirmScreen

    return ConfirmScreen


class ActionFlow:
    def __init__(
        self, app: CockpitApp, runner: ActionRunner, refresh: Callable[[tuple[str, ...]], None]
    ) -> None:
        self.app = app
        self.runner = runner
        self.refresh = refresh
        self.access: AccessChecker | None = None  # set once Kubernetes is connected
        self.contexts: dict[str, Any] = {}  # context kind -> what actions execute in
        self._requested: set[str] = set()  # between the key press and the end of the run

    # -- what may be offered --------------------------------------------------------------

    def forbidden(self, action_id: str) -> str | None:
        """Why an action is forbidden, from the RBAC cache (None: allowed or unknown)."""
        if self.access is None:  # not connected: nothing known, and nothing to import
            return None
        cls = catalog().get(action_id)
        if cls is None or cls.context_kind != "kube":
            return None
        for permission in cls.required():
            access = self.access.cached(permission)
            if access is not None and not access.allowed:
                return access.reason
        return None

    async def check_access(self) -> None:
        """Ask the API server, once, which Kubernetes actions this identity may run."""
        if self.access is None:
            return
        # The action modules' first import (40-50 ms of CPU, at start-up) off the loop.
        actions = await asyncio.to_thread(catalog)
        for cls in actions.values():
            if cls.context_kind != "kube":
                continue
            for permission in cls.required():
                try:
                    await self.access.check(permission)
                except Exception:  # unreachable now: the keypress checks again
                    return

    async def context(self, kind: str) -> Any:
        """The context an action kind executes in; PostgreSQL/Redis ones open lazily."""
        if kind in self.contexts:
            return self.contexts[kind]
        if kind == "kube":
            raise Refused("not connected to Kubernetes yet")
        ctx = await make_context(kind, self.app.settings, self.app.journal)
        self.contexts[kind] = ctx
        return ctx

    # -- the flow -------------------------------------------------------------------------

    def request_by_id(self, action_id: str, args: dict[str, Any]) -> None:
        self.request(build_action(action_id, **args))

    def request(self, action: Action) -> None:
        """Check, confirm, run and journal an action (the only way actions run)."""
        if self._admit(action):
            key = action.plan().key
            self._requested.add(key)
            self.app.run_worker(self._run(action, key), group="actions")

    async def perform(self, action: Action, progress: Progress | None = None) -> Result | None:
        """The same flow, awaited by a screen that goes on from the outcome (the guided
        restore): the result, or None when refused or cancelled (already said)."""
        if not self._admit(action):
            return None
        key = action.plan().key
        self._requested.add(key)
        try:
            return await self._confirm_and_run(action, progress)
        finally:
            self._requested.discard(key)

    def _admit(self, action: Action) -> bool:
        """Read-only mode, an action already running, a journal that cannot be written:
        said on screen, and False."""
        app = self.app
        plan = action.plan()
        if not self.runner.allows(action):
            self.runner.refused(action, plan, "read-only mode")
            app.notify(
                f"Read-only mode: {plan.title} is not available", severity="warning", markup=False
            )
            return False
        if plan.key in self._requested or self.runner.busy(plan):
            app.notify(f"{plan.title}: already in progress", severity="warning", markup=False)
            return False
        if action.mutating and (problem := app.check_journal()):
            app.notify(
                problem, title="Refused: no journal", severity="error", markup=False, timeout=15
            )
            return False
        return True

    async def _run(self, action: Action, key: str) -> None:
        try:
            await self._confirm_and_run(action)
        finally:
            self._requested.discard(key)

    async def _confirm_and_run(
        self, action: Action, progress: Progress | None = None
    ) -> Result | None:
        app = self.app
        try:
            ctx = await self.context(action.context_kind)
            if action.context_kind == "kube" and self.access is not None:
                access = await self.access.check_all(action.permissions())
                if not access.allowed:
                    self.runner.refused(action, action.plan(), access.reason)
                    app.notify(
                        access.reason, title="Forbidden", severity="error", markup=False, timeout=10
                    )
                    return None
            action = await action.prepare(ctx)
        except Refused as exc:
            self.runner.refused(action, action.plan(), str(exc))
            app.notify(str(exc), severity="error", markup=False)
            return None
        except Exception as exc:  # a dead backend while preparing: say so, journal it
            message, _ = describe(exc)
            self.runner.record(action, action.plan(), "failed", error=message)
            app.notify(f"{action.label}: {message}", severity="error", markup=False)
            return None
        if not action.mutating:
            # Read-only actions (a connectivity test, ...) run at once, journaled all the same.
            return await self._execute(action, ctx, dry_run=False, progress=progress)
        if app.quitting:  # shutdown began while preparing: no modal on a closing app
            return None
        session_dry = self.runner.dry_run
        note = (
            "DRY-RUN session: the server validates, nothing changes"
            if session_dry
            else f"{'READ-ONLY' if self.runner.read_only else 'ARMED'} · context "
            f"{self.runner.who.context} · journal {app.journal.path}"
        )
        modal = confirmation_modal(action.context_kind)
        confirmation = await app.push_screen_wait(
            modal(action, session_dry_run=session_dry, mode_note=note)
        )
        action = confirmation.action
        plan = action.plan()
        if confirmation.choice == "cancel":
            self.runner.cancelled(action, plan)
            app.notify(f"Cancelled: {plan.title}", markup=False, timeout=3)
            return None
        return await self._execute(
            action, ctx, dry_run=confirmation.choice == "dry-run", progress=progress
        )

    async def _execute(
        self, action: Action, ctx: Any, dry_run: bool, progress: Progress | None = None
    ) -> Result | None:
        app = self.app
        plan = action.plan()
        bar = app.main.query_one(ActionBar)
        shown_dry = dry_run or (self.runner.dry_run and action.mutating)
        row = bar.start(plan.key, ("dry run: " if shown_dry else "") + plan.title)
        report = row.progress
        if progress is not None:  # a screen of its own shows the progress too

            def report(fraction: float | None, text: str) -> None:
                row.progress(fraction, text)
                progress(fraction, text)

        try:
            result = await self.runner.run(action, ctx, dry_run=dry_run, progress=report)
        except (Refused, Busy) as exc:
            bar.finish(plan.key, False, str(exc))
            app.notify(str(exc), title="Refused", severity="error", markup=False, timeout=10)
            return None
        if app.quitting:
            return result  # journaled already; nobody left to tell
        bar.finish(plan.key, result.ok, result.message)
        app.notify(
            result.message,
            title="Done" if result.ok else "Failed",
            severity="information" if result.ok else "error",
            markup=False,
            timeout=8 if result.ok else 15,
        )
        if refresh := REFRESH_AFTER.get(action.context_kind, ()):
            self.refresh(refresh)  # () would poll every source
        return result

    async def close(self) -> None:
        for ctx in self.contexts.values():
            close = getattr(ctx, "close", None)
            if close is not None:
                await close()
