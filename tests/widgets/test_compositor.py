"""RowCroppedCompositor writes the same bytes as Textual's compositor for every partial
update, while rendering fewer widget lines.

The screen below is laid out like the cockpit's: a docked header and footer, rows of
bordered panes with titles, and a scrolled pane whose clip is smaller than its region.
Random panes change; at each frame the update is worked out both ways from the same
dirty regions and the terminal output compared.
"""

from __future__ import annotations

import random
from functools import partial

from textual._compositor import ChopsUpdate, Compositor
from textual.app import App, ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.geometry import Region
from textual.screen import Screen
from textual.widgets import Static

from widgets.compositor import RowCropped, RowCroppedCompositor


class ComparingCompositor(RowCroppedCompositor):
    """Renders each partial update both ways and keeps what each would write."""

    def __init__(self) -> None:
        super().__init__()
        self.pairs: list[tuple[str, str]] = []
        self.lines_rendered = {"cropped": 0, "textual": 0}
        self.console = None

    def _count(self, kind: str, renders):  # type: ignore[no-untyped-def]
        for region, clip, strips in renders:
            self.lines_rendered[kind] += len(strips)
            yield region, clip, strips

    def render_partial_update(self) -> ChopsUpdate | None:
        regions = self._dirty_regions.copy()
        if regions and self.console is not None:
            crop = Region.from_union(regions).intersection(self.size.region)
            spans = list(self._regions_to_spans(regions))
            rendered = {y for y, _, _ in spans}.__contains__
            ends = [cuts[1:] for cuts in self.cuts]
            outputs = []
            for kind, renders in (
                ("cropped", partial(RowCroppedCompositor._get_renders, self)),
                ("textual", partial(Compositor._get_renders, self)),
            ):
                self._get_renders = lambda c, r=renders, k=kind: self._count(k, r(c))  # type: ignore[method-assign]
                try:
                    chops = self._render_chops(crop, rendered)
                finally:
                    del self._get_renders
                outputs.append(ChopsUpdate(chops, spans, ends).render_segments(self.console))
            self.pairs.append((outputs[0], outputs[1]))
        return super().render_partial_update()


class PanesScreen(RowCropped, Screen):
    def __init__(self) -> None:
        super().__init__()
        self._compositor = ComparingCompositor()

    def compose(self) -> ComposeResult:
        yield Static("header", id="header")
        for row in range(2):
            with Horizontal(classes="row"):
                for column in range(3):
                    pane = Static(f"pane {row}.{column}", id=f"p{row}{column}", classes="pane")
                    pane.border_title = f"Pane {row}.{column}"
                    yield pane
        with VerticalScroll(id="scrolled"):
            for n in range(40):
                yield Static(f"line {n}", id=f"l{n}")
        yield Static("footer", id="footer")


class PanesApp(App[None]):
    CSS = """
    #header { dock: top; height: 1; background: blue; }
    #footer { dock: bottom; height: 1; background: green; }
    .row { height: 8; }
    .pane { width: 1fr; height: 100%; border: round white; }
    #scrolled { height: 1fr; border: solid yellow; }
    """

    def get_default_screen(self) -> Screen:
        return PanesScreen()


async def test_partial_updates_write_what_textuals_compositor_writes() -> None:
    app = PanesApp()
    rng = random.Random(12)
    async with app.run_test(size=(120, 40)) as pilot:
        compositor = app.screen._compositor
        assert isinstance(compositor, ComparingCompositor)
        compositor.console = app.console
        await pilot.pause()
        app.screen.query_one("#scrolled").scroll_to(y=7, animate=False)
        ids = ["header", "footer", *(f"p{r}{c}" for r in range(2) for c in range(3))]
        ids += [f"l{n}" for n in range(40)]
        for step in range(60):
            for widget_id in rng.sample(ids, rng.randint(1, 3)):
                text = f"{widget_id} step {step} " + "x" * rng.randint(0, 30)
                app.screen.query_one(f"#{widget_id}", Static).update(text)
            if step % 7 == 0:
                pane = app.screen.query_one(f"#p{rng.randint(0, 1)}{rng.randint(0, 2)}")
                pane.border_title = f"title {step}"
            await pilot.pause()
        pairs = compositor.pairs
        assert len(pairs) >= 30  # the frames were compared
        for cropped, textual in pairs:
            assert cropped == textual
        rendered = compositor.lines_rendered
        assert rendered["cropped"] < rendered["textual"] / 2
