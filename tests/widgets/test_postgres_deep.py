"""The deep-view screen and the pane's action keys, with Textual's Pilot (no server)."""

from __future__ import annotations

from datetime import UTC, datetime

from textual.app import App, ComposeResult
from textual.widgets import Static, TabbedContent

from cockpit.model import (
    PgBlockNode,
    PgDeepSnapshot,
    PgIndexUsage,
    PgSettingRow,
    PgStatement,
)
from tests.unit.test_pg_actions_units import pane_session
from widgets.messages import ActionRequested, ViewRequested
from widgets.postgres import PostgresPane
from widgets.postgres_deep import PgDeepScreen, block_rows, ordered_statements

from .test_postgres_pane import incident, session, snapshot

HOSTILE = "SELECT '[bold]x[/]' /* [@click=app.quit]y[/] \x1b[2J */"


def statement(
    n: int, mean: float, total: float, calls: int, rows: int, query: str = ""
) -> PgStatement:
    return PgStatement(n, query or f"SELECT {n}", calls, total, mean, rows, "excel_user", "db")


def setting(name: str, shown: str, recommended: str, matches: bool | None, **kw) -> PgSettingRow:
    values = {
        "name": name,
        "setting": shown,
        "unit": "",
        "shown": shown,
        "recommended": recommended,
        "context": "user",
        "pending_restart": False,
        "source": "default",
        "vartype": "integer",
        "matches": matches,
    }
    values.update(kw)
    return PgSettingRow(**values)  # type: ignore[arg-type]


def deep(**kw: object) -> PgDeepSnapshot:
    holder = pane_session(200, "idle in transaction", query="UPDATE excel_files SET v = 1")
    waiter = pane_session(300, "active", query=HOSTILE)
    values: dict[str, object] = {
        "server": "db:5432/excel_unified",
        "database": "excel_unified",
        "taken_at": datetime.now(UTC),
        "statements": (
            statement(1, mean=2500.0, total=5000.0, calls=2, rows=2),
            statement(2, mean=1.0, total=90_000.0, calls=90_000, rows=10),
            statement(3, mean=5.0, total=50.0, calls=10, rows=1_000_000, query=HOSTILE),
        ),
        "limit": 50,
        "indexes": (
            PgIndexUsage(
                "public", "excel_files", "excel_files_status", 0, 8 << 20, 0, 0, False, False
            ),
            PgIndexUsage(
                "public", "excel_files", "excel_files_code_key", 0, 1 << 20, 0, 0, True, False
            ),
            PgIndexUsage(
                "public", "excel_files", "excel_files_pkey", 900, 4 << 20, 900, 900, True, True
            ),
        ),
        "settings": (
            setting(
                "max_connections", "100", "200", False, context="postmaster", pending_restart=True
            ),
            setting("work_mem", "4MB", "4MB", True),
            setting("maintenance_work_mem", "16MB", "64MB", False),
        ),
        "blocking": (
            PgBlockNode(holder, 0, None, "", "", "", None, blocks=1),
            PgBlockNode(waiter, 1, 200, "ShareLock", "ExclusiveLock", "transaction 7", 95.0),
        ),
    }
    values.update(kw)
    return PgDeepSnapshot(**values)  # type: ignore[arg-type]


class Harness(App[None]):
    """Stands in for CockpitApp: collects what the screens and panes ask for."""

    def __init__(self, read_only: bool = False) -> None:
        super().__init__()
        self.animation_level = "none"
        self.read_only = read_only
        self.requested: list[ActionRequested] = []
        self.views: list[ViewRequested] = []

    def compose(self) -> ComposeResult:
        yield PostgresPane(read_only=lambda: self.read_only, id="postgres", classes="pane")

    def on_action_requested(self, message: ActionRequested) -> None:
        self.requested.append(message)

    def on_view_requested(self, message: ViewRequested) -> None:
        self.views.append(message)


def loader(snaps: list[PgDeepSnapshot | Exception]):
    calls = []

    async def load() -> PgDeepSnapshot:
        calls.append(1)
        item = snaps[min(len(calls) - 1, len(snaps) - 1)]
        if isinstance(item, Exception):
            raise item
        return item

    return load, calls


def texts(screen: PgDeepScreen, tab: str) -> list[list[str]]:
    table = screen.table(tab)
    return [[c.plain for c in table.row_cells(k) or ()] for k in table.keys_in_order()]


