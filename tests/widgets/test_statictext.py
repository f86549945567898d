"""set_text: same-shape updates repaint in place, a new shape still resizes the widget."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import Static

from widgets.statictext import set_text


class OneStatic(App):
    CSS = "Static { height: auto; width: 1fr; }"

    def compose(self) -> ComposeResult:
        yield Static("", id="body")


async def test_same_shape_updates_content_and_new_shape_resizes() -> None:
    app = OneStatic()
    async with app.run_test(size=(40, 10)) as pilot:
        body = app.query_one("#body", Static)
        set_text(body, Text("cpu 10%\nmem 20%"))
        await pilot.pause()
        assert body.size.height == 2

        set_text(body, Text("cpu 11%\nmem 21%"))  # same shape: no layout needed
        await pilot.pause()
        assert str(body.render()) == "cpu 11%\nmem 21%"
        assert not app.screen._layout_required

        set_text(body, Text("cpu 12%\nmem 22%\ndisk 90%"))  # one more line: must grow
        await pilot.pause()
        assert body.size.height == 3
        assert "disk 90%" in str(body.render())

        before = body.render()
        set_text(body, Text("cpu 12%\nmem 22%\ndisk 90%"))  # unchanged: left alone
        assert body.render() is before
