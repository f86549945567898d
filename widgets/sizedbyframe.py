"""Scrolling widgets whose content grows without a layout of the whole screen.

Textual declares a widget's virtual size as a layout reactive: every change of it (a
line written to a log, a row shown by a filter, a key typed into an input) asks the
screen for a full reflow (every pane re-arranged: 5-50 ms at 5,000 pods).  A widget
sized by its container (a fractional or fixed height and width, never `auto`) does not
move anything when its content grows: only its own scrollbars change, and a scrollbar
that appears or goes away still asks for a layout itself (`show_vertical_scrollbar` is
a layout reactive).
"""

from __future__ import annotations

from textual.geometry import Size
from textual.reactive import Reactive


class SizedByFrame:
    """Mix in before a ScrollView (RichLog, Input, ...) whose size does not depend on
    its content: its virtual size repaints and updates the scrollbars, no layout."""

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False, repaint=True)

    def watch_virtual_size(self, size: Size) -> None:
        # What the skipped layout would have done for this widget: scrollbar sizes,
        # their visibility (a change there does lay out), scroll limits.
        self._scroll_update(size)  # type: ignore[attr-defined]
