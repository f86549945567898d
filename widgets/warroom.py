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


class WarRoomScreen(KeysAfterMount, Screen):
    BINDINGS = [Binding("w,escape", "close", "Back to panes")]

    def compose(self) -> ComposeResult:
        yield CockpitHeader(id="warroom-header")
        with Grid(id="warroom-grid"):
            for key in FIGURE_KEYS:
                yield FigureBox(key)
        yield Static("", id="warroom-problems", markup=False)

    def show(self, figures: list[Figure], problems: list[str]) -> None:
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
