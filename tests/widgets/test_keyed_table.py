"""KeyedTable under a poller: rows updated every few seconds keep its renders bounded,
and rows drawn before their columns were measured are drawn again."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult

from widgets.table import KeyedTable

COLUMNS = [(f"c{i}", f"Col {i}") for i in range(8)]


class OneTable(App[None]):
    def compose(self) -> ComposeResult:
        yield KeyedTable(COLUMNS)


def rows(poll: int) -> list[tuple[str, tuple[Text, ...]]]:
    """30 rows whose fourth column changes at every poll (a session's duration)."""
    return [
        (f"r{r}", tuple(Text(f"v{r}-{c}-{poll if c == 3 else 0}") for c in range(8)))
        for r in range(30)
    ]


async def test_renders_from_before_an_update_are_dropped() -> None:
    app = OneTable()
    async with app.run_test(size=(160, 45)) as pilot:
        table = app.query_one(KeyedTable)
        for poll in range(60):
            assert table.apply(rows(poll))  # every poll changes a column
            await pilot.pause()
        # DataTable keys these caches by its update count: without the drop they hold
        # every poll's renders (60 x 31 rows, 60 x 248 cells here; megabytes over hours).
        assert len(table._row_render_cache) <= 31
        assert len(table._cell_render_cache) <= 31 * 8
        shown = [strip.text for strip in (table.render_line(y) for y in range(1, 31))]
        assert all("-59" in line for line in shown), shown[:3]  # the last poll on screen
        assert not table.apply(rows(59))  # nothing changed: nothing dropped either


async def test_a_row_drawn_before_its_columns_are_measured_is_drawn_again() -> None:
    # DataTable measures new rows' cells when it is next idle.  A frame in between (a
    # busy start-up) renders them at the header's width, "fas…"; the measured widths
    # must then replace those renders, not leave them cached until the next change.
    app = OneTable()
    async with app.run_test(size=(160, 45)) as pilot:
        table = app.query_one(KeyedTable)
        wide = tuple(Text(f"fastapi-worker-{c}") for c in range(8))
        table.apply([("r0", wide)])
        early = table.render_line(1).text  # drawn before the table was idle
        assert "fastapi-worker-0" not in early  # cut to the header's width
        await pilot.pause()
        await pilot.pause()
        assert not table._require_update_dimensions
        assert "fastapi-worker-0" in table.render_line(1).text
