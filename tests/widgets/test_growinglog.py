"""GrowingLog: lines written one batch at a time do not reflow the whole screen, and the
log still scrolls, shows its scrollbar and follows the newest line."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.geometry import Size
from textual.screen import Screen
from textual.widgets import RichLog, Static

from widgets.growinglog import GrowingLog


class CountingScreen(Screen):
    """Counts the full reflows (a scroll-only reflow is the cheap path)."""

    def __init__(self, log: RichLog) -> None:
        super().__init__()
        self.log_widget = log
        self.full_layouts = 0

    def compose(self) -> ComposeResult:
        yield Static("a pane above", id="above")
        yield self.log_widget

    def _refresh_layout(self, size: Size | None = None, scroll: bool = False) -> None:
        if not (scroll and not self._layout_widgets):
            self.full_layouts += 1
        super()._refresh_layout(size, scroll)


class LogApp(App):
    CSS = "#above { height: 3; } RichLog { height: 1fr; }"

    def __init__(self, log: RichLog) -> None:
        super().__init__()
        self.counting = CountingScreen(log)

    def on_mount(self) -> None:
        self.push_screen(self.counting)


async def layouts_while_writing(log: RichLog, batches: int = 30) -> tuple[int, int]:
    """Full layouts while writing, and the log's height on screen then."""
    app = LogApp(log)
    async with app.run_test(size=(60, 12)) as pilot:
        await pilot.pause()
        before = app.counting.full_layouts
        for n in range(batches):
            log.write(f"line {n}: something failed")
            await pilot.pause()
        await pilot.pause()
        return app.counting.full_layouts - before, log.scrollable_content_region.height


async def test_plain_richlog_reflows_the_screen_per_write() -> None:
    """The control: Textual's RichLog asks for a full layout at every line, so the
    count below is a real measurement, not a constant."""
    layouts, _ = await layouts_while_writing(RichLog(max_lines=100))
    assert layouts >= 20


async def test_growing_log_reflows_only_when_its_scrollbar_appears() -> None:
    log = GrowingLog(max_lines=100, auto_scroll=True)
    layouts, height = await layouts_while_writing(log)
    assert layouts <= 2  # the vertical scrollbar appearing (9 lines tall)
    assert log.show_vertical_scrollbar
    assert log.virtual_size.height == 30
    assert height == 9  # 12 lines less the 3 above
    assert log.max_scroll_y == 30 - height
    assert log.scroll_y == log.max_scroll_y  # followed the newest line
    last = log.lines[-1].text
    assert last.startswith("line 29")
