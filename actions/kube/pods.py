"""`kubectl delete pod` as an action: the uid precondition, then the replacement followed
until it is Ready."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from actions.base import Action, Permission, Plan, Progress, Refused, Result, Risk
from actions.kube.context import POLL_S, KubeContext, api_refusal, call, dry
from cockpit.model import PodRow, WorkloadRow


def _ready(pod: dict[str, Any]) -> bool:
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return cond.get("status") == "True"
    return False


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
        data = await call(
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
                **dry(dry_run),
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
            refusal = api_refusal(exc, f"pod {self.pod.name}")
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
            data = await call(
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
