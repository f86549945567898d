"""Figures that jitter from poll to poll (a round trip of 0.4 ms, then 0.6) shown as
they were until they really move: every new digit repaints its pane, and a pane that
repaints every poll for noise is most of what an idle screen costs."""

from __future__ import annotations


class SteadyFigure:
    """The value last shown, kept while a new one is within `relative` of it (or
    within `floor` in absolute terms, whichever is larger)."""

    def __init__(self, relative: float = 0.3, floor: float = 0.5) -> None:
        self.relative = relative
        self.floor = floor
        self.shown: float | None = None

    def __call__(self, value: float) -> float:
        shown = self.shown
        if shown is None or abs(value - shown) > max(self.floor, self.relative * abs(shown)):
            self.shown = shown = value
        return shown
