"""Disk usage of the data pods (df over exec)."""

from __future__ import annotations

from datetime import datetime

from cockpit.model import Level, frozen

# -- disk usage of the data pods (df over exec) -----------------------------------------


@frozen
class PodMount:
    """One line of `df` in a pod: a persistent volume's mount, or the container's `/`."""

    pod: str
    mount: str
    device: str
    size: int  # bytes
    used: int
    avail: int
    percent: float  # df's own Use% (it leaves out the reserved blocks)
    level: Level
    persistent: bool  # the mount of a persistentVolumeClaim (not the node's overlay)


@frozen
class PodDisk:
    """What `df` said in one pod, or why it could not say anything."""

    pod: str
    mounts: tuple[PodMount, ...]
    level: Level = Level.OK
    error: str = ""  # non-empty: exec failed; `hint` says what to do
    hint: str = ""


@frozen
class DiskSnapshot:
    pods: tuple[PodDisk, ...]
    taken_at: datetime
    level: Level = Level.OK
    message: str = ""  # e.g. "no pod with a persistent volume found"
