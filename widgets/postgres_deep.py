"""PostgreSQL deep views: slow queries, index usage, settings, the blocking tree.

One full screen with four tabs (1-4), read from a PgDeepSnapshot.  The screen does no
I/O itself: the app hands it a `load` coroutine, which it runs in a worker on `r`, on
a timer and when it comes back from a confirmation.  Actions (apply the runbook's
settings, cancel or terminate a blocker) are requested by id, like the panes do.
Server text (queries, names, notes) goes in as Text, never as markup.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static, TabbedContent, TabPane

from cockpit import clock
from cockpit.model import PgBlockNode, PgDeepSnapshot, PgIndexUsage, PgSettingRow, PgStatement
from cockpit.textsafe import clean, one_line
from cockpit.units import ago, bytes_text, duration, duration_ms
from widgets.cells import plain
from widgets.keys import DeclaredKeys, Key
from widgets.messages import ActionRequested
from widgets.screens import KeysAfterMount
from widgets.table import Cells, KeyedTable

Loader = Callable[[], Awaitable[PgDeepSnapshot]]

TABS = ("slow", "indexes", "settings", "blocking")
AFTER_ACTION_S = (1.0, 3.0)  # re-reads after coming back from a confirmation
ORDERS = ("mean", "total", "calls", "rows")
ORDER_WORDS = {
    "mean": "mean time per call",
    "total": "total time",
    "calls": "calls",
    "rows": "rows",
}

SLOW_COLUMNS = (
    ("mean", "MEAN"),
    ("total", "TOTAL"),
    ("calls", "CALLS"),
    ("rows", "ROWS"),
    ("user", "USER"),
    ("db", "DB"),
    ("query", "QUERY"),
)
INDEX_COLUMNS = (
    ("scans", "SCANS"),
    ("size", "SIZE"),
    ("index", "INDEX"),
    ("table", "TABLE"),
    ("note", "NOTE"),
)
SETTING_COLUMNS = (
    ("name", "SETTING"),
    ("now", "NOW"),
    ("runbook", "RUNBOOK"),
    ("state", "STATE"),
    ("applies", "APPLIES"),
    ("source", "SOURCE"),
)
BLOCK_COLUMNS = (
    ("pid", "PID"),
    ("wait", "WAITING"),
    ("mode", "WANTS ← HELD"),
    ("object", "ON"),
    ("user", "USER"),
    ("app", "APP"),
    ("state", "STATE"),
    ("query", "QUERY"),
)


def count(value: int) -> str:
    if value >= 10_000_000:
        return f"{value / 1_000_000:.0f}M"
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    return str(value)


# -- rows (pure: tested without a screen) ----------------------------------------------


def ordered_statements(snap: PgDeepSnapshot, order: str) -> list[PgStatement]:
    key = {
        "mean": lambda s: s.mean_ms,
        "total": lambda s: s.total_ms,
        "calls": lambda s: s.calls,
        "rows": lambda s: s.rows,
    }[order]
    return sorted(snap.statements, key=key, reverse=True)[: snap.limit]


def statement_rows(statements: list[PgStatement]) -> list[tuple[str, Cells]]:
    rows, seen = [], set()
    for s in statements:
        key = f"{s.queryid}|{s.user}|{s.database}"
        while key in seen:  # hidden rows have no queryid
            key += "'"
        seen.add(key)
        slow = "bold yellow" if s.mean_ms >= 1000 else ""
        rows.append(
            (
                key,
                (
                    plain(duration_ms(s.mean_ms), slow),
                    plain(duration_ms(s.total_ms)),
                    plain(count(s.calls)),
                    plain(count(s.rows)),
                    plain(s.user, "dim"),
                    plain(s.database, "dim"),
                    plain(s.query),
                ),
            )
        )
    return rows


def index_note(ix: PgIndexUsage) -> tuple[str, str]:
    """(words, style): unused non-unique indexes are the ones worth a look."""
    if not ix.valid:
        return "INVALID (a failed CREATE INDEX CONCURRENTLY?)", "bold red"
    if ix.primary:
        return "primary key", "dim"
    if ix.unique:
        return ("unique: enforces a constraint" if ix.scans == 0 else "unique"), "dim"
    if ix.scans == 0:
        return "never used since the statistics were reset", "bold yellow"
    return "", ""


def index_rows(indexes: tuple[PgIndexUsage, ...]) -> list[tuple[str, Cells]]:
    rows = []
    for ix in indexes:
        note, style = index_note(ix)
        rows.append(
            (
                f"{ix.schema}.{ix.index}",
                (
                    plain(count(ix.scans), style if ix.scans == 0 else ""),
                    plain(bytes_text(ix.size_bytes)),
                    plain(ix.index, style if ix.scans == 0 and not ix.unique else ""),
                    plain(f"{ix.schema}.{ix.table}", "dim"),
                    plain(note, style),
                ),
            )
        )
    return rows


def setting_state(row: PgSettingRow) -> tuple[str, str]:
    if row.pending_restart:
        return "changed, waits for a restart", "bold yellow"
    if row.matches is True:
        return "as the runbook", "green"
    if row.matches is False:
        return "differs from the runbook", "yellow"
    return "no recommendation" if not row.recommended else "cannot compare", "dim"


def setting_rows(settings: tuple[PgSettingRow, ...]) -> list[tuple[str, Cells]]:
    rows = []
    for row in settings:
        state, style = setting_state(row)
        rows.append(
            (
                row.name,
                (
                    plain(row.name, "bold"),
                    plain(row.shown),
                    plain(row.recommended or "-"),
                    plain(state, style),
                    plain("restart" if row.needs_restart else "reload", "dim"),
                    plain(row.source, "dim"),
                ),
            )
        )
    return rows


def tree_prefix(depth: int) -> str:
    return "" if depth == 0 else "  " * (depth - 1) + "└─ "


def block_key(node: PgBlockNode, index: int) -> str:
    # A waiter under two blockers appears twice: the key says where.
    return f"{node.session.key}@{node.waits_for}#{index}"


def block_rows(nodes: tuple[PgBlockNode, ...]) -> list[tuple[str, Cells]]:
    rows = []
    for index, node in enumerate(nodes):
        s = node.session
        root = node.depth == 0
        style = "bold red" if root else ""
        if root:
            mode = f"blocks {node.blocks}"
            # A root waits for nothing: how long its transaction has been open instead.
            wait = f"txn {duration(s.xact_seconds)}" if s.xact_seconds is not None else "-"
        else:
            mode = f"{node.wanted_mode} ← {node.held_mode or '?'}"
            wait = duration(node.wait_seconds)
        rows.append(
            (
                block_key(node, index),
                (
                    plain(tree_prefix(node.depth) + str(s.pid), style),
                    plain(wait, style),
                    plain(mode, style if root else "yellow"),
                    plain(node.lock_object or ("holding" if root else "")),
                    plain(s.user if not s.hidden else "?"),
                    plain(s.application, "dim"),
                    plain(s.state or "?"),
                    plain(s.query),
                ),
            )
        )
    return rows


# -- the screen ---------------------------------------------------------------------


class PgDeepScreen(DeclaredKeys, KeysAfterMount, Screen[None]):
    BINDINGS = [
        Binding("escape,q", "close", "Close"),
        Binding("1", "tab('slow')", "Slow queries"),
        Binding("2", "tab('indexes')", "Indexes"),
        Binding("3", "tab('settings')", "Settings"),
        Binding("4", "tab('blocking')", "Blocking"),
        Binding("r", "refresh", "Refresh"),
        Binding("o", "cycle_order", "Order by"),
    ]
    KEYS = (
        Key("a", "apply_selected", "Apply runbook value", "postgres.apply-settings",
            mutating=True),
        Key("A", "apply_all", "Apply all runbook values", "postgres.apply-settings",
            mutating=True),
        Key("c", "cancel_session", "Cancel query", "postgres.cancel", mutating=True),
        Key("x", "terminate_session", "Terminate", "postgres.terminate", mutating=True),
    )  # fmt: skip
    # Keys that belong to one tab.
    TAB_KEYS = {
        "cycle_order": "slow",
        "apply_selected": "settings",
        "apply_all": "settings",
        "cancel_session": "blocking",
        "terminate_session": "blocking",
    }
    DEFAULT_CSS = """
    PgDeepScreen { overflow: hidden; }
    PgDeepScreen #pg-deep-status { height: 1; background: $panel; padding: 0 1; }
    PgDeepScreen TabbedContent, PgDeepScreen ContentSwitcher, PgDeepScreen TabPane {
        height: 1fr;
    }
    PgDeepScreen TabPane { padding: 0; }
    PgDeepScreen .pg-deep-note { height: auto; padding: 0 1; color: $text-muted; }
    PgDeepScreen KeyedTable { height: 1fr; }
    PgDeepScreen #pg-deep-detail { height: auto; max-height: 6; padding: 0 1;
        border-top: solid $panel-lighten-2; }
    """

    def __init__(
        self,
        load: Loader,
        snapshot: PgDeepSnapshot | None = None,
        *,
        tab: str = "slow",
        refresh_every: float = 10.0,
        read_only: Callable[[], bool] = lambda: False,
    ) -> None:
        super().__init__()
        self.read_only = read_only  # asked at each key: the mode is the app's
        self.load = load
        self.snapshot = snapshot
        self.initial_tab = tab if tab in TABS else "slow"
        self.refresh_every = refresh_every
        self.order = ORDERS[0]
        self.error = ""
        self.loading = False
        self._covered = False
        self._tree_rows: dict[str, PgBlockNode] = {}
        self._statement_rows: dict[str, PgStatement] = {}

    def compose(self) -> ComposeResult:
        yield Static("", id="pg-deep-status", markup=False)
        with TabbedContent(initial=self.initial_tab, id="pg-deep-tabs"):
            with TabPane("1 Slow queries", id="slow"):
                yield Static("", id="slow-note", classes="pg-deep-note", markup=False)
                yield KeyedTable(SLOW_COLUMNS, id="slow-table")
            with TabPane("2 Indexes", id="indexes"):
                yield Static("", id="indexes-note", classes="pg-deep-note", markup=False)
                yield KeyedTable(INDEX_COLUMNS, id="indexes-table")
            with TabPane("3 Settings", id="settings"):
                yield Static("", id="settings-note", classes="pg-deep-note", markup=False)
                yield KeyedTable(SETTING_COLUMNS, id="settings-table")
            with TabPane("4 Blocking", id="blocking"):
                yield Static("", id="blocking-note", classes="pg-deep-note", markup=False)
                yield KeyedTable(BLOCK_COLUMNS, id="blocking-table")
        yield Static("", id="pg-deep-detail", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        if self.snapshot is not None:
            self.show(self.snapshot)
        else:
            self.action_refresh()
        if self.refresh_every > 0:
            self.set_interval(self.refresh_every, self.action_refresh)
        self.set_interval(1.0, self._status)
        self.call_after_refresh(self._focus_table)

    def on_screen_suspend(self) -> None:
        self._covered = True

    def on_screen_resume(self) -> None:
        # Back from a confirmation: what was applied or terminated should show.  (Resume
        # also comes on the first show, with the snapshot just read: no second read.)
        if self._covered:
            self._covered = False
            self.action_refresh()
            # The action confirmed there runs (and verifies) after the modal closed:
            # look again once it has had time to finish.
            for delay in AFTER_ACTION_S:
                self.set_timer(delay, self.action_refresh)

    # -- data in ----------------------------------------------------------------------

    @work(group="pg-deep-load", exclusive=True)
    async def action_refresh(self) -> None:
        self.loading = True
        self._status()
        try:
            snapshot = await self.load()
        except Exception as exc:  # the backend's words, shown; the last data stays
            self.error = one_line(str(exc) or type(exc).__name__, 300)
        else:
            self.error = ""
            self.show(snapshot)
        finally:
            self.loading = False
            self._status()

    def show(self, snap: PgDeepSnapshot) -> None:
        self.snapshot = snap
        self._show_statements(snap)
        self._note("indexes", snap.indexes_note or self._index_summary(snap))
        self.query_one("#indexes-table", KeyedTable).apply(index_rows(snap.indexes))
        self._note(
            "settings",
            snap.settings_note
            or "the runbook's values; a: apply the selected one, A: all that differ "
            "(a typed confirmation follows)",
        )
        self.query_one("#settings-table", KeyedTable).apply(setting_rows(snap.settings))
        self._tree_rows = {block_key(n, i): n for i, n in enumerate(snap.blocking)}
        roots = sum(1 for n in snap.blocking if n.depth == 0)
        waiting = len({n.session.pid for n in snap.blocking if n.depth > 0})
        self._note(
            "blocking",
            snap.blocking_note
            if not snap.blocking
            else f"{roots} blocking session(s), {waiting} waiting"
            + (f" · {snap.blocking_note}" if snap.blocking_note else "")
            + " · c: cancel the selected one's query, x: terminate it",
        )
        self.query_one("#blocking-table", KeyedTable).apply(block_rows(snap.blocking))
        self._status()
        self._detail()

    def _show_statements(self, snap: PgDeepSnapshot) -> None:
        shown = ordered_statements(snap, self.order)
        rows = statement_rows(shown)
        self._statement_rows = {key: s for (key, _), s in zip(rows, shown, strict=True)}
        note = snap.statements_note
        if snap.statements or not note:
            head = f"top {snap.limit} by {ORDER_WORDS[self.order]} (o: order by)"
            note = f"{head} · {note}" if note else head
        self._note("slow", note)
        self.query_one("#slow-table", KeyedTable).apply(rows)

    @staticmethod
    def _index_summary(snap: PgDeepSnapshot) -> str:
        unused = sum(1 for ix in snap.indexes if ix.scans == 0 and not ix.unique)
        return (
            f"{len(snap.indexes)} indexes in {snap.database}, least used first; "
            f"{unused} never used and enforcing nothing"
        )

    def _note(self, tab: str, text: str) -> None:
        self.query_one(f"#{tab}-note", Static).update(Text(clean(text, 600)))

    def _status(self) -> None:
        snap = self.snapshot
        text = Text()
        text.append("PostgreSQL deep views", style="bold")
        if snap is not None:
            text.append(f" · {one_line(snap.server, 120)}")
            text.append(f" · read {ago(snap.taken_at, clock.now())}", style="dim")
        if self.loading:
            text.append(" · loading…", style="italic")
        if self.error:
            text.append(" · ⚠ " + self.error, style="bold red")
        self.query_one("#pg-deep-status", Static).update(text)

    # -- selection ----------------------------------------------------------------------

    @property
    def tab(self) -> str:
        return self.query_one(TabbedContent).active or self.initial_tab

    def table(self, tab: str | None = None) -> KeyedTable:
        return self.query_one(f"#{tab or self.tab}-table", KeyedTable)

    def selected_statement(self) -> PgStatement | None:
        key = self.table("slow").selected_key
        return self._statement_rows.get(key) if key else None

    def selected_node(self) -> PgBlockNode | None:
        key = self.table("blocking").selected_key
        return self._tree_rows.get(key) if key else None

    def selected_setting(self) -> PgSettingRow | None:
        key = self.table("settings").selected_key
        if key is None or self.snapshot is None:
            return None
        return next((r for r in self.snapshot.settings if r.name == key), None)

    def _focus_table(self) -> None:
        self.table().focus()

    @on(TabbedContent.TabActivated)
    def _tab_changed(self) -> None:
        self.refresh_bindings()
        self.call_after_refresh(self._focus_table)
        self._detail()

    @on(DataTable.RowHighlighted)
    def _row_changed(self) -> None:
        self._detail()

    def _detail(self) -> None:
        """The whole text of what is selected (queries are cut in the table)."""
        text = Text()
        tab = self.tab
        if tab == "slow" and (s := self.selected_statement()) is not None:
            text.append(
                f"{s.calls} calls · mean {duration_ms(s.mean_ms)} · "
                f"total {duration_ms(s.total_ms)}  "
            )
            text.append(clean(s.query, 2000))
        elif tab == "blocking" and (n := self.selected_node()) is not None:
            s = n.session
            text.append(f"pid {s.pid} · {clean(s.user)} · {clean(s.state or '?')}  ")
            text.append(clean(s.query, 2000))
        self.query_one("#pg-deep-detail", Static).update(text)

    # -- keys ---------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        tab = self.TAB_KEYS.get(action)
        if tab is not None and self.is_mounted and self.tab != tab:
            return False
        return super().check_action(action, parameters)

    def action_close(self) -> None:
        self.dismiss()

    def action_tab(self, tab: str) -> None:
        if tab in TABS:
            self.query_one(TabbedContent).active = tab

    def action_cycle_order(self) -> None:
        self.order = ORDERS[(ORDERS.index(self.order) + 1) % len(ORDERS)]
        if self.snapshot is not None:
            self._show_statements(self.snapshot)
            self._detail()

    def action_apply_selected(self) -> None:
        row = self.selected_setting()
        if row is None:
            return
        if not row.recommended:
            self.notify(f"the runbook names no value for {row.name}", markup=False)
            return
        self.post_message(
            ActionRequested("postgres.apply-settings", values=((row.name, row.recommended),))
        )

    def action_apply_all(self) -> None:
        rows = self.snapshot.settings if self.snapshot else ()
        values = tuple((r.name, r.recommended) for r in rows if r.matches is False)
        if not values:
            self.notify("every setting is as the runbook says", markup=False)
            return
        self.post_message(ActionRequested("postgres.apply-settings", values=values))

    def _session_action(self, action_id: str) -> None:
        node = self.selected_node()
        if node is None:
            return
        if node.session.hidden:
            self.notify(
                f"pid {node.session.pid} is hidden from this role: it cannot be checked",
                severity="warning",
                markup=False,
            )
            return
        self.post_message(ActionRequested(action_id, session=node.session))

    def action_cancel_session(self) -> None:
        self._session_action("postgres.cancel")

    def action_terminate_session(self) -> None:
        self._session_action("postgres.terminate")
