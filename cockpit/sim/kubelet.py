"""The scheduler and the kubelets: pods go Pending -> ContainerCreating -> Running ->
Ready (job pods on to Completed or Error), terminate after their grace period, and the
pods an incident breaks keep crashing, with the events a real node would post."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from cockpit.sim import events as ev
from cockpit.sim.objects import annotations, clone, controller_ref, parse_ts, ts

if TYPE_CHECKING:
    from cockpit.sim.controller import Controller

BEHAVIOUR = "sim.cockpit.dev/behaviour"


def _cond(
    typ: str, status: bool, now: str, reason: str | None = None, message: str | None = None
) -> dict:
    c: dict = {
        "type": typ,
        "status": "True" if status else "False",
        "lastProbeTime": None,
        "lastTransitionTime": now,
    }
    if reason:
        c["reason"] = reason
    if message:
        c["message"] = message
    return c


def set_condition(status: dict, cond: dict) -> None:
    conds = status.setdefault("conditions", [])
    for i, c in enumerate(conds):
        if c.get("type") == cond["type"]:
            if c.get("status") == cond["status"] and c.get("reason") == cond.get("reason"):
                return
            conds[i] = cond
            return
    conds.append(cond)


def is_ready(pod: dict) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (pod.get("status") or {}).get("conditions") or []
    )


def container_id(rng_token: str) -> str:
    return f"containerd://{rng_token}"


class Kubelet:
    def __init__(self, ctl: Controller) -> None:
        self.ctl = ctl
        self._busy: set[str] = set()  # uids with a lifecycle step pending
        self._terminating: set[str] = set()
        self._crashing: set[str] = set()
        self._rr = itertools.count()
        self._ips: dict[str, int] = {}

    # ---- bookkeeping ----------------------------------------------------------------

    def forget(self, uid: str) -> None:
        self._busy.discard(uid)
        self._terminating.discard(uid)
        self._crashing.discard(uid)

    def _nodes(self) -> list[dict]:
        return [
            n
            for n in self.ctl.store.list("nodes")
            if not (n.get("spec") or {}).get("unschedulable")
        ]

    def pick_node(self) -> dict | None:
        nodes = self._nodes()
        if not nodes:
            return None
        return nodes[next(self._rr) % len(nodes)]

    def allocate_ip(self, node: dict) -> str:
        cidr = (node.get("spec") or {}).get("podCIDR", "10.244.0.0/24")
        base = cidr.split("/")[0].rsplit(".", 1)[0]
        name = node["metadata"]["name"]
        n = self._ips.get(name, 10) + 1
        if n > 254:
            n = 11
        self._ips[name] = n
        return f"{base}.{n}"

    def _cid(self) -> str:
        return container_id("".join(self.ctl.rng.choice("0123456789abcdef") for _ in range(64)))

    def _fresh(self, pod: dict) -> dict | None:
        """The pod as stored now, if it is still the same pod and not going away."""
        m = pod["metadata"]
        cur = self.ctl.store.get("pods", m["namespace"], m["name"])
        if cur is None or cur["metadata"]["uid"] != m["uid"]:
            return None
        return cur

    # ---- the state machine ----------------------------------------------------------

    def sync(self, pod: dict) -> None:
        uid = pod["metadata"]["uid"]
        if pod["metadata"].get("deletionTimestamp"):
            self._start_termination(pod)
            return
        behaviour = annotations(pod).get(BEHAVIOUR)
        if behaviour and uid not in self._crashing and (pod.get("spec") or {}).get("nodeName"):
            self._crashing.add(uid)
            self.ctl.later(self.ctl.pace.crashloop_restart_s, self._crash, pod)
            return
        if uid in self._busy or uid in self._crashing:
            return
        st = pod.get("status") or {}
        phase = st.get("phase")
        if phase in ("Succeeded", "Failed"):
            return
        pace = self.ctl.pace
        step = None
        if not (pod.get("spec") or {}).get("nodeName"):
            step, delay = self._schedule, pace.pod_schedule_s
        elif phase == "Pending":
            step, delay = self._start, pace.container_create_s
        elif phase == "Running" and not is_ready(pod):
            step, delay = self._ready, pace.readiness_s
        elif phase == "Running" and self._is_job_pod(pod):
            step, delay = self._finish_job, pace.job_duration_s
        if step is not None:
            self._busy.add(uid)
            self.ctl.later(delay, self._run, step, pod)

    def _run(self, step, pod: dict) -> None:
        self._busy.discard(pod["metadata"]["uid"])
        cur = self._fresh(pod)
        if cur is not None and not cur["metadata"].get("deletionTimestamp"):
            step(cur)

    @staticmethod
    def _is_job_pod(pod: dict) -> bool:
        ref = controller_ref(pod)
        return bool(ref and ref.get("kind") == "Job")

    def _schedule(self, pod: dict) -> None:
        node = self.pick_node()
        if node is None:
            self.ctl.later(
                1.0, self.ctl.mark, "pods", pod["metadata"]["namespace"], pod["metadata"]["name"]
            )
            return
        now = self.ctl.clock()
        new = clone(pod)
        name = node["metadata"]["name"]
        new["spec"]["nodeName"] = name
        st = new.setdefault("status", {})
        host_ip = next(
            (
                a["address"]
                for a in (node.get("status") or {}).get("addresses") or []
                if a.get("type") == "InternalIP"
            ),
            "10.0.0.1",
        )
        st.update(
            {
                "phase": "Pending",
                "hostIP": host_ip,
                "hostIPs": [{"ip": host_ip}],
                "startTime": ts(now),
            }
        )
        stamp = ts(now)
        set_condition(st, _cond("PodReadyToStartContainers", False, stamp))
        set_condition(st, _cond("Initialized", True, stamp))
        cnames = [c["name"] for c in new["spec"].get("containers") or []]
        unready = f"containers with unready status: [{' '.join(cnames)}]"
        set_condition(st, _cond("Ready", False, stamp, "ContainersNotReady", unready))
        set_condition(st, _cond("ContainersReady", False, stamp, "ContainersNotReady", unready))
        set_condition(st, _cond("PodScheduled", True, stamp))
        st["containerStatuses"] = [
            {
                "name": c["name"],
                "image": c.get("image", ""),
                "imageID": "",
                "ready": False,
                "restartCount": 0,
                "started": False,
                "lastState": {},
                "state": {"waiting": {"reason": "ContainerCreating"}},
            }
            for c in new["spec"].get("containers") or []
        ]
        self.ctl.update("pods", new)
        m = pod["metadata"]
        self.ctl.recorder.record(
            new,
            "Normal",
            "Scheduled",
            f"Successfully assigned {m['namespace']}/{m['name']} to {name}",
            ev.SCHEDULER,
        )
        for c in new["spec"].get("containers") or []:
            self.ctl.recorder.record(
                new,
                "Normal",
                "Pulling",
                f'Pulling image "{c.get("image")}"',
                ev.KUBELET,
                name,
                f"spec.containers{{{c['name']}}}",
            )

    def _start(self, pod: dict) -> None:
        now = self.ctl.clock()
        new = clone(pod)
        st = new["status"]
        node = new["spec"]["nodeName"]
        node_obj = self.ctl.store.get("nodes", "", node)
        ip = st.get("podIP") or (self.allocate_ip(node_obj) if node_obj else "10.244.0.99")
        st.update({"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}]})
        stamp = ts(now)
        set_condition(st, _cond("PodReadyToStartContainers", True, stamp))
        job = self._is_job_pod(pod)
        statuses = []
        for c in new["spec"].get("containers") or []:
            image = c.get("image", "")
            statuses.append(
                {
                    "name": c["name"],
                    "image": image,
                    "imageID": f"{image.split(':')[0]}@sha256:{self.ctl.rng.getrandbits(256):064x}",
                    "containerID": self._cid(),
                    "ready": job,
                    "restartCount": 0,
                    "started": True,
                    "lastState": {},
                    "state": {"running": {"startedAt": stamp}},
                }
            )
            fp = f"spec.containers{{{c['name']}}}"
            rec = self.ctl.recorder
            took = round(self.ctl.rng.uniform(0.8, 4.5), 3)
            size = self.ctl.rng.randrange(40_000_000, 400_000_000)
            rec.record(
                new,
                "Normal",
                "Pulled",
                f'Successfully pulled image "{image}" in {took}s '
                f"({took}s including waiting). Image size: {size} bytes.",
                ev.KUBELET,
                node,
                fp,
            )
            rec.record(
                new, "Normal", "Created", f"Created container: {c['name']}", ev.KUBELET, node, fp
            )
            rec.record(
                new, "Normal", "Started", f"Started container {c['name']}", ev.KUBELET, node, fp
            )
        st["containerStatuses"] = statuses
        if job:
            set_condition(st, _cond("Ready", True, stamp))
            set_condition(st, _cond("ContainersReady", True, stamp))
        self.ctl.update("pods", new)

    def _ready(self, pod: dict) -> None:
        new = clone(pod)
        stamp = ts(self.ctl.clock())
        st = new["status"]
        for cs in st.get("containerStatuses") or []:
            cs["ready"] = True
            cs["started"] = True
        set_condition(st, _cond("Ready", True, stamp))
        set_condition(st, _cond("ContainersReady", True, stamp))
        self.ctl.update("pods", new)

    def _finish_job(self, pod: dict) -> None:
        ref = controller_ref(pod)
        ns = pod["metadata"]["namespace"]
        job = self.ctl.store.get("jobs.batch", ns, ref["name"]) if ref else None
        ok = self.ctl.job_succeeds(job)
        now = ts(self.ctl.clock())
        new = clone(pod)
        st = new["status"]
        st["phase"] = "Succeeded" if ok else "Failed"
        reason = "PodCompleted" if ok else "PodFailed"
        for cs in st.get("containerStatuses") or []:
            started = (cs.get("state") or {}).get("running", {}).get("startedAt", now)
            cs["state"] = {
                "terminated": {
                    "exitCode": 0 if ok else 1,
                    "reason": "Completed" if ok else "Error",
                    "startedAt": started,
                    "finishedAt": now,
                    "containerID": cs.get("containerID"),
                }
            }
            cs["ready"] = False
            cs["started"] = False
        set_condition(st, _cond("PodReadyToStartContainers", False, now))
        set_condition(st, _cond("Ready", False, now, reason))
        set_condition(st, _cond("ContainersReady", False, now, reason))
        self.ctl.update("pods", new)

    # ---- termination ----------------------------------------------------------------

    def _start_termination(self, pod: dict) -> None:
        uid = pod["metadata"]["uid"]
        if uid in self._terminating:
            return
        self._terminating.add(uid)
        node = (pod.get("spec") or {}).get("nodeName")
        for cs in (pod.get("status") or {}).get("containerStatuses") or []:
            if "running" in (cs.get("state") or {}):
                self.ctl.recorder.record(
                    pod,
                    "Normal",
                    "Killing",
                    f"Stopping container {cs['name']}",
                    ev.KUBELET,
                    node,
                    f"spec.containers{{{cs['name']}}}",
                )
        grace = float(pod["metadata"].get("deletionGracePeriodSeconds") or 0)
        self.ctl.later(min(grace, self.ctl.pace.terminate_s), self._finish_termination, pod)

    def _finish_termination(self, pod: dict) -> None:
        m = pod["metadata"]
        cur = self.ctl.store.get("pods", m["namespace"], m["name"])
        if cur is not None and cur["metadata"]["uid"] == m["uid"]:
            self.ctl.store.delete("pods", m["namespace"], m["name"])
        self.forget(m["uid"])

    # ---- the pods an incident breaks --------------------------------------------------

    def _crash(self, pod: dict) -> None:
        cur = self._fresh(pod)
        if cur is None or cur["metadata"].get("deletionTimestamp"):
            self._crashing.discard(pod["metadata"]["uid"])
            return
        behaviour = annotations(cur).get(BEHAVIOUR)
        new = clone(cur)
        st = new.setdefault("status", {})
        statuses = st.get("containerStatuses") or []
        if not statuses:
            self._crashing.discard(cur["metadata"]["uid"])
            return
        cs = statuses[0]
        now = self.ctl.clock()
        stamp = ts(now)
        node = new["spec"].get("nodeName")
        fp = f"spec.containers{{{cs['name']}}}"
        m = new["metadata"]
        if behaviour not in ("crashloop", "oomkill"):
            # Someone fixed it: the container comes back and stays up.
            self._crashing.discard(m["uid"])
            cs["state"] = {"running": {"startedAt": stamp}}
            cs["ready"] = cs["started"] = True
            set_condition(st, _cond("Ready", True, stamp))
            set_condition(st, _cond("ContainersReady", True, stamp))
            self.ctl.update("pods", new)
            return
        period = self.ctl.pace.crashloop_restart_s
        cs["restartCount"] = int(cs.get("restartCount") or 0) + 1
        cs["ready"] = False
        cs["started"] = False
        started = ts(now - min(period * 0.5, 30.0))
        if behaviour == "crashloop":
            cs["lastState"] = {
                "terminated": {
                    "exitCode": 1,
                    "reason": "Error",
                    "startedAt": started,
                    "finishedAt": stamp,
                    "containerID": self._cid(),
                }
            }
            cs["state"] = {
                "waiting": {
                    "reason": "CrashLoopBackOff",
                    "message": f"back-off 5m0s restarting failed container={cs['name']} "
                    f"pod={m['name']}_{m['namespace']}({m['uid']})",
                }
            }
        else:
            term = {
                "exitCode": 137,
                "reason": "OOMKilled",
                "startedAt": started,
                "finishedAt": stamp,
                "containerID": self._cid(),
            }
            cs["lastState"] = {"terminated": dict(term)}
            cs["state"] = {"terminated": term}
            node_obj = self.ctl.store.get("nodes", "", node or "")
            if node_obj is not None:
                pid = self.ctl.rng.randrange(1000, 60000)
                self.ctl.recorder.record(
                    node_obj,
                    "Warning",
                    "OOMKilling",
                    f"Memory cgroup out of memory: Killed process {pid} ({cs['name']}) "
                    f"total-vm:2871236kB, anon-rss:2097152kB, file-rss:0kB, shmem-rss:0kB, "
                    f"UID:1000 pgtables:4512kB oom_score_adj:983",
                    "kernel-monitor",
                    node,
                )
        unready = f"containers with unready status: [{cs['name']}]"
        set_condition(st, _cond("Ready", False, stamp, "ContainersNotReady", unready))
        set_condition(st, _cond("ContainersReady", False, stamp, "ContainersNotReady", unready))
        self.ctl.update("pods", new)
        self.ctl.recorder.record(
            new,
            "Warning",
            "BackOff",
            f"Back-off restarting failed container {cs['name']} in pod "
            f"{m['name']}_{m['namespace']}({m['uid']})",
            ev.KUBELET,
            node,
            fp,
        )
        self.ctl.later(period, self._crash, new)


def last_restart(pod: dict) -> float | None:
    best = None
    for cs in (pod.get("status") or {}).get("containerStatuses") or []:
        t = parse_ts(((cs.get("lastState") or {}).get("terminated") or {}).get("finishedAt"))
        if t is not None and (best is None or t > best):
            best = t
    return best
