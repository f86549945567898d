"""A DataTable that takes a whole new set of rows and applies only the difference.

Rows are keyed (pod uid, pid, ...).  Unchanged cells are left alone, changed ones go
through `update_cell`, new rows are added and gone rows removed (or, when most rows
went away, the table is cleared: `remove_row` is O(n)).  The selected row stays
selected by key however the order changes, so the cursor never jumps to another pod.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist, CellKey, RowDoesNotExist, RowKey

Cells = tuple[Text, ...]


def same_cell(a: Text, b: Text) -> bool:
    """Rich's Text equality ignores the base style; a colour change must count."""
    return a.plain == b.plain and a.style == b.style and a.spans == b.spans


class MeasuredTable(DataTable):
    """A DataTable whose rows drawn before their columns were measured are drawn again.

    DataTable measures new and widened cells when it is next idle, and keys its renders
    by its update count, not by the columns' widths: a frame drawn before the measure
    (a busy start-up) kept its rows cut to the header's width ("fas…") until the next
    change of the table.  A measure that changes a width drops those renders."""

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        before = self._column_widths()
        super()._update_dimensions(new_rows)
        self._redraw_if_widths_changed(before)

    def _update_column_widths(self, updated_cells: set[CellKey]) -> None:
        before = self._column_widths()
        super()._update_column_widths(updated_cells)
        self._redraw_if_widths_changed(before)

    def _column_widths(self) -> list[int]:
        return [column.content_width for column in self.columns.values()]

    def _redraw_if_widths_changed(self, before: list[int]) -> None:
        if self._column_widths() != before:
            self._clear_caches()
            self.refresh()


class KeyedTable(MeasuredTable):
    DEFAULT_CSS = """
    KeyedTable { height: 1fr; }
    """

    def __init__(self, columns: Sequence[tuple[str, str]], **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)  # type: ignore[arg-type]
        self._column_spec = tuple(columns)
        self._cells: dict[str, Cells] = {}
        self._order: list[str] = []
        # Columns exist from the start: a snapshot can arrive before on_mount, and rows
        # added to a table without columns would size every column to its header.
        for key, label in self._column_spec:
            self.add_column(label, key=key)

    @property
    def selected_key(self) -> str | None:
        if not self._order or self.cursor_row < 0:
            return None
        try:
            row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        except CellDoesNotExist:
            return None
        return row_key.value

    def apply(self, rows: Sequence[tuple[str, Cells]]) -> bool:
        """Show exactly `rows`, in this order.  Returns True if anything changed."""
        selected = self.selected_key
        new_cells = dict(rows)
        new_order = [key for key, _ in rows]
        column_keys = [key for key, _ in self._column_spec]
        changed = False
        gone = [key for key in self._cells if key not in new_cells]
        if gone and len(gone) > len(self._cells) // 2:
            self.clear()
            self._cells = {}
            self._order = []
            changed = True
        else:
            for key in gone:
                try:
                    self.remove_row(key)
                except RowDoesNotExist:
                    pass
                del self._cells[key]
                changed = True
        fresh: list[tuple[str, Cells]] = []
        for key, cells in rows:
            old = self._cells.get(key)
            if old is None:
                fresh.append((key, cells))
                continue
            if all(map(same_cell, old, cells)):
                continue
            merged = []
            for column, before, after in zip(column_keys, old, cells, strict=True):
                if same_cell(before, after):
                    merged.append(before)  # keep the object the table holds
                else:
                    # Only a wider cell asks DataTable to re-measure: a narrower one makes
                    # it re-measure the whole column, O(rows) per cell, O(rows²) per poll.
                    wider = after.cell_len > self.columns[column].content_width
                    self.update_cell(key, column, after, update_width=wider)
                    merged.append(after)
            self._cells[key] = tuple(merged)
            changed = True
        for key, cells in fresh:
            self.add_row(*cells, key=key)
            self._cells[key] = cells
            changed = True
        if new_order != self._current_order(gone):
            self._sort_to(new_order, column_keys[0])
            changed = True
        self._order = new_order
        if selected is not None and selected in new_cells:
            self._keep_cursor_on(selected)
        if changed:
            self._drop_dead_renders()
        return changed

    def _drop_dead_renders(self) -> None:
        # DataTable keys its cell and row render caches by its update count: after an
        # update no entry made before can be hit again, yet each stays until 10,000
        # (cells) or 1,000 (rows) newer ones push it out, megabytes per table that a
        # poller updates every few seconds.
        self._cell_render_cache.clear()
        self._row_render_cache.clear()

    def _current_order(self, gone: list[str]) -> list[str]:
        """The order the table shows now: the old order minus removals, then additions."""
        removed = set(gone)
        kept = [k for k in self._order if k not in removed and k in self._cells]
        seen = set(kept)
        return kept + [k for k in self._cells if k not in seen]

    def _sort_to(self, order: list[str], first_column: str) -> None:
        # DataTable sorts by cell values, not row keys: map each row's first-cell
        # object (which this class keeps identical to the table's) to its position.
        position = {id(self._cells[key][0]): index for index, key in enumerate(order)}
        end = len(order)
        self.sort(first_column, key=lambda cell: position.get(id(cell), end))

    def _keep_cursor_on(self, key: str) -> None:
        try:
            index = self.get_row_index(key)
        except RowDoesNotExist:
            return
        if index != self.cursor_row:
            self.move_cursor(row=index, animate=False, scroll=False)

    def row_cells(self, key: str) -> Cells | None:
        return self._cells.get(key)

    def keys_in_order(self) -> list[str]:
        return list(self._order)

    def select_key(self, key: str) -> bool:
        try:
            index = self.get_row_index(RowKey(key))
        except RowDoesNotExist:
            return False
        self.move_cursor(row=index)
        return True
