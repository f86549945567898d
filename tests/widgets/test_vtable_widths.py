"""VirtualTable column widths: hidden rows keep their measured widths (a filter cleared
at thousands of rows must not measure every cell again), and the widths stay right."""

from __future__ import annotations

from textual.app import App, ComposeResult

from widgets.vtable import Cell, VirtualTable

COLUMNS = (("name", "NAME"), ("cpu", "CPU"))


class OneTable(App):
    def compose(self) -> ComposeResult:
        yield VirtualTable(COLUMNS, id="t")


def rows(n: int) -> list[tuple[str, tuple[Cell, ...]]]:
    return [(f"k{i}", (Cell(f"pod-{i}" + "x" * (i % 7)), Cell(f"{i}m"))) for i in range(n)]


async def test_filtered_out_rows_keep_their_widths_and_columns_fit() -> None:
    app = OneTable()
    async with app.run_test(size=(60, 20)):
        table = app.query_one(VirtualTable)
        everything = rows(300)
        table.apply(everything)
        full = table._widths
        assert full == (len("pod-299xxxxxx"), len("299m"))
        measured = dict(table._row_widths)

        table.apply([r for r in everything if "7" in r[0]])  # a filter: fewer rows
        assert table.row_count == len([r for r in everything if "7" in r[0]])
        assert table._row_widths["k0"] is measured["k0"]  # hidden, still known
        assert table._widths[1] == len("297m")

        table.apply(everything)  # the filter cleared: nothing measured anew
        assert all(table._row_widths[key] is measured[key] for key, _ in everything)
        assert table._widths == full


def test_row_widths_are_each_cells_own_measure() -> None:
    """The inline measure of a row agrees with each cell's cell_len, capped at
    MAX_COLUMN: plain ASCII, wide and combining characters, control characters, Texts,
    a runaway cell."""
    import random

    from rich.text import Text

    from widgets.vtable import MAX_COLUMN, row_widths

    rng = random.Random(12)
    alphabet = ["a", "Z", "0", " ", "-", "日", "本", "é", "e\u0301", "\t", "\x1b", "🚀", "\u200b"]
    for _ in range(500):
        row = []
        for _ in range(rng.randint(1, 9)):
            text = "".join(rng.choice(alphabet) for _ in range(rng.choice([0, 1, 5, 30, 90])))
            row.append(Text(text) if rng.random() < 0.2 else Cell(text, rng.choice(["", "dim"])))
        expected = tuple(min(MAX_COLUMN, cell.cell_len) for cell in row)
        assert row_widths(tuple(row)) == expected, row
