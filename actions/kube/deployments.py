"""Deployment remedies: rollout restart (one or all), rollout undo, scale (one or several).

Each refuses if the deployment's uid or generation moved on since the screen showed it,
changes it through one PATCH helper, and follows the rollout until it is complete.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from actions.base import Action, Param, Permission, Plan, Progress, Refused, Result, Risk
from actions.kube.context import POLL_S, KubeContext, call, dry
from cockpit.model import WorkloadRow


async def read_deployment(ctx: KubeContext, name: str) -> dict[str, Any]:
    """One deployment as raw JSON (403/404/409 become refusals, see call())."""
    return await call(
        ctx.apps.read_namespaced_deployment,
        name,
        ctx.namespace,
        what=f"deployment {name}",
        _request_timeout=ctx.timeout(),
    )


async def _check_generation(ctx: KubeContext, workload: WorkloadRow) -> dict[str, Any]:
    """Refuse if the deployment moved on since the screen showed it."""
    data = await read_deployment(ctx, workload.name)
    meta = data.get("metadata") or {}
    if meta.get("uid") != workload.uid:
        raise Refused(f"deployment {workload.name} was replaced since it was shown; nothing done")
    generation = int(meta.get("generation") or 0)
    if generation != workload.generation:
        raise Refused(
            f"deployment {workload.name} changed since it was shown (generation "
            f"{workload.generation} → {generation}); refresh and try again — nothing done"
        )
    return data


async def _patch_deployment(
    ctx: KubeContext, name: str, body: Any, content_type: str, dry_run: bool
) -> int:
    """PATCH a deployment (or dry-run it); returns the generation the server answered."""
    data = await call(
        ctx.apps.patch_namespaced_deployment,
        name,
        ctx.namespace,
        body,
        what=f"deployment {name}",
        _request_timeout=ctx.timeout(),
        _content_type=content_type,
        **dry(dry_run),
    )
    return int((data.get("metadata") or {}).get("generation") or 0)


async def follow_rollout(
    ctx: KubeContext, name: str, generation: int, progress: Progress, replicas: int | None = None
) -> Result:
    """Until the rollout is complete: observed, updated, available, no old pods left."""
    while True:
        data = await read_deployment(ctx, name)
        spec, status = data.get("spec") or {}, data.get("status") or {}
        desired = int(spec.get("replicas") if spec.get("replicas") is not None else 1)
        updated = int(status.get("updatedReplicas") or 0)
        available = int(status.get("availableReplicas") or 0)
        total = int(status.get("replicas") or 0)
        observed = int(status.get("observedGeneration") or 0)
        for cond in status.get("conditions") or []:
            if (
                cond.get("type") == "Progressing"
                and cond.get("reason") == "ProgressDeadlineExceeded"
            ):
                return Result(False, f"rollout of {name} stalled: {cond.get('message', '')}")
        if desired == 0:
            fraction = 1.0 if total == 0 else 1 - total / max(total, 1)
            progress(fraction, f"{name}: {total} pods left")
            if observed >= generation and total == 0:
                return Result(True, f"{name} scaled to 0: no pods left")
        else:
            fraction = min(updated, available) / desired
            progress(fraction, f"{name}: {updated}/{desired} updated, {available} available")
            if observed >= generation and updated == desired == available and total == desired:
                return Result(True, f"rollout of {name} complete: {available}/{desired} available")
        await asyncio.sleep(POLL_S)


@dataclass(frozen=True)
class RolloutRestart(Action):
    id = "deployment.rollout-restart"
    label = "Rollout restart"
    workload: WorkloadRow
    namespace: str

    @classmethod
    def required(cls) -> tuple[Permission, ...]:
        return (Permission("patch", "deployments", "apps"),)

    def permissions(self) -> tuple[Permission, ...]:
        return (Permission("patch", "deployments", "apps", name=self.workload.name),)

    def plan(self) -> Plan:
        w = self.workload
        return Plan(
            action=self.id,
            title=f"Rollout restart of deployment {w.name}",
            changes=(
                f"a new ReplicaSet revision of {w.name} (template annotation restartedAt)",
                f"its {w.desired} pods are replaced one by one (maxSurge/maxUnavailable)",
            ),
            command=f"kubectl rollout restart deployment/{w.name} -n {self.namespace}",
            targets=(f"deployment/{w.name}",),
            blast_radius=f"{w.name}: pods are rolled gradually; {w.ready}/{w.desired} ready now",
            risk=Risk.MEDIUM if w.desired > 1 else Risk.HIGH,
            confirm_phrase=w.name if w.desired <= 1 else None,
            lock_key=f"deployment/{w.name}",
            warnings=(f"{w.name} has a single replica: it will be briefly unavailable",)
            if w.desired <= 1
            else (),
        )

    async def execute(self, ctx: KubeContext, dry_run: bool) -> Result:
        await _check_generation(ctx, self.workload)
        stamp = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        body = {
            "spec": {
                "template": {
                    "metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": stamp}}
                }
            }
        }
        generation = await _patch_deployment(
            ctx, self.workload.name, body, "application/strategic-merge-patch+json", dry_run
        )
        if dry_run:
            return Result(True, f"dry run: {self.workload.name} would roll to a new revision")
        return Result(True, f"{self.workload.name} restarted", {"generation": generation})

    async def verify(self, ctx: KubeContext, result: Result, progress: Progress) -> Result:
        return await follow_rollout(ctx, self.workload.name, result.data["generation"], progress)


@dataclass(frozen=True)
class RolloutRestartAll(Action):
    """The runbook's emergency recovery: `kubectl rollout restart deployment -n ns`."""

    id = "deployment.rollout-restart-all"
    label = "Rollout restart ALL deployments"
    workloads: tuple[WorkloadRow, ...]
    namespace: str

    @classmethod
    def required(cls) -> tuple[Permission, ...]:
        return (Permission("patch", "deployments", "apps"),)

    def permissions(self) -> tuple[Permission, ...]:
        return (Permission("patch", "deployments", "apps"),)

    def plan(self) -> Plan:
        names = [w.name for w in self.workloads]
        return Plan(
            action=self.id,
            title=f"Rollout restart of all {len(names)} deployments in {self.namespace}",
            changes=tuple(f"deployment/{n}: new revision, pods rolled" for n in names),
            command=f"kubectl rollout restart deployment -n {self.namespace}",
            targets=tuple(f"deployment/{n}" for n in names),
            blast_radius=f"every deployment in {self.namespace} restarts at once "
            f"({sum(w.desired for w in self.workloads)} pods)",
            risk=Risk.HIGH,
            confirm_phrase=self.namespace,
            lock_key=f"namespace/{self.namespace}/restart-all",
        )

    async def execute(self, ctx: KubeContext, dry_run: bool) -> Result:
        for w in self.workloads:
            await _check_generation(ctx, w)
        generations = {}
        for w in self.workloads:
            single = RolloutRestart(w, self.namespace)
            result = await single.execute(ctx, dry_run)
            generations[w.name] = result.data.get("generation", 0)
        if dry_run:
            return Result(True, f"dry run: {len(self.workloads)} deployments would restart")
        return Result(
            True, f"{len(self.workloads)} deployments restarted", {"generations": generations}
        )

    async def verify(self, ctx: KubeContext, result: Result, progress: Progress) -> Result:
        total = len(self.workloads)
        for done, w in enumerate(self.workloads):

            def sub(fraction: float | None, text: str, _done: int = done) -> None:
                progress((_done + (fraction or 0)) / total, text)

            outcome = await follow_rollout(ctx, w.name, result.data["generations"][w.name], sub)
            if not outcome.ok:
                return outcome
        return Result(True, f"all {total} rollouts complete")


