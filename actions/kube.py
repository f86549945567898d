"""The runbook's Kubernetes remedies as actions.

Each action carries what the screen showed (uid, generation, replica counts) and acts
on exactly that: deletes carry a uid precondition, deployment changes are refused if
the deployment's generation moved on since it was shown.  Blocking client calls run
in threads; every mutating call can be a server-side dry run (dryRun=All).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from actions.base import Action, Param, Permission, Plan, Progress, Refused, Result, Risk
from cockpit.model import PodRow, WorkloadRow
from cockpit.sources.kube_client import status_message

POLL_S = 0.25  # how often verification looks at the cluster


@dataclass(frozen=True)
class KubeContext:
    """What Kubernetes actions need: a configured client and where to act."""

    api: client.ApiClient
    namespace: str
    request_timeout: float = 10.0

    @property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.api)

    @property
    def apps(self) -> client.AppsV1Api:
        return client.AppsV1Api(self.api)

    @property
    def batch(self) -> client.BatchV1Api:
        return client.BatchV1Api(self.api)

    def timeout(self) -> tuple[float, float]:
        return (self.request_timeout, self.request_timeout * 3)


def _dry(dry_run: bool) -> dict[str, Any]:
    return {"dry_run": "All"} if dry_run else {}


def _json(response: Any) -> dict[str, Any]:
    try:
        return json.loads(response.data)
    finally:
        response.release_conn()


def _api_refusal(exc: ApiException, what: str) -> Refused | None:
    """403 and 409 are refusals with the server's own words; others stay errors."""
    if exc.status == 403:
        return Refused(f"forbidden: {status_message(exc)}")
    if exc.status == 409:
        return Refused(f"{what} changed since it was shown: {status_message(exc)}")
    if exc.status == 404:
        return Refused(f"{what} no longer exists: {status_message(exc)}")
    return None


async def _call(fn: Any, *args: Any, what: str, **kwargs: Any) -> dict[str, Any]:
    """Run one raw-JSON client call in a thread; API refusals become Refused."""
    try:
        response = await asyncio.to_thread(fn, *args, _preload_content=False, **kwargs)
    except ApiException as exc:
        refusal = _api_refusal(exc, what)
        if refusal is not None:
            raise refusal from None
        raise
    return await asyncio.to_thread(_json, response)


def _ready(pod: dict[str, Any]) -> bool:
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return cond.get("status") == "True"
    return False


# -- pods ------------------------------------------------------------------------------


def _replacement_text(pod: PodRow) -> str:
    if pod.owner_kind == "StatefulSet":
        return f"StatefulSet {pod.owner_name} recreates {pod.name} under the same name"
    if pod.owner_kind:
        return f"{pod.owner_kind} {pod.owner_name} creates a replacement under a new name"
    return "nothing recreates it: the pod is gone for good"


