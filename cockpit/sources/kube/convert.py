"""Raw Kubernetes JSON (dicts) -> snapshot rows, computed the way kubectl prints them.

Pure functions, no I/O: the watch threads call them once per changed object, so a pod
costs one small frozen row in memory instead of a full object tree.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from cockpit.model import (
    RECENT_EVENTS_S,
    ContainerRow,
    EventRow,
    EventsSnapshot,
    JobRow,
    Level,
    PodRow,
    WorkloadRow,
)
from cockpit.thresholds import pod_level, workload_level

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_time(value: Any) -> datetime | None:
    """RFC 3339 as the API server writes it (Z or offset, optional fraction)."""
    if not value or not isinstance(value, str):
        return None
    try:  # Python 3.11 reads "Z" and up to 6 fractional digits: the common case, 4x faster
        parsed = datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except ValueError:
        pass
    text = value.replace("Z", "+00:00")
    # Python before 3.11.? only accepts 0, 3 or 6 fractional digits: trim nanoseconds.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# -- quantities ------------------------------------------------------------------------

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": 1e-9,
    "u": 1e-6,
    "m": 1e-3,
    "": 1.0,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "E": 1e18,
}
_QUANTITY = re.compile(r"^\s*([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)\s*([a-zA-Z]*)\s*$")
_FACTORS = {**_DECIMAL, **_BINARY}
_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def parse_quantity(value: Any) -> float | None:
    """A Kubernetes quantity ("250m", "512Mi", "1.5", "1e3") as a plain number."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value)
    # What metrics-server and most specs write, "123456789n", "2048Ki", "250m": digits
    # and a suffix, without the regex (20,000 of them per metrics poll at 5,000 pods).
    digits = text.rstrip(_LETTERS)
    factor = _FACTORS.get(text[len(digits) :])
    if factor is not None and digits.isascii() and digits.isdigit():
        return float(digits) * factor
    match = _QUANTITY.match(text)
    if not match or match.group(2) not in _FACTORS:
        return None
    try:
        number = float(match.group(1))
    except ValueError:  # "1..2": the pattern lets dots through
        return None
    return number * _FACTORS[match.group(2)]


def cpu_millicores(value: Any) -> float | None:
    cores = parse_quantity(value)
    return None if cores is None else cores * 1000.0


def memory_bytes(value: Any) -> int | None:
    amount = parse_quantity(value)
    return None if amount is None else int(amount)


def _sum_resources(containers: list[dict], kind: str) -> tuple[float | None, int | None]:
    """Total cpu (millicores) and memory (bytes) of requests or limits.

    None when any container leaves it unset: a percentage of a partial total lies.
    """
    cpu_total: float | None = 0.0
    mem_total: int | None = 0
    for container in containers:
        spec = (container.get("resources") or {}).get(kind) or {}
        cpu = cpu_millicores(spec.get("cpu"))
        mem = memory_bytes(spec.get("memory"))
        cpu_total = None if cpu is None or cpu_total is None else cpu_total + cpu
        mem_total = None if mem is None or mem_total is None else mem_total + mem
    if not containers:
        return None, None
    return cpu_total, mem_total


# -- pods ------------------------------------------------------------------------------


def _container_row(status: dict, image: str) -> ContainerRow:
    state = status.get("state") or {}
    last = (status.get("lastState") or {}).get("terminated") or {}
    if "running" in state:
        kind, detail = "running", state["running"] or {}
    elif "terminated" in state:
        kind, detail = "terminated", state["terminated"] or {}
    elif "waiting" in state:
        kind, detail = "waiting", state["waiting"] or {}
    else:
        kind, detail = "waiting", {}
    return ContainerRow(
        name=status.get("name", ""),
        image=status.get("image") or image,
        ready=bool(status.get("ready")),
        restarts=int(status.get("restartCount") or 0),
        state=kind,
        reason=detail.get("reason", "") if kind != "running" else "",
        exit_code=detail.get("exitCode") if kind == "terminated" else None,
        last_reason=last.get("reason", ""),
        last_exit_code=last.get("exitCode"),
        last_finished=parse_time(last.get("finishedAt")),
        started=parse_time(detail.get("startedAt")),
    )