@dataclass(frozen=True)
class Revision:
    """One ReplicaSet of a deployment's history, prefetched for the undo plan."""

    number: int
    replicaset: str
    template: dict[str, Any]


def template_differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Images, env and resources that differ between two pod templates, per container."""
    lines = []
    old_c = {c.get("name"): c for c in (old.get("spec") or {}).get("containers") or []}
    new_c = {c.get("name"): c for c in (new.get("spec") or {}).get("containers") or []}
    for name in sorted(set(old_c) | set(new_c)):
        a, b = old_c.get(name), new_c.get(name)
        if a is None or b is None:
            lines.append(f"container {name}: {'added' if a is None else 'removed'}")
            continue
        if a.get("image") != b.get("image"):
            lines.append(f"{name} image: {a.get('image')} → {b.get('image')}")
        env_a = {e.get("name"): e.get("value", "(from ref)") for e in a.get("env") or []}
        env_b = {e.get("name"): e.get("value", "(from ref)") for e in b.get("env") or []}
        for key in sorted(set(env_a) | set(env_b)):
            if env_a.get(key) != env_b.get(key):
                lines.append(
                    f"{name} env {key}: {env_a.get(key, '(unset)')} → {env_b.get(key, '(unset)')}"
                )
        res_a, res_b = a.get("resources") or {}, b.get("resources") or {}
        for kind in ("requests", "limits"):
            for key in sorted(set(res_a.get(kind) or {}) | set(res_b.get(kind) or {})):
                va, vb = (res_a.get(kind) or {}).get(key), (res_b.get(kind) or {}).get(key)
                if va != vb:
                    lines.append(f"{name} {kind}.{key}: {va or '-'} → {vb or '-'}")
    return lines


async def revision_history(
    ctx: KubeContext, workload: WorkloadRow
) -> tuple[Revision | None, Revision | None]:
    """The deployment's current revision and the one before it, from its ReplicaSets."""
    selector = ",".join(f"{k}={v}" for k, v in workload.selector)
    data = await call(
        ctx.apps.list_namespaced_replica_set,
        ctx.namespace,
        label_selector=selector or None,
        what="replicasets",
        _request_timeout=ctx.timeout(),
    )
    revisions = []
    for rs in data.get("items") or []:
        meta = rs.get("metadata") or {}
        owners = meta.get("ownerReferences") or []
        if not any(o.get("uid") == workload.uid for o in owners):
            continue
        number = (meta.get("annotations") or {}).get("deployment.kubernetes.io/revision")
        if number and number.isdigit():
            template = (rs.get("spec") or {}).get("template") or {}
            revisions.append(Revision(int(number), meta.get("name", ""), template))
    revisions.sort(key=lambda r: r.number)
    if not revisions:
        return None, None
    current_number = int(workload.revision) if workload.revision.isdigit() else revisions[-1].number
    current = next((r for r in revisions if r.number == current_number), revisions[-1])
    older = [r for r in revisions if r.number < current.number]
    return current, (older[-1] if older else None)


