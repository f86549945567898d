"""The pods pane: kubectl's columns plus live CPU/memory, worst first, keyed by uid."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.message import Message

from cockpit import clock
from cockpit.model import KubeSnapshot, Level, PodRow, PodUsage, TopSnapshot, worst
from cockpit.textsafe import clean
from cockpit.units import ago, bytes_text, millicores, since
from widgets.cells import LEVEL_STYLE
from widgets.filter import FilterBar, matcher
from widgets.frametimer import FramePaced
from widgets.keys import Key
from widgets.messages import ActionRequested
from widgets.offloop import Newest
from widgets.pane import Pane
from widgets.podorder import BY_USAGE, PodOrder, next_sort
from widgets.vtable import Cell, Cells, VirtualTable

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

# Below this many pods the order costs a few ms: computed at once, with no thread hop
# and no frame without it.  Above, in a worker thread (widgets/podorder.py).
INLINE_ROWS = 1000
# A worker's order comes 4-6 ms after the key at 5,000 pods: the screen's next frame
# waits this long for it, so that the key's echo and the rows are drawn together.
ORDER_HOLD_S = 0.010
# From this many new rows at once, only those on screen get their cells before the
# paint; the others follow, BUILD_CHUNK per turn of the loop (about 6 ms each).
BUILD_LATER_AT = 1000
BUILD_CHUNK = 500


def restarts_text(pod: PodRow, now: datetime) -> str:
    if pod.restarts and pod.last_restart is not None:
        return f"{pod.restarts} ({ago(pod.last_restart, now)})"
    return str(pod.restarts)


def _text_lasts(moment: datetime | None, stamp: float) -> float:
    """Seconds until an age shown as kubectl does ("45s", "5m", "3h", "2d") changes."""
    if moment is None:
        return 86400.0
    age = max(0.0, stamp - moment.timestamp())
    for limit, step in ((120, 1), (7200, 60), (172800, 3600)):
        if age < limit:
            return step - age % step
    return 86400 - age % 86400


def _expiry(pod: PodRow, stamp: float) -> float:
    return stamp + min(_text_lasts(pod.created, stamp), _text_lasts(pod.last_restart, stamp))


def _safe(value: object, style: str = "") -> Cell:
    """Untrusted text (pod and node names, statuses) made safe, drawn only if seen."""
    return Cell(clean(str(value), 500), style)


def _pod_cells(pod: PodRow, now: datetime) -> Cells:
    """NAME, READY, STATUS, RESTARTS, AGE and NODE."""
    style = LEVEL_STYLE[pod.level]
    ready_style = "" if pod.ready >= pod.total or pod.phase == "Succeeded" else "yellow"
    return (
        _safe(pod.name, style),
        Cell(pod.ready_text, ready_style),
        _safe(pod.status, style),
        Cell(restarts_text(pod, now), "yellow" if pod.restarts else ""),
        Cell(since(pod.created, now)),
        _safe(pod.node, "dim"),
    )


NO_USAGE = (Cell("-"), Cell("-"))
PENDING_CELLS = tuple(Cell("") for _ in COLUMNS)  # a row not built yet (stale until drawn)


def _usage_cells(use: PodUsage | None) -> Cells:
    """CPU and MEM with their % of limit."""
    if use is None:
        return NO_USAGE
    style = LEVEL_STYLE[use.level]
    return (
        Cell(usage_text(millicores(use.cpu_m), use.cpu_limit_pct), style),
        Cell(usage_text(bytes_text(use.mem_bytes), use.mem_limit_pct), style),
    )


def usage_text(amount: str, percent: float | None) -> str:
    return amount if percent is None else f"{amount} ({percent:.0f}%)"


class PodsPane(Pane):
    PANE_TITLE = "Pods"
    SOURCES = ("pods", "top")
    KEYS = (
        Key("slash", "filter", "Filter"),
        Key("S", "cycle_sort", "Sort"),
        Key("enter", "open_logs", "Logs", palette="Logs of pod {target}"),
        Key("p", "previous_logs", "Prev logs", palette="Previous logs of pod {target}"),
        Key("ctrl+d", "restart_pod", "Restart pod", "pod.restart", mutating=True,
            palette="Restart pod {target}"),
    )  # fmt: skip

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
        # uid -> (pod row, its own cells, unix time until which their ages stay the same)
        self._base: dict[str, tuple[PodRow, Cells, float]] = {}
        self._usage_cells: dict[str, tuple[PodUsage | None, Cells]] = {}  # cpu, mem
        self._rows: dict[str, tuple[Cells, Cells, Cells]] = {}  # own, usage, the row
        self._next_expiry = 0.0
        self._by_uid: dict[str, PodRow] = {}
        self._order: PodOrder | None = None  # the sort keys of this pod list
        self._orderer: Newest[list[str]] = Newest(self, "pods-order")
        # The pod list or the metrics changed since the table got its cells.
        self._rebuild = False
        # (sort, filter) of the rows on the table: the order lags a key by a frame or so.
        self.shown_order: tuple[str, str] = (self.sort_name, self.filter_text)
        self._shown = 0  # rows the filter lets through
        self._ordered = False  # a pod list has been put in order (and shown) once
        self._failing: list[str] = []

    def compose(self) -> ComposeResult:
        yield self.compose_failure()
        # Thousands of pods: a virtual table renders only what is on screen.
        yield VirtualTable(COLUMNS, id="pods-table")
        yield FilterBar(id="pods-filter", holds_frames=True)

    def on_mount(self) -> None:
        self.table.row_source = self._row_now

    def on_unmount(self) -> None:
        self._orderer.close()

    @property
    def table(self) -> VirtualTable:
        return self.query_one(VirtualTable)

    # -- data in ------------------------------------------------------------------------

    def show(self, snapshot: KubeSnapshot) -> None:
        previous = self.snapshot
        unchanged = previous is not None and snapshot.pods is previous.pods
        self.snapshot = snapshot
        self.mark_fresh(snapshot.taken_at)
        if unchanged:
            if time.time() >= self._next_expiry:
                self._refresh_in_place(ages_only=True)  # same rows, same order
            return
        by_uid = {p.uid: p for p in snapshot.pods}
        same_pods = (
            previous is not None and not self._rebuild and by_uid.keys() == self._by_uid.keys()
        )
        self._by_uid = by_uid
        self._order = PodOrder(snapshot.pods, self.usage)
        self.level = worst(p.level for p in snapshot.pods)
        self._failing = [p.name for p in snapshot.pods if p.level is Level.CRIT]
        if same_pods:
            # The same pods as new objects: the full list replacing the first screen's
            # provisional rows (5,000 rows rebuilt at once held the loop for 0.2 s), or a
            # poll where none came or went.  The rows on screen are rebuilt now, the rest
            # when drawn or read; the order is worked out again (a sorted field may move).
            self._refresh_in_place()
            self._want_order()
        else:
            self.render_rows()

    def show_source(self, source: str, snapshot: Any) -> None:
        if source == "top":
            self.show_usage(snapshot)
        else:
            self.show(snapshot)

    def show_usage(self, top: TopSnapshot) -> None:
        self.usage = {u.name: u for u in top.pods} if top.available else {}
        if self.snapshot is None:
            return
        if self._order is not None:
            self._order = self._order.with_usage(self.usage)
        if self.sort_name in BY_USAGE:
            self.render_rows()  # the order depends on the usage
        else:
            self._refresh_in_place()

    def _refresh_in_place(self, ages_only: bool = False) -> None:
        """Rebuild the rows whose cells changed without re-sorting (the order cannot
        have changed: same pods, and the sort does not look at what changed).

        A metrics poll changes every row: at 5,000 pods that is a quarter of a second
        of cell building.  The rows on screen are rebuilt at once; the rest only when
        they are scrolled to or read (the table asks `_row_now` for them)."""
        stamp = time.time()
        table = self.table
        if ages_only:
            # Only rows whose age text expired: a scan of floats, not 5,000 rebuilds.
            uids = [uid for uid, base in self._base.items() if base[2] <= stamp]
            self._next_expiry = min(
                (base[2] for base in self._base.values() if base[2] > stamp),
                default=stamp + 60.0,
            )
        else:
            uids = list(self._by_uid)  # the rows a filter hides too
            self._next_expiry = stamp + 60.0
        table.mark_stale(uids)
        table.freshen(table.visible_keys())

    def _row_now(self, uid: str) -> Cells | None:
        """A stale row's cells, when the table draws or reads it."""
        pod = self._by_uid.get(uid)
        if pod is None:
            return None
        now = clock.now()
        return self._cells(pod, self.usage.get(pod.name), now, now.timestamp())

    def render_rows(self) -> None:
        """The pod list or the metrics changed: every row's cells, then the order."""
        if self.snapshot is None:
            return
        self._rebuild = True
        self._want_order()

    def _want_order(self, typed: bool = False) -> None:
        """Sort and filter: at once for a few pods, else in the worker; the rows change
        when the order is ready, the title (sort, filter) at once.  `typed`: the filter
        bar shows the change, a repaint of its own that the rows' must join."""
        order = self._order
        if order is None:
            return
        self._set_title()
        sort_name, match = self.sort_name, self._match
        wanted = (sort_name, self.filter_text)
        # The first pods: nothing to keep answering keys for yet, and the loop would
        # only wait for the worker (sharing the GIL with it): sorted here.
        first = not self._ordered
        if len(order.pods) < INLINE_ROWS or first or order.known(sort_name, match):
            self._orderer.cancel()
            # The title changes with the rows, in one repaint; the filter bar's text
            # asked for its own already: the frame waits for the table's.
            held = self._hold_frames() if typed else None
            self._show_order(order.keys(sort_name, match), wanted, held)
        else:
            held = self._hold_frames()
            self._orderer.request(
                lambda: order.keys(sort_name, match),
                lambda keys: self._show_order(keys, wanted, held),
            )
        if len(order.pods) >= INLINE_ROWS:
            # `S` goes round the sorts in turn: the next one, sorted ahead in the worker,
            # is then shown with the title, in one frame and with no thread hop.  Only
            # once this order is drawn: the worker would share the GIL with that frame
            # (a key's frame took 5 ms longer with the next sort running beside it).
            ahead = next_sort(sort_name)
            if not order.known(ahead, None):
                self.call_after_refresh(
                    partial(self._orderer.later, lambda: order.sorted_indexes(ahead))
                )

    def _hold_frames(self) -> FramePaced | None:
        """Hold the screen's next frame (ORDER_HOLD_S at most) for the rows in their new
        order: the key's echo (the title, the typed text) and the rows in one frame."""
        screen = self.screen
        if not isinstance(screen, FramePaced):
            return None
        screen.hold_frames(ORDER_HOLD_S)
        return screen

    def _show_order(
        self, keys: list[str], wanted: tuple[str, str], held: FramePaced | None = None
    ) -> None:
        """Show `keys` in order, then let the frame `held` for them go: once the table
        has asked for its repaint (a message later), if they changed it."""
        table = self.table
        if self._rebuild and self.snapshot is not None:
            self._rebuild = False
            now = clock.now()
            stamp = now.timestamp()
            self._next_expiry = stamp + 60.0
            usage = self.usage
            # Every pod is in the table, shown or filtered out: the columns fit them all,
            # and a filter typed later only swaps the keys shown.  Only pods new to the
            # table get cells now; the others keep theirs until drawn or read (stale):
            # the full list replacing the first screen's rows, or a pod that came or
            # went, rebuilt and measured all 5,000 rows (80-100 ms on the loop).
            pods = self.snapshot.pods
            new = [p for p in pods if not table.has_row(p.uid)]
            if len(new) >= BUILD_LATER_AT:
                # Thousands of new rows (the first screen): those drawn now get their
                # cells below (`freshen`), the rest a chunk per turn of the loop after
                # this paint (`_build_later`): 5,000 rows built and measured before the
                # first paint held the loop 55-65 ms.
                pending = [p.uid for p in new]
                fresh = dict.fromkeys(pending, PENDING_CELLS)
            else:
                pending = []
                fresh = {p.uid: self._cells(p, usage.get(p.name), now, stamp) for p in new}
            if len(self._rows) > 2 * len(self._by_uid) + 100:  # pods that went away
                for cache in (self._base, self._usage_cells, self._rows):
                    for uid in [uid for uid in cache if uid not in self._by_uid]:
                        del cache[uid]
            changed = table.apply_keeping([p.uid for p in pods], fresh, keys)
            table.mark_stale(pending)
            table.freshen(table.visible_keys())
            if pending:
                self.run_worker(self._build_later(pending), group="pods-cells", exclusive=True)
        else:
            changed = table.reorder(keys)
        self.shown_order = wanted
        self._ordered = True
        self._shown = len(keys)
        self._set_title()
        if held is not None:
            held.release_frames(table if changed else None)

    async def _build_later(self, uids: list[str]) -> None:
        """The cells of rows not drawn yet, BUILD_CHUNK per turn of the loop, so that
        the columns fit every row a few frames after the first paint.  Rows drawn (or
        rebuilt) meanwhile are skipped: `freshen` builds only the stale."""
        table = self.table
        for start in range(0, len(uids), BUILD_CHUNK):
            await asyncio.sleep(0)
            table.freshen(uids[start : start + BUILD_CHUNK], repaint=False)

    def _set_title(self) -> None:
        if self.snapshot is None:
            return
        everyone = len(self.snapshot.pods)
        shown = f"{self._shown}/{everyone}" if self._match else str(everyone)
        if (remaining := self.snapshot.remaining) is not None:  # the Table's first page
            shown += f" of {everyone + remaining}, loading" if remaining else "+, loading"
        title = f"Pods ({shown}) · {self.snapshot.namespace} · sort: {self.sort_name}"
        failing = self._failing
        if failing:
            title += f" · {len(failing)} failing"
        self.summary = f"{len(failing)} failing ({', '.join(failing[:2])})" if failing else ""
        if self.filter_text:
            title += " · filter on"
        self.set_title(title)

    def _cells(self, pod: PodRow, use: PodUsage | None, now: datetime, stamp: float) -> Cells:
        """A pod's cells, rebuilt only where the pod, its usage or a shown age changed.

        At thousands of pods this is most of a poll's cost, so the pod's own cells (each
        knowing until when its ages like "5m" or "3 (2h ago)" stay the same) and its
        usage cells are cached apart: a metrics poll rebuilds two cells per pod, not all.
        """
        uid = pod.uid
        base = self._base.get(uid)
        if base is None or base[0] is not pod or stamp >= base[2]:
            base = (pod, _pod_cells(pod, now), _expiry(pod, stamp))
            self._base[uid] = base
        self._next_expiry = min(self._next_expiry, base[2])
        usage = self._usage_cells.get(uid)
        if usage is None or usage[0] is not use:
            usage = (use, _usage_cells(use))
            self._usage_cells[uid] = usage
        row = self._rows.get(uid)
        if row is None or row[0] is not base[1] or row[1] is not usage[1]:
            own, used = base[1], usage[1]
            row = (own, used, (*own[:5], *used, own[5]))
            self._rows[uid] = row
        return row[2]

    # -- selection and actions ------------------------------------------------------------

    def selected_pod(self) -> PodRow | None:
        key = self.table.selected_key
        return self._by_uid.get(key) if key else None

    def palette_target(self, key: Key) -> str | None:
        pod = self.selected_pod()
        return pod.name if pod is not None else None

    def action_filter(self) -> None:
        self.query_one(FilterBar).open()

    @on(FilterBar.FilterChanged)
    def _filter_changed(self, event: FilterBar.FilterChanged) -> None:
        self.filter_text = event.text
        self._match = matcher(event.text)
        self._want_order(typed=True)

    def action_cycle_sort(self) -> None:
        self.sort_name = next_sort(self.sort_name)
        self._want_order()

    @on(VirtualTable.RowSelected)
    def _row_selected(self, event: VirtualTable.RowSelected) -> None:
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
