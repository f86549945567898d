"""The runbook's thresholds, turned into a Level.

One place decides what is "warn" and what is "crit", so that the pods pane, the top
pane, the header and the war-room screen never disagree about a colour.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cockpit.model import Level

if TYPE_CHECKING:
    from cockpit.config import Threshold

# Pod STATUS values that mean "not working", as kubectl prints them.
CRIT_STATUSES = frozenset(
    {
        "CrashLoopBackOff",
        "OOMKilled",
        "Error",
        "ImagePullBackOff",
        "ErrImagePull",
        "CreateContainerConfigError",
        "CreateContainerError",
        "InvalidImageName",
        "RunContainerError",
        "Failed",
        "Evicted",
        "Unknown",
        "NodeLost",
    }
)
OK_STATUSES = frozenset({"Running", "Completed", "Succeeded"})


def level_for(value: float | None, threshold: Threshold) -> Level:
    """Higher is worse: at or above `crit` is CRIT, at or above `warn` is WARN."""
    if value is None:
        return Level.OK
    if value >= threshold.crit:
        return Level.CRIT
    if value >= threshold.warn:
        return Level.WARN
    return Level.OK


def pod_level(status: str, ready: int, total: int, restarts: int, phase: str) -> Level:
    if status in CRIT_STATUSES or status.startswith(("Init:Error", "Init:CrashLoop")):
        return Level.CRIT
    if phase == "Succeeded" or status == "Completed":
        return Level.OK
    if status not in OK_STATUSES:
        return Level.WARN  # Pending, ContainerCreating, Terminating, ...
    if ready < total:
        return Level.WARN
    return Level.OK


def workload_level(desired: int, ready: int, available: int, rollout: str) -> Level:
    if desired == 0:
        return Level.WARN  # scaled to zero: serving nothing, on purpose or not
    if ready == 0:
        return Level.CRIT
    if rollout == "stalled":
        return Level.CRIT
    if ready < desired or available < desired:
        return Level.WARN
    return Level.OK
