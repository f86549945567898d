"""The workloads pane: deployments and statefulsets, ready/desired, revision, rollout."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult

from cockpit import clock
from cockpit.config import KubeSettings
from cockpit.model import KubeSnapshot, WorkloadRow, worst
from cockpit.units import since
from widgets.cells import LEVEL_STYLE, plain
from widgets.keys import Key
from widgets.messages import ActionRequested, ViewRequested
from widgets.pane import Pane
from widgets.table import KeyedTable

COLUMNS = (
    ("name", "NAME"),
    ("ready", "READY"),
    ("uptodate", "UPD"),
    ("available", "AVL"),
    ("revision", "REV"),
    ("rollout", "ROLLOUT"),
    ("kind", "KIND"),
    ("age", "AGE"),
    ("images", "IMAGES"),
)


class WorkloadsPane(Pane):
    PANE_TITLE = "Workloads"
    SOURCES = ("pods",)
    KEYS = (
        Key("R", "rollout_restart", "Rollout restart", "deployment.rollout-restart",
            mutating=True, palette="Rollout restart {target}"),
        Key("u", "rollout_undo", "Undo", "deployment.rollout-undo", mutating=True,
            palette="Rollout undo {target}"),
        Key("s", "scale", "Scale", "deployment.scale", mutating=True, palette="Scale {target}"),
        Key("d", "describe_service", "Describe svc", palette="Describe service of {target}"),
        Key("E", "emergency_stop", "Emergency stop", "deployment.scale-many", mutating=True,
            palette="Emergency stop (scale {target} to 0)"),
        Key("O", "restore_counts", "Restore counts", "deployment.scale-many", mutating=True,
            palette="Restore the runbook's replica counts"),
        Key("A", "restart_all", "Restart all", "deployment.rollout-restart-all",
            mutating=True, palette="Rollout restart ALL deployments"),
    )  # fmt: skip

    def __init__(self, kube: KubeSettings | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # The runbook's emergency-stop list and replica counts.
        self.kube_settings = kube or KubeSettings()
        self.snapshot: KubeSnapshot | None = None
        self._by_uid: dict[str, WorkloadRow] = {}

    def compose(self) -> ComposeResult:
        yield self.compose_failure()
        yield KeyedTable(COLUMNS, id="workloads-table")

    @property
    def table(self) -> KeyedTable:
        return self.query_one(KeyedTable)

    def show(self, snapshot: KubeSnapshot) -> None:
        if snapshot.provisional and not snapshot.workloads:
            return  # the first screen's pods came first; the workloads are still listing
        unchanged = self.snapshot is not None and snapshot.workloads is self.snapshot.workloads
        self.snapshot = snapshot
        if unchanged:
            self.mark_fresh(snapshot.taken_at)
            return
        self._by_uid = {w.uid: w for w in snapshot.workloads}
        self.mark_fresh(snapshot.taken_at)
        now = clock.now()
        rows = []
        for w in snapshot.workloads:
            style = LEVEL_STYLE[w.level]
            rows.append(
                (
                    w.uid,
                    (
                        plain(w.name, style),
                        plain(w.ready_text, style),
                        plain(w.updated),
                        plain(w.available),
                        plain(w.revision[:8]),
                        plain(w.rollout, style if w.rollout != "complete" else "green"),
                        plain("deploy" if w.kind == "Deployment" else "sts", "dim"),
                        plain(since(w.created, now)),
                        plain(", ".join(w.images), "dim"),
                    ),
                )
            )
        self.table.apply(rows)
        self.level = worst(w.level for w in snapshot.workloads)
        low = [w for w in snapshot.workloads if w.ready < w.desired or w.desired == 0]
        degraded = len(low)
        self.summary = ", ".join(f"{w.name} {w.ready_text}" for w in low[:3])
        title = f"Workloads ({len(snapshot.workloads)})"
        if degraded:
            title += f" · {degraded} degraded"
        self.set_title(title)

    def selected_workload(self) -> WorkloadRow | None:
        key = self.table.selected_key
        return self._by_uid.get(key) if key else None

    def _deployment(self) -> WorkloadRow | None:
        workload = self.selected_workload()
        if workload is None:
            return None
        if workload.kind != "Deployment":
            self.notify(
                f"{workload.name} is a {workload.kind}: this action is for deployments",
                severity="warning",
                markup=False,
            )
            return None
        return workload

    def deployments(self, names: tuple[str, ...] | None = None) -> tuple[WorkloadRow, ...]:
        rows = self.snapshot.workloads if self.snapshot else ()
        found = tuple(w for w in rows if w.kind == "Deployment")
        if names is None:
            return found
        by_name = {w.name: w for w in found}
        return tuple(by_name[n] for n in names if n in by_name)

    @property
    def namespace(self) -> str:
        return self.snapshot.namespace if self.snapshot else ""

    def _request(self, action_id: str, **args: object) -> None:
        self.post_message(ActionRequested(action_id, namespace=self.namespace, **args))

    def palette_target(self, key: Key) -> str | None:
        if key.method == "emergency_stop":
            return ", ".join(self.kube_settings.emergency_stop)
        if key.method in ("restore_counts", "restart_all"):
            return ""
        workload = self.selected_workload()
        return workload.name if workload is not None else None

    def action_rollout_restart(self) -> None:
        if (w := self._deployment()) is not None:
            self._request("deployment.rollout-restart", workload=w)

    def action_rollout_undo(self) -> None:
        if (w := self._deployment()) is not None:
            self._request("deployment.rollout-undo", workload=w, current=None, previous=None)

    def action_scale(self) -> None:
        if (w := self._deployment()) is not None:
            self._request("deployment.scale", workload=w, replicas=w.desired)

    def action_restart_all(self) -> None:
        if deployments := self.deployments():
            self._request("deployment.rollout-restart-all", workloads=deployments)

    def action_emergency_stop(self) -> None:
        names = self.kube_settings.emergency_stop
        if targets := self.deployments(names):
            self._request(
                "deployment.scale-many",
                workloads=targets,
                counts=(0,) * len(targets),
                purpose="emergency stop",
            )

    def action_restore_counts(self) -> None:
        counts = self.kube_settings.restore_replicas
        if targets := self.deployments(tuple(counts)):
            self._request(
                "deployment.scale-many",
                workloads=targets,
                counts=tuple(counts[w.name] for w in targets),
                purpose="restore the runbook's counts",
            )

    def action_describe_service(self) -> None:
        workload = self.selected_workload()
        if workload is not None:
            self.post_message(ViewRequested("describe-service", workload=workload))