def _strip_hash(template: dict[str, Any]) -> dict[str, Any]:
    """A ReplicaSet's template without its pod-template-hash label, as kubectl undo does."""
    template = json.loads(json.dumps(template))
    labels = (template.get("metadata") or {}).get("labels") or {}
    labels.pop("pod-template-hash", None)
    return template


@dataclass(frozen=True)
class RolloutUndo(Action):
    id = "deployment.rollout-undo"
    label = "Rollout undo"
    workload: WorkloadRow
    namespace: str
    current: Revision | None
    previous: Revision | None

    @classmethod
    def required(cls) -> tuple[Permission, ...]:
        return (
            Permission("patch", "deployments", "apps"),
            Permission("list", "replicasets", "apps"),
        )

    def permissions(self) -> tuple[Permission, ...]:
        return (
            Permission("patch", "deployments", "apps", name=self.workload.name),
            Permission("list", "replicasets", "apps"),
        )

    async def prepare(self, ctx: KubeContext) -> RolloutUndo:
        current, previous = await revision_history(ctx, self.workload)
        return replace(self, current=current, previous=previous)

    def plan(self) -> Plan:
        w = self.workload
        if self.previous is None or self.current is None:
            diff: list[str] = []
            warnings = ("no previous revision in the ReplicaSet history: nothing to undo",)
        else:
            diff = template_differences(self.current.template, self.previous.template)
            warnings = (
                () if diff else ("the previous revision has the same images, env and resources",)
            )
        prev = self.previous.number if self.previous else "?"
        cur = self.current.number if self.current else "?"
        return Plan(
            action=self.id,
            title=f"Roll back deployment {w.name} from revision {cur} to {prev}",
            changes=(
                f"{w.name}'s pod template becomes revision {prev}'s "
                f"({self.previous.replicaset if self.previous else '?'})",
                "pods are rolled to it gradually",
            ),
            command=f"kubectl rollout undo deployment/{w.name} -n {self.namespace}",
            targets=(f"deployment/{w.name}",),
            blast_radius=f"{w.name}: {w.desired} pods replaced gradually",
            risk=Risk.MEDIUM,
            details=tuple(diff),
            lock_key=f"deployment/{w.name}",
            warnings=warnings,
        )

    async def execute(self, ctx: KubeContext, dry_run: bool) -> Result:
        if self.previous is None:
            raise Refused(f"deployment {self.workload.name} has no previous revision")
        await _check_generation(ctx, self.workload)
        template = _strip_hash(self.previous.template)
        patch = [
            {"op": "replace", "path": "/spec/template", "value": template},
            {"op": "test", "path": "/metadata/generation", "value": self.workload.generation},
        ]
        generation = await _patch_deployment(
            ctx, self.workload.name, patch, "application/json-patch+json", dry_run
        )
        if dry_run:
            return Result(
                True,
                f"dry run: {self.workload.name} would roll back to revision {self.previous.number}",
            )
        return Result(
            True,
            f"{self.workload.name} rolled back to revision {self.previous.number}'s template",
            {"generation": generation},
        )

    async def verify(self, ctx: KubeContext, result: Result, progress: Progress) -> Result:
        return await follow_rollout(ctx, self.workload.name, result.data["generation"], progress)


