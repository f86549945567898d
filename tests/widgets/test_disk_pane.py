"""DiskPane in a small app driven by Pilot: the incident's postgres-0 at 90 % from the
real DiskSource, failure rows with their hint, hostile names shown literally, and the
`C` key asking for a clean-up of the selected row's pod (and gone in read-only mode)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from textual.app import App, ComposeResult

from cockpit.config import DiskSettings, Settings
from cockpit.model import DiskSnapshot, Level, PodDisk, PodMount
from cockpit.sim.pace import Pace
from cockpit.sim.runner import SimCluster
from cockpit.sources.disk import DiskSource
from widgets.disk import DiskPane
from widgets.messages import ActionRequested
from widgets.table import KeyedTable

NS = "excel-unified"
G = 1024**3


class PaneApp(App[None]):
    CSS = "DiskPane { height: 1fr; border: round white; }"

    def __init__(self, read_only: bool = False) -> None:
        super().__init__()
        self.read_only = read_only
        self.requests: list[ActionRequested] = []

    def compose(self) -> ComposeResult:
        yield DiskPane(
            read_only=lambda: self.read_only,
            settings=DiskSettings(log_days=3),
            id="disk",
            classes="pane",
        )

    def on_action_requested(self, message: ActionRequested) -> None:
        self.requests.append(message)


@pytest.fixture(scope="module")
def incident_snapshot() -> Iterator[DiskSnapshot]:
    sim = SimCluster("incident", pace=Pace.fast()).start()

    async def take() -> DiskSnapshot:
        src = DiskSource(Settings(), sim.client_configuration(), NS)
        try:
            return await src.snapshot()
        finally:
            await src.close()

    try:
        yield asyncio.run(take())
    finally:
        sim.stop()


def cells(pane: DiskPane) -> list[list[str]]:
    table = pane.query_one("#disk-table", KeyedTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_incident_rows_levels_and_the_cleanup_key(incident_snapshot: DiskSnapshot) -> None:
    app = PaneApp()
    async with app.run_test(size=(120, 20)) as pilot:
        pane = app.query_one(DiskPane)
        pane.show(incident_snapshot)
        await pilot.pause()
        rows = cells(pane)
        assert [rows[0][i] for i in (0, 3, 1)] == ["postgres-0", "/var/lib/postgresql/data", "90%"]
        assert rows[0][4] == "50.0Gi" and rows[0][5] == "5.0Gi" and rows[0][6] == "▲ WARN"
        assert [rows[1][i] for i in (0, 3)] == ["postgres-0", "/ (container)"]
        assert any(r[0] == "redis-0" and r[3] == "/data" for r in rows)
        assert pane.level is Level.WARN
        assert pane.summary.startswith("postgres-0 /var/lib/postgresql/data 90%")
        # Choose redis-0's row, then press C: the request names that pod and the settings.
        table = pane.query_one("#disk-table", KeyedTable)
        table.focus()
        redis_row = next(i for i, r in enumerate(rows) if r[0] == "redis-0")
        table.move_cursor(row=redis_row)
        await pilot.press("C")
        await pilot.pause()
        assert [(m.action_id, m.args["pod"]) for m in app.requests] == [("disk.cleanup", "redis-0")]
        assert app.requests[0].args["settings"].log_days == 3
        entries = list(pane.palette_entries())
        assert entries[0][0] == "Disk: clean up redis-0 (preview first)"


async def test_read_only_hides_the_cleanup_key(incident_snapshot: DiskSnapshot) -> None:
    app = PaneApp(read_only=True)
    async with app.run_test(size=(120, 20)) as pilot:
        pane = app.query_one(DiskPane)
        pane.show(incident_snapshot)
        pane.query_one("#disk-table", KeyedTable).focus()
        await pilot.press("C")
        await pilot.pause()
        assert app.requests == []


async def test_failures_and_hostile_names_are_plain_text() -> None:
    hostile = "[bold]pod[/]"
    snap = DiskSnapshot(
        pods=(
            PodDisk(
                "postgres-0",
                (),
                Level.WARN,
                "exec into postgres-0 forbidden: [red]no[/]",
                "the cockpit's identity needs RBAC `create` on `pods/exec`",
            ),
            PodDisk(
                hostile,
                (
                    PodMount(
                        hostile,
                        "/data/[x]\n",
                        "/dev/x",
                        10 * G,
                        97 * G // 10,
                        3 * G // 10,
                        97,
                        Level.CRIT,
                        True,
                    ),
                ),
                Level.CRIT,
            ),
        ),
        taken_at=datetime.now(UTC),
        level=Level.CRIT,
    )
    app = PaneApp()
    async with app.run_test(size=(120, 20)) as pilot:
        pane = app.query_one(DiskPane)
        pane.show(snap)
        await pilot.pause()
        rows = cells(pane)
        assert rows[0][0] == "postgres-0" and "forbidden: [red]no[/]" in rows[0][3]
        assert (
            rows[1][0] == hostile and rows[1][3].startswith("/data/[x]") and "\n" not in rows[1][3]
        )
        assert rows[1][6] == "✖ CRIT" and pane.level is Level.CRIT
        note = str(pane.query_one("#disk-note").render())
        assert "pods/exec" in note and "postgres-0" in note
