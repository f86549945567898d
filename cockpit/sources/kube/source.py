"""Everything the cockpit reads from Kubernetes, as snapshots.

Pods, workloads, events and jobs come from informers (list-then-watch threads); the
pollers only read their current rows, so a 2 s refresh costs no API call.  Metrics
(metrics.k8s.io) are polled, since they cannot be watched.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from kubernetes.client.exceptions import ApiException

from cockpit import gctuning
from cockpit.config import Settings
from cockpit.errors import SourceError
from cockpit.model import (
    BackupsSnapshot,
    EventRow,
    EventsSnapshot,
    JobRow,
    KubeSnapshot,
    Level,
    LogBatch,
    PodRow,
    PodUsage,
    TopSnapshot,
    WorkloadRow,
    WorkloadUsage,
)
from cockpit.sources.kube.client import KubeTarget, kube_error
from cockpit.sources.kube.convert import (
    cpu_millicores,
    deployment_row,
    event_row,
    events_snapshot,
    job_row,
    memory_bytes,
    parse_time,
    pod_row,
    sort_time,
    sorted_workloads,
    statefulset_row,
)
from cockpit.sources.kube.first_pods import fetch_pod_table
from cockpit.sources.kube.logs import ErrorLogFollower
from cockpit.sources.kube.paths import namespaced_path
from cockpit.sources.kube.raw import pod_log, raw_getter, raw_json
from cockpit.sources.kube.watch import Informer
from cockpit.thresholds import level_for

MAX_EVENTS = 300
# The most seconds a watch waits to restart after a failure: how late the panes can be
# to recover once the API server is back.
WATCH_RETRY_MAX = 5.0


WORKLOADS_WAIT_S = 1.0  # how long the first screen's pods wait for the workloads


class KubeSource:
    def __init__(
        self,
        target: KubeTarget,
        settings: Settings,
        on_first_sync: Callable[[str], None] | None = None,
        *,
        table_first: bool = False,
        table: list[PodRow] | None = None,
        workloads: tuple[WorkloadRow, ...] | None = None,
    ) -> None:
        self.target = target
        self.settings = settings
        self.namespace = target.namespace
        ns = quote(self.namespace, safe="")
        ks = settings.kube
        common: dict[str, Any] = {
            "server": target.server,
            "resync_s": ks.resync_seconds,
            "request_timeout": ks.request_timeout,
            # A watch restart is one cheap request; never wait longer than the pollers.
            "backoff_max": min(WATCH_RETRY_MAX, settings.poll.backoff_max),
        }
        self._on_first_sync = on_first_sync
        api = target.api
        self.pods: Informer[PodRow] = Informer(
            "pods",
            raw_getter(api, f"/api/v1/namespaces/{ns}/pods"),
            pod_row,
            # With the Table on screen first, nobody waits for the full list: pages of
            # 500, whose parse (one C call each, holding the GIL) is 5 ms, not the
            # 13 MB body's 40-60 ms, in which the event loop could not paint.
            whole_first_list=not table_first,
            **common,
        )
        self.deployments: Informer[WorkloadRow] = Informer(
            "deployments",
            raw_getter(api, f"/apis/apps/v1/namespaces/{ns}/deployments"),
            deployment_row,
            **common,
        )
        self.statefulsets: Informer[WorkloadRow] = Informer(
            "statefulsets",
            raw_getter(api, f"/apis/apps/v1/namespaces/{ns}/statefulsets"),
            statefulset_row,
            **common,
        )
        self.events: Informer[EventRow] = Informer(
            "events", raw_getter(api, f"/api/v1/namespaces/{ns}/events"), event_row, **common
        )
        self.jobs: Informer[JobRow] = Informer(
            "jobs", raw_getter(api, f"/apis/batch/v1/namespaces/{ns}/jobs"), job_row, **common
        )
        self.informers = (self.pods, self.deployments, self.statefulsets, self.events, self.jobs)
        logs = settings.logs
        self.logs = ErrorLogFollower(
            self.pod_log,
            logs.apps,
            logs.error_pattern,
            logs.window,
            logs.max_lines,
            logs.max_streams,
            request_timeout=ks.request_timeout,
            server=target.server,
            threshold=settings.thresholds.error_lines_per_min,
        )
        self._kube_cache: tuple[tuple[int, ...], KubeSnapshot] | None = None
        self._started = False
        # The first screen's pods from one server-side Table, while the informer lists
        # the full objects (first_pods.py); None until fetched, [] when it failed.
        self._table_first = table_first  # the first screen's shortcut; not for one-shots
        self._table: list[PodRow] | None = None
        self._table_done = threading.Event()
        if table is not None:  # fetched while the UI was imported (prefetch.py)
            self._table = table
            self._table_done.set()
        self._table_workloads = workloads  # the same, shown until the informers list them
        self._stopped = threading.Event()
        self._list_now = threading.Event()
        self.on_pods_synced: Callable[[], None] | None = None  # the full list replaced it

    # No generated API class (CoreV1Api, ...) in steady state: they are slow to import
    # and hold 22 MB for good (see raw.py).  Logs, metrics and the CronJob go raw too.

    def pod_log(self, pod: str, **options: Any) -> Any:
        """A pod's log as an unread response (raw.pod_log's options), on this client."""
        return pod_log(self.target.api, self.namespace, pod, **options)

    # -- lifecycle --------------------------------------------------------------------

    def start(self) -> None:
        if not self._started and not self._table_first:
            for informer in self.informers:
                informer.start()
            self._started = True
        if not self._started:
            for informer in self.informers:
                if informer is not self.pods:
                    informer.start()
            # The pods' full list waits for the Table and its first paint: on two cores,
            # listing and parsing 13 MB beside them would delay the first screen.
            threading.Thread(target=self._first_pods, name="kube-first-pods", daemon=True).start()
            self._started = True

    def list_pods(self) -> None:
        """Start the pods' full list now (after the provisional rows are on screen)."""
        self._list_now.set()

    def _first_pods(self) -> None:
        if not self._table_done.is_set():
            try:
                self._table = fetch_pod_table(
                    self.target.api, self.namespace, self.settings.kube.request_timeout
                )
            except Exception:  # the informer's list says what is wrong; a shortcut only
                self._table = []
            finally:
                self._table_done.set()
        if self._table:  # shown first: the list starts once they are on screen (or in 2 s)
            self._list_now.wait(2.0)
        if self._stopped.is_set():
            return
        self.pods.start()
        if self._table:
            # Provisional rows are on screen: say at once when the full ones are in.
            while not self.pods.synced.wait(1.0):
                if self._stopped.is_set():
                    return
            if self.on_pods_synced is not None:
                self.on_pods_synced()
            # The provisional rows are replaced for good (the informer never un-syncs):
            # 5,000 of them and the Table's dicts they point into, 4-5 MB, go too.
            self._table = []
            self._table_workloads = None
            # The 13 MB list and its dicts (5,000 pods) are freed: their pages go back.
            gctuning.release_free_memory()

    def stop(self) -> None:
        self._stopped.set()
        for informer in self.informers:
            informer.signal_stop()
        self.logs.stop()
        for informer in self.informers:
            informer.stop()
        self.target.close()

    # -- snapshots --------------------------------------------------------------------

    async def _synced(self, *informers: Informer[Any], wait: float = 8.0) -> None:
        """Wait (off the loop) for the first list, then raise the freshest error, if any."""
        for informer in informers:
            if not informer.synced.is_set() and informer.error is None:
                await asyncio.to_thread(_wait_synced_or_failed, informer, wait)
        failing = [(i, i.error) for i in informers if i.error is not None]
        if failing:
            # The soonest retry is when this can next change: the poller looks then.
            retries = [r for r in (i.retry_in() for i, _ in failing) if r is not None]
            err = failing[0][1]
            raise SourceError(err.message, err.hint, retry_in=min(retries, default=None))
        for informer in informers:
            if not informer.synced.is_set():
                raise SourceError(f"{informer.name}: still listing", "the API server is slow")

    async def pod_rows(self) -> list[PodRow]:
        """Every pod as the watch has it (once listed): for the disk source, which
        would otherwise list them all again each poll."""
        await self._synced(self.pods)
        return self.pods.rows()

    async def kube_snapshot(self) -> KubeSnapshot:
        if self._table_first and not self.pods.synced.is_set() and self.pods.error is None:
            # Prefetched: no hop to a thread, so the rows can make the very first frame.
            if not (self._table_done.is_set() and self._table):
                await asyncio.to_thread(self._wait_pods_or_table, 8.0)
            table = self._table  # once: _first_pods drops it when the full list is in
            if not self.pods.synced.is_set() and table:
                return KubeSnapshot(
                    context=self.target.context,
                    namespace=self.namespace,
                    pods=tuple(table),
                    workloads=await self._first_workloads(),
                    taken_at=datetime.now(UTC),
                    provisional=True,
                )
        await self._synced(self.pods, self.deployments, self.statefulsets)
        key = (self.pods.version, self.deployments.version, self.statefulsets.version)
        now = datetime.now(UTC)
        if self._kube_cache is not None and self._kube_cache[0] == key:
            cached = self._kube_cache[1]
            return KubeSnapshot(
                cached.context,
                cached.namespace,
                cached.pods,
                cached.workloads,
                now,
                cached.version,
            )
        previous = self._kube_cache[1] if self._kube_cache is not None else None
        old_key = self._kube_cache[0] if self._kube_cache is not None else None
        # The same tuple object when that informer did not change, so panes can tell
        # "nothing new" by identity (a workload's status change says nothing about pods).
        if previous is not None and old_key is not None and old_key[0] == key[0]:
            pods = previous.pods
        else:
            pods = tuple(self.pods.rows())
        if previous is not None and old_key is not None and old_key[1:] == key[1:]:
            workloads = previous.workloads
        else:
            workloads = self._workloads()
        snapshot = KubeSnapshot(
            context=self.target.context,
            namespace=self.namespace,
            pods=pods,
            workloads=workloads,
            taken_at=now,
            version=sum(key),
        )
        self._kube_cache = (key, snapshot)
        return snapshot

    def _workloads(self) -> tuple[WorkloadRow, ...]:
        return sorted_workloads(self.deployments.rows() + self.statefulsets.rows())

    async def _first_workloads(self) -> tuple[WorkloadRow, ...]:
        """The informers' when listed, else the prefetched ones; else they are small
        lists: shown with the first pods when they are in within a second, else they
        follow with the full pods."""
        if self.deployments.synced.is_set() and self.statefulsets.synced.is_set():
            return self._workloads()
        if (prefetched := self._table_workloads) is not None:
            return prefetched
        listed = await asyncio.to_thread(self._workloads_listed, WORKLOADS_WAIT_S)
        return self._workloads() if listed else ()

    def _workloads_listed(self, limit: float) -> bool:
        deadline = time.monotonic() + limit
        for informer in (self.deployments, self.statefulsets):
            if informer.error is not None:
                return False
            if not informer.synced.wait(max(0.0, deadline - time.monotonic())):
                return False
        return True

    def _wait_pods_or_table(self, limit: float) -> None:
        """Until the pods are listed, or the Table has rows, or the list failed."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline and self.pods.error is None:
            if self.pods.synced.wait(0.01):
                return
            if self._table_done.is_set() and self._table:
                return
            if self._table_done.is_set():  # no Table: the full list it is
                self.pods.synced.wait(max(0.0, deadline - time.monotonic()))
                return

    async def log_batch(self) -> LogBatch:
        """New error lines; also starts/stops log streams as pods come and go."""
        await self._synced(self.pods)
        # Off the loop: the streams take the log lock for every line they keep, and
        # while the history pours in the loop waited its turn (65 ms, 2 ms of them its
        # own CPU, seen by bench_stalls).
        return await asyncio.to_thread(self._log_batch)

    def _log_batch(self) -> LogBatch:
        self.logs.sync(self.pods.rows, self.pods.version)
        return self.logs.batch()

    async def events_snapshot(self) -> EventsSnapshot:
        await self._synced(self.events)
        return events_snapshot(self.events.rows(), datetime.now(UTC), MAX_EVENTS)

    async def top_snapshot(self) -> TopSnapshot:
        await self._synced(self.pods)  # usage is joined with the pods' limits
        try:
            # Reading and converting 5,000 samples takes a few hundred ms of CPU: all of
            # it off the loop, or a key pressed meanwhile waits for it.
            return await asyncio.to_thread(self._top_snapshot)
        except ApiException as exc:
            if exc.status == 404:
                return TopSnapshot(
                    available=False,
                    message="metrics.k8s.io is not served by this cluster "
                    "(is metrics-server installed?)",
                    pods=(),
                    workloads=(),
                    sample_time=None,
                    window_s=None,
                    taken_at=datetime.now(UTC),
                )
            raise kube_error(exc, self.target.server) from None
        except Exception as exc:
            raise kube_error(exc, self.target.server) from None

    def _top_snapshot(self) -> TopSnapshot:
        raw = self._read_pod_metrics()
        pods_by_name = {p.name: p for p in self.pods.rows()}
        return top_from_metrics(raw, pods_by_name, self.settings)

    def _read_pod_metrics(self) -> dict:
        # orjson: 5,000 pods' samples in a third of json's time.
        return raw_json(
            self.target.api,
            namespaced_path("/apis/metrics.k8s.io/v1beta1", self.namespace, "pods"),
            timeout=(self.settings.kube.request_timeout,) * 2,
        )

    async def backups_snapshot(self) -> BackupsSnapshot:
        await self._synced(self.jobs)
        settings = self.settings.backups
        try:
            raw = await asyncio.to_thread(self._read_cronjob, settings.cronjob)
        except Exception as exc:
            raise kube_error(exc, self.target.server) from None
        return backups_from(raw, self.jobs.rows(), settings.cronjob, settings.schedule)

    def _read_cronjob(self, name: str) -> dict | None:
        return raw_json(
            self.target.api,
            namespaced_path("/apis/batch/v1", self.namespace, "cronjobs", name),
            timeout=(self.settings.kube.request_timeout,) * 2,
            missing_ok=True,
        )


def _wait_synced_or_failed(informer: Informer[Any], limit: float) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if informer.synced.wait(0.05) or informer.error is not None:
            return


def _pct(value: float | None, of: float | None) -> float | None:
    if value is None or not of:
        return None
    return 100.0 * value / of


def top_from_metrics(raw: dict, pods: dict[str, PodRow], settings: Settings) -> TopSnapshot:
    """Join metrics.k8s.io usage with the pods' requests and limits."""
    th = settings.thresholds
    rows: list[PodUsage] = []
    sample: datetime | None = None
    window: float | None = None
    stamps: dict[str, datetime | None] = {}  # the pods share a handful of scrape times
    for item in raw.get("items") or []:
        name = (item.get("metadata") or {}).get("name", "")
        cpu = sum(
            cpu_millicores((c.get("usage") or {}).get("cpu")) or 0.0
            for c in item.get("containers") or []
        )
        mem = sum(
            memory_bytes((c.get("usage") or {}).get("memory")) or 0
            for c in item.get("containers") or []
        )
        stamp = item.get("timestamp")
        key = stamp if isinstance(stamp, str) else ""
        if key not in stamps:
            stamps[key] = parse_time(stamp)
        ts = stamps[key]
        if ts and (sample is None or ts > sample):
            sample = ts
        if item.get("window") and window is None:
            window = _duration_s(item["window"])
        pod = pods.get(name)
        cpu_lim = _pct(cpu, pod.cpu_limit_m if pod else None)
        mem_lim = _pct(mem, pod.mem_limit if pod else None)
        level = max(level_for(cpu_lim, th.cpu_pct), level_for(mem_lim, th.memory_pct))
        rows.append(
            PodUsage(
                uid=pod.uid if pod else name,
                name=name,
                workload=pod.workload if pod else "",
                cpu_m=cpu,
                mem_bytes=mem,
                cpu_request_pct=_pct(cpu, pod.cpu_request_m if pod else None),
                cpu_limit_pct=cpu_lim,
                mem_request_pct=_pct(mem, pod.mem_request if pod else None),
                mem_limit_pct=mem_lim,
                level=level,
            )
        )
    rows.sort(key=lambda r: (-r.level, -(r.mem_limit_pct or 0), -r.cpu_m))
    totals: dict[str, list[PodUsage]] = {}
    for row in rows:
        totals.setdefault(row.workload or "(none)", []).append(row)
    workloads = []
    for name, members in totals.items():
        cpu = sum(r.cpu_m for r in members)
        mem = sum(r.mem_bytes for r in members)
        cpu_limits = [pods[r.name].cpu_limit_m for r in members if r.name in pods]
        mem_limits = [pods[r.name].mem_limit for r in members if r.name in pods]
        cpu_lim_total = sum(cpu_limits) if cpu_limits and None not in cpu_limits else None
        mem_lim_total = sum(mem_limits) if mem_limits and None not in mem_limits else None
        workloads.append(
            WorkloadUsage(
                workload=name,
                pods=len(members),
                cpu_m=cpu,
                mem_bytes=mem,
                cpu_limit_pct=_pct(cpu, cpu_lim_total),
                mem_limit_pct=_pct(mem, mem_lim_total),
                level=max(r.level for r in members),
            )
        )
    workloads.sort(key=lambda w: (-w.level, w.workload))
    return TopSnapshot(
        available=True,
        message="",
        pods=tuple(rows),
        workloads=tuple(workloads),
        sample_time=sample,
        window_s=window,
        taken_at=datetime.now(UTC),
    )