def pod_status(pod: dict) -> tuple[str, int, int, int, datetime | None]:
    """(STATUS, ready, total, restarts, last restart) exactly as `kubectl get pods`.

    A port of printPod() in kubernetes/pkg/printers/internalversion/printers.go.
    """
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    containers = spec.get("containers") or []
    init_specs = {c.get("name"): c for c in spec.get("initContainers") or []}
    total = len(containers)
    ready = 0
    restarts = 0
    last_restart: datetime | None = None
    phase = status.get("phase") or "Pending"
    reason = status.get("reason") or phase

    for cond in status.get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"

    def note_restart(cs: dict) -> None:
        nonlocal last_restart
        finished = parse_time(
            ((cs.get("lastState") or {}).get("terminated") or {}).get("finishedAt")
        )
        if finished and (last_restart is None or finished > last_restart):
            last_restart = finished

    initializing = False
    init_statuses = status.get("initContainerStatuses") or []
    for i, cs in enumerate(init_statuses):
        restarts += int(cs.get("restartCount") or 0)
        note_restart(cs)
        if (init_specs.get(cs.get("name")) or {}).get("restartPolicy") == "Always":
            continue  # a sidecar: it does not block initialisation
        state = cs.get("state") or {}
        terminated = state.get("terminated")
        waiting = state.get("waiting")
        if terminated is not None and terminated.get("exitCode", 0) == 0:
            continue
        if terminated is not None:
            if terminated.get("reason"):
                reason = "Init:" + terminated["reason"]
            elif terminated.get("signal"):
                reason = f"Init:Signal:{terminated['signal']}"
            else:
                reason = f"Init:ExitCode:{terminated.get('exitCode', 0)}"
        elif waiting is not None and waiting.get("reason") not in (None, "", "PodInitializing"):
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{i}/{len(init_specs)}"
        initializing = True
        break

    pod_initialized = any(
        c.get("type") == "Initialized" and c.get("status") == "True"
        for c in status.get("conditions") or []
    )
    if not initializing or pod_initialized:
        restarts = sum(int(cs.get("restartCount") or 0) for cs in init_statuses)
        has_running = False
        for cs in reversed(status.get("containerStatuses") or []):
            restarts += int(cs.get("restartCount") or 0)
            note_restart(cs)
            state = cs.get("state") or {}
            waiting = state.get("waiting")
            terminated = state.get("terminated")
            if waiting is not None and waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated is not None and terminated.get("reason"):
                reason = terminated["reason"]
            elif terminated is not None:
                if terminated.get("signal"):
                    reason = f"Signal:{terminated['signal']}"
                else:
                    reason = f"ExitCode:{terminated.get('exitCode', 0)}"
            elif cs.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            pod_ready = any(
                c.get("type") == "Ready" and c.get("status") == "True"
                for c in status.get("conditions") or []
            )
            reason = "Running" if pod_ready else "NotReady"

    if meta.get("deletionTimestamp"):
        if status.get("reason") == "NodeLost":
            reason = "Unknown"
        elif phase not in ("Succeeded", "Failed"):
            reason = "Terminating"
    return reason, ready, total, restarts, last_restart


def pending_detail(pod: dict) -> str:
    """Why a Pending pod is pending (Unschedulable, ...), "" when nothing is said."""
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
            return cond.get("reason") or ""
    return ""


def controller_owner(meta: dict) -> tuple[str, str]:
    for ref in meta.get("ownerReferences") or []:
        if ref.get("controller", True):
            return ref.get("kind", ""), ref.get("name", "")
    return "", ""


def workload_of(meta: dict, owner_kind: str, owner_name: str) -> str:
    """The Deployment / StatefulSet / CronJob / Job a pod belongs to."""
    labels = meta.get("labels") or {}
    if owner_kind == "ReplicaSet":
        hash_ = labels.get("pod-template-hash")
        if hash_ and owner_name.endswith("-" + hash_):
            return owner_name[: -len(hash_) - 1]
        return owner_name.rsplit("-", 1)[0]
    if owner_kind == "Job":
        return labels.get("job-name", owner_name)
    return owner_name or labels.get("app", "")


