"""The `/` filter bar a table pane shows at its bottom, and the matcher behind it."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable

from textual import on
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input

from widgets.frametimer import FramePaced
from widgets.sizedbyframe import SizedByFrame

# How long the typed text's frame may wait for the pane's answer (`holds_frames`).
ANSWER_HOLD_S = 0.010


def matcher(text: str) -> Callable[[str], bool] | None:
    """A case-insensitive regex when the text is one, else a substring match."""
    text = text.strip()
    if not text:
        return None
    try:
        with warnings.catch_warnings():
            # "[[" is a FutureWarning ("possible nested set"): printed on the terminal
            # under the app, for text a person is still typing.
            warnings.simplefilter("ignore", FutureWarning)
            pattern = re.compile(text, re.IGNORECASE)
    except re.error:
        needle = text.lower()
        return lambda haystack: needle in haystack.lower()
    return lambda haystack: pattern.search(haystack) is not None


# Each keystroke sets the Input's virtual size: without SizedByFrame, a reflow of the
# whole screen per key, before the echo.  The bar's size is fixed (1 line, 100%).
class FilterBar(SizedByFrame, Input):
    """Hidden until opened; Enter keeps the filter, Escape clears and closes it."""

    DEFAULT_CSS = """
    FilterBar { dock: bottom; display: none; height: 1; border: none; padding: 0 1; }
    FilterBar.open { display: block; }
    """
    BINDINGS = [Binding("escape", "close", "Clear filter", show=False)]

    # Not `Changed`: a nested class of that name would shadow Input.Changed, which
    # Textual builds with its own arguments (the first typed key killed the app).
    class FilterChanged(Message):
        def __init__(self, bar: FilterBar, text: str) -> None:
            super().__init__()
            self.bar = bar
            self.text = text

    def __init__(
        self,
        placeholder: str = "filter (regex or text), Enter to keep, Esc to clear",
        *,
        holds_frames: bool = False,
        **kwargs: object,
    ) -> None:
        """`holds_frames`: the pane releases the screen's frames once it has shown the
        filtered rows (FramePaced.release_frames), so the text typed and the rows it
        filters are drawn in one frame."""
        super().__init__(placeholder=placeholder, **kwargs)  # type: ignore[arg-type]
        self._holds_frames = holds_frames

    def _watch_value(self, value: str) -> None:
        # The pane hears of the change two messages later (Input.Changed, then
        # FilterChanged); a frame in between drew the text without the rows, and the
        # rows one frame later (seen at 5,000 pods: a backspace 15 ms instead of 8).
        if self._holds_frames and self.is_attached:
            screen = self.screen
            if isinstance(screen, FramePaced):
                screen.hold_frames(ANSWER_HOLD_S)
        super()._watch_value(value)

    def open(self) -> None:
        self.add_class("open")
        self.focus()

    def action_close(self) -> None:
        self.value = ""
        self.remove_class("open")
        self.post_message(self.FilterChanged(self, ""))
        self._return_focus()

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(self.FilterChanged(self, event.value))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not self.value:
            self.remove_class("open")
        self._return_focus()

    def _return_focus(self) -> None:
        parent = self.parent
        if parent is not None:
            for child in parent.children:
                if child is not self and child.can_focus:
                    child.focus()
                    return