def static_text(screen: PgDeepScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


# -- pure pieces ---------------------------------------------------------------------------


def test_statement_orders() -> None:
    snap = deep()
    assert [s.queryid for s in ordered_statements(snap, "mean")] == [1, 3, 2]
    assert [s.queryid for s in ordered_statements(snap, "total")] == [2, 1, 3]
    assert [s.queryid for s in ordered_statements(snap, "calls")] == [2, 3, 1]
    assert [s.queryid for s in ordered_statements(snap, "rows")] == [3, 2, 1]
    assert len(ordered_statements(deep(limit=2), "mean")) == 2


def test_blocking_rows_read_as_a_tree() -> None:
    rows = [[c.plain for c in cells] for _, cells in block_rows(deep().blocking)]
    assert rows[0][:3] == ["200", "txn 30.0s", "blocks 1"]
    assert rows[1][:4] == ["└─ 300", "1m35s", "ShareLock ← ExclusiveLock", "transaction 7"]


# -- the screen ----------------------------------------------------------------------------


async def test_tabs_orders_and_hostile_text() -> None:
    app = Harness()
    load, calls = loader([deep()])
    async with app.run_test(size=(140, 40)) as pilot:
        screen = PgDeepScreen(load, deep(), refresh_every=0)
        await app.push_screen(screen)
        await pilot.pause()
        assert screen.tab == "slow" and calls == []  # shown from the snapshot it was given
        rows = texts(screen, "slow")
        assert [r[0] for r in rows] == ["2.5s", "5.0ms", "1.0ms"]
        assert rows[1][6] == "SELECT '[bold]x[/]' /* [@click=app.quit]y[/] ␛[2J */"
        await pilot.press("o")
        assert screen.order == "total" and texts(screen, "slow")[0][1] == "1m30s"
        assert "top 50 by total time" in static_text(screen, "#slow-note")
        await pilot.press("2")
        assert screen.tab == "indexes"
        indexes = texts(screen, "indexes")
        assert [r[2] for r in indexes] == [
            "excel_files_status",
            "excel_files_code_key",
            "excel_files_pkey",
        ]
        assert indexes[0][4] == "never used since the statistics were reset"
        assert indexes[1][4] == "unique: enforces a constraint"
        assert "1 never used and enforcing nothing" in static_text(screen, "#indexes-note")
        await pilot.press("3")
        settings = texts(screen, "settings")
        assert settings[0][:5] == [
            "max_connections",
            "100",
            "200",
            "changed, waits for a restart",
            "restart",
        ]
        assert settings[1][3] == "as the runbook"
        await pilot.press("4")
        assert screen.tab == "blocking"
        assert "1 blocking session(s), 1 waiting" in static_text(screen, "#blocking-note")
        screen.table().move_cursor(row=1)
        await pilot.pause()
        assert "␛[2J" in static_text(screen, "#pg-deep-detail")
        assert app.is_running
        assert "\x1b" not in app.export_screenshot()
        await pilot.press("r")
        await pilot.pause()
        assert calls == [1]
        await pilot.press("escape")
        assert not isinstance(app.screen, PgDeepScreen)


async def test_screen_keys_request_actions_and_vanish_in_read_only_mode() -> None:
    app = Harness()
    async with app.run_test(size=(140, 40)) as pilot:
        load, _ = loader([deep()])
        screen = PgDeepScreen(
            load, deep(), tab="settings", refresh_every=0, read_only=lambda: app.read_only
        )
        await app.push_screen(screen)
        await pilot.pause()
        assert screen.query_one(TabbedContent).active == "settings"
        await pilot.press("A")  # every setting that differs, with the runbook's value
        await pilot.press("down", "down", "a")  # only the selected one
        await pilot.press("4", "down", "c", "x")  # the waiter in the blocking tree
        await pilot.pause()
        got = [(m.action_id, m.args) for m in app.requested]
        assert got[0] == (
            "postgres.apply-settings",
            {"values": (("max_connections", "200"), ("maintenance_work_mem", "64MB"))},
        )
        assert got[1] == (
            "postgres.apply-settings",
            {"values": (("maintenance_work_mem", "64MB"),)},
        )
        assert [(a, v["session"].pid) for a, v in got[2:]] == [
            ("postgres.cancel", 300),
            ("postgres.terminate", 300),
        ]
        # A key of another tab does nothing here.
        await pilot.press("a")
        assert len(app.requested) == 4
        app.read_only = True
        screen.refresh_bindings()
        await pilot.press("c", "x", "3", "A", "a")
        await pilot.pause()
        assert len(app.requested) == 4
        assert screen.check_action("apply_all", ()) is False
        assert screen.check_action("refresh", ()) is True


async def test_a_failed_refresh_keeps_the_data_and_says_why() -> None:
    app = Harness()
    async with app.run_test(size=(120, 30)) as pilot:
        load, calls = loader([RuntimeError("PostgreSQL db:5432: connection refused [b]x[/]")])
        screen = PgDeepScreen(load, deep(), refresh_every=0)
        await app.push_screen(screen)
        await pilot.press("r")
        await pilot.pause(0.1)
        assert calls == [1]
        status = static_text(screen, "#pg-deep-status")
        assert "⚠ PostgreSQL db:5432: connection refused [b]x[/]" in status
        assert len(texts(screen, "slow")) == 3  # the last good data stays


async def test_missing_extension_note_and_empty_parts() -> None:
    app = Harness()
    note = "pg_stat_statements is not installed in database db: CREATE EXTENSION ..."
    async with app.run_test(size=(120, 30)) as pilot:
        load, _ = loader([deep()])
        snap = deep(statements=(), statements_note=note, blocking=(), blocking_note="none")
        screen = PgDeepScreen(load, snap, refresh_every=0)
        await app.push_screen(screen)
        await pilot.pause()
        assert static_text(screen, "#slow-note") == note
        assert texts(screen, "slow") == []
        await pilot.press("4", "c")
        assert app.requested == []


# -- the pane's keys -----------------------------------------------------------------------


async def test_pane_keys_request_actions_and_views() -> None:
    app = Harness()
    async with app.run_test(size=(120, 30)) as pilot:
        pane = app.query_one(PostgresPane)
        pane.show(incident())
        await pilot.pause()
        pane.table.focus()
        await pilot.press("K", "c", "x", "t", "D")
        await pilot.pause()
        got = [(m.action_id, m.args) for m in app.requested]
        chosen = pane.selected_session()
        assert chosen is not None
        assert got == [
            ("postgres.terminate-idle", {"minutes": 10.0}),
            ("postgres.cancel", {"session": chosen}),
            ("postgres.terminate", {"session": chosen}),
            ("postgres.connectivity", {"server": "127.0.0.1:5432/excel_unified"}),
        ]
        assert [v.view for v in app.views] == ["pg-deep"]
        # The same, for the command palette (the app keeps only non-mutating ones when
        # read-only).
        entries = list(pane.palette_entries())
        assert [(name.split(":")[0], mutating) for name, _, _, mutating, _ in entries] == [
            ("PostgreSQL", True),
            ("PostgreSQL", True),
            ("PostgreSQL", True),
            ("PostgreSQL", False),
            ("PostgreSQL", False),
        ]
        assert entries[1][0] == f"PostgreSQL: cancel the query of pid {chosen.pid}"
        assert [entry[4] for entry in entries[:3]] == [
            "postgres.terminate-idle",
            "postgres.cancel",
            "postgres.terminate",
        ]
        entries[2][2]()
        await pilot.pause()
        assert app.requested[-1].action_id == "postgres.terminate"


async def test_pane_keys_in_read_only_mode_and_for_hidden_sessions() -> None:
    app = Harness(read_only=True)
    async with app.run_test(size=(120, 30)) as pilot:
        pane = app.query_one(PostgresPane)
        pane.show(incident())
        await pilot.pause()
        pane.table.focus()
        await pilot.press("K", "c", "x", "t")
        await pilot.pause()
        # Only the connectivity test (it changes nothing) is there in read-only mode.
        assert [m.action_id for m in app.requested] == ["postgres.connectivity"]
        app.read_only = False
        hidden = session(77, state="", backend_type="", hidden=True, idle_candidate=True)
        pane.show(snapshot([hidden]))
        await pilot.pause()
        await pilot.press("c")
        await pilot.pause()
        assert [m.action_id for m in app.requested] == ["postgres.connectivity"]
