"""VirtualTable lines: drawn rows are kept between frames, and never shown out of date
(new cells, wider columns, the cursor moving, a re-order)."""

from __future__ import annotations

from textual.app import App, ComposeResult

from widgets.vtable import Cell, VirtualTable

COLUMNS = (("name", "NAME"), ("cpu", "CPU"))


class OneTable(App):
    def compose(self) -> ComposeResult:
        yield VirtualTable(COLUMNS, id="t")


def rows(n: int) -> list[tuple[str, tuple[Cell, ...]]]:
    return [
        (f"k{i}", (Cell(f"pod-{i}", "bold red" if i % 5 == 0 else ""), Cell(f"{i}m")))
        for i in range(n)
    ]


def line(table: VirtualTable, y: int) -> str:
    return table.render_line(y).text


def cursor_on(table: VirtualTable, y: int) -> bool:
    cursor = table.get_component_rich_style("vtable--cursor")
    return any(seg.style is not None and seg.style.bgcolor == cursor.bgcolor
               for seg in table.render_line(y))  # fmt: skip


async def test_lines_follow_scroll_cells_widths_cursor_and_order() -> None:
    app = OneTable()
    async with app.run_test(size=(40, 12)) as pilot:
        table = app.query_one(VirtualTable)
        table.apply(rows(100))
        table.focus()
        await pilot.pause()
        assert line(table, 0).split() == ["NAME", "CPU"]
        assert line(table, 1).split() == ["pod-0", "0m"] and cursor_on(table, 1)
        assert not cursor_on(table, 2)

        for _ in range(12):  # past the bottom: the table scrolls a line per key
            await pilot.press("down")
        top = table.scroll_offset.y
        assert top > 0
        assert line(table, 1).split() == [f"pod-{top}", f"{top}m"]
        assert cursor_on(table, table.cursor_row - top + 1)
        assert not cursor_on(table, 1)

        # New cells for a row on screen, wider than its column: the line shows them.
        key = f"k{top}"
        table.update_rows({key: (Cell(f"pod-{top}"), Cell("123456789m"))})
        assert line(table, 1).split() == [f"pod-{top}", "123456789m"]
        assert line(table, 2).split() == [f"pod-{top + 1}", f"{top + 1}m"]

        # Another order: the same lines show other rows, the cursor stays on its row.
        chosen = table.selected_key
        table.reorder([key for key, _ in reversed(rows(100))])
        assert table.selected_key == chosen
        first = table.keys_in_order()[top]
        assert line(table, 1).split()[0] == f"pod-{first[1:]}"


async def test_a_faded_table_draws() -> None:
    """A failing or stale pane is faded (opacity): Textual then reads the colour of every
    segment, so none may be without a style (a crash the app tests caught)."""
    app = OneTable()
    async with app.run_test(size=(40, 12)) as pilot:
        table = app.query_one(VirtualTable)
        table.apply([*rows(20), ("long", (Cell("x" * 80), Cell("")))])
        table.styles.opacity = 0.5
        await pilot.pause()
        lines = table.render_lines(table.region.reset_offset)
        assert any("pod-0" in strip.text for strip in lines)
        assert app.is_running and app._exception is None


async def test_a_reorder_keeps_the_selection_and_finds_rows_by_key() -> None:
    """The line index is made when asked (not per reorder): selecting by key, reading a
    shown row and updating rows on screen still find their lines, and a reorder with
    keys not in the set, or some missing, shows only the set's."""
    app = OneTable()
    async with app.run_test(size=(40, 12)) as pilot:
        table = app.query_one(VirtualTable)
        table.apply(rows(50))
        await pilot.pause()
        assert table.select_key("k30") and table.selected_key == "k30"
        order = [key for key, _ in reversed(rows(50))]
        assert table.reorder(order) and table.keys_in_order() == order
        assert table.selected_key == "k30" and table.cursor_row == 19
        assert not table.reorder(order)  # the same order: nothing to do
        assert table.select_key("k0") and table.cursor_row == 49
        assert table.row_cells("k0") is not None
        # A key that is not a row is left out; a row left out is hidden.
        assert table.reorder(["k1", "nope", "k0"])
        assert table.keys_in_order() == ["k1", "k0"] and table.selected_key == "k0"
        assert table.row_cells("k2") is None and not table.select_key("k2")
        # The selected row hidden: the cursor stays within the rows shown.
        assert table.reorder(["k5"]) and table.cursor_row == 0 and table.selected_key == "k5"
