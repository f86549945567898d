"""A pane's title and age are drawn on its border: a new one repaints that line alone
(Textual's setter repaints the whole pane, its children's area with it), and shows
what it was given, names from the cluster included, never as markup."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from rich.text import Text
from textual._compositor import ChopsUpdate
from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import Static

from widgets.pane import Pane


class BorderedPane(Pane):
    PANE_TITLE = "first"
    SOURCES = ("bare",)
    DEFAULT_CSS = "BorderedPane { border: round white; padding: 1 2; height: 8; }"

    def compose(self) -> ComposeResult:
        yield self.compose_failure()
        yield Static("body " * 20, id="body")


class Frames(App[None]):
    """The lines each frame wrote and their text."""

    def __init__(self) -> None:
        super().__init__()
        self.frames: list[tuple[set[int], str]] = []

    def compose(self) -> ComposeResult:
        yield Static("above", id="above")
        yield BorderedPane()

    def _display(self, screen: Screen, renderable: Any) -> None:
        super()._display(screen, renderable)
        if isinstance(renderable, ChopsUpdate):
            lines = {y for y, _, _ in renderable.spans}
            self.frames.append((lines, renderable.render_segments(self.console)))


async def next_frame_with(app: Frames, text: str) -> tuple[set[int], str]:
    deadline = time.monotonic() + 5.0
    while True:
        for frame in app.frames:
            if text in frame[1]:
                return frame
        assert time.monotonic() < deadline, f"no frame wrote {text!r}"
        await asyncio.sleep(0.005)


async def test_a_new_title_or_age_repaints_its_border_line_alone() -> None:
    app = Frames()
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(BorderedPane)
        await pilot.pause()
        top, bottom = pane.region.y, pane.region.bottom - 1
        app.frames.clear()
        pane.set_title("pods [bold]web-1[/bold]")
        lines, written = await next_frame_with(app, "web-1")
        assert lines == {top}
        assert "[bold]web-1[/bold]" in written  # the name as given, not as markup
        assert pane.border_title is not None and "web-1" in pane.border_title

        app.frames.clear()
        pane.mark_fresh()  # the age in the bottom border: "live"
        lines, written = await next_frame_with(app, "live")
        assert lines == {bottom}

        app.frames.clear()
        pane.set_title(Text("styled", style="bold red"))
        lines, _ = await next_frame_with(app, "styled")
        assert lines == {top}
        assert pane._border_title is not None and pane._border_title.plain == "styled"
