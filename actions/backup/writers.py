"""Restore steps 1 and 5: stop the writers (rails and sidekiq to 0, until their pods are
gone) and start them again (the runbook's counts, until Ready and healthy).

Both read the deployments fresh in prepare() (the guided restore and the headless
procedure build them from names alone) and then scale through ScaleMany, so the
generation check, the PATCH and the rollout follow are the same code as the `E` and
`O` keys of the Workloads pane.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from actions.base import Action, Permission, Plan, Progress, Refused, Result, Risk
from actions.kube.context import KubeContext, call
from actions.kube.deployments import ScaleMany, read_deployment
from cockpit.config import Settings
from cockpit.model import WorkloadRow
from cockpit.sources.health.source import HealthSource
from cockpit.sources.kube.client import KubeTarget
from cockpit.sources.kube.convert import deployment_row

GONE_TIMEOUT_S = 300.0  # terminating pods get their grace period (30 s by default)
HEALTHY_CHECKS = 2  # consecutive good answers before the service counts as healthy
HEALTH_EVERY_S = 2.0
HEALTH_TIMEOUT_S = 180.0


@dataclass(frozen=True)
class ScaleWriters(Action):
    """Several deployments to fixed counts, built from their names."""

    counts: tuple[tuple[str, int], ...]  # (deployment, replicas)
    namespace: str
    rows: tuple[WorkloadRow, ...] = ()  # read by prepare()
    purpose: ClassVar[str] = ""

    @classmethod
    def required(cls) -> tuple[Permission, ...]:
        return (Permission("patch", "deployments", "apps", "scale"),)

    def permissions(self) -> tuple[Permission, ...]:
        return self.required()

    async def prepare(self, ctx: KubeContext) -> ScaleWriters:
        rows = []
        for name, _ in self.counts:
            data = await read_deployment(ctx, name)
            rows.append(deployment_row(data))
        return replace(self, rows=tuple(rows))

    def _many(self) -> ScaleMany:
        return ScaleMany(
            workloads=self.rows,
            counts=tuple(n for _, n in self.counts),
            namespace=self.namespace,
            purpose=self.purpose,
        )

    def plan(self) -> Plan:
        if self.rows:
            many = self._many().plan()
            return replace(
                many, action=self.id, lock_key="scale:" + ",".join(n for n, _ in self.counts)
            )
        # Before prepare(): the names and counts only.
        pairs = ", ".join(f"{name} → {n}" for name, n in self.counts)
        return Plan(
            action=self.id,
            title=f"{self.purpose.capitalize()}: {pairs}",
            changes=tuple(f"{name}: → {n} replicas" for name, n in self.counts),
            command="\n".join(
                f"kubectl scale deployment {name} --replicas={n} -n {self.namespace}"
                for name, n in self.counts
            ),
            targets=tuple(f"deployment/{name}" for name, _ in self.counts),
            blast_radius="read when the deployments are",
            risk=Risk.HIGH,
            confirm_phrase=self.counts[0][0] if self.counts else None,
            lock_key="scale:" + ",".join(n for n, _ in self.counts),
        )

    async def execute(self, ctx: KubeContext, dry_run: bool) -> Result:
        if not self.rows:
            raise Refused("the deployments were not read; nothing done")
        return await self._many().execute(ctx, dry_run)

    async def verify(self, ctx: KubeContext, result: Result, progress: Progress) -> Result:
        return await self._many().verify(ctx, result, progress)


@dataclass(frozen=True)
class StopWriters(ScaleWriters):
    """Step 1: no process may write while the database is replaced."""

    id: ClassVar[str] = "restore.stop-writers"
    label: ClassVar[str] = "Stop the writers"
    purpose: ClassVar[str] = "stop the writers for the restore"

    def plan(self) -> Plan:
        base = super().plan()
        changes = (
            *base.changes,
            "waits until every pod of them is gone (terminating ones included)",
        )
        return replace(
            base,
            changes=changes,
            blast_radius="the service stops serving and stops writing: "
            + ", ".join(n for n, _ in self.counts)
            + " will have no pods",
            risk=Risk.HIGH,
            confirm_phrase=self.counts[0][0] if self.counts else None,
        )

    async def verify(self, ctx: KubeContext, result: Result, progress: Progress) -> Result:
        rolled = await super().verify(ctx, result, progress)
        if not rolled.ok:
            return rolled
        deadline = time.monotonic() + GONE_TIMEOUT_S
        while True:
            left = {}
            for row in self.rows:
                selector = ",".join(f"{k}={v}" for k, v in row.selector)
                if not selector:
                    continue
                pods = await call(
                    ctx.core.list_namespaced_pod,
                    ctx.namespace,
                    what=f"pods of {row.name}",
                    label_selector=selector,
                    _request_timeout=ctx.timeout(),
                )
                if items := pods.get("items") or []:
                    left[row.name] = len(items)
            if not left:
                return Result(
                    True,
                    "writers stopped: no pod of "
                    + ", ".join(n for n, _ in self.counts)
                    + " is left",
                    {**rolled.data, "stopped_from": {r.name: r.desired for r in self.rows}},
                )
            progress(
                None, "waiting for pods to go: " + ", ".join(f"{n} {c}" for n, c in left.items())
            )
            if time.monotonic() > deadline:
                return Result(
                    False,
                    f"pods still there after {GONE_TIMEOUT_S:g} s: "
                    + ", ".join(f"{n} {c}" for n, c in left.items())
                    + " — look at them (kubectl get pods) before restoring",
                )
            await asyncio.sleep(1.0)


@dataclass(frozen=True)
class StartWriters(ScaleWriters):
    """Step 5: the runbook's counts again, then Ready, then the health endpoints."""

    id: ClassVar[str] = "restore.start-writers"
    label: ClassVar[str] = "Start the writers"
    purpose: ClassVar[str] = "start the writers after the restore"
    settings: Settings | None = field(default=None, compare=False)

    def plan(self) -> Plan:
        base = super().plan()
        services = self.health_services()
        changes = (
            *base.changes,
            "waits until every pod is Ready"
            + (f", then for {', '.join(services)} to answer /health" if services else ""),
        )
        return replace(
            base,
            changes=changes,
            blast_radius="the service serves again, from the restored database",
            risk=Risk.MEDIUM,
            confirm_phrase=None,
        )

    def health_services(self) -> tuple[str, ...]:
        """The configured in-cluster health checks of these deployments
        (`rails-service:3000` belongs to rails)."""
        if self.settings is None:
            return ()
        names = {name for name, _ in self.counts}
        return tuple(
            s for s in self.settings.health.services if s.split(":")[0].rsplit("-", 1)[0] in names
        )

    async def verify(self, ctx: KubeContext, result: Result, progress: Progress) -> Result:
        rolled = await super().verify(ctx, result, progress)
        if not rolled.ok:
            return rolled
        services = self.health_services()
        if not services or self.settings is None:
            return Result(True, rolled.message + "; no health endpoint configured for them")
        return await wait_healthy(ctx, self.settings, services, rolled, progress)


