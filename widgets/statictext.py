"""Updating a Static without a screen-wide layout for every poll.

`Static.update()` asks for a layout of the whole screen by default, in case the new
content is bigger or smaller.  Panes update their bodies every few seconds with text
of the same shape (the same lines, new figures), so most of those layouts, and the
scrollbar repaints that follow them, were the cockpit's largest steady-state cost.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import Static

_SHAPE = "_cockpit_text_shape"
_TEXT = "_cockpit_text"


def _shape(text: Text | str) -> tuple[int, int]:
    plain = text.plain if isinstance(text, Text) else text
    lines = plain.split("\n")
    return len(lines), max(cell_len(line) for line in lines)


def set_text(widget: Static, text: Text | str) -> None:
    """Show `text` in `widget`: nothing when it is unchanged, a repaint of the widget
    alone when it has the same number of lines and width, a layout otherwise."""
    if getattr(widget, _TEXT, None) == text:
        return
    shape = _shape(text)
    layout = getattr(widget, _SHAPE, None) != shape
    setattr(widget, _TEXT, text)
    setattr(widget, _SHAPE, shape)
    widget.update(text, layout=layout)
    if layout:
        # A new number of lines: Textual 8.2.8 sometimes keeps the old height when the
        # layout it asks for lands in the same refresh (the PostgreSQL summary stayed
        # one line high at the same width); ask once more after this refresh.
        widget.call_after_refresh(widget.refresh, layout=True)
