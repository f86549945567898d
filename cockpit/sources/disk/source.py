"""DiskSource: `df -P -B1` in the pods that hold data, against the runbook's 85 %.

Which pods: the configured names (postgres-0 by default) and, unless turned off, every
running pod that mounts a persistentVolumeClaim.  Which mounts: those PVC mount paths
plus the container's `/`.  A pod whose exec fails is a row with the error and a hint;
the others still report.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kubernetes import client

from cockpit.config import Settings
from cockpit.errors import SourceError, describe
from cockpit.model import DiskSnapshot, Level, PodDisk, PodMount, PodRow
from cockpit.sources.disk.df import DF_ARGV, DfError, parse_df
from cockpit.sources.disk.podexec import ExecClient
from cockpit.sources.kube.convert import pod_row, pvc_mounts
from cockpit.sources.kube.paths import namespaced_path
from cockpit.sources.kube.raw import raw_json
from cockpit.textsafe import one_line
from cockpit.thresholds import level_for

# Pods per page of the list: 5,000 pods read in one piece are some 60 MB of dicts at
# once, in a worker thread whose malloc arena keeps them (RSS +60 MB each minute).
LIST_CHUNK = 500


def may_matter(pod: dict[str, Any], names: tuple[str, ...], persistent: bool) -> bool:
    """A configured pod, or (with `persistent`) one that mounts a PVC: data_pods decides."""
    if (pod.get("metadata") or {}).get("name") in names:
        return True
    return persistent and any(mounts for _, mounts in pvc_mounts(pod))


@dataclass(frozen=True)
class DataPod:
    """A pod worth a `df`: its name, the container to exec into, its PVC mount paths."""

    name: str
    container: str | None
    pvc_mounts: tuple[str, ...]
    running: bool


def data_pods(
    pods: Iterable[PodRow],
    names: tuple[str, ...],
    persistent: bool,
    container: str | None = None,
) -> list[DataPod]:
    """The pods to watch, named ones first, then by name."""
    found: list[DataPod] = []
    for pod in pods:
        specs = pod.pvc_mounts
        chosen = next((c for c in specs if c[0] == container), None) or (
            specs[0] if specs else (None, ())
        )
        if pod.name not in names and not (persistent and chosen[1]):
            continue
        running = pod.phase == "Running" and not pod.deleting
        found.append(DataPod(pod.name, chosen[0], chosen[1], running))
    found.sort(key=lambda p: (p.name not in names, p.name))
    return found


def mounts_of(
    pod: str, rows: list, pvc_mounts: tuple[str, ...], settings: Settings
) -> tuple[PodMount, ...]:
    out = []
    for r in rows:
        if r.mount != "/" and r.mount not in pvc_mounts:
            continue
        out.append(
            PodMount(
                pod=pod,
                mount=r.mount,
                device=r.device,
                size=r.size,
                used=r.used,
                avail=r.avail,
                percent=r.percent,
                level=level_for(r.percent, settings.thresholds.disk_pct),
                persistent=r.mount in pvc_mounts,
            )
        )
    # The persistent volumes first: they are what the runbook's check is about.
    out.sort(key=lambda m: (not m.persistent, m.mount))
    return tuple(out)


class DiskSource:
    """One snapshot per poll: `df` in every data pod, one exec at a time."""

    def __init__(
        self,
        settings: Settings,
        configuration: client.Configuration,
        namespace: str,
        list_chunk: int = LIST_CHUNK,
        pod_rows: Callable[[], Awaitable[Iterable[PodRow]]] | None = None,
    ) -> None:
        """`pod_rows`: the pods as the cockpit's watch has them (then no list is read);
        without it (`cockpit check`) each poll lists the pods a page at a time."""
        self.settings = settings
        self.pod_rows = pod_rows
        self.namespace = namespace
        self.list_chunk = list_chunk
        self.list_pages = 0  # pages read, over every poll (tests)
        self.configuration = configuration
        # One exec client per pod: each runs one exec at a time, so pods go in parallel
        # and a slow pod costs the poll its own time, not the sum.
        self._execs: dict[str, ExecClient] = {}
        self._api = client.ApiClient(configuration)
        self._pods_path = namespaced_path("/api/v1", namespace, "pods")

    def _list_pods(self) -> list[dict[str, Any]]:
        """The pods that may matter, a page at a time; the others are dropped per page."""
        cfg = self.settings.disk
        kept: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            paging: list[tuple[str, Any]] = [("limit", self.list_chunk)]
            if token is not None:
                paging.append(("continue", token))
            page = raw_json(self._api, self._pods_path, paging)
            self.list_pages += 1
            items = page.get("items") or []
            kept += [p for p in items if may_matter(p, cfg.pods, cfg.persistent_pods)]
            token = (page.get("metadata") or {}).get("continue") or None
            if token is None:
                return kept

    async def pod_disk(self, pod: DataPod) -> PodDisk:
        """`df` in one pod: its mounts, or the reason there are none."""
        cfg = self.settings.disk
        if not pod.running:
            return PodDisk(pod.name, (), Level.WARN, "pod is not running", "df needs a running pod")
        argv = [*DF_ARGV, "/", *pod.pvc_mounts]
        try:
            execs = self._execs.get(pod.name)
            if execs is None:
                execs = self._execs[pod.name] = ExecClient(self.configuration, self.namespace)
            res = await execs.run(pod.name, argv, cfg.container or pod.container, cfg.exec_timeout)
            if res.code != 0 and not res.out.strip():
                raise SourceError(
                    f"df failed in {pod.name} (exit {res.code}): {one_line(res.err, 160)}",
                    "the image may lack df (coreutils or busybox)",
                )
            rows = parse_df(res.out)
        except DfError as exc:
            return PodDisk(
                pod.name,
                (),
                Level.WARN,
                f"unreadable df output: {exc}",
                "the image's df may not be GNU or busybox",
            )
        except Exception as exc:
            message, hint = describe(exc)
            return PodDisk(pod.name, (), Level.WARN, message, hint)
        mounts = mounts_of(pod.name, rows, pod.pvc_mounts, self.settings)
        level = max((m.level for m in mounts), default=Level.OK)
        return PodDisk(pod.name, mounts, level)

    async def snapshot(self) -> DiskSnapshot:
        cfg = self.settings.disk
        if self.pod_rows is not None:
            rows: Iterable[PodRow] = await self.pod_rows()
        else:
            rows = [pod_row(p) for p in await asyncio.to_thread(self._list_pods)]
        pods = data_pods(rows, cfg.pods, cfg.persistent_pods, cfg.container)
        now = datetime.now(UTC)
        found = {p.name for p in pods}
        # A configured pod that is not there is news (postgres-0 being recreated, a typo).
        missing = tuple(
            PodDisk(
                name,
                (),
                Level.WARN,
                f"pod {name} not found in namespace {self.namespace}",
                f"it may be restarting (kubectl get pod {name} -n {self.namespace}); "
                "or fix disk.pods in the settings",
            )
            for name in cfg.pods
            if name not in found
        )
        if not pods and not missing:
            return DiskSnapshot((), now, Level.OK, "no pod with a persistent volume found")
        results = tuple(await asyncio.gather(*(self.pod_disk(p) for p in pods))) + missing
        for gone in set(self._execs) - {p.name for p in pods}:
            self._execs.pop(gone).close()
        level = max((p.level for p in results), default=Level.OK)
        return DiskSnapshot(results, now, level)

    async def close(self) -> None:
        for execs in self._execs.values():
            execs.close()
        self._execs.clear()
        try:
            self._api.close()
        except Exception:
            pass
