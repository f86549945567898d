"""The top pane: CPU and memory per workload (and the hottest pods), with history."""

from __future__ import annotations

from collections import deque

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Sparkline, Static

from cockpit.model import Level, TopSnapshot
from cockpit.units import bytes_text, millicores, pct, since
from widgets.cells import LEVEL_STYLE, leveled, plain
from widgets.pane import Pane
from widgets.statictext import set_text
from widgets.table import KeyedTable

COLUMNS = (
    ("workload", "WORKLOAD"),
    ("pods", "PODS"),
    ("cpu", "CPU"),
    ("cpul", "CPU %L"),
    ("mem", "MEM"),
    ("meml", "MEM %L"),
)
HISTORY = 60  # samples kept for the sparklines


class TopPane(Pane):
    PANE_TITLE = "Top"
    SOURCES = ("top",)
    FRESH_FOR = 35.0  # metrics come every 15 s

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.snapshot: TopSnapshot | None = None
        self.cpu_history: deque[float] = deque(maxlen=HISTORY)
        self.mem_history: deque[float] = deque(maxlen=HISTORY)

    def compose(self) -> ComposeResult:
        yield self.compose_failure()
        yield Static("", id="top-message", markup=False)
        yield KeyedTable(COLUMNS, id="top-table")
        with Horizontal(id="top-sparks"):
            yield Static("cpu", classes="spark-label", markup=False)
            yield Sparkline([], id="cpu-spark")
            yield Static("mem", classes="spark-label", markup=False)
            yield Sparkline([], id="mem-spark")
        yield Static("", id="top-hottest", markup=False)

    def show(self, top: TopSnapshot) -> None:
        self.snapshot = top
        self.mark_fresh(top.taken_at)
        message = self.query_one("#top-message", Static)
        if not top.available:
            set_text(message, Text("⚠ " + top.message, style="yellow"))
            message.display = True
            self.level = Level.OK
            self.set_title("Top · metrics unavailable")
            return
        message.display = False
        rows = []
        for w in top.workloads:
            rows.append(
                (
                    w.workload,
                    (
                        plain(w.workload, LEVEL_STYLE[w.level]),
                        plain(w.pods),
                        plain(millicores(w.cpu_m)),
                        leveled(pct(w.cpu_limit_pct), w.level),
                        plain(bytes_text(w.mem_bytes)),
                        leveled(pct(w.mem_limit_pct), w.level),
                    ),
                )
            )
        self.query_one(KeyedTable).apply(rows)
        self.cpu_history.append(sum(p.cpu_m for p in top.pods))
        self.mem_history.append(float(sum(p.mem_bytes for p in top.pods)))
        self.query_one("#cpu-spark", Sparkline).data = list(self.cpu_history)
        self.query_one("#mem-spark", Sparkline).data = list(self.mem_history)
        hottest = Text("hottest: ")
        for pod in top.pods[:3]:
            hottest.append(pod.name, style=LEVEL_STYLE[pod.level] or "bold")
            hottest.append(f" mem {pct(pod.mem_limit_pct)} cpu {pct(pod.cpu_limit_pct)}  ")
        set_text(self.query_one("#top-hottest", Static), hottest)
        self.level = top.level
        hot = [p for p in top.pods if p.level > Level.OK]
        self.summary = ", ".join(
            f"{p.name} mem {pct(p.mem_limit_pct)} cpu {pct(p.cpu_limit_pct)}" for p in hot[:2]
        )
        sample = f"sample {since(top.sample_time)} old" if top.sample_time else "no sample time"
        total_cpu = millicores(self.cpu_history[-1])
        total_mem = bytes_text(self.mem_history[-1])
        self.set_title(f"Top · {total_cpu} CPU · {total_mem} · {sample}")