def _duration_s(text: str) -> float | None:
    """A Go duration like "15s", "1m0s", "30.5s"."""
    total = 0.0
    number = ""
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isdigit() or ch == ".":
            number += ch
            i += 1
            continue
        unit = "ms" if text[i : i + 2] == "ms" else ch
        if unit not in units or not number:
            return None
        total += float(number) * units[unit]
        number = ""
        i += len(unit)
    return total if not number else None


def backups_from(
    cronjob: dict | None, jobs: list[JobRow], name: str, schedule: str
) -> BackupsSnapshot:
    """The backup CronJob and its Jobs (by the `<cronjob>-` name prefix, as kubectl | grep)."""
    mine = [j for j in jobs if j.name.startswith(name + "-") or j.name == name]
    mine.sort(key=lambda j: sort_time(j.started), reverse=True)
    now = datetime.now(UTC)
    if cronjob is None:
        return BackupsSnapshot(
            cronjob=name,
            schedule=schedule,
            suspended=False,
            last_schedule=None,
            last_success=None,
            jobs=tuple(mine),
            taken_at=now,
            level=Level.CRIT,
            s3_message=f"CronJob {name} not found",
        )
    spec = cronjob.get("spec") or {}
    status = cronjob.get("status") or {}
    last_success = parse_time(status.get("lastSuccessfulTime"))
    level = Level.OK
    if mine and mine[0].status == "Failed":
        level = Level.CRIT
    elif last_success is None or (now - last_success).total_seconds() > 26 * 3600:
        level = Level.WARN  # the daily backup has not succeeded in over a day
    return BackupsSnapshot(
        cronjob=name,
        schedule=spec.get("schedule", schedule),
        suspended=bool(spec.get("suspend")),
        last_schedule=parse_time(status.get("lastScheduleTime")),
        last_success=last_success,
        jobs=tuple(mine),
        taken_at=now,
        level=level,
    )
