"""A read-only text screen for views like `kubectl describe svc`: lines in, Esc out."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from cockpit.textsafe import clean
from widgets.screens import KeysAfterMount


class TextScreen(KeysAfterMount, ModalScreen[None]):
    BINDINGS = [Binding("escape,q", "close", "Close")]
    DEFAULT_CSS = """
    TextScreen { align: center middle; }
    TextScreen > VerticalScroll { width: 110; max-width: 96%; height: 90%;
        border: round $accent; background: $surface; padding: 0 1; }
    """

    def __init__(self, title: str, lines: list[str]) -> None:
        super().__init__()
        self.title_text = title
        self.lines = lines

    def compose(self) -> ComposeResult:
        text = Text()
        text.append(clean(self.title_text) + "\n\n", style="bold")
        for line in self.lines:
            text.append(clean(line, 2000) + "\n")
        with VerticalScroll():
            yield Static(text, markup=False)

    def action_close(self) -> None:
        self.dismiss()
