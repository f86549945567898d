"""What an action is: a pure, cheap plan, then execute, then verify.

An action is built from what the screen showed (a pod row, a deployment row, a PG
session) plus whatever the app fetched beforehand (a ReplicaSet history, ...), so
that `plan()` needs no I/O and can be recomputed on every keystroke in the modal.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, ClassVar


class Risk(IntEnum):
    LOW = 1  # confirm with a keypress
    MEDIUM = 2  # confirm with a keypress; the modal says why it matters
    HIGH = 3  # type the target's name to confirm

    @property
    def label(self) -> str:
        return {1: "low", 2: "medium", 3: "HIGH"}[self]


@dataclass(frozen=True)
class Param:
    """A value the user may adjust in the confirmation modal before confirming."""

    name: str
    label: str
    value: str
    choices: tuple[str, ...] = ()  # non-empty: pick one of these
    help: str = ""


@dataclass(frozen=True)
class Permission:
    """One RBAC check (SelfSubjectAccessReview) an action needs."""

    verb: str
    resource: str
    group: str = ""
    subresource: str = ""
    name: str = ""

    def __str__(self) -> str:
        what = self.resource + (f"/{self.subresource}" if self.subresource else "")
        group = f" in API group {self.group!r}" if self.group else ""
        return f"{self.verb} {what}{group}"


@dataclass(frozen=True)
class Plan:
    action: str  # the action's id, e.g. "pod.restart"
    title: str  # one line: "Restart pod rails-7d9c-abcde"
    changes: tuple[str, ...]  # what will change, in plain words
    command: str  # the exact equivalent command (kubectl, SQL, redis-cli)
    targets: tuple[str, ...]  # "pod/rails-7d9c-abcde", "deployment/rails"
    blast_radius: str  # "rails: 2 of 3 pods stay ready during the restart"
    risk: Risk
    confirm_phrase: str | None = None  # to be typed for HIGH risk
    details: tuple[str, ...] = ()  # a diff, the sessions that match, ...
    dry_run_supported: bool = True
    lock_key: str = ""  # actions sharing a key never run at the same time
    warnings: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return self.lock_key or ",".join(self.targets) or self.action

    def as_journal(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "changes": list(self.changes),
            "command": self.command,
            "blast_radius": self.blast_radius,
            "risk": self.risk.label,
            "details": list(self.details[:50]),
            "warnings": list(self.warnings),
        }


@dataclass
class Result:
    ok: bool
    message: str  # plain words for the person at the screen
    data: dict[str, Any] = field(default_factory=dict)  # for verify(): new uid, revision, ...
    dry_run: bool = False


Progress = Callable[[float | None, str], None]  # (fraction done or None, what is happening)


class Refused(Exception):
    """The action must not run (read-only, forbidden, the target changed...)."""


class Action(ABC):
    id: ClassVar[str] = ""
    label: ClassVar[str] = ""
    mutating: ClassVar[bool] = True
    # A mutating action that changes nothing the cockpit watches (telling the incident
    # channel): still confirmed, dry-runnable and journaled, but allowed in read-only mode.
    read_only_ok: ClassVar[bool] = False
    context_kind: ClassVar[str] = "kube"  # which context the app hands to execute()

    async def prepare(self, ctx: Any) -> Action:
        """Fetch what the plan needs (e.g. revision history) before it is shown."""
        return self

    def params(self) -> tuple[Param, ...]:
        return ()

    def with_params(self, values: dict[str, str]) -> Action:
        """A copy with adjusted parameters; raises ValueError with a readable message."""
        return self

    def permissions(self) -> tuple[Permission, ...]:
        return ()

    @classmethod
    def required(cls) -> tuple[Permission, ...]:
        """The namespace-wide permissions this kind of action needs (for offering it)."""
        return ()

    @abstractmethod
    def plan(self) -> Plan: ...

    @abstractmethod
    async def execute(self, ctx: Any, dry_run: bool) -> Result: ...

    async def verify(self, ctx: Any, result: Result, progress: Progress) -> Result:
        return result