@dataclass(frozen=True)
class RestartPod(Action):
    """`kubectl delete pod`: its controller replaces it under a new name."""

    id = "pod.restart"
    label = "Restart pod"
    pod: PodRow
    workload: WorkloadRow | None
    namespace: str

    @classmethod
    def required(cls) -> tuple[Permission, ...]:
        return (Permission("delete", "pods"),)

    def permissions(self) -> tuple[Permission, ...]:
        return (Permission("delete", "pods", name=self.pod.name),)

    def plan(self) -> Plan:
        pod, w = self.pod, self.workload
        bare = not pod.owner_kind
        if bare:
            blast = f"{pod.name} has no controller: nothing will recreate it"
        elif w is not None:
            stays = w.ready - (1 if pod.ready == pod.total and pod.total else 0)
            blast = f"{w.name}: {max(0, stays)} of {w.desired} pods stay ready during the restart"
        else:
            blast = f"owned by {pod.owner_kind} {pod.owner_name}; it creates a replacement"
        risk = Risk.HIGH if bare else (Risk.MEDIUM if w is not None and w.ready <= 1 else Risk.LOW)
        warnings = []
        if w is not None and w.ready <= 1 and not bare:
            warnings.append(f"{w.name} has only {w.ready} ready pod(s): it may stop serving")
        return Plan(
            action=self.id,
            title=f"Restart pod {pod.name}",
            changes=(
                f"delete pod {pod.name} (uid {pod.uid[:8]}…, only if it is still that pod)",
                _replacement_text(pod),
            ),
            command=f"kubectl delete pod -n {self.namespace} {pod.name}",
            targets=(f"pod/{pod.name}",),
            blast_radius=blast,
            risk=risk,
            confirm_phrase=pod.name if risk is Risk.HIGH else None,
            lock_key=f"pod/{pod.name}",
            warnings=tuple(warnings),
        )

    def _selector(self) -> str:
        return ",".join(f"{k}={v}" for k, v in self.workload.selector) if self.workload else ""

    async def _pod_uids(self, ctx: KubeContext) -> list[str]:
        data = await _call(
            ctx.core.list_namespaced_pod,
            ctx.namespace,
            label_selector=self._selector(),
            what="pods",
            _request_timeout=ctx.timeout(),
        )
        return [p["metadata"]["uid"] for p in data.get("items") or []]

    async def execute(self, ctx: KubeContext, dry_run: bool) -> Result:
        before = await self._pod_uids(ctx) if self.workload is not None else []
        body = client.V1DeleteOptions(preconditions=client.V1Preconditions(uid=self.pod.uid))
        try:
            await asyncio.to_thread(
                ctx.core.delete_namespaced_pod,
                self.pod.name,
                ctx.namespace,
                body=body,
                _request_timeout=ctx.timeout(),
                _preload_content=False,
                **_dry(dry_run),
            )
        except ApiException as exc:
            if exc.status == 409:
                raise Refused(
                    f"pod {self.pod.name} is not the pod that was shown any more "
                    "(uid changed: it was already replaced); nothing was deleted"
                ) from None
            if exc.status == 404:
                raise Refused(
                    f"pod {self.pod.name} no longer exists; nothing was deleted"
                ) from None
            refusal = _api_refusal(exc, f"pod {self.pod.name}")
            if refusal is not None:
                raise refusal from None
            raise
        if dry_run:
            return Result(True, f"dry run: pod {self.pod.name} would be deleted")
        return Result(True, f"pod {self.pod.name} deleted", {"before": before})

    async def verify(self, ctx: KubeContext, result: Result, progress: Progress) -> Result:
        if self.workload is None:
            return result  # a bare or job pod: nothing replaces it
        known = set(result.data.get("before") or ())
        progress(None, "waiting for the replacement pod")
        while True:
            data = await _call(
                ctx.core.list_namespaced_pod,
                ctx.namespace,
                label_selector=self._selector(),
                what="pods",
                _request_timeout=ctx.timeout(),
            )
            fresh = [
                p
                for p in data.get("items") or []
                if p["metadata"]["uid"] not in known and not p["metadata"].get("deletionTimestamp")
            ]
            ready = [p for p in fresh if _ready(p)]
            if ready:
                name = ready[0]["metadata"]["name"]
                progress(1.0, f"{name} is ready")
                return Result(
                    True, f"{result.message}; replacement {name} is Ready", {"replacement": name}
                )
            if fresh:
                pod = fresh[0]
                phase = (pod.get("status") or {}).get("phase", "Pending")
                progress(0.5, f"replacement {pod['metadata']['name']}: {phase}")
            await asyncio.sleep(POLL_S)


# -- deployments -----------------------------------------------------------------------


async def _check_generation(ctx: KubeContext, workload: WorkloadRow) -> dict[str, Any]:
    """Refuse if the deployment moved on since the screen showed it."""
    data = await _call(
        ctx.apps.read_namespaced_deployment,
        workload.name,
        ctx.namespace,
        what=f"deployment {workload.name}",
        _request_timeout=ctx.timeout(),
    )
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
    data = await _call(
        ctx.apps.patch_namespaced_deployment,
        name,
        ctx.namespace,
        body,
        what=f"deployment {name}",
        _request_timeout=ctx.timeout(),
        _content_type=content_type,
        **_dry(dry_run),
    )
    return int((data.get("metadata") or {}).get("generation") or 0)


