"""The control loop: the simulator's kube-controller-manager, scheduler and kubelets.

Store changes mark objects dirty (a listener, so no write happens inside another
write); timers drive the pod lifecycle and the pacing of rollouts.  Every tick runs
the due timers, then reconciles what is dirty.  It all runs on the server's loop.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import random
import time
from collections.abc import Callable
from typing import Any

from cockpit.sim.defaults import prepare_create
from cockpit.sim.deployments import DeploymentController, ReplicaSetController
from cockpit.sim.endpoints import EndpointsController
from cockpit.sim.events import Recorder
from cockpit.sim.jobs import CronJobController, JobController
from cockpit.sim.kinds import BY_KIND
from cockpit.sim.kubelet import Kubelet
from cockpit.sim.objects import annotations, clone, controller_ref, new_uid, ts
from cockpit.sim.pace import Pace
from cockpit.sim.statefulsets import StatefulSetController
from cockpit.sim.store import Change, Store

log = logging.getLogger(__name__)

OUTCOME = "sim.cockpit.dev/outcome"  # on a Job: "succeed" or "fail", beats the scenario
BEHAVIOUR = "sim.cockpit.dev/behaviour"  # on a Pod: "crashloop" or "oomkill"

DirtyKey = tuple[str, str, str]


class Controller:
    def __init__(
        self,
        store: Store,
        pace: Pace,
        scenario: str = "healthy",
        clock: Callable[[], float] = time.time,
        seed: int = 0,
    ) -> None:
        self.store = store
        self.pace = pace
        self.scenario = scenario
        self.clock = clock
        self.rng = random.Random(seed)
        self.recorder = Recorder(store, clock)
        self._timers: list[tuple[float, int, Callable[..., Any], tuple]] = []
        self._seq = itertools.count()
        self._dirty: dict[DirtyKey, None] = {}
        self._gc: list[str] = []
        self.kubelet = Kubelet(self)
        self.replicasets = ReplicaSetController(self)
        self.deployments = DeploymentController(self)
        self.statefulsets = StatefulSetController(self)
        self.jobs = JobController(self)
        self.cronjobs = CronJobController(self)
        self.endpoints = EndpointsController(self)
        self._wake = asyncio.Event()
        self.api_busy: Callable[[], bool] = lambda: False  # set by the server
        store.add_listener(self._on_change)

    # ---- scheduling work ----------------------------------------------------------

    def later(self, delay: float, fn: Callable[..., Any], *args: Any) -> None:
        heapq.heappush(self._timers, (self.clock() + max(0.0, delay), next(self._seq), fn, args))

    def mark(self, key: str, namespace: str, name: str) -> None:
        self._dirty[(key, namespace or "", name)] = None
        self._wake.set()

    def mark_all(self) -> None:
        for key in (
            "replicasets.apps",
            "deployments.apps",
            "statefulsets.apps",
            "jobs.batch",
            "cronjobs.batch",
            "pods",
        ):
            for ns, name in self.store.keys(key):
                self.mark(key, ns, name)
        for ns, name in self.store.keys("services"):
            self.mark("endpoints", ns, name)

    def _on_change(self, change: Change) -> None:
        obj = change.new
        m = obj["metadata"]
        ns = m.get("namespace", "")
        key = change.key
        if change.type == "DELETED":
            self._gc.append(m["uid"])
        if key == "pods":
            if change.type != "DELETED":
                self.mark("pods", ns, m["name"])
            else:
                self.kubelet.forget(m["uid"])
            self._mark_owner(obj)
            if _endpoint_relevant(change):
                self._mark_services(ns, change.old, obj)
        elif key in ("replicasets.apps", "jobs.batch"):
            if change.type != "DELETED":
                self.mark(key, ns, m["name"])
            self._mark_owner(obj)
        elif key in ("deployments.apps", "statefulsets.apps", "cronjobs.batch"):
            if change.type != "DELETED":
                self.mark(key, ns, m["name"])
        elif key == "services":
            self.mark("endpoints", ns, m["name"])
            if change.type == "DELETED":
                self.endpoints.service_deleted(ns, m["name"])

    def _mark_services(self, ns: str, old: dict | None, new: dict) -> None:
        """Mark the Endpoints of the services that select this pod (before or after)."""
        labels = [(o["metadata"].get("labels") or {}) for o in (old, new) if o is not None]
        for svc in self.store.list("services", ns):
            sel = (svc.get("spec") or {}).get("selector")
            if sel and any(all(lb.get(k) == v for k, v in sel.items()) for lb in labels):
                self.mark("endpoints", ns, svc["metadata"]["name"])

    def _mark_owner(self, obj: dict) -> None:
        ref = controller_ref(obj)
        if ref is None:
            return
        kind = BY_KIND.get(ref.get("kind", ""))
        if kind is not None:
            self.mark(kind.key, obj["metadata"].get("namespace", ""), ref["name"])

    # ---- the loop -----------------------------------------------------------------

    async def run(self, stopping: asyncio.Event) -> None:
        """Runs until `stopping` is set.  Everything written to the store so far was
        marked dirty by the listener, so the first step reconciles it."""
        loop = asyncio.get_running_loop()
        while not stopping.is_set():
            # The API server comes first (a real one is a separate process): while
            # requests are being answered, wait a little before the next slice of work.
            until = loop.time() + 0.05
            while self.api_busy() and loop.time() < until:
                await asyncio.sleep(0.001)
            try:
                busy = self.step(budget_s=0.01)
            except Exception:  # a bug in one reconcile must not stop the cluster
                log.exception("simulated controller step failed")
                busy = False
            if busy:
                # Work left over: let API requests in, then carry on.
                await asyncio.sleep(0)
                continue
            self._wake.clear()
            timeout = self.pace.controller_tick_s
            if self._timers:
                timeout = min(timeout, max(0.0, self._timers[0][0] - self.clock()))
            if not self._dirty and not self._gc:
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=timeout)
                except TimeoutError:
                    pass
                # Let a burst of API writes land before reconciling them.
                await asyncio.sleep(0)
            else:
                await asyncio.sleep(min(timeout, 0.005))

    def step(self, budget_s: float | None = None) -> bool:
        """Run due timers and reconcile dirty objects; with a budget, stop when it is
        spent (so the server's loop keeps answering) and return True if work is left."""
        started = time.perf_counter()

        def spent() -> bool:
            return budget_s is not None and time.perf_counter() - started > budget_s

        now = self.clock()
        while self._timers and self._timers[0][0] <= now:
            _, _, fn, args = heapq.heappop(self._timers)
            try:
                fn(*args)
            except Exception:
                log.exception("simulated timer %r failed", fn)
            if spent():
                return True
        for _ in range(8):  # reconciles mark more work; settle what converges quickly
            if self._gc:
                uids, self._gc = self._gc, []
                for uid in uids:
                    self._collect(uid)
            if not self._dirty:
                break
            dirty, self._dirty = self._dirty, {}
            items = iter(dirty)
            for key, ns, name in items:
                try:
                    self._reconcile(key, ns, name)
                except Exception:
                    log.exception("reconcile %s %s/%s failed", key, ns, name)
                if spent():
                    # Put back what is left, ahead of what was marked meanwhile.
                    rest = dict.fromkeys(items)
                    rest.update(self._dirty)
                    self._dirty = rest
                    return True
        return bool(self._dirty or self._gc)

    def _reconcile(self, key: str, ns: str, name: str) -> None:
        if key == "endpoints":
            self.endpoints.sync(ns, name)
            return
        obj = self.store.get(key, ns, name)
        if obj is None:
            return
        if key == "pods":
            self.kubelet.sync(obj)
        elif key == "replicasets.apps":
            self.replicasets.sync(obj)
        elif key == "deployments.apps":
            self.deployments.sync(obj)
        elif key == "statefulsets.apps":
            self.statefulsets.sync(obj)
        elif key == "jobs.batch":
            self.jobs.sync(obj)
        elif key == "cronjobs.batch":
            self.cronjobs.sync(obj)

    # ---- garbage collection -------------------------------------------------------

    def _collect(self, uid: str) -> None:
        """Background cascading deletion of the dependents of a deleted owner."""
        if self.store.by_uid(uid) is not None:
            return
        for key, dep in self.store.owned_keys(uid):
            refs = [r for r in dep["metadata"].get("ownerReferences") or [] if r.get("uid") != uid]
            if any(self.store.by_uid(r["uid"]) for r in refs if "uid" in r):
                new = clone(dep)
                new["metadata"]["ownerReferences"] = refs
                self.store.update(key, new)
            elif key == "pods":
                self.delete_pod(dep, reason=None)
            else:
                m = dep["metadata"]
                self.store.delete(key, m.get("namespace", ""), m["name"])

    # ---- helpers shared by the controllers ----------------------------------------

    def create(self, key: str, obj: dict) -> dict:
        uid = new_uid()
        prepare_create(key, obj, uid)
        obj["metadata"]["uid"] = uid
        obj["metadata"].setdefault("creationTimestamp", ts(self.clock()))
        return self.store.create(key, obj)

    def update(self, key: str, obj: dict) -> dict:
        return self.store.update(key, obj)

    def write_status(self, key: str, obj: dict, status: dict) -> dict:
        if obj.get("status") == status:
            return obj
        new = dict(obj, status=status)
        new["metadata"] = dict(obj["metadata"])
        return self.store.update(key, new)

    def delete_pod(self, pod: dict, grace: int | None = None, reason: str | None = None) -> dict:
        """Graceful deletion, as the apiserver does it: a pod on a node gets a
        deletionTimestamp and the kubelet removes it; an unscheduled one goes at once."""
        m = pod["metadata"]
        if m.get("deletionTimestamp"):
            return pod
        if grace is None:
            grace = int((pod.get("spec") or {}).get("terminationGracePeriodSeconds", 30))
        if grace <= 0 or not (pod.get("spec") or {}).get("nodeName"):
            return self.store.delete("pods", m["namespace"], m["name"])
        new = clone(pod)
        new["metadata"]["deletionTimestamp"] = ts(self.clock() + grace)
        new["metadata"]["deletionGracePeriodSeconds"] = grace
        return self.store.update("pods", new)

    def job_succeeds(self, job: dict | None) -> bool:
        wanted = annotations(job).get(OUTCOME) if job else None
        if wanted in ("succeed", "fail"):
            return wanted == "succeed"
        return self.scenario != "incident"


def _endpoint_relevant(change: Change) -> bool:
    if change.type != "MODIFIED" or change.old is None:
        return True
    old, new = change.old, change.new

    def view(p: dict) -> tuple:
        st = p.get("status") or {}
        ready = any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in st.get("conditions") or []
        )
        return (
            st.get("podIP"),
            ready,
            p["metadata"].get("deletionTimestamp"),
            tuple(sorted((p["metadata"].get("labels") or {}).items())),
        )

    return view(old) != view(new)
