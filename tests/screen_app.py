"""Tests' helper: an App that shows one screen (a deep view) and nothing else."""

from __future__ import annotations

from textual.app import App
from textual.screen import Screen


class ScreenApp(App[None]):
    def __init__(self, screen: Screen) -> None:
        super().__init__()
        self.deep = screen

    def on_mount(self) -> None:
        self.push_screen(self.deep)
