"""StatefulSets: pods with ordinal names (`postgres-0`), created in order, recreated
under the same name when deleted, rolled from the highest ordinal down on a template
change, with ControllerRevisions recording each template."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cockpit.sim import events as ev
from cockpit.sim.defaults import prune
from cockpit.sim.deployments import pod_from_template
from cockpit.sim.kubelet import is_ready
from cockpit.sim.objects import clone, controller_ref, owner_ref, template_hash

if TYPE_CHECKING:
    from cockpit.sim.controller import Controller

REVISION_LABEL = "controller-revision-hash"


def revision_name(sts: dict) -> str:
    tpl = prune(clone(sts["spec"].get("template") or {}))
    return f"{sts['metadata']['name']}-{template_hash(tpl)}"


def _ordinal(pod: dict, base: str) -> int | None:
    name = pod["metadata"]["name"]
    head, _, tail = name.rpartition("-")
    if head != base or not tail.isdigit():
        return None
    return int(tail)


class StatefulSetController:
    def __init__(self, ctl: Controller) -> None:
        self.ctl = ctl

    def sync(self, sts: dict) -> None:
        if sts["metadata"].get("deletionTimestamp"):
            return
        ctl = self.ctl
        m = sts["metadata"]
        ns, base = m["namespace"], m["name"]
        update_rev = self._ensure_revision(sts)
        status_before = sts.get("status") or {}
        current_rev = status_before.get("currentRevision") or update_rev
        replicas = int(sts["spec"].get("replicas", 1))
        pods: dict[int, dict] = {}
        for p in ctl.store.owned(m["uid"], "pods"):
            o = _ordinal(p, base)
            if o is not None:
                pods[o] = p
        acted = False
        # Scale down from the highest ordinal, one pod at a time.
        extra = sorted((o for o in pods if o >= replicas), reverse=True)
        if extra:
            victim = pods[extra[0]]
            if not victim["metadata"].get("deletionTimestamp"):
                self._delete(sts, victim)
            acted = True
        if not acted:
            for o in range(replicas):
                pod = pods.get(o)
                if pod is None and ctl.store.get("pods", ns, f"{base}-{o}") is None:
                    pods[o] = self._create(sts, o, update_rev)
                    acted = True
                    break
                if pod is None or not is_ready(pod) or pod["metadata"].get("deletionTimestamp"):
                    acted = True  # OrderedReady: wait for this one before the next
                    break
        if not acted:
            # Rolling update: replace the highest-ordinal pod still at an old revision.
            for o in sorted(pods, reverse=True):
                pod = pods[o]
                if (
                    o < replicas
                    and (pod["metadata"].get("labels") or {}).get(REVISION_LABEL) != update_rev
                ):
                    self._delete(sts, pod)
                    break
        live = [p for o, p in pods.items() if o < replicas]
        updated = sum(
            1 for p in live if (p["metadata"].get("labels") or {}).get(REVISION_LABEL) == update_rev
        )
        if updated == replicas and all(is_ready(p) for p in live):
            current_rev = update_rev
        current = sum(
            1
            for p in live
            if (p["metadata"].get("labels") or {}).get(REVISION_LABEL) == current_rev
        )
        ready = sum(1 for p in live if is_ready(p) and not p["metadata"].get("deletionTimestamp"))
        status = {
            "observedGeneration": m.get("generation", 1),
            "replicas": len(pods),
            "currentRevision": current_rev,
            "updateRevision": update_rev,
            "collisionCount": 0,
        }
        for field, value in (
            ("readyReplicas", ready),
            ("currentReplicas", current),
            ("updatedReplicas", updated),
            ("availableReplicas", ready),
        ):
            status[field] = value
        ctl.write_status("statefulsets.apps", sts, status)

    def _ensure_revision(self, sts: dict) -> str:
        name = revision_name(sts)
        m = sts["metadata"]
        if self.ctl.store.get("controllerrevisions.apps", m["namespace"], name) is None:
            existing = [
                r
                for r in self.ctl.store.owned(m["uid"], "controllerrevisions.apps")
                if (controller_ref(r) or {}).get("uid") == m["uid"]
            ]
            number = max((int(r.get("revision", 0)) for r in existing), default=0) + 1
            tpl = clone(sts["spec"].get("template") or {})
            tpl["$patch"] = "replace"
            labels = dict((tpl.get("metadata") or {}).get("labels") or {})
            labels["controller.kubernetes.io/hash"] = name.rsplit("-", 1)[1]
            self.ctl.create(
                "controllerrevisions.apps",
                {
                    "apiVersion": "apps/v1",
                    "kind": "ControllerRevision",
                    "metadata": {
                        "name": name,
                        "namespace": m["namespace"],
                        "labels": labels,
                        "ownerReferences": [owner_ref(sts)],
                    },
                    "data": {"spec": {"template": tpl}},
                    "revision": number,
                },
            )
        return name

    def _create(self, sts: dict, ordinal: int, rev: str) -> dict:
        m = sts["metadata"]
        name = f"{m['name']}-{ordinal}"
        pod = pod_from_template(sts, name, sts["spec"].get("template") or {})
        pod["metadata"]["labels"].update(
            {
                REVISION_LABEL: rev,
                "statefulset.kubernetes.io/pod-name": name,
                "apps.kubernetes.io/pod-index": str(ordinal),
            }
        )
        spec = pod["spec"]
        spec["hostname"] = name
        if sts["spec"].get("serviceName"):
            spec["subdomain"] = sts["spec"]["serviceName"]
        vols = spec.setdefault("volumes", [])
        for vct in sts["spec"].get("volumeClaimTemplates") or []:
            claim = vct["metadata"]["name"]
            vols.append({"name": claim, "persistentVolumeClaim": {"claimName": f"{claim}-{name}"}})
        created = self.ctl.create("pods", pod)
        self.ctl.recorder.record(
            sts,
            "Normal",
            "SuccessfulCreate",
            f"create Pod {name} in StatefulSet {m['name']} successful",
            ev.STATEFULSET,
        )
        return created

    def _delete(self, sts: dict, pod: dict) -> None:
        self.ctl.delete_pod(pod)
        self.ctl.recorder.record(
            sts,
            "Normal",
            "SuccessfulDelete",
            f"delete Pod {pod['metadata']['name']} in StatefulSet "
            f"{sts['metadata']['name']} successful",
            ev.STATEFULSET,
        )
