"""A RichLog whose growth repaints the log, not the layout of the whole screen: each
write that adds a line (once a second while errors stream in) would otherwise re-arrange
every pane, ~12 ms at 5,000 pods (see widgets/sizedbyframe.py)."""

from __future__ import annotations

from textual.widgets import RichLog

from widgets.sizedbyframe import SizedByFrame


class GrowingLog(SizedByFrame, RichLog):
    """Use only where the log's size does not depend on its content (no `auto`)."""
