"""The workloads pane: deployments and statefulsets, ready/desired, revision, rollout."""

from __future__ import annotations

from datetime import UTC, datetime

from textual.app import ComposeResult

from cockpit.model import KubeSnapshot, WorkloadRow, worst
from widgets.cells import LEVEL_STYLE, plain
from widgets.pane import Pane, since
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

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.snapshot: KubeSnapshot | None = None
        self._by_uid: dict[str, WorkloadRow] = {}

    def compose(self) -> ComposeResult:
        yield self.compose_failure()
        yield KeyedTable(COLUMNS, id="workloads-table")

    @property
    def table(self) -> KeyedTable:
        return self.query_one(KeyedTable)

    def show(self, snapshot: KubeSnapshot) -> None:
        self.snapshot = snapshot
        self._by_uid = {w.uid: w for w in snapshot.workloads}
        self.mark_fresh(snapshot.taken_at)
        now = datetime.now(UTC)
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
        degraded = sum(1 for w in snapshot.workloads if w.ready < w.desired or w.desired == 0)
        title = f"Workloads ({len(snapshot.workloads)})"
        if degraded:
            title += f" · {degraded} degraded"
        self.set_title(title)

    def selected_workload(self) -> WorkloadRow | None:
        key = self.table.selected_key
        return self._by_uid.get(key) if key else None
