"""Running an action: refuse if not allowed, never twice at once, time out, verify, journal.

This is the one code path every action takes, with or without the UI, so read-only
mode and the journal cannot be bypassed by a key binding that forgot to check.

No audit, no action: the intent (who, what, targets, plan) is fsynced to the journal
before anything is sent, and an action whose intent cannot be written is refused.  The
outcome follows under the same run id once it is known.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from typing import Any

from actions.base import Action, Plan, Progress, Refused, Result
from cockpit.audit import STARTED, Journal, JournalUnwritable
from cockpit.errors import describe


@dataclass(frozen=True)
class Who:
    """Where actions happen, for the journal."""

    context: str
    kube_user: str
    namespace: str


class Busy(Exception):
    """An action on the same target is already running."""


class ActionRunner:
    def __init__(
        self,
        journal: Journal,
        who: Who,
        *,
        read_only: bool,
        dry_run: bool,
        timeout: float = 30.0,
        verify_timeout: float = 300.0,
    ) -> None:
        self.journal = journal
        self.who = who
        self.read_only = read_only
        self.dry_run = dry_run
        self.timeout = timeout
        self.verify_timeout = verify_timeout
        self.in_flight: set[str] = set()

    def allows(self, action: Action | type[Action]) -> bool:
        """Whether the action may be offered at all in this session."""
        return not (self.read_only and action.mutating and not action.read_only_ok)

    def busy(self, plan: Plan) -> bool:
        return plan.key in self.in_flight

    def mode(self, dry_run: bool) -> str:
        if dry_run or self.dry_run:
            return "dry-run"
        return "read-only" if self.read_only else "armed"

    def record(
        self,
        action: Action,
        plan: Plan | None,
        outcome: str,
        *,
        dry_run: bool = False,
        message: str = "",
        error: str = "",
        duration: float | None = None,
        extra: dict[str, Any] | None = None,
        run: str | None = None,
        required: bool = False,
    ) -> dict[str, Any] | None:
        """Append one entry.  With `required` (an execution's intent) a journal that
        cannot be written raises JournalUnwritable; otherwise the entry is lost, the
        journal's `problem` says why, and None is returned (the caller goes on: a
        refusal or a cancellation changed nothing)."""
        entry: dict[str, Any] = {
            **({"run": run} if run is not None else {}),  # ties an outcome to its intent
            "context": self.who.context,
            "kube_user": self.who.kube_user,
            "namespace": self.who.namespace,
            "action": action.id,
            "targets": list(plan.targets) if plan else [],
            "mode": self.mode(dry_run),
            "outcome": outcome,
            "message": message,
            "error": error,
            "duration_s": round(duration, 3) if duration is not None else None,
            "plan": plan.as_journal() if plan else None,
        }
        if extra:
            entry.update(extra)
        try:
            return self.journal.append(entry)
        except JournalUnwritable:
            if required:
                raise
            return None

    def cancelled(self, action: Action, plan: Plan) -> None:
        self.record(action, plan, "cancelled", message="cancelled at the confirmation")

    def refused(self, action: Action, plan: Plan | None, reason: str) -> None:
        self.record(action, plan, "refused", error=reason)

    def _intent(self, action: Action, plan: Plan, dry_run: bool) -> str:
        """Write the intent line, fsynced; its run id ties the outcome to it."""
        run = uuid.uuid4().hex
        try:
            self.record(action, plan, STARTED, dry_run=dry_run, run=run, required=True)
        except JournalUnwritable as exc:
            raise Refused(f"not run: {exc}") from exc
        return run

    async def run(
        self,
        action: Action,
        ctx: Any,
        *,
        dry_run: bool = False,
        progress: Progress | None = None,
    ) -> Result:
        """Execute and verify; the journal entry is on disk before this returns."""
        dry_run = (dry_run or self.dry_run) and action.mutating
        plan = action.plan()
        if not self.allows(action):
            reason = "read-only mode: mutating actions are disabled in this session"
            self.refused(action, plan, reason)
            raise Refused(reason)
        if dry_run and not plan.dry_run_supported:
            reason = "this action has no server-side dry run"
            self.refused(action, plan, reason)
            raise Refused(reason)
        if plan.key in self.in_flight:
            raise Busy(f"{plan.title}: already running")
        run = self._intent(action, plan, dry_run)
        self.in_flight.add(plan.key)
        started = time.monotonic()
        report = progress or (lambda fraction, text: None)
        # Long actions (a dump, a restore) declare their own limit and report progress
        # from execute() too (actions/backup/context.py LongRunning).
        limit = max(self.timeout, getattr(action, "execute_timeout", 0.0))
        if progress is not None and hasattr(action, "bind_progress"):
            action.bind_progress(progress)
        try:
            try:
                result = await asyncio.wait_for(action.execute(ctx, dry_run), limit)
                if result.ok and not dry_run:
                    try:
                        result = await asyncio.wait_for(
                            action.verify(ctx, result, report), self.verify_timeout
                        )
                    except TimeoutError:
                        result = Result(
                            False,
                            f"{result.message}; not verified within {self.verify_timeout:g} s "
                            "(still in progress — watch the panes)",
                            result.data,
                        )
            except Refused as exc:
                self.record(
                    action,
                    plan,
                    "refused",
                    dry_run=dry_run,
                    error=str(exc),
                    duration=time.monotonic() - started,
                    run=run,
                )
                raise
            except asyncio.CancelledError:
                # The cockpit is quitting mid-action: say so under the intent's run id.
                self.record(
                    action,
                    plan,
                    "interrupted",
                    dry_run=dry_run,
                    error="the cockpit stopped before the outcome was known; check the target",
                    duration=time.monotonic() - started,
                    run=run,
                )
                raise
            except TimeoutError:
                result = Result(
                    False,
                    f"timed out after {limit:g} s; the outcome is "
                    "unknown — check the panes before retrying",
                )
            except Exception as exc:
                message, hint = describe(exc)
                result = Result(False, message + (f" ({hint})" if hint else ""))
            outcome = ("dry-run ok" if dry_run else "succeeded") if result.ok else "failed"
            written = self.record(
                action,
                plan,
                outcome,
                dry_run=dry_run,
                message=result.message if result.ok else "",
                error="" if result.ok else result.message,
                duration=time.monotonic() - started,
                extra={"result": result.data} if result.data else None,
                run=run,
            )
            if written is None:  # the intent is on disk; say that the outcome is not
                result.message += f" (outcome NOT journaled: {self.journal.problem})"
            result.dry_run = dry_run
            return result
        finally:
            self.in_flight.discard(plan.key)
