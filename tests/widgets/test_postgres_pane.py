"""PostgresPane with Textual's Pilot: incidents show their problem, hostile text is inert."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from textual.app import App, ComposeResult

from cockpit.model import Level, PgSession, PgSnapshot, SourceFailure
from widgets.messages import SourceOptions
from widgets.postgres import PostgresPane
from widgets.table import KeyedTable

NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)


def session(pid: int, state: str = "idle", **kw: object) -> PgSession:
    values: dict[str, object] = {
        "pid": pid,
        "backend_start": NOW - timedelta(hours=1, seconds=pid),
        "user": "excel_user",
        "database": "excel_unified",
        "application": "rails",
        "client": "10.0.0.7",
        "state": state,
        "wait_event_type": "Client" if state == "idle" else "",
        "wait_event": "",
        "backend_type": "client backend",
        "query": f"SELECT {pid}",
        "query_start": NOW - timedelta(seconds=700),
        "xact_start": None,
        "state_change": NOW - timedelta(seconds=700),
        "query_seconds": 700.0,
        "xact_seconds": None,
        "state_seconds": 700.0,
    }
    values.update(kw)
    return PgSession(**values)  # type: ignore[arg-type]


def snapshot(sessions: list[PgSession], **kw: object) -> PgSnapshot:
    idle = tuple(s for s in sessions if s.idle_candidate)
    blocked = tuple(s for s in sessions if s.blocked_by)
    busy = sorted((s for s in sessions if s.state != "idle"), key=lambda s: -s.running_seconds)
    counts: dict[str, int] = {}
    for s in sessions:
        counts[s.state] = counts.get(s.state, 0) + 1
    values: dict[str, object] = {
        "server": "127.0.0.1:5432/excel_unified",
        "version": "15.20",
        "max_connections": 100,
        "connections": len(sessions) + 1,
        "by_state": tuple(counts.items()),
        "waiting": len(blocked),
        "idle_over_threshold": idle,
        "longest": tuple(busy),
        "blocked": blocked,
        "tps": 123.4,
        "cache_hit_ratio": 0.991,
        "db_size_bytes": 3 * 1024**3,
        "rtt_ms": 0.4,
        "idle_threshold_s": 600.0,
        "notes": (),
        "taken_at": datetime.now(UTC),
        "sessions": tuple(sessions),
    }
    values.update(kw)
    return PgSnapshot(**values)  # type: ignore[arg-type]


def incident() -> PgSnapshot:
    """The runbook's 'database connection error': slots gone, idle sessions, a lock."""
    idle = [session(1000 + i, idle_candidate=True) for i in range(42)]
    holder = session(
        200,
        "idle in transaction",
        query="UPDATE excel_files SET status = 'x' WHERE id = 7",
        xact_seconds=900.0,
        state_seconds=880.0,
        blocking=(300,),
        level=Level.CRIT,
    )
    waiter = session(
        300,
        "active",
        wait_event_type="Lock",
        wait_event="transactionid",
        query="UPDATE excel_files SET status = 'y' WHERE id = 7",
        query_seconds=95.0,
        state_seconds=95.0,
        blocked_by=(200,),
        level=Level.CRIT,
    )
    busy = [session(400 + i, "active", state_seconds=1.0, query_seconds=1.0) for i in range(51)]
    return snapshot(
        [*idle, holder, waiter, *busy],
        connections=96,
        level=Level.CRIT,
        connections_level=Level.CRIT,
        problems=("connections 96% of max (CRIT)", "blocked (CRIT)"),
    )


class PaneApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.asked: list[dict[str, object]] = []  # SourceOptions the pane posted

    def compose(self) -> ComposeResult:
        yield PostgresPane(id="postgres", classes="pane")

    def on_source_options(self, message: SourceOptions) -> None:
        assert message.source == "postgres"
        self.asked.append(message.options)


def summary_plain(pane: PostgresPane) -> str:
    return pane.summary_text(pane.snapshot).plain  # type: ignore[arg-type]


def cell_texts(table: KeyedTable) -> list[list[str]]:
    return [[c.plain for c in table.row_cells(key) or ()] for key in table.keys_in_order()]


async def test_incident_shows_its_problem() -> None:
    app = PaneApp()
    async with app.run_test(size=(100, 30)) as pilot:
        pane = app.query_one(PostgresPane)
        pane.show(incident())
        await pilot.pause()
        assert pane.level is Level.CRIT
        assert pane.has_class("level-crit")
        text = summary_plain(pane)
        assert "96/100" in text
        assert "idle>10m 42" in text
        assert "blocked 1" in text
        assert "wait 1" in text
        assert "connections 96%" in pane.notes_text(pane.snapshot).plain  # type: ignore[arg-type]
        assert "idle>10m (42)" in (pane.border_title or "")
        table = pane.table
        assert table.row_count == 42
        # v: longest running, then blocked (the root blocker first, then its waiter)
        await pilot.press("v")
        assert pane.view == "longest"
        await pilot.press("v")
        assert pane.view == "blocked"
        rows = cell_texts(table)
        assert [r[0] for r in rows] == ["200", "300"]
        assert rows[0][3] == "blocks 1"
        assert rows[1][3] == "by 200"
        assert rows[1][2] == "active·lock"
        labels = {key.value: column.label.plain for key, column in table.columns.items()}
        assert labels["time"] == "TIME"
        assert rows[0][1] == "15m00s" and rows[1][1] == "1m35s"  # holding, waiting
        await pilot.press("v")
        assert pane.view == "all" and table.row_count == 42 + 2 + 51
        await pilot.press("v")
        assert pane.view == "idle"


