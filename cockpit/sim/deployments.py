"""Deployments -> ReplicaSets -> Pods, with the rolling-update arithmetic of
kubernetes/pkg/controller/deployment (maxSurge / maxUnavailable, unhealthy old pods
first, revision annotations, revision history cleanup) and the replica-set controller."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING

from cockpit.sim import events as ev
from cockpit.sim.defaults import prune
from cockpit.sim.kubelet import is_ready
from cockpit.sim.objects import (
    clone,
    controller_ref,
    owner_ref,
    parse_ts,
    suffix,
    template_hash,
    ts,
)
from cockpit.sim.vulns import Scanner

if TYPE_CHECKING:
    from cockpit.sim.controller import Controller

REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
HASH = "pod-template-hash"


def template_key(template: dict | None) -> str:
    """Templates compared the way the controller does: ignoring the hash label and
    the empty fields a Go round trip adds or drops."""
    tpl = prune(clone(template or {}))
    (tpl.get("metadata") or {}).get("labels", {}).pop(HASH, None)
    tpl = prune(tpl)
    return json.dumps(tpl, sort_keys=True)


def revision(obj: dict) -> int:
    try:
        return int((obj["metadata"].get("annotations") or {}).get(REVISION, "0"))
    except ValueError:
        return 0


def resolve(value: int | str | None, total: int, round_up: bool) -> int:
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    text = str(value)
    if text.endswith("%"):
        frac = float(text[:-1]) * total / 100
        return math.ceil(frac) if round_up else math.floor(frac)
    return int(text)


def surge_and_unavailable(d: dict) -> tuple[int, int]:
    spec = d.get("spec") or {}
    replicas = int(spec.get("replicas", 1))
    ru = ((spec.get("strategy") or {}).get("rollingUpdate")) or {}
    surge = resolve(ru.get("maxSurge", "25%"), replicas, True)
    unavailable = resolve(ru.get("maxUnavailable", "25%"), replicas, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def _spec_replicas(rs: dict) -> int:
    return int((rs.get("spec") or {}).get("replicas", 1))


def _available(rs: dict) -> int:
    return int((rs.get("status") or {}).get("availableReplicas", 0))


def _created(obj: dict) -> float:
    return parse_ts(obj["metadata"].get("creationTimestamp")) or 0.0


def active_pods(ctl: Controller, owner: dict) -> list[dict]:
    pods = ctl.store.owned(owner["metadata"]["uid"], "pods")
    return [
        p
        for p in pods
        if not p["metadata"].get("deletionTimestamp")
        and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
    ]


def pod_from_template(owner: dict, name: str, template: dict) -> dict:
    tmeta = template.get("metadata") or {}
    meta = {
        "name": name,
        "namespace": owner["metadata"]["namespace"],
        "labels": clone(tmeta.get("labels") or {}),
        "ownerReferences": [owner_ref(owner)],
    }
    if tmeta.get("annotations"):
        meta["annotations"] = clone(tmeta["annotations"])
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": clone(template.get("spec") or {}),
    }


def _deletion_rank(pod: dict) -> tuple:
    """Which pods a scale-down removes first (controller.ActivePods ordering)."""
    st = pod.get("status") or {}
    phase_rank = {"Pending": 0, "Unknown": 1, "Running": 2}.get(st.get("phase", ""), 0)
    restarts = sum(int(c.get("restartCount") or 0) for c in st.get("containerStatuses") or [])
    return (
        bool((pod.get("spec") or {}).get("nodeName")),
        phase_rank,
        is_ready(pod),
        -restarts,
        -_created(pod),
    )


class ReplicaSetController:
    def __init__(self, ctl: Controller) -> None:
        self.ctl = ctl
        self.scanner = Scanner(ctl)

    def sync(self, rs: dict) -> None:
        if rs["metadata"].get("deletionTimestamp"):
            return
        self.scanner.saw(rs)
        ctl = self.ctl
        pods = active_pods(ctl, rs)
        want = _spec_replicas(rs)
        m = rs["metadata"]
        if len(pods) < want:
            template = (rs.get("spec") or {}).get("template") or {}
            for _ in range(want - len(pods)):
                name = self._pod_name(m["namespace"], m["name"])
                pod = ctl.create("pods", pod_from_template(rs, name, template))
                ctl.recorder.record(
                    rs, "Normal", "SuccessfulCreate", f"Created pod: {name}", ev.REPLICASET
                )
                pods.append(pod)
        elif len(pods) > want:
            victims = sorted(pods, key=_deletion_rank)[: len(pods) - want]
            for pod in victims:
                ctl.delete_pod(pod)
                ctl.recorder.record(
                    rs,
                    "Normal",
                    "SuccessfulDelete",
                    f"Deleted pod: {pod['metadata']['name']}",
                    ev.REPLICASET,
                )
            gone = {id(p) for p in victims}
            pods = [p for p in pods if id(p) not in gone]
        ready = sum(1 for p in pods if is_ready(p))
        template_labels = ((rs.get("spec") or {}).get("template", {}).get("metadata") or {}).get(
            "labels"
        ) or {}
        labeled = sum(
            1
            for p in pods
            if all(
                (p["metadata"].get("labels") or {}).get(k) == v for k, v in template_labels.items()
            )
        )
        status = {"replicas": len(pods), "observedGeneration": m.get("generation", 1)}
        if labeled:
            status["fullyLabeledReplicas"] = labeled
        if ready:
            status["readyReplicas"] = ready
            status["availableReplicas"] = ready
        ctl.write_status("replicasets.apps", rs, status)

    def _pod_name(self, ns: str, base: str) -> str:
        while True:
            name = f"{base}-{suffix(5, self.ctl.rng)}"
            if self.ctl.store.get("pods", ns, name) is None:
                return name


class DeploymentController:
    def __init__(self, ctl: Controller) -> None:
        self.ctl = ctl
        self._last_step: dict[str, float] = {}
        self._wakeups: set[str] = set()
        self._progress_at: dict[str, float] = {}

    def _owned_rss(self, d: dict) -> list[dict]:
        uid = d["metadata"]["uid"]
        return [
            rs
            for rs in self.ctl.store.owned(uid, "replicasets.apps")
            if (controller_ref(rs) or {}).get("uid") == uid
            and not rs["metadata"].get("deletionTimestamp")
        ]

    def sync(self, d: dict) -> None:
        if d["metadata"].get("deletionTimestamp"):
            return
        rss = self._owned_rss(d)
        tkey = template_key(d["spec"].get("template"))
        matching = sorted(
            (rs for rs in rss if template_key(rs["spec"].get("template")) == tkey), key=_created
        )
        new_rs = matching[0] if matching else None
        old = [rs for rs in rss if rs is not new_rs]
        max_old = max((revision(rs) for rs in old), default=0)
        created = False
        if new_rs is None:
            new_rs = self._create_rs(d, max_old + 1, rss)
            self._last_step[d["metadata"]["uid"]] = self.ctl.clock()
            created = True
        elif revision(new_rs) <= max_old:
            new_rs = self._bump_revision(new_rs, max_old + 1)
        d = self._sync_revision_annotation(d, new_rs)
        if not (d.get("spec") or {}).get("paused"):
            strategy = (d["spec"].get("strategy") or {}).get("type", "RollingUpdate")
            if self._may_step(d):
                acted = (
                    self._recreate(d, new_rs, old)
                    if strategy == "Recreate"
                    else self._rolling(d, new_rs, old)
                )
                if acted:
                    self._last_step[d["metadata"]["uid"]] = self.ctl.clock()
        self._cleanup(d, old)
        self._sync_status(d, new_rs, created)

    # ---- replica sets ---------------------------------------------------------------

    def _create_rs(self, d: dict, rev: int, existing: list[dict]) -> dict:
        ctl = self.ctl
        template = clone(d["spec"]["template"])
        h = template_hash(json.loads(template_key(template)))
        template.setdefault("metadata", {}).setdefault("labels", {})[HASH] = h
        selector = clone(d["spec"]["selector"])
        selector.setdefault("matchLabels", {})[HASH] = h
        name = f"{d['metadata']['name']}-{h}"
        surge, _ = surge_and_unavailable(d)
        replicas = int(d["spec"].get("replicas", 1))
        # NewRSNewReplicas: as big as maxSurge allows (full size for a first rollout).
        current = sum(_spec_replicas(rs) for rs in existing)
        if (d["spec"].get("strategy") or {}).get("type") == "Recreate":
            start = 0 if current else replicas
        else:
            start = max(0, min(replicas + surge - current, replicas))
        rs = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": name,
                "namespace": d["metadata"]["namespace"],
                "labels": clone(template["metadata"]["labels"]),
                "annotations": {
                    DESIRED: str(replicas),
                    MAX_REPLICAS: str(replicas + surge),
                    REVISION: str(rev),
                },
                "ownerReferences": [owner_ref(d)],
            },
            "spec": {"replicas": start, "selector": selector, "template": template},
        }
        created = ctl.create("replicasets.apps", rs)
        if start:
            ctl.recorder.record(
                d,
                "Normal",
                "ScalingReplicaSet",
                f"Scaled up replica set {name} from 0 to {start}",
                ev.DEPLOYMENT,
            )
        return created

    def _bump_revision(self, rs: dict, rev: int) -> dict:
        new = clone(rs)
        ann = new["metadata"].setdefault("annotations", {})
        old_rev = ann.get(REVISION)
        if old_rev:
            history = [h for h in ann.get(REVISION_HISTORY, "").split(",") if h]
            ann[REVISION_HISTORY] = ",".join([*history, old_rev])
        ann[REVISION] = str(rev)
        return self.ctl.update("replicasets.apps", new)

    def _sync_revision_annotation(self, d: dict, new_rs: dict) -> dict:
        rev = str(revision(new_rs))
        if (d["metadata"].get("annotations") or {}).get(REVISION) == rev:
            return d
        new = clone(d)
        new["metadata"].setdefault("annotations", {})[REVISION] = rev
        return self.ctl.update("deployments.apps", new)

    def _scale(self, d: dict, rs: dict, to: int) -> dict:
        cur = _spec_replicas(rs)
        if cur == to:
            return rs
        new = clone(rs)
        new["spec"]["replicas"] = to
        surge, _ = surge_and_unavailable(d)
        replicas = int(d["spec"].get("replicas", 1))
        ann = new["metadata"].setdefault("annotations", {})
        ann[DESIRED] = str(replicas)
        ann[MAX_REPLICAS] = str(replicas + surge)
        out = self.ctl.update("replicasets.apps", new)
        verb = "up" if to > cur else "down"
        self.ctl.recorder.record(
            d,
            "Normal",
            "ScalingReplicaSet",
            f"Scaled {verb} replica set {rs['metadata']['name']} from {cur} to {to}",
            ev.DEPLOYMENT,
        )
        return out

    # ---- pacing ---------------------------------------------------------------------

    def _may_step(self, d: dict) -> bool:
        uid = d["metadata"]["uid"]
        wait = self._last_step.get(uid, 0.0) + self.ctl.pace.rollout_step_s - self.ctl.clock()
        if wait <= 0:
            return True
        if uid not in self._wakeups:
            self._wakeups.add(uid)
            m = d["metadata"]

            def wake() -> None:
                self._wakeups.discard(uid)
                self.ctl.mark("deployments.apps", m["namespace"], m["name"])

            self.ctl.later(wait, wake)
        return False

    # ---- strategies -----------------------------------------------------------------

    def _rolling(self, d: dict, new_rs: dict, old: list[dict]) -> bool:
        replicas = int(d["spec"].get("replicas", 1))
        surge, unavailable = surge_and_unavailable(d)
        new_count = _spec_replicas(new_rs)
        if new_count > replicas:
            self._scale(d, new_rs, replicas)
            return True
        if new_count < replicas:
            current = new_count + sum(_spec_replicas(rs) for rs in old)
            room = replicas + surge - current
            if room > 0:
                self._scale(d, new_rs, new_count + min(room, replicas - new_count))
                return True
        old_count = sum(_spec_replicas(rs) for rs in old)
        if old_count == 0:
            return False
        all_count = new_count + old_count
        min_available = replicas - unavailable
        new_unavailable = new_count - _available(new_rs)
        max_down = all_count - min_available - new_unavailable
        if max_down <= 0:
            return False
        acted = False
        cleaned = 0
        for rs in sorted(old, key=_created):
            if cleaned >= max_down:
                break
            unhealthy = _spec_replicas(rs) - _available(rs)
            if _spec_replicas(rs) == 0 or unhealthy <= 0:
                continue
            n = min(unhealthy, max_down - cleaned)
            self._scale(d, rs, _spec_replicas(rs) - n)
            cleaned += n
            acted = True
        if acted:
            return True
        available = _available(new_rs) + sum(_available(rs) for rs in old)
        if available <= min_available:
            return False
        budget = available - min_available
        for rs in sorted(old, key=_created):
            if budget <= 0:
                break
            n = min(_spec_replicas(rs), budget)
            if n <= 0:
                continue
            self._scale(d, rs, _spec_replicas(rs) - n)
            budget -= n
            acted = True
        return acted

    def _recreate(self, d: dict, new_rs: dict, old: list[dict]) -> bool:
        acted = False
        for rs in old:
            if _spec_replicas(rs):
                self._scale(d, rs, 0)
                acted = True
        if acted:
            return True
        if any((rs.get("status") or {}).get("replicas", 0) for rs in old):
            return False
        replicas = int(d["spec"].get("replicas", 1))
        if _spec_replicas(new_rs) != replicas:
            self._scale(d, new_rs, replicas)
            return True
        return False

    def _cleanup(self, d: dict, old: list[dict]) -> None:
        limit = int(d["spec"].get("revisionHistoryLimit", 10))
        idle = [
            rs
            for rs in old
            if _spec_replicas(rs) == 0 and not (rs.get("status") or {}).get("replicas")
        ]
        idle.sort(key=revision)
        for rs in idle[: max(0, len(idle) - limit)]:
            m = rs["metadata"]
            self.ctl.store.delete("replicasets.apps", m["namespace"], m["name"])

    # ---- status ---------------------------------------------------------------------

    def _deadline(self, d: dict) -> float:
        return self.ctl.pace.progress_deadline_s or float(
            d["spec"].get("progressDeadlineSeconds", 600)
        )

    def _timed_out(self, d: dict, progressing: dict) -> bool:
        if progressing.get("reason") == "NewReplicaSetAvailable":
            return False  # as DeploymentTimedOut: no estimate right after a finished rollout
        # The condition's time has whole seconds; the controller remembers better.
        last = self._progress_at.get(d["metadata"]["uid"]) or parse_ts(
            progressing.get("lastUpdateTime")
        )
        return last is not None and self.ctl.clock() - last > self._deadline(d)

    def _check_deadline_later(self, d: dict) -> None:
        uid = d["metadata"]["uid"]
        key = f"deadline:{uid}"
        if key in self._wakeups:
            return
        self._wakeups.add(key)
        m = d["metadata"]

        def wake() -> None:
            self._wakeups.discard(key)
            self.ctl.mark("deployments.apps", m["namespace"], m["name"])

        self.ctl.later(min(self._deadline(d), 30.0) + 0.05, wake)

    def _sync_status(self, d: dict, new_rs: dict, created: bool) -> None:
        ctl = self.ctl
        m = d["metadata"]
        d = ctl.store.get("deployments.apps", m["namespace"], m["name"]) or d
        new_rs = (
            ctl.store.get(
                "replicasets.apps", new_rs["metadata"]["namespace"], new_rs["metadata"]["name"]
            )
            or new_rs
        )
        rss = self._owned_rss(d)
        replicas = int(d["spec"].get("replicas", 1))
        total = sum(int((rs.get("status") or {}).get("replicas", 0)) for rs in rss)
        updated = int((new_rs.get("status") or {}).get("replicas", 0))
        ready = sum(int((rs.get("status") or {}).get("readyReplicas", 0)) for rs in rss)
        available = sum(_available(rs) for rs in rss)
        _, unavailable_ok = surge_and_unavailable(d)
        status: dict = {"observedGeneration": d["metadata"].get("generation", 1)}
        for field, value in (
            ("replicas", total),
            ("updatedReplicas", updated),
            ("readyReplicas", ready),
            ("availableReplicas", available),
            ("unavailableReplicas", max(replicas - available, 0)),
        ):
            if value:
                status[field] = value
        old_conds = {c["type"]: c for c in (d.get("status") or {}).get("conditions") or []}
        now = ts(ctl.clock())
        rs_name = new_rs["metadata"]["name"]
        if available >= replicas - unavailable_ok:
            avail = ("True", "MinimumReplicasAvailable", "Deployment has minimum availability.")
        else:
            avail = (
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
            )
        complete = (
            updated == replicas
            and available >= replicas
            and total == updated
            and int(new_rs["spec"].get("replicas", 0)) == replicas
        )
        old_prog = old_conds.get("Progressing") or {}
        # A finished rollout stays "NewReplicaSetAvailable" (a pod crashing later, or a
        # scale, is not a rollout) until a rollout starts again.
        settled = (
            old_prog.get("reason") == "NewReplicaSetAvailable"
            and total == updated
            and int(new_rs["spec"].get("replicas", 0)) == replicas
            and rs_name in (old_prog.get("message") or "")
        )
        old_st = d.get("status") or {}
        progressed = (
            updated > old_st.get("updatedReplicas", 0)
            or ready > old_st.get("readyReplicas", 0)
            or available > old_st.get("availableReplicas", 0)
            or total - updated < old_st.get("replicas", 0) - old_st.get("updatedReplicas", 0)
        )
        touch = False  # progress refreshes lastUpdateTime even when nothing else changes
        if created:
            prog = ("True", "NewReplicaSetCreated", f'Created new replica set "{rs_name}"')
            self._progress_at[d["metadata"]["uid"]] = ctl.clock()
        elif settled:
            prog = (old_prog["status"], old_prog["reason"], old_prog["message"])
        elif complete:
            prog = (
                "True",
                "NewReplicaSetAvailable",
                f'ReplicaSet "{rs_name}" has successfully progressed.',
            )
        elif progressed or not old_prog:
            prog = ("True", "ReplicaSetUpdated", f'ReplicaSet "{rs_name}" is progressing.')
            touch = True
            self._progress_at[d["metadata"]["uid"]] = ctl.clock()
        elif self._timed_out(d, old_prog):
            prog = (
                "False",
                "ProgressDeadlineExceeded",
                f'ReplicaSet "{rs_name}" has timed out progressing.',
            )
        else:
            prog = (
                old_prog.get("status", "True"),
                old_prog.get("reason", "ReplicaSetUpdated"),
                old_prog.get("message", f'ReplicaSet "{rs_name}" is progressing.'),
            )
        if not complete and not settled and prog[1] != "ProgressDeadlineExceeded":
            self._check_deadline_later(d)
        conds = []
        for typ, (st, reason, msg) in (("Available", avail), ("Progressing", prog)):
            old_c = old_conds.get(typ)
            if old_c and (old_c.get("status"), old_c.get("reason"), old_c.get("message")) == (
                st,
                reason,
                msg,
            ):
                conds.append(
                    dict(old_c, lastUpdateTime=now) if typ == "Progressing" and touch else old_c
                )
                continue
            transition = old_c["lastTransitionTime"] if old_c and old_c.get("status") == st else now
            conds.append(
                {
                    "type": typ,
                    "status": st,
                    "lastUpdateTime": now,
                    "lastTransitionTime": transition,
                    "reason": reason,
                    "message": msg,
                }
            )
        status["conditions"] = conds
        ctl.write_status("deployments.apps", d, status)