def pvc_mounts(pod: dict) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Each container of the spec, in order, with the paths where it mounts a
    persistentVolumeClaim volume."""
    spec = pod.get("spec") or {}
    claims = {
        v.get("name")
        for v in spec.get("volumes") or []
        if isinstance(v, dict) and v.get("persistentVolumeClaim")
    }
    return tuple(
        (
            str(c.get("name") or ""),
            tuple(
                str(vm["mountPath"])
                for vm in c.get("volumeMounts") or []
                if isinstance(vm, dict) and vm.get("name") in claims and vm.get("mountPath")
            ),
        )
        for c in spec.get("containers") or []
        if isinstance(c, dict)
    )


def pod_row(pod: dict) -> PodRow:
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    phase = status.get("phase") or "Pending"
    text, ready, total, restarts, last_restart = pod_status(pod)
    if text == "Pending":
        detail = pending_detail(pod)
        if detail:
            text = f"Pending ({detail})"
    images = {c.get("name"): c.get("image", "") for c in spec.get("containers") or []}
    containers = tuple(
        _container_row(cs, images.get(cs.get("name"), ""))
        for cs in status.get("containerStatuses") or []
    )
    if not containers:
        containers = tuple(
            ContainerRow(name, image, False, 0, "waiting", "", None, "", None, None, None)
            for name, image in images.items()
        )
    owner_kind, owner_name = controller_owner(meta)
    cpu_req, mem_req = _sum_resources(spec.get("containers") or [], "requests")
    cpu_lim, mem_lim = _sum_resources(spec.get("containers") or [], "limits")
    return PodRow(
        uid=meta.get("uid", ""),
        name=meta.get("name", ""),
        namespace=meta.get("namespace", ""),
        app=(meta.get("labels") or {}).get("app", ""),
        owner_kind=owner_kind,
        owner_name=owner_name,
        workload=workload_of(meta, owner_kind, owner_name),
        phase=phase,
        status=text,
        ready=ready,
        total=total,
        restarts=restarts,
        last_restart=last_restart,
        created=parse_time(meta.get("creationTimestamp")),
        node=spec.get("nodeName") or "",
        ip=status.get("podIP") or "",
        deleting=bool(meta.get("deletionTimestamp")),
        level=pod_level(text.split(" ")[0], ready, total, restarts, phase),
        containers=containers,
        cpu_request_m=cpu_req,
        cpu_limit_m=cpu_lim,
        mem_request=mem_req,
        mem_limit=mem_lim,
        resource_version=meta.get("resourceVersion", ""),
        pvc_mounts=pvc_mounts(pod),
    )


# -- workloads -------------------------------------------------------------------------


def _condition(status: dict, kind: str) -> dict:
    for cond in status.get("conditions") or []:
        if cond.get("type") == kind:
            return cond
    return {}


def deployment_row(obj: dict) -> WorkloadRow:
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    desired = int(spec.get("replicas", 1) if spec.get("replicas") is not None else 1)
    ready = int(status.get("readyReplicas") or 0)
    updated = int(status.get("updatedReplicas") or 0)
    available = int(status.get("availableReplicas") or 0)
    current = int(status.get("replicas") or 0)
    generation = int(meta.get("generation") or 0)
    observed = int(status.get("observedGeneration") or 0)
    progressing = _condition(status, "Progressing")
    if spec.get("paused"):
        rollout = "paused"
    elif progressing.get("reason") == "ProgressDeadlineExceeded":
        rollout = "stalled"
    elif desired == 0 and current == 0:
        rollout = "scaled to 0"
    elif observed < generation or updated < desired or current > updated or available < updated:
        rollout = "progressing"
    else:
        rollout = "complete"
    revision = (meta.get("annotations") or {}).get("deployment.kubernetes.io/revision", "")
    return _workload_row("Deployment", obj, desired, ready, updated, available, revision, rollout)


def statefulset_row(obj: dict) -> WorkloadRow:
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    desired = int(spec.get("replicas", 1) if spec.get("replicas") is not None else 1)
    ready = int(status.get("readyReplicas") or 0)
    updated = int(status.get("updatedReplicas") or 0)
    available = int(status.get("availableReplicas", ready) or 0)
    current = int(status.get("replicas") or 0)
    generation = int(meta.get("generation") or 0)
    observed = int(status.get("observedGeneration") or 0)
    current_rev = status.get("currentRevision", "")
    update_rev = status.get("updateRevision", current_rev)
    if desired == 0 and current == 0:
        rollout = "scaled to 0"
    elif observed < generation or current_rev != update_rev or ready < desired:
        rollout = "progressing"
    else:
        rollout = "complete"
    revision = update_rev.rsplit("-", 1)[-1] if update_rev else ""
    return _workload_row("StatefulSet", obj, desired, ready, updated, available, revision, rollout)


def sorted_workloads(rows: list[WorkloadRow]) -> tuple[WorkloadRow, ...]:
    """The workloads pane's order: Deployments first, then by name."""
    return tuple(sorted(rows, key=lambda w: (w.kind != "Deployment", w.name)))


