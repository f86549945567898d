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


def _sized_by(widget: Static) -> tuple[bool, bool]:
    """Whether the widget's (width, height) follow its text: an auto width follows the
    longest line; an auto height follows the number of lines and, when lines wrap, their
    width too.  A fixed or fractional dimension (or the container's width, for a widget
    without one) does not: a new width of text there needs a repaint, not a layout."""
    styles = widget.styles
    width_auto = styles.width is not None and styles.width.is_auto
    height_auto = styles.height is None or styles.height.is_auto
    wraps = styles.text_wrap != "nowrap"
    return width_auto or (height_auto and wraps), height_auto


def _needs_layout(widget: Static, old: tuple[int, int] | None, new: tuple[int, int]) -> bool:
    if old is None:
        return True
    width_follows, height_follows = _sized_by(widget)
    return (width_follows and old[1] != new[1]) or (height_follows and old[0] != new[0])


def set_text(widget: Static, text: Text | str) -> None:
    """Show `text` in `widget`: nothing when it is unchanged, a repaint of the widget
    alone when its size does not follow what changed (same number of lines and width,
    or a width of text where the widget's width is not its text's), a layout otherwise."""
    if getattr(widget, _TEXT, None) == text:
        return
    shape = _shape(text)
    layout = _needs_layout(widget, getattr(widget, _SHAPE, None), shape)
    setattr(widget, _TEXT, text)
    setattr(widget, _SHAPE, shape)
    widget.update(text, layout=layout)
    if layout:
        # A new size: Textual 8.2.8 sometimes keeps the old height when the
        # layout it asks for lands in the same refresh (the PostgreSQL summary stayed
        # one line high at the same width); ask once more after this refresh.
        widget.call_after_refresh(widget.refresh, layout=True)
