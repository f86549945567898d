"""A virtual table for thousands of rows: only the visible lines are ever rendered.

Textual's DataTable measures every cell of every new row and, when a cell gets
narrower, re-measures its whole column: at 5,000 pods whose CPU and memory change on
every metrics poll that is seconds per update.  This table keeps the rows as a plain
list, sizes columns from cell lengths, and renders a line only when it is on screen,
so an update costs O(rows) list work and a repaint costs O(visible lines).

It offers the same interface as KeyedTable (apply, selected_key, select_key,
keys_in_order, row_cells, row_count), so a pane can use either.  Beyond it, the table
holds a set of rows and shows some of them in an order (`apply(rows, order)`,
`reorder`): a re-sort or a filter keystroke only swaps the list of keys shown, with no
cell built or measured (the rows hidden by a filter keep their cells).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import NamedTuple

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from widgets.sizedbyframe import SizedByFrame


def text_width(text: str) -> int:
    """Terminal cells `text` takes.  Printable ASCII takes one per character, found
    in C; Rich's cell_len walks each character in Python (0.9 us a name: 45 ms to
    measure 5,000 pods' cells, most of the first screen's table work)."""
    return len(text) if text.isascii() and text.isprintable() else cell_len(text)


class Cell(NamedTuple):
    """A cell that becomes a Text only when it is drawn: at thousands of rows, most
    cells are never on screen, and building a Text for each costs more than drawing.
    `text` must already be safe (see cockpit.textsafe); it is never parsed as markup."""

    text: str
    style: str = ""

    @property
    def cell_len(self) -> int:
        return text_width(self.text)


AnyCell = Text | Cell
Cells = tuple[AnyCell, ...]
GAP = 2  # spaces between columns
MAX_COLUMN = 60  # a runaway cell (a huge name) does not push the rest off screen


def row_widths(row: Cells) -> tuple[int, ...]:
    """Each cell's width, at most MAX_COLUMN.  A Cell's text is measured directly, not
    through its property in a generator: the first screen measures 40,000 cells at
    5,000 pods, 13 ms that way and 5 ms this way."""
    widths = []
    for cell in row:
        width = text_width(cell.text) if type(cell) is Cell else cell.cell_len
        widths.append(width if width < MAX_COLUMN else MAX_COLUMN)
    return tuple(widths)


# Rows drawn, kept while their cells, the widths and the cursor stay the same: `down` at
# the bottom of the screen scrolls by a line, and 44 of the 45 lines were drawn already.
STRIPS_KEPT = 400
# Every segment has a style (Textual's opacity, on a faded pane, reads each one's colour).
NO_STYLE = Style.null()


# Sized by its container (1fr): rows coming or going, or a filter keystroke (a 5-50 ms
# reflow at 5,000 pods), change only its scrollbars (widgets/sizedbyframe.py).
class VirtualTable(SizedByFrame, ScrollView, can_focus=True):
    DEFAULT_CSS = """
    VirtualTable { height: 1fr; }
    VirtualTable > .vtable--header { text-style: bold; background: $panel; }
    VirtualTable > .vtable--cursor { background: $block-cursor-background;
        color: $block-cursor-foreground; text-style: bold; }
    VirtualTable:blur > .vtable--cursor { background: $block-cursor-blurred-background;
        text-style: none; }
    """
    COMPONENT_CLASSES = {"vtable--header", "vtable--cursor"}
    BINDINGS = [
        Binding("up", "cursor_up", show=False),
        Binding("down", "cursor_down", show=False),
        Binding("pageup", "page_up", show=False),
        Binding("pagedown", "page_down", show=False),
        Binding("home", "first", show=False),
        Binding("end", "last", show=False),
        Binding("left", "scroll_left", show=False),
        Binding("right", "scroll_right", show=False),
        Binding("enter", "select", show=False),
    ]

    class RowSelected(Message):
        """Enter (or a click on the selected row) on a row."""

        def __init__(self, table: VirtualTable, key: str) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> VirtualTable:
            return self.table

    def __init__(self, columns: Sequence[tuple[str, str]], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._columns = tuple(columns)
        self._labels = tuple(Cell(label) for _, label in columns)
        self._styles: dict[str, Style] = {}
        self._frame_style: Style | None = None
        self._strips: dict[str, tuple[Cells, tuple[int, ...], Style | None, Strip]] = {}
        self._keys: list[str] = []  # the rows shown, in order
        self._cells: dict[str, Cells] = {}  # every row of the set, shown or hidden
        self._index_made: dict[str, int] | None = {}  # see `_index`
        self._row_widths: dict[str, tuple[Cells, tuple[int, ...]]] = {}
        self._most_rows = 0  # the most rows shown at once: bounds the width cache
        self._widths: tuple[int, ...] = tuple(len(label) for _, label in columns)
        self.cursor_row = 0
        # Rows whose cells are out of date, rebuilt by `row_source` when drawn or read:
        # after a metrics poll only the screenful on view needs new cells.
        self._stale: set[str] = set()
        self.row_source: Callable[[str], Cells | None] | None = None

    # -- the KeyedTable interface ----------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._keys)

    @property
    def selected_key(self) -> str | None:
        if 0 <= self.cursor_row < len(self._keys):
            return self._keys[self.cursor_row]
        return None

    def keys_in_order(self) -> list[str]:
        return list(self._keys)

    def has_row(self, key: str) -> bool:
        """Whether the row set holds `key` (shown or hidden by `reorder`)."""
        return key in self._cells

    def row_cells(self, key: str) -> Cells | None:
        """A shown row's cells (None for a row hidden by `reorder`)."""
        if key not in self._index:
            return None
        if key in self._stale:
            self.freshen([key])
        return self._cells.get(key)

    def mark_stale(self, keys: Iterable[str]) -> None:
        """These rows' cells are out of date: `row_source` gives them when they are
        next drawn or read (nothing is rebuilt for rows nobody looks at, hidden or not)."""
        self._stale.update(key for key in keys if key in self._cells)

    def visible_keys(self) -> list[str]:
        top = max(0, int(self.scroll_offset.y))
        return self._keys[top : top + max(1, self.size.height - 1)]

    def freshen(self, keys: Iterable[str], repaint: bool = True) -> None:
        """Rebuild those of `keys` that are stale, now."""
        source = self.row_source
        changes: dict[str, Cells] = {}
        for key in keys:
            if key not in self._stale:
                continue
            self._stale.discard(key)
            cells = source(key) if source is not None else None
            if cells is not None and cells is not self._cells.get(key):
                changes[key] = cells
        if changes:
            self.update_rows(changes, repaint=repaint)

    def apply(self, rows: Sequence[tuple[str, Cells]], order: Sequence[str] | None = None) -> bool:
        """The row set is exactly `rows`; shown are the keys of `order` (those in
        `rows`, in that order), or else all of `rows` in their order.  The columns
        fit the whole set, so that a filter does not make them jump.  The selection
        follows its key."""
        cells = dict(rows)
        keys = [key for key, _ in rows] if order is None else [k for k in order if k in cells]
        changed = (
            keys != self._keys
            or len(cells) != len(self._cells)
            or any(self._cells.get(key) is not row for key, row in rows)
        )
        self._stale.clear()  # `rows` are current, changed or not
        if not changed:
            return False
        old = self._cells
        same_rows = len(old) == len(cells) and all(key in old for key in cells)
        self._cells = cells
        self._widths = self._measure(rows, same_rows)
        self._show(keys)
        return True

    def apply_keeping(
        self, keys: Sequence[str], fresh: dict[str, Cells], order: Sequence[str] | None = None
    ) -> bool:
        """As `apply`, for a row set given as `keys`: rows in `fresh` get those cells,
        rows already in the table keep theirs, marked stale (`row_source` rebuilds them
        when drawn or read), so that a new list of mostly the same rows builds and
        measures only the new ones.  A key in neither is left out."""
        cells = self._cells
        rows = [
            (key, row)
            for key in keys
            if (row := fresh.get(key)) is not None or (row := cells.get(key)) is not None
        ]
        changed = self.apply(rows, order)
        self._stale.update(key for key, _ in rows if key not in fresh)
        return changed

    def reorder(self, keys: Sequence[str]) -> bool:
        """Show the rows of `keys` (those of the set), in this order: O(rows) list
        work, no cell built or measured (the columns keep their widths; a stale row
        is rebuilt when drawn).  The selection follows its key."""
        cells = self._cells
        # Usually every key is a row (an order of this very row set): the check runs in C.
        every = (
            isinstance(keys, list)
            and len(keys) == len(cells)
            and all(map(cells.__contains__, keys))
        )
        shown = keys if every else [key for key in keys if key in cells]
        if shown == self._keys:
            return False
        self._show(shown)
        return True

    @property
    def _index(self) -> dict[str, int]:
        """Shown key -> its line, made when first asked after the rows changed: an `S`
        needs only the selected row's line, and a dict of 5,000 keys per key press was
        half a millisecond of the key's frame."""
        index = self._index_made
        if index is None:
            index = self._index_made = {key: i for i, key in enumerate(self._keys)}
        return index

    def _show(self, keys: list[str]) -> None:
        selected = self.selected_key
        self._keys = keys
        self._index_made = None
        try:
            self.cursor_row = keys.index(selected)  # type: ignore[arg-type]
        except ValueError:  # gone, hidden, or nothing selected (None)
            self.cursor_row = min(self.cursor_row, max(0, len(keys) - 1))
        self._resize()
        self.refresh()

    def update_rows(self, changes: dict[str, Cells], repaint: bool = True) -> None:
        """New cells for rows already shown, in place (same order, same keys);
        `repaint=False` while the rows are being drawn anyway."""
        known = self._row_widths
        grown = list(self._widths)
        # Only rows on screen need a repaint: found once here, not per row (a metrics
        # poll changes thousands of rows, and each region lookup walks the DOM).
        top, height = self.scroll_offset.y, self.size.height
        first_visible, last_visible = top, top + height - 2  # row 0 is the header
        shown: list[int] = []
        index_of = self._index
        for key, row in changes.items():
            old = self._cells.get(key)
            if old is None:
                continue
            index = index_of.get(key, -1)  # -1: hidden by a filter
            self._cells[key] = row
            cached = known.get(key)
            widths = tuple(
                width if new is prev else min(MAX_COLUMN, new.cell_len)
                for new, prev, width in zip(
                    row, old, cached[1] if cached else (0,) * len(row), strict=True
                )
            )
            known[key] = (row, widths)
            grown = [max(a, b) for a, b in zip(grown, widths, strict=True)]
            self._stale.discard(key)
            if repaint and index >= 0 and first_visible <= index <= last_visible:
                shown.append(index)
        if shown:
            y0 = min(shown) - top + 1
            y1 = max(shown) - top + 1
            self.refresh(Region(0, y0, self.size.width, y1 - y0 + 1))
        if tuple(grown) != self._widths:
            self._widths = tuple(grown)
            self._resize()
            self.refresh()

    def select_key(self, key: str) -> bool:
        index = self._index.get(key)
        if index is None:
            return False
        self._move_to(index)
        return True

    # -- sizes ------------------------------------------------------------------------

    def _measure(self, rows: Sequence[tuple[str, Cells]], same_rows: bool) -> tuple[int, ...]:
        """Column widths: the widest cell of each column.  A row's widths are cached
        until its cells change, also while a filter hides the row (clearing a filter
        at 5,000 pods re-measured every cell: 100 ms); while the set of rows stays the
        same, columns only grow (a full re-measure, which can shrink them, waits for
        rows to come or go)."""
        known = self._row_widths
        grown = list(self._widths)
        shown: list[tuple[int, ...]] = []
        # One row object under many keys (rows not built yet) is measured once.
        last_row: Cells | None = None
        last_widths: tuple[int, ...] = ()
        for key, row in rows:
            cached = known.get(key)
            if cached is None or cached[0] is not row:
                if cached is None:
                    if row is not last_row:
                        last_row, last_widths = row, row_widths(row)
                    widths = last_widths
                else:
                    # Re-measure only the cells that are new objects (a metrics poll
                    # changes CPU and MEM, not the name).
                    widths = tuple(
                        width if new is old else min(MAX_COLUMN, new.cell_len)
                        for new, old, width in zip(row, cached[0], cached[1], strict=True)
                    )
                cached = known[key] = (row, widths)
                if same_rows:  # else the widths are the columns' maxima below
                    grown = [max(a, b) for a, b in zip(grown, widths, strict=True)]
            shown.append(cached[1])
        self._most_rows = max(self._most_rows, len(rows))
        if len(known) > 2 * self._most_rows + 100:  # rows that went for good
            keep = {key for key, _ in rows}
            self._row_widths = {key: v for key, v in known.items() if key in keep}
        if same_rows:
            return tuple(grown)
        labels = tuple(len(label) for _, label in self._columns)
        columns = zip(labels, *shown, strict=True)
        return tuple(max(column) for column in columns)

    def _resize(self) -> None:
        total = sum(self._widths) + GAP * (len(self._widths) - 1) + 1
        self.virtual_size = Size(total, len(self._keys) + 1)  # +1: the header line

    # -- rendering --------------------------------------------------------------------

    def _line(self, cells: Sequence[AnyCell], style: Style | None) -> Strip:
        """One row as segments: a plain cell that fits is one padded segment (no Text
        built: a screenful scrolled is 45 lines of 8 cells, drawn within one frame)."""
        segments: list[Segment] = []
        widths = self._widths
        last = len(widths) - 1
        total = 0
        for i, (cell, width) in enumerate(zip(cells, widths, strict=False)):
            gap = GAP if i < last else 0
            total += width + gap
            if isinstance(cell, Cell):
                length = text_width(cell.text)
                if length <= width:
                    text = cell.text + " " * (width - length)
                    segments.append(Segment(text, self._style(cell.style)))
                    if gap:
                        segments.append(Segment(" " * gap, NO_STYLE))
                    continue
                piece = Text(cell.text, style=cell.style)
            else:
                piece = cell.copy()
            piece.truncate(width, overflow="ellipsis", pad=True)
            holder = Text()  # so that the piece's own style becomes a span, as in a line
            holder.append_text(piece)
            for segment in holder.render(self.app.console):
                segments.append(Segment(segment.text, segment.style or NO_STYLE))
            if gap:
                segments.append(Segment(" " * gap, NO_STYLE))
        if style is not None:
            # After the cells' own colours: the cursor bar must read the same on every row.
            segments = list(Segment.apply_style(segments, post_style=style))
        return Strip(segments, total)

    def _style(self, name: str) -> Style:
        """A cell's style by name, parsed once per table."""
        if not name:
            return NO_STYLE
        known = self._styles.get(name)
        if known is None:
            known = self._styles[name] = self.app.console.get_style(name)
        return known

    def render_lines(self, crop: Region) -> list[Strip]:
        # The widget's style walks every ancestor: once per frame, not once per line.
        self._frame_style = self.rich_style
        try:
            return super().render_lines(crop)
        finally:
            self._frame_style = None

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        base = self._frame_style or self.rich_style
        if y == 0:
            header = self.get_component_rich_style("vtable--header")
            strip = self._line(self._labels, header)
        else:
            index = scroll_y + y - 1
            if index >= len(self._keys):
                return Strip.blank(width, base)
            key = self._keys[index]
            if key in self._stale:
                self.freshen([key], repaint=False)  # a wider column repaints the table
            style = (
                self.get_component_rich_style("vtable--cursor")
                if (index == self.cursor_row)
                else None
            )
            cells = self._cells[key]
            made = self._strips.get(key)
            if (
                made is not None
                and made[0] is cells
                and made[1] == self._widths
                and made[2] == style
            ):
                strip = made[3]
            else:
                strip = self._line(cells, style)
                if style is not None:
                    # The cursor bar spans the whole width, not just the text.
                    strip = Strip([*strip, Segment(" " * max(0, width + scroll_x), style)])
                if len(self._strips) >= STRIPS_KEPT:
                    self._strips.clear()
                self._strips[key] = (cells, self._widths, style, strip)
        return strip.crop(scroll_x, scroll_x + width).extend_cell_length(width, base)

    # -- the cursor -------------------------------------------------------------------

    def _move_to(self, index: int) -> None:
        if not self._keys:
            return
        index = max(0, min(index, len(self._keys) - 1))
        old = self.cursor_row
        self.cursor_row = index
        visible = max(1, self.size.height - 1)
        top = self.scroll_offset.y
        if index < top:
            self.scroll_to(y=index, animate=False)
        elif index >= top + visible:
            self.scroll_to(y=index - visible + 1, animate=False)
        self._refresh_row(old)
        self._refresh_row(index)

    def _refresh_row(self, index: int) -> None:
        y = index - self.scroll_offset.y + 1
        if 0 < y < self.size.height:
            self.refresh(Region(0, y, self.size.width, 1))

    def action_cursor_up(self) -> None:
        self._move_to(self.cursor_row - 1)

    def action_cursor_down(self) -> None:
        self._move_to(self.cursor_row + 1)

    def action_page_up(self) -> None:
        self._move_to(self.cursor_row - max(1, self.size.height - 2))

    def action_page_down(self) -> None:
        self._move_to(self.cursor_row + max(1, self.size.height - 2))

    def action_first(self) -> None:
        self._move_to(0)

    def action_last(self) -> None:
        self._move_to(len(self._keys) - 1)

    def action_scroll_left(self) -> None:
        self.scroll_to(x=max(0, self.scroll_offset.x - 8), animate=False)

    def action_scroll_right(self) -> None:
        self.scroll_to(x=self.scroll_offset.x + 8, animate=False)

    def action_select(self) -> None:
        key = self.selected_key
        if key is not None:
            self.post_message(self.RowSelected(self, key))

    def on_click(self, event: events.Click) -> None:
        if event.y == 0:
            return
        index = self.scroll_offset.y + event.y - 1
        if 0 <= index < len(self._keys):
            if index == self.cursor_row and event.chain > 1:
                self.action_select()
            self._move_to(index)