def _workload_row(
    kind: str,
    obj: dict,
    desired: int,
    ready: int,
    updated: int,
    available: int,
    revision: str,
    rollout: str,
) -> WorkloadRow:
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    template = (spec.get("template") or {}).get("spec") or {}
    return WorkloadRow(
        kind=kind,
        name=meta.get("name", ""),
        uid=meta.get("uid", ""),
        namespace=meta.get("namespace", ""),
        desired=desired,
        ready=ready,
        updated=updated,
        available=available,
        revision=revision,
        generation=int(meta.get("generation") or 0),
        observed_generation=int((obj.get("status") or {}).get("observedGeneration") or 0),
        rollout=rollout,
        level=workload_level(desired, ready, available, rollout),
        images=tuple(c.get("image", "") for c in template.get("containers") or []),
        selector=tuple(sorted(((spec.get("selector") or {}).get("matchLabels") or {}).items())),
        resource_version=meta.get("resourceVersion", ""),
        created=parse_time(meta.get("creationTimestamp")),
    )


# -- events and jobs -------------------------------------------------------------------


def event_row(obj: dict) -> EventRow:
    meta = obj.get("metadata") or {}
    involved = obj.get("involvedObject") or obj.get("regarding") or {}
    last = (
        parse_time(obj.get("lastTimestamp"))
        or parse_time(obj.get("eventTime"))
        or parse_time((obj.get("series") or {}).get("lastObservedTime"))
        or parse_time(meta.get("creationTimestamp"))
    )
    kind = obj.get("type") or "Normal"
    return EventRow(
        uid=meta.get("uid", "") or meta.get("name", ""),
        type=kind,
        reason=obj.get("reason", ""),
        object_kind=involved.get("kind", ""),
        object_name=involved.get("name", ""),
        message=(obj.get("message") or obj.get("note") or "").strip(),
        count=int(obj.get("count") or (obj.get("series") or {}).get("count") or 1),
        last_seen=last,
        first_seen=parse_time(obj.get("firstTimestamp")) or last,
        level=Level.WARN if kind == "Warning" else Level.OK,
    )


def job_row(obj: dict) -> JobRow:
    meta = obj.get("metadata") or {}
    status = obj.get("status") or {}
    conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
    if conditions.get("Failed") == "True":
        text, level = "Failed", Level.CRIT
    elif conditions.get("Complete") == "True":
        text, level = "Complete", Level.OK
    elif conditions.get("Suspended") == "True":
        text, level = "Suspended", Level.WARN
    else:
        text, level = "Running", Level.OK
    failed_at = None
    for cond in status.get("conditions") or []:
        if cond.get("type") == "Failed" and cond.get("status") == "True":
            failed_at = parse_time(cond.get("lastTransitionTime"))
    return JobRow(
        name=meta.get("name", ""),
        uid=meta.get("uid", ""),
        status=text,
        started=parse_time(status.get("startTime")) or parse_time(meta.get("creationTimestamp")),
        finished=parse_time(status.get("completionTime")) or failed_at,
        manual=(meta.get("annotations") or {}).get("cronjob.kubernetes.io/instantiate") == "manual",
        level=level,
    )


def sort_time(value: datetime | None) -> datetime:
    return value or _EPOCH


def events_snapshot(rows: list[EventRow], now: datetime, limit: int) -> EventsSnapshot:
    """Warnings first, newest first, at most `limit`; WARN while a warning was seen in
    the last RECENT_EVENTS_S (older ones are history, not a current problem)."""
    rows = sorted(rows, key=lambda e: sort_time(e.last_seen), reverse=True)
    rows.sort(key=lambda e: e.type != "Warning")  # stable: warnings first, newest first
    shown = tuple(rows[:limit])
    recent = tuple(
        e
        for e in shown
        if e.type == "Warning"
        and e.last_seen is not None
        and (now - e.last_seen).total_seconds() < RECENT_EVENTS_S
    )
    return EventsSnapshot(
        events=shown, taken_at=now, recent=recent, level=Level.WARN if recent else Level.OK
    )
