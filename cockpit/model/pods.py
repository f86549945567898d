"""Kubernetes: the pods and the workloads (the first screen needs only these)."""

from __future__ import annotations

from datetime import datetime

from cockpit.model import Level, frozen, worst

# -- Kubernetes: workloads and pods ----------------------------------------------------


@frozen
class ContainerRow:
    name: str
    image: str
    ready: bool
    restarts: int
    state: str  # running / waiting / terminated
    reason: str  # the waiting/terminated reason, "" when running
    exit_code: int | None
    last_reason: str  # lastState.terminated.reason (e.g. OOMKilled)
    last_exit_code: int | None
    last_finished: datetime | None
    started: datetime | None


@frozen
class PodRow:
    uid: str
    name: str
    namespace: str
    app: str  # the `app` label, "" if none
    owner_kind: str  # ReplicaSet / StatefulSet / Job / "" for a bare pod
    owner_name: str
    workload: str  # the Deployment / StatefulSet / Job / CronJob the pod belongs to
    phase: str
    status: str  # as `kubectl get pods` shows it
    ready: int
    total: int
    restarts: int
    last_restart: datetime | None
    created: datetime | None
    node: str
    ip: str
    deleting: bool
    level: Level
    containers: tuple[ContainerRow, ...] = ()
    cpu_request_m: float | None = None  # summed over containers
    cpu_limit_m: float | None = None
    mem_request: int | None = None  # bytes
    mem_limit: int | None = None
    resource_version: str = ""
    # Each container in the spec's order with the paths where it mounts a persistent
    # volume claim: what the disk pane's `df` looks at (no list of every pod for it).
    pvc_mounts: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def ready_text(self) -> str:
        return f"{self.ready}/{self.total}"


@frozen
class WorkloadRow:
    kind: str  # Deployment / StatefulSet
    name: str
    uid: str
    namespace: str
    desired: int
    ready: int
    updated: int
    available: int
    revision: str  # deployment.kubernetes.io/revision, or the sts currentRevision
    generation: int
    observed_generation: int
    rollout: str  # complete / progressing / stalled / scaled to 0 / paused
    level: Level
    images: tuple[str, ...] = ()
    selector: tuple[tuple[str, str], ...] = ()
    resource_version: str = ""
    created: datetime | None = None

    @property
    def ready_text(self) -> str:
        return f"{self.ready}/{self.desired}"


@frozen
class KubeSnapshot:
    context: str
    namespace: str
    pods: tuple[PodRow, ...]
    workloads: tuple[WorkloadRow, ...]
    taken_at: datetime
    version: int = 0  # bumps whenever anything in the watched sets changed
    # The first screen's pods from a server-side Table, before the full objects are in:
    # no containers nor resources yet (cockpit/sources/kube/first_pods.py).
    provisional: bool = False
    # The Table's first page only (cockpit/sources/kube/early.py): how many pods are
    # still to come (0 when the server did not say); None when these are all of them.
    remaining: int | None = None

    @property
    def level(self) -> Level:
        return worst([p.level for p in self.pods] + [w.level for w in self.workloads])

    @property
    def not_ready(self) -> int:
        """Pods that should serve and do not (finished Job pods are not counted)."""
        return sum(
            1 for p in self.pods if p.phase not in ("Succeeded", "Failed") and p.ready < p.total
        )