@dataclass(frozen=True)
class Scale(Action):
    id = "deployment.scale"
    label = "Scale"
    workload: WorkloadRow
    namespace: str
    replicas: int

    def params(self) -> tuple[Param, ...]:
        return (
            Param("replicas", "replicas", str(self.replicas), help=f"now {self.workload.desired}"),
        )

    def with_params(self, values: dict[str, str]) -> Scale:
        text = values.get("replicas", str(self.replicas)).strip()
        if not text.isdigit():
            raise ValueError("replicas must be a whole number ≥ 0")
        count = int(text)
        if count > 100:
            raise ValueError("more than 100 replicas: use kubectl if you really mean it")
        return replace(self, replicas=count)

    @classmethod
    def required(cls) -> tuple[Permission, ...]:
        return (Permission("patch", "deployments", "apps", "scale"),)

    def permissions(self) -> tuple[Permission, ...]:
        return (Permission("patch", "deployments", "apps", "scale", name=self.workload.name),)

    def plan(self) -> Plan:
        w = self.workload
        to_zero = self.replicas == 0
        if to_zero:
            blast = f"{w.name} stops serving entirely: all {w.desired} pods are removed"
        elif self.replicas < w.desired:
            blast = f"{w.name}: {w.desired - self.replicas} pods removed, {self.replicas} remain"
        elif self.replicas > w.desired:
            blast = f"{w.name}: {self.replicas - w.desired} pods added"
        else:
            blast = f"{w.name} already has {w.desired} replicas: nothing changes"
        return Plan(
            action=self.id,
            title=f"Scale deployment {w.name} from {w.desired} to {self.replicas}",
            changes=(f"spec.replicas of {w.name}: {w.desired} → {self.replicas}",),
            command=f"kubectl scale deployment {w.name} --replicas={self.replicas} "
            f"-n {self.namespace}",
            targets=(f"deployment/{w.name}",),
            blast_radius=blast,
            risk=Risk.HIGH if to_zero else Risk.MEDIUM,
            confirm_phrase=w.name if to_zero else None,
            lock_key=f"deployment/{w.name}",
        )

    async def execute(self, ctx: KubeContext, dry_run: bool) -> Result:
        await _check_generation(ctx, self.workload)
        data = await call(
            ctx.apps.patch_namespaced_deployment_scale,
            self.workload.name,
            ctx.namespace,
            {"spec": {"replicas": self.replicas}},
            what=f"deployment {self.workload.name}",
            _request_timeout=ctx.timeout(),
            _content_type="application/merge-patch+json",
            **dry(dry_run),
        )
        if dry_run:
            return Result(
                True, f"dry run: {self.workload.name} would have {self.replicas} replicas"
            )
        deployment = await read_deployment(ctx, self.workload.name)
        generation = int((deployment.get("metadata") or {}).get("generation") or 0)
        replicas = (data.get("spec") or {}).get("replicas", self.replicas)
        return Result(
            True, f"{self.workload.name} scaled to {replicas}", {"generation": generation}
        )

    async def verify(self, ctx: KubeContext, result: Result, progress: Progress) -> Result:
        return await follow_rollout(ctx, self.workload.name, result.data["generation"], progress)


