"""The help screen: every key, grouped by where it works."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from widgets.screens import KeysAfterMount

KeyGroups = list[tuple[str, list[tuple[str, str]]]]


class HelpScreen(KeysAfterMount, ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "close", "Close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 90; max-width: 95%; height: 90%;
        border: round $accent; background: $surface; padding: 0 1; }
    """

    def __init__(self, groups: KeyGroups, footer: str = "") -> None:
        super().__init__()
        self.groups = groups
        self.footer = footer

    def compose(self) -> ComposeResult:
        text = Text()
        text.append("cockpit — keys\n\n", style="bold")
        for title, keys in self.groups:
            text.append(title + "\n", style="bold underline")
            for key, description in keys:
                text.append(f"  {key:<14}", style="bold cyan")
                text.append(description + "\n")
            text.append("\n")
        if self.footer:
            text.append(self.footer, style="dim")
        with VerticalScroll():
            yield Static(text, markup=False)

    def action_close(self) -> None:
        self.dismiss()
