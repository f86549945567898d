"""A one-line app on QuietLinuxDriver, run on a pseudo-terminal by test_quietdriver.py.

Escape alone exits with code 7, `q` with 0; the line says the app is ready.
"""

from __future__ import annotations

import sys

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from widgets.quietdriver import QuietLinuxDriver

READY = "quiet driver ready"
ESCAPE_EXIT = 7


class QuietApp(App[int]):
    BINDINGS = [Binding("escape", "escape_exit"), Binding("q", "quit_zero")]

    def get_driver_class(self) -> type[QuietLinuxDriver]:
        return QuietLinuxDriver

    def compose(self) -> ComposeResult:
        yield Static(READY)

    def action_escape_exit(self) -> None:
        self.exit(ESCAPE_EXIT)

    def action_quit_zero(self) -> None:
        self.exit(0)


if __name__ == "__main__":
    sys.exit(QuietApp().run() or 0)