async def test_hostile_text_is_shown_literally() -> None:
    hostile = [
        "SELECT '[bold]x[/]'",
        "[@click=app.quit]x[/]",
        "SELECT '\x1b[2J\x1b]0;title\x07'",
        "[/]",
        "[link=https://example.invalid]y[/link]",
    ]
    sessions = [
        session(10 + i, query=q, application=q, user=q, idle_candidate=True)
        for i, q in enumerate(hostile)
    ]
    app = PaneApp()
    async with app.run_test(size=(120, 30)) as pilot:
        pane = app.query_one(PostgresPane)
        pane.show(snapshot(sessions, notes=("[bold]note[/] \x1b[31m",)))
        await pilot.pause()
        rows = cell_texts(pane.table)
        queries = [r[8] for r in rows]
        assert "SELECT '[bold]x[/]'" in queries
        assert "[@click=app.quit]x[/]" in queries
        assert "[/]" in queries
        assert not any("\x1b" in q for q in queries)
        pane.mark_failed(
            SourceFailure("postgres", "PostgreSQL [b]x[/]: \x1b[2Jboom", hint="[@click=app.quit]")
        )
        await pilot.pause()
        for _ in ("v", "v", "v"):
            await pilot.press("v")
        await pilot.pause()
        assert app.is_running
        screen = app.export_screenshot()
        assert "\x1b" not in screen


async def test_selection_is_kept_by_session_across_updates() -> None:
    sessions = [session(100 + i, idle_candidate=True, state_seconds=700.0 - i) for i in range(5)]
    app = PaneApp()
    async with app.run_test(size=(100, 30)) as pilot:
        pane = app.query_one(PostgresPane)
        pane.show(snapshot(sessions))
        await pilot.pause()
        pane.table.focus()
        await pilot.press("down", "down")
        chosen = pane.selected_session()
        assert chosen is not None and chosen.pid == 102
        # Reordered, one gone, one new: the cursor stays on pid 102.
        moved = [replace(s, state_seconds=800.0 + s.pid) for s in reversed(sessions[1:])]
        pane.show(snapshot([session(99, idle_candidate=True), *moved]))
        await pilot.pause()
        chosen = pane.selected_session()
        assert chosen is not None and chosen.pid == 102
        assert chosen.state_seconds == 902.0  # the new data, not the old row
        # A reused pid (new backend_start) is another session, another row.
        reborn = replace(sessions[2], backend_start=NOW)
        assert reborn.key != sessions[2].key


async def test_usable_at_small_sizes_and_when_failing() -> None:
    app = PaneApp()
    async with app.run_test(size=(50, 12)) as pilot:
        pane = app.query_one(PostgresPane)
        pane.show(incident())
        await pilot.pause()
        assert pane.size.width <= 50
        assert pane.table.size.height >= 2  # summary leaves room for rows
        pane.mark_failed(SourceFailure("postgres", "PostgreSQL 127.0.0.1:5432: connection refused"))
        await pilot.pause()
        assert pane.has_class("stale")
        assert (pane.border_subtitle or "").startswith("STALE")
        pane.show(incident())
        await pilot.pause()
        assert not pane.has_class("stale")


async def test_empty_and_note_only_snapshots() -> None:
    app = PaneApp()
    async with app.run_test(size=(80, 20)) as pilot:
        pane = app.query_one(PostgresPane)
        note = "role r is not in pg_monitor: 3 sessions of other roles show no state"
        pane.show(snapshot([], tps=None, cache_hit_ratio=None, db_size_bytes=None, notes=(note,)))
        await pilot.pause()
        assert pane.table.row_count == 0
        assert pane.selected_session() is None
        assert "pg_monitor" in pane.notes_text(pane.snapshot).plain  # type: ignore[arg-type]
        assert "- tps" in summary_plain(pane)


async def test_only_the_all_view_asks_for_every_session() -> None:
    """The source sends busy sessions, idle candidates and blockers; the all view asks
    for the rest, and says how many of how many it shows until they come."""
    app = PaneApp()
    busy = [session(1, "active"), session(2, "idle in transaction")]
    candidate = session(3, idle_candidate=True)
    young = [session(10 + i, state_seconds=5.0) for i in range(5)]
    async with app.run_test(size=(140, 30)) as pilot:
        pane = app.query_one(PostgresPane)
        partial = snapshot(
            [*busy, candidate], every_session=False, session_count=8, by_state=(("idle", 6),)
        )
        pane.show(partial)
        await pilot.pause()
        assert "idle>10m (1)" in (pane.border_title or "")
        assert app.asked == []
        pane.table.focus()
        for _ in range(3):  # idle -> longest -> blocked -> all
            await pilot.press("v")
        await pilot.pause()
        assert pane.view == "all"
        assert app.asked == [
            {"every_session": False},
            {"every_session": False},
            {"every_session": True},
        ]
        assert "sessions (3 of 8)" in (pane.border_title or "")
        pane.show(snapshot([*busy, candidate, *young], session_count=8))  # every row now
        await pilot.pause()
        assert "sessions (8)" in (pane.border_title or "")
        assert pane.table.row_count == 8
        await pilot.press("v")
        await pilot.pause()
        assert pane.view == "idle" and app.asked[-1] == {"every_session": False}
