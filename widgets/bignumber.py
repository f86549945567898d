"""Numbers drawn large enough to read across a room, scaled to the space they get."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

FONT: dict[str, tuple[str, ...]] = {
    "0": ("#####", "#...#", "#...#", "#...#", "#####"),
    "1": ("..#..", ".##..", "..#..", "..#..", ".###."),
    "2": ("#####", "....#", "#####", "#....", "#####"),
    "3": ("#####", "....#", ".####", "....#", "#####"),
    "4": ("#...#", "#...#", "#####", "....#", "....#"),
    "5": ("#####", "#....", "#####", "....#", "#####"),
    "6": ("#####", "#....", "#####", "#...#", "#####"),
    "7": ("#####", "....#", "...#.", "..#..", "..#.."),
    "8": ("#####", "#...#", "#####", "#...#", "#####"),
    "9": ("#####", "#...#", "#####", "....#", "#####"),
    "-": (".....", ".....", "#####", ".....", "....."),
    "%": ("##..#", "##.#.", "..#..", ".#.##", "#..##"),
    ".": (".....", ".....", ".....", ".....", "..#.."),
    "/": ("....#", "...#.", "..#..", ".#...", "#...."),
    " ": (".....", ".....", ".....", ".....", "....."),
}
GLYPH_W, GLYPH_H = 5, 5


def render_big(value: str, width: int, height: int) -> list[str]:
    """The lines of `value` at the largest whole scale that fits width x height."""
    chars = [c if c in FONT else " " for c in value] or [" "]
    n = len(chars)
    # n glyphs plus n-1 one-column gaps, at scale s horizontally; rows at scale t.
    scale_x = max(1, width // (n * GLYPH_W + (n - 1)))
    scale_y = max(1, height // GLYPH_H)
    scale_y = min(scale_y, max(1, scale_x))  # cells are about twice as tall as wide
    scale_x = min(scale_x, scale_y * 2)
    lines = []
    for row in range(GLYPH_H):
        pieces = []
        for c in chars:
            pieces.append("".join(("█" if bit == "#" else " ") * scale_x for bit in FONT[c][row]))
        line = (" " * scale_x).join(pieces)
        lines.extend([line] * scale_y)
    return lines


class BigNumber(Widget):
    DEFAULT_CSS = """
    BigNumber { height: 1fr; width: 1fr; content-align: center middle; }
    """
    value: reactive[str] = reactive("-")

    def render(self) -> Text:
        width, height = self.size.width, self.size.height
        lines = render_big(self.value, width, height)
        top = max(0, (height - len(lines)) // 2)
        text = Text("\n" * top, no_wrap=True, overflow="crop", justify="center")
        text.append("\n".join(lines))
        return text
