"""The pods pane: kubectl's columns plus live CPU/memory, worst first, keyed by uid."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message

from cockpit.model import KubeSnapshot, Level, PodRow, PodUsage, TopSnapshot, worst
from widgets.cells import LEVEL_STYLE, bytes_text, leveled, millicores, plain
from widgets.filter import FilterBar, matcher
from widgets.messages import ActionRequested
from widgets.pane import Pane, since
from widgets.table import Cells, KeyedTable

COLUMNS = (
    ("name", "NAME"),
    ("ready", "READY"),
    ("status", "STATUS"),
    ("restarts", "RESTARTS"),
    ("age", "AGE"),
    ("cpu", "CPU (%L)"),
    ("mem", "MEM (%L)"),
    ("node", "NODE"),
)

SORTS: dict[str, Callable[[PodRow, PodUsage | None], object]] = {
    "worst first": lambda p, u: (-p.level, p.ready >= p.total, -p.restarts, p.name),
    "name": lambda p, u: p.name,
    "age (newest)": lambda p, u: -(p.created.timestamp() if p.created else 0),
    "restarts": lambda p, u: (-p.restarts, p.name),
    "cpu": lambda p, u: (-(u.cpu_m if u else -1), p.name),
    "memory": lambda p, u: (-(u.mem_bytes if u else -1), p.name),
}


def restarts_text(pod: PodRow, now: datetime) -> str:
    if pod.restarts and pod.last_restart is not None:
        return f"{pod.restarts} ({since(pod.last_restart, now)} ago)"
    return str(pod.restarts)


def usage_text(amount: str, percent: float | None) -> str:
    return amount if percent is None else f"{amount} ({percent:.0f}%)"


class PodsPane(Pane):
    PANE_TITLE = "Pods"
    SOURCES = ("pods", "top")
    BINDINGS = [
        Binding("slash", "filter", "Filter"),
        Binding("S", "cycle_sort", "Sort"),
        Binding("enter", "open_logs", "Logs"),
        Binding("p", "previous_logs", "Prev logs"),
        Binding("ctrl+d", "restart_pod", "Restart pod"),
    ]
    MUTATING = frozenset({"restart_pod"})
    ACTION_IDS = {"restart_pod": "pod.restart"}

    class OpenLogs(Message):
        """The user wants the full-screen log view of a pod."""

        def __init__(self, pod: PodRow, previous: bool = False) -> None:
            super().__init__()
            self.pod = pod
            self.previous = previous

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.snapshot: KubeSnapshot | None = None
        self.usage: dict[str, PodUsage] = {}
        self.sort_name = "worst first"
        self.filter_text = ""
        self._match: Callable[[str], bool] | None = None
        self._cache: dict[str, tuple[tuple[object, ...], Cells]] = {}
        self._by_uid: dict[str, PodRow] = {}

    def compose(self) -> ComposeResult:
        yield self.compose_failure()
        yield KeyedTable(COLUMNS, id="pods-table")
        yield FilterBar(id="pods-filter")

    @property
    def table(self) -> KeyedTable:
        return self.query_one(KeyedTable)

    # -- data in ------------------------------------------------------------------------

    def show(self, snapshot: KubeSnapshot) -> None:
        self.snapshot = snapshot
        self._by_uid = {p.uid: p for p in snapshot.pods}
        self.mark_fresh(snapshot.taken_at)
        self.render_rows()

    def show_usage(self, top: TopSnapshot) -> None:
        self.usage = {u.name: u for u in top.pods} if top.available else {}
        if self.snapshot is not None:
            self.render_rows()

    def render_rows(self, now: datetime | None = None) -> None:
        if self.snapshot is None:
            return
        now = now or datetime.now(UTC)
        pods = self.snapshot.pods
        if self._match is not None:
            match = self._match
            pods = tuple(p for p in pods if match(f"{p.name} {p.status} {p.node} {p.app}"))
        key = SORTS[self.sort_name]
        usage = self.usage
        ordered = sorted(pods, key=lambda p: key(p, usage.get(p.name)))
        rows = [(p.uid, self._cells(p, usage.get(p.name), now)) for p in ordered]
        if len(self._cache) > 2 * len(self._by_uid) + 100:
            self._cache = {uid: v for uid, v in self._cache.items() if uid in self._by_uid}
        self.table.apply(rows)
        all_pods = self.snapshot.pods
        self.level = worst(p.level for p in all_pods)
        bad = sum(1 for p in all_pods if p.level is Level.CRIT)
        shown = f"{len(pods)}/{len(all_pods)}" if self._match else str(len(all_pods))
        title = f"Pods ({shown}) · {self.snapshot.namespace} · sort: {self.sort_name}"
        if bad:
            title += f" · {bad} failing"
        failing = [p.name for p in all_pods if p.level is Level.CRIT]
        self.summary = f"{len(failing)} failing ({', '.join(failing[:2])})" if failing else ""
        if self.filter_text:
            title += " · filter on"
        self.set_title(title)

    def _cells(self, pod: PodRow, use: PodUsage | None, now: datetime) -> Cells:
        age = since(pod.created, now)
        restarts = restarts_text(pod, now)
        signature = (pod, use, age, restarts)
        cached = self._cache.get(pod.uid)
        if cached is not None and cached[0] == signature:
            return cached[1]
        style = LEVEL_STYLE[pod.level]
        ready_style = "" if pod.ready >= pod.total or pod.phase == "Succeeded" else "yellow"
        if use is None:
            cpu, mem = Text("-"), Text("-")
        else:
            cpu = leveled(usage_text(millicores(use.cpu_m), use.cpu_limit_pct), use.level)
            mem = leveled(usage_text(bytes_text(use.mem_bytes), use.mem_limit_pct), use.level)
        cells = (
            plain(pod.name, style),
            plain(pod.ready_text, ready_style),
            plain(pod.status, style),
            plain(restarts, "yellow" if pod.restarts else ""),
            plain(age),
            cpu,
            mem,
            plain(pod.node, "dim"),
        )
        self._cache[pod.uid] = (signature, cells)
        return cells

    # -- selection and actions ------------------------------------------------------------

    def selected_pod(self) -> PodRow | None:
        key = self.table.selected_key
        return self._by_uid.get(key) if key else None

    def palette_entries(self) -> list[tuple[str, str, Callable[[], object], bool]]:
        pod = self.selected_pod()
        if pod is None:
            return []
        return [
            (f"Logs of pod {pod.name}", "enter in Pods", self.action_open_logs, False),
            (f"Previous logs of pod {pod.name}", "p in Pods", self.action_previous_logs, False),
            (f"Restart pod {pod.name}", "ctrl+d in Pods", self.action_restart_pod, True),
        ]

    def action_filter(self) -> None:
        self.query_one(FilterBar).open()

    @on(FilterBar.Changed)
    def _filter_changed(self, event: FilterBar.Changed) -> None:
        self.filter_text = event.text
        self._match = matcher(event.text)
        self.render_rows()

    def action_cycle_sort(self) -> None:
        names = list(SORTS)
        self.sort_name = names[(names.index(self.sort_name) + 1) % len(names)]
        self.render_rows()

    @on(KeyedTable.RowSelected)
    def _row_selected(self, event: KeyedTable.RowSelected) -> None:
        event.stop()
        self.action_open_logs()

    def action_open_logs(self) -> None:
        pod = self.selected_pod()
        if pod is not None:
            self.post_message(self.OpenLogs(pod))

    def action_restart_pod(self) -> None:
        pod = self.selected_pod()
        if pod is None or self.snapshot is None:
            return
        workload = next(
            (
                w
                for w in self.snapshot.workloads
                if w.name == pod.workload and pod.owner_kind in ("ReplicaSet", "StatefulSet")
            ),
            None,
        )
        self.post_message(
            ActionRequested(
                "pod.restart", pod=pod, workload=workload, namespace=self.snapshot.namespace
            )
        )

    def action_previous_logs(self) -> None:
        pod = self.selected_pod()
        if pod is not None:
            self.post_message(self.OpenLogs(pod, previous=True))