async def wait_healthy(
    ctx: KubeContext,
    settings: Settings,
    services: tuple[str, ...],
    rolled: Result,
    progress: Progress,
) -> Result:
    """Until each service answered /health well HEALTHY_CHECKS times in a row."""
    only = settings.model_copy(
        update={"health": settings.health.model_copy(update={"urls": (), "services": services})}
    )
    host = str(getattr(ctx.api.configuration, "host", ""))
    source = HealthSource(only, KubeTarget(ctx.api, "", "", ctx.namespace, host))
    good: dict[str, int] = dict.fromkeys(services, 0)
    deadline = time.monotonic() + HEALTH_TIMEOUT_S
    last: dict[str, Any] = {}
    try:
        while True:
            snap = await source.snapshot()
            for e in snap.endpoints:
                answered = e.status is not None and 200 <= e.status < 300
                good[e.name] = good.get(e.name, 0) + 1 if answered else 0
                last[e.name] = e
            waiting = [s for s in services if good.get(s, 0) < HEALTHY_CHECKS]
            if not waiting:
                return Result(
                    True, rolled.message + "; healthy: " + ", ".join(services), rolled.data
                )
            progress(None, "waiting for health: " + ", ".join(waiting))
            if time.monotonic() > deadline:
                words = "; ".join(
                    f"{s}: {getattr(last.get(s), 'error', '') or 'not yet healthy'}"
                    for s in waiting
                )
                return Result(
                    False,
                    f"{rolled.message}, but not healthy after {HEALTH_TIMEOUT_S:g} s: {words}",
                    rolled.data,
                )
            await asyncio.sleep(HEALTH_EVERY_S)
    finally:
        await source.close()