async def follow_rollout(
    ctx: KubeContext, name: str, generation: int, progress: Progress, replicas: int | None = None
) -> Result:
    """Until the rollout is complete: observed, updated, available, no old pods left."""
    while True:
        data = await _call(
            ctx.apps.read_namespaced_deployment,
            name,
            ctx.namespace,
            what=f"deployment {name}",
            _request_timeout=ctx.timeout(),
        )
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
    data = await _call(
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
        data = await _call(
            ctx.apps.patch_namespaced_deployment_scale,
            self.workload.name,
            ctx.namespace,
            {"spec": {"replicas": self.replicas}},
            what=f"deployment {self.workload.name}",
            _request_timeout=ctx.timeout(),
            _content_type="application/merge-patch+json",
            **_dry(dry_run),
        )
        if dry_run:
            return Result(
                True, f"dry run: {self.workload.name} would have {self.replicas} replicas"
            )
        deployment = await _call(
            ctx.apps.read_namespaced_deployment,
            self.workload.name,
            ctx.namespace,
            what=f"deployment {self.workload.name}",
            _request_timeout=ctx.timeout(),
        )
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


# -- backups ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TriggerBackup(Action):
    """`kubectl create job --from=cronjob/postgres-backup`, followed to the end."""

    id = "backup.trigger"
    label = "Run the backup job now"
    cronjob: str
    namespace: str
    job_name: str = ""

    def __post_init__(self) -> None:
        # Named once, when built: the confirmation shows the Job that execute() creates
        # (a name taken from the clock in each of them differed by the seconds between).
        if not self.job_name:
            name = f"{self.cronjob}-manual-{int(time.time())}"[:63]
            object.__setattr__(self, "job_name", name)

    def name(self) -> str:
        return self.job_name

    @classmethod
    def required(cls) -> tuple[Permission, ...]:
        return (Permission("create", "jobs", "batch"), Permission("get", "cronjobs", "batch"))

    def permissions(self) -> tuple[Permission, ...]:
        return (Permission("create", "jobs", "batch"), Permission("get", "cronjobs", "batch"))

    def plan(self) -> Plan:
        name = self.name()
        return Plan(
            action=self.id,
            title=f"Run backup job {name} from CronJob {self.cronjob}",
            changes=(f"a Job {name} from {self.cronjob}'s job template (pg_dump to S3)",),
            command=f"kubectl create job --from=cronjob/{self.cronjob} {name} -n {self.namespace}",
            targets=(f"cronjob/{self.cronjob}",),
            blast_radius="one pg_dump against the database: extra read load while it runs",
            risk=Risk.LOW,
            lock_key=f"cronjob/{self.cronjob}",
        )

    async def execute(self, ctx: KubeContext, dry_run: bool) -> Result:
        cron = await _call(
            ctx.batch.read_namespaced_cron_job,
            self.cronjob,
            ctx.namespace,
            what=f"CronJob {self.cronjob}",
            _request_timeout=ctx.timeout(),
        )
        template = (cron.get("spec") or {}).get("jobTemplate") or {}
        meta = cron.get("metadata") or {}
        name = self.name()
        job = {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {
                "name": name,
                "namespace": ctx.namespace,
                "labels": dict((template.get("metadata") or {}).get("labels") or {}),
                "annotations": {
                    **((template.get("metadata") or {}).get("annotations") or {}),
                    "cronjob.kubernetes.io/instantiate": "manual",
                },
                "ownerReferences": [
                    {
                        "apiVersion": "batch/v1",
                        "kind": "CronJob",
                        "name": self.cronjob,
                        "uid": meta.get("uid", ""),
                        "controller": True,
                    }
                ],
            },
            "spec": template.get("spec") or {},
        }
        await _call(
            ctx.batch.create_namespaced_job,
            ctx.namespace,
            job,
            what=f"Job {name}",
            _request_timeout=ctx.timeout(),
            **_dry(dry_run),
        )
        if dry_run:
            return Result(True, f"dry run: Job {name} would be created")
        return Result(True, f"Job {name} created", {"job": name})

    async def verify(self, ctx: KubeContext, result: Result, progress: Progress) -> Result:
        name = result.data["job"]
        started = time.monotonic()
        while True:
            job = await _call(
                ctx.batch.read_namespaced_job,
                name,
                ctx.namespace,
                what=f"Job {name}",
                _request_timeout=ctx.timeout(),
            )
            status = job.get("status") or {}
            for cond in status.get("conditions") or []:
                if cond.get("status") != "True":
                    continue
                if cond.get("type") == "Complete":
                    progress(1.0, "complete")
                    return Result(True, f"backup Job {name} completed")
                if cond.get("type") == "Failed":
                    reason = cond.get("reason") or "failed"
                    return Result(
                        False,
                        f"backup Job {name} failed: {reason} {cond.get('message') or ''}".strip(),
                    )
            active = status.get("active") or 0
            progress(
                None,
                f"{name}: {'running' if active else 'starting'} "
                f"({time.monotonic() - started:.0f}s)",
            )
            await asyncio.sleep(POLL_S)
