"""The war-room screen: large figures readable across a room, coloured by level."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.screen import Screen
from textual.widgets import Static

from cockpit.model import Level
from cockpit.war_room import Figure
from widgets.bignumber import BigNumber
from widgets.compositor import RowCropped
from widgets.header import CockpitHeader
from widgets.screens import KeysAfterMount

# What the users feel first (latency, errors, alerts), then the layers.
FIGURE_KEYS = ("p99", "error-rate", "alerts", "pods", "errors", "pg", "redis")


class FigureBox(Vertical):
    def __init__(self, key: str, **kwargs: object) -> None:
        super().__init__(id=f"figure-{key}", classes="figure level-ok", **kwargs)  # type: ignore[arg-type]
        self.key = key

    def compose(self) -> ComposeResult:
        yield Static("", classes="figure-label", markup=False)
        yield BigNumber(classes="figure-value")
        yield Static("", classes="figure-detail", markup=False)

    def show(self, figure: Figure) -> None:
        self.query_one(".figure-label", Static).update(Text(figure.label, style="bold"))
        self.query_one(BigNumber).value = figure.value
        self.query_one(".figure-detail", Static).update(Text(figure.detail))
        for level in Level:
            self.set_class(level is figure.level, f"level-{level.css}")


class WarRoomScreen(RowCropped, KeysAfterMount, Screen):
    BINDINGS = [Binding("w,escape", "close", "Back to panes")]

    def compose(self) -> ComposeResult:
        yield CockpitHeader(id="warroom-header")
        with Grid(id="warroom-grid"):
            for key in FIGURE_KEYS:
                yield FigureBox(key)
        yield Static("", id="warroom-problems", markup=False)

    _pending: tuple[list[Figure], list[str]] | None = None

    def show(self, figures: list[Figure], problems: list[str]) -> None:
        """Fill the figures; before the children are mounted (a snapshot can come
        between the push and the mount, however it is guarded) keep them for on_mount."""
        if not self.ready:
            self._pending = (figures, problems)
            return
        self._pending = None
        self._fill(figures, problems)

    @property
    def ready(self) -> bool:
        """Every figure box's children and the problems line are in the DOM."""
        boxes = self.query(".figure-detail")
        return len(boxes) == len(FIGURE_KEYS) and bool(self.query("#warroom-problems"))

    def on_mount(self) -> None:
        if self._pending is not None:
            self.call_after_refresh(self._fill_pending)

    def _fill_pending(self) -> None:
        if self._pending is not None:
            self.show(*self._pending)

    def _fill(self, figures: list[Figure], problems: list[str]) -> None:
        for figure in figures:
            for box in self.query(FigureBox):
                if box.key == figure.key:
                    box.show(figure)
        text = Text()
        for problem in problems[:6]:
            text.append("▲ " + problem + "\n", style="bold")
        self.query_one("#warroom-problems", Static).update(text)

    def action_close(self) -> None:
        self.dismiss()
