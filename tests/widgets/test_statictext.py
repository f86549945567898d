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


class Recorded(Static):
    """A Static that remembers the layout flag of each refresh set_text asks for."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.layouts: list[bool] = []

    def update(self, content: object = "", *, layout: bool = True) -> None:
        self.layouts.append(layout)
        super().update(content, layout=layout)  # type: ignore[arg-type]


WIDE = "a much longer line than before, wider than 30"


class Shapes(App):
    CSS = """
    #one-line { height: 1; }
    #nowrap { height: auto; text-wrap: nowrap; text-overflow: ellipsis; }
    #wraps { height: auto; }
    #auto-width { width: auto; height: 1; }
    """

    def compose(self) -> ComposeResult:
        for name in ("one-line", "nowrap", "wraps", "auto-width"):
            yield Recorded("", id=name)


async def test_a_wider_text_lays_out_only_where_the_size_follows_it() -> None:
    app = Shapes()
    async with app.run_test(size=(30, 20)) as pilot:
        widgets = {w.id: w for w in app.query(Recorded)}
        for widget in widgets.values():
            set_text(widget, "short")
        await pilot.pause()
        for widget in widgets.values():
            set_text(widget, WIDE)
        await pilot.pause()
        first, second = 0, 1
        # A fixed height and the container's width: a repaint is enough.
        assert widgets["one-line"].layouts[second] is False
        assert str(widgets["one-line"].render()).startswith("a much longer")
        # An auto height that does not wrap: the number of lines is what counts.
        assert widgets["nowrap"].layouts[second] is False
        assert widgets["nowrap"].size.height == 1
        # An auto height that wraps: the wider text takes two lines, so it lays out.
        assert widgets["wraps"].layouts[second] is True
        assert widgets["wraps"].size.height == 2
        # An auto width follows the longest line.
        assert widgets["auto-width"].layouts[second] is True
        assert widgets["auto-width"].size.width == len(WIDE)
        assert all(w.layouts[first] is True for w in widgets.values())

        set_text(widgets["nowrap"], "one\ntwo\nthree")  # more lines: it must grow
        await pilot.pause()
        assert widgets["nowrap"].layouts[-1] is True
        assert widgets["nowrap"].size.height == 3
