"""The host pane: CPU, memory, disks (85 % threshold) and network of this machine."""

from __future__ import annotations

from collections import deque

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Sparkline, Static

from cockpit.model import HostSnapshot, Level
from cockpit.units import bytes_text
from widgets.cells import LEVEL_STYLE, bar
from widgets.pane import Pane
from widgets.statictext import set_text


class HostBody(Static, can_focus=True):
    """Focusable so that the pane can be chosen (1-9, tab) and zoomed like the others."""


class HostPane(Pane):
    PANE_TITLE = "Host"
    SOURCES = ("host",)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.snapshot: HostSnapshot | None = None
        self.cpu_history: deque[float] = deque(maxlen=60)

    def compose(self) -> ComposeResult:
        yield self.compose_failure()
        yield Sparkline([], id="host-spark")
        yield HostBody("", id="host-body", markup=False, classes="pane-body")

    def show(self, snap: HostSnapshot) -> None:
        self.snapshot = snap
        self.mark_fresh(snap.taken_at)
        self.cpu_history.append(snap.cpu_pct)
        self.query_one("#host-spark", Sparkline).data = list(self.cpu_history)
        body = Text()
        body.append(
            f"cpu  {bar(snap.cpu_pct / 100, 12)} {snap.cpu_pct:5.1f}%",
            style=LEVEL_STYLE[snap.cpu_level],
        )
        body.append(f"  load {snap.load[0]:.2f} ({snap.cpu_count} cores)\n", style="dim")
        body.append(
            f"mem  {bar(snap.mem_pct / 100, 12)} {snap.mem_pct:5.1f}%",
            style=LEVEL_STYLE[snap.mem_level],
        )
        body.append(f"  {bytes_text(snap.mem_used)}/{bytes_text(snap.mem_total)}\n", style="dim")
        for disk in snap.disks[:3]:
            body.append(
                f"disk {bar(disk.percent / 100, 12)} {disk.percent:5.1f}%",
                style=LEVEL_STYLE[disk.level],
            )
            body.append(
                f"  {disk.mount} {bytes_text(disk.used)}/{bytes_text(disk.total)}\n", style="dim"
            )
        if snap.net_rx_bps is not None and snap.net_tx_bps is not None:
            body.append(
                f"net  rx {bytes_text(snap.net_rx_bps)}/s  tx {bytes_text(snap.net_tx_bps)}/s"
            )
        set_text(self.query_one("#host-body", Static), body)
        self.level = snap.level
        full = [d for d in snap.disks if d.level > Level.OK]
        self.summary = ", ".join(f"disk {d.mount} {d.percent:.0f}%" for d in full[:2])
        self.set_title(f"Host · {snap.hostname}")