@dataclass(frozen=True)
class ScaleMany(Action):
    """The runbook's emergency stop and restore: several deployments to fixed counts."""

    id = "deployment.scale-many"
    label = "Scale deployments"
    workloads: tuple[WorkloadRow, ...]
    counts: tuple[int, ...]
    namespace: str
    purpose: str  # "emergency stop" / "restore the runbook's counts"

    @classmethod
    def required(cls) -> tuple[Permission, ...]:
        return (Permission("patch", "deployments", "apps", "scale"),)

    def permissions(self) -> tuple[Permission, ...]:
        return (Permission("patch", "deployments", "apps", "scale"),)

    def plan(self) -> Plan:
        pairs = list(zip(self.workloads, self.counts, strict=True))
        names = " ".join(w.name for w, _ in pairs)
        same = len(set(self.counts)) == 1
        if same:
            command = (
                f"kubectl scale deployment {names} --replicas={self.counts[0]} -n {self.namespace}"
            )
        else:
            command = "\n".join(
                f"kubectl scale deployment {w.name} --replicas={n} -n {self.namespace}"
                for w, n in pairs
            )
        to_zero = any(n == 0 for n in self.counts)
        return Plan(
            action=self.id,
            title=f"{self.purpose.capitalize()}: " + ", ".join(f"{w.name} → {n}" for w, n in pairs),
            changes=tuple(f"{w.name}: {w.desired} → {n} replicas" for w, n in pairs),
            command=command,
            targets=tuple(f"deployment/{w.name}" for w, _ in pairs),
            blast_radius=(
                "the service stops serving: "
                + ", ".join(w.name for w, n in pairs if n == 0)
                + " will have no pods"
                if to_zero
                else "pods are added or removed to reach the runbook's counts"
            ),
            risk=Risk.HIGH if to_zero else Risk.MEDIUM,
            confirm_phrase=pairs[0][0].name if to_zero else None,
            lock_key="scale:" + ",".join(w.name for w, _ in pairs),
        )

    async def execute(self, ctx: KubeContext, dry_run: bool) -> Result:
        generations = {}
        for w, n in zip(self.workloads, self.counts, strict=True):
            result = await Scale(w, self.namespace, n).execute(ctx, dry_run)
            generations[w.name] = result.data.get("generation", 0)
        if dry_run:
            return Result(True, "dry run: " + self.plan().title)
        return Result(True, self.plan().title, {"generations": generations})

    async def verify(self, ctx: KubeContext, result: Result, progress: Progress) -> Result:
        total = len(self.workloads)
        for index, w in enumerate(self.workloads):

            def sub(fraction: float | None, text: str, _i: int = index) -> None:
                progress((_i + (fraction or 0)) / total, text)

            outcome = await follow_rollout(ctx, w.name, result.data["generations"][w.name], sub)
            if not outcome.ok:
                return outcome
        return Result(True, result.message + ": done")
