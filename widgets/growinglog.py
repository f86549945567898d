"""A RichLog whose growth repaints the log, not the layout of the whole screen.

Textual declares a widget's virtual size as a layout reactive: every write that adds a
line to a RichLog asks the screen for a full reflow (every pane re-arranged, ~12 ms at
5,000 pods), once a second while errors stream in.  A log sized by its container (a
fractional height and width, as here) does not move anything when its content grows:
only its scrollbars change, and a scrollbar that appears or goes away still asks for a
layout itself (`show_vertical_scrollbar` is a layout reactive).
"""

from __future__ import annotations

from textual.geometry import Size
from textual.reactive import Reactive
from textual.widgets import RichLog


class GrowingLog(RichLog):
    """Use only where the log's size does not depend on its content (no `auto`)."""

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False, repaint=True)

    def watch_virtual_size(self, size: Size) -> None:
        # What the skipped layout would have done for this widget: scrollbar sizes,
        # their visibility (a change there does lay out), scroll limits.
        self._scroll_update(size)
