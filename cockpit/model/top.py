"""Kubernetes: CPU and memory usage (metrics.k8s.io)."""

from __future__ import annotations

from datetime import datetime

from cockpit.model import Level, frozen

# -- Kubernetes: top (metrics.k8s.io) --------------------------------------------------


@frozen
class PodUsage:
    uid: str
    name: str
    workload: str
    cpu_m: float
    mem_bytes: int
    cpu_request_pct: float | None
    cpu_limit_pct: float | None
    mem_request_pct: float | None
    mem_limit_pct: float | None
    level: Level


@frozen
class WorkloadUsage:
    workload: str
    pods: int
    cpu_m: float
    mem_bytes: int
    cpu_limit_pct: float | None
    mem_limit_pct: float | None
    level: Level


@frozen
class TopSnapshot:
    available: bool  # False: metrics.k8s.io is not served
    message: str  # why not, when not available
    pods: tuple[PodUsage, ...]
    workloads: tuple[WorkloadUsage, ...]
    sample_time: datetime | None  # the metrics' own timestamp
    window_s: float | None
    taken_at: datetime

    @property
    def level(self) -> Level:
        # Asked by the pane, the header and the recorder for each snapshot of 5,000
        # rows: max() over the levels, without worst()'s check of each one's type.
        return max((p.level for p in self.pods), default=Level.OK)
