"""The PostgreSQL pane: connections against max, the runbook's idle candidates, locks.

A two-line summary (connections bar and states; idle > limit, TPS, cache hit, size,
RTT), one line for problems or notes, and a table of sessions keyed by pid and backend
start, with `v` cycling the views: idle candidates / longest running / blocked / all.
Keys ask the app for actions by id (it confirms, runs and journals them): `K` the
runbook's terminate-idle, `c` / `x` cancel / terminate the selected session, `t` the
runbook's SELECT 1 test, `D` the deep views.
Every piece of server text (queries, users, application names) goes in as Text, never
as markup.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from cockpit.model import Level, PgSession, PgSnapshot
from cockpit.units import bytes_text, duration, rate, threshold_text
from widgets.cells import LEVEL_STYLE, bar, plain
from widgets.keys import Key
from widgets.messages import ActionRequested, SourceOptions, ViewRequested
from widgets.pane import Pane
from widgets.statictext import set_text
from widgets.steady import SteadyFigure
from widgets.table import Cells, KeyedTable

VIEWS = ("idle", "longest", "blocked", "all")
# What the TIME column means in each view.
# Four letters at most: DataTable sizes a column from its first label.
TIME_LABEL = {"idle": "IDLE", "longest": "RUN", "blocked": "TIME", "all": "TIME"}

COLUMNS = (
    ("pid", "PID"),
    ("time", TIME_LABEL[VIEWS[0]]),
    ("state", "STATE"),
    ("locks", "LOCKS"),
    ("user", "USER"),
    ("app", "APP"),
    ("client", "CLIENT"),
    ("db", "DB"),
    ("query", "QUERY"),
)

STATE_SHORT = {
    "active": "active",
    "idle": "idle",
    "idle in transaction": "idle txn",
    "idle in transaction (aborted)": "txn aborted",
    "fastpath function call": "fastpath",
    "disabled": "disabled",
}


def state_text(s: PgSession) -> str:
    if s.hidden:
        return "?"
    if s.backend_type == "autovacuum worker":
        return "autovacuum"
    text = STATE_SHORT.get(s.state, s.state)
    return f"{text}·lock" if s.waiting else text


def locks_text(s: PgSession) -> str:
    parts = []
    if s.blocked_by:
        parts.append("by " + ",".join(map(str, s.blocked_by)))
    if s.blocking:
        parts.append(f"blocks {len(s.blocking)}")
    return " ".join(parts)


def time_seconds(s: PgSession, view: str) -> float | None:
    """Idle for (idle view), waiting for (a blocked session), else running for."""
    if view == "idle" or s.blocked_by:
        return s.state_seconds
    if view == "longest" or s.state not in ("idle", ""):
        return s.running_seconds
    return s.state_seconds


def view_sessions(snap: PgSnapshot, view: str) -> tuple[PgSession, ...]:
    if view == "idle":
        return snap.idle_over_threshold
    if view == "longest":
        return snap.longest
    if view == "blocked":
        # The root blockers first (what to act on), then who waits for them.
        blockers = [s for s in snap.blocking if not s.blocked_by]
        return (*blockers, *snap.blocked)
    return snap.sessions


def summary_groups(snap: PgSnapshot, bar_width: int = 10) -> list[Text]:
    """The summary's pieces, most important first; each stays on one line."""
    level_style = LEVEL_STYLE[snap.connections_level]
    pct = snap.connections_pct
    approx = "" if snap.connections_exact else "~"
    conn = Text("conn ", style="bold")
    conn.append(bar(None if pct is None else pct / 100, bar_width), style=level_style)
    conn.append(f" {approx}{snap.connections}/{snap.max_connections}", style=level_style)
    states = Text()
    for label, state, style in (
        ("act", "active", ""),
        ("idle", "idle", ""),
        ("txn", "idle in transaction", "yellow"),
        ("aborted", "idle in transaction (aborted)", "yellow"),
    ):
        n = snap.count(state)
        if label == "aborted" and not n:
            continue
        states.append(f"{' ' if states else ''}{label} ")
        states.append(str(n), style=style if n else "")
    idle = Text(f"idle>{threshold_text(snap.idle_threshold_s)} ", style="bold")
    idle.append(str(snap.idle_candidates), style="bold yellow" if snap.idle_candidates else "")
    groups = [conn, states, idle]
    if snap.blocked:
        groups.append(Text.assemble(("blocked ", "bold"), (str(len(snap.blocked)), "bold red")))
    if snap.waiting:
        groups.append(Text.assemble("wait ", (str(snap.waiting), "red")))
    hit = "-" if snap.cache_hit_ratio is None else f"{snap.cache_hit_ratio:.1%}"
    for figure in (
        f"{rate(snap.tps, '')} tps",
        f"hit {hit}",
        bytes_text(snap.db_size_bytes),
        f"rtt {snap.rtt_ms:.1f}ms",
    ):
        groups.append(Text(figure, style="dim"))
    return groups


def pack(groups: list[Text], width: int, sep: str = " · ") -> Text:
    """Greedy line packing of whole groups (a narrow pane gets more, shorter lines)."""
    out = Text(no_wrap=True, overflow="ellipsis")
    used = 0
    for group in groups:
        size = group.cell_len
        if used and used + len(sep) + size > width:
            out.append("\n")
            used = 0
        elif used:
            out.append(sep, style="dim")
            used += len(sep)
        out.append_text(group)
        used += size
    return out


class PostgresPane(Pane):
    PANE_TITLE = "PostgreSQL"
    SOURCES = ("postgres",)
    KEYS = (
        Key("v", "cycle_view", "PG view"),
        Key("K", "terminate_idle", "Terminate idle", "postgres.terminate-idle", mutating=True,
            palette="PostgreSQL: terminate idle sessions"),
        Key("c", "cancel_session", "Cancel query", "postgres.cancel", mutating=True,
            palette="PostgreSQL: cancel the query of pid {target}"),
        Key("x", "terminate_session", "Terminate session", "postgres.terminate", mutating=True,
            palette="PostgreSQL: terminate session {target}"),
        Key("t", "connectivity_test", "SELECT 1", "postgres.connectivity",
            palette="PostgreSQL: connectivity test (SELECT 1)"),
        Key("D", "deep_views", "PG deep views",
            palette="PostgreSQL: deep views (slow queries, indexes, settings, locks)"),
    )  # fmt: skip

    DEFAULT_CSS = """
    PostgresPane #pg-summary { height: auto; padding: 0 1; }
    PostgresPane #pg-notes { height: 1; padding: 0 1; display: none; }
    PostgresPane #pg-notes.shown { display: block; }
    PostgresPane KeyedTable { height: 1fr; }
    """

    def __init__(self, idle_minutes: float = 10.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.idle_minutes = idle_minutes  # the runbook's threshold, until the server says
        self.snapshot: PgSnapshot | None = None
        self.view = VIEWS[0]
        self._rtt = SteadyFigure()
        self._by_key: dict[str, PgSession] = {}
        self._cache: dict[str, tuple[tuple[object, ...], Cells]] = {}

    def compose(self) -> ComposeResult:
        yield self.compose_failure()
        yield Static("waiting for the first data…", id="pg-summary", markup=False)
        yield Static("", id="pg-notes", markup=False)
        yield KeyedTable(COLUMNS, id="pg-table")

    @property
    def table(self) -> KeyedTable:
        return self.query_one(KeyedTable)

    # -- data in ----------------------------------------------------------------------

    def show(self, snapshot: PgSnapshot) -> None:
        self.summary = "; ".join(snapshot.problems[:2])
        self.snapshot = snapshot
        self.mark_fresh(snapshot.taken_at)
        self.level = snapshot.level
        shown = replace(snapshot, rtt_ms=self._rtt(snapshot.rtt_ms))  # jitter: no repaint
        set_text(self.query_one("#pg-summary", Static), self.summary_text(shown))
        notes = self.query_one("#pg-notes", Static)
        line = self.notes_text(snapshot)
        set_text(notes, line)
        notes.set_class(bool(line.plain), "shown")
        self.render_rows()

    def render_rows(self) -> None:
        snap = self.snapshot
        if snap is None:
            return
        view = self.view
        shown = view_sessions(snap, view)
        self._by_key = {s.key: s for s in shown}
        live = {s.key for s in snap.sessions}
        if len(self._cache) > 2 * len(live) + 100:
            self._cache = {k: v for k, v in self._cache.items() if k in live}
        self.table.apply([(s.key, self._cells(s, view)) for s in shown])
        self.set_title(self.title_text(snap, view, len(shown)))

    def _cells(self, s: PgSession, view: str) -> Cells:
        seconds = time_seconds(s, view)
        signature = (s, view, None if seconds is None else round(seconds))
        cached = self._cache.get(s.key)
        if cached is not None and cached[0] == signature:
            return cached[1]
        style = LEVEL_STYLE[s.level]
        if s.idle_candidate and s.level is Level.OK:
            style = "yellow"
        cells = (
            plain(s.pid, style),
            plain(duration(seconds), style),
            plain(state_text(s), style),
            plain(locks_text(s), "bold red" if s.blocked_by else style),
            plain(s.user),
            plain(s.application, "dim"),
            plain(s.client, "dim"),
            plain(s.database, "dim"),
            plain(s.query),
        )
        self._cache[s.key] = (signature, cells)
        return cells

    # -- text ----------------------------------------------------------------------

    @staticmethod
    def title_text(snap: PgSnapshot, view: str, count: int) -> str:
        # Only our own words and numbers: a border title is parsed as markup.
        names = {
            "idle": f"idle>{threshold_text(snap.idle_threshold_s)}",
            "longest": "longest",
            "blocked": "blocked",
            "all": "sessions",
        }
        shown = str(count)
        if view == "all" and not snap.every_session and snap.session_count is not None:
            shown = f"{count} of {snap.session_count}"  # until the source sends every row
        return f"PostgreSQL · {names[view]} ({shown}) · v"

    def summary_text(self, snap: PgSnapshot, width: int | None = None) -> Text:
        """The figures, packed into as few lines as `width` allows, none split."""
        if width is None:
            width = max(20, self._summary_width())
        return pack(summary_groups(snap, bar_width=10 if width >= 60 else 6), width)

    def _summary_width(self) -> int:
        summary = self.query_one("#pg-summary", Static)
        inner = summary.size.width - 2  # its padding
        return inner if inner > 0 else 48

    def on_resize(self) -> None:
        if self.snapshot is not None:
            set_text(self.query_one("#pg-summary", Static), self.summary_text(self.snapshot))

    @staticmethod
    def notes_text(snap: PgSnapshot) -> Text:
        """Why the level is not OK, else what the cockpit cannot see, on one line."""
        if snap.problems:
            return Text(
                "⚠ " + "; ".join(snap.problems),
                style=LEVEL_STYLE[snap.level],
                no_wrap=True,
                overflow="ellipsis",
            )
        if snap.notes:
            return plain("ⓘ " + snap.notes[0], "dim")
        return Text("")

    # -- selection and keys ---------------------------------------------------------

    def selected_session(self) -> PgSession | None:
        """The session under the cursor (what c and x act on)."""
        key = self.table.selected_key
        return self._by_key.get(key) if key else None

    def _session(self) -> PgSession | None:
        s = self.selected_session()
        if s is None:
            self.notify("select a session first", severity="warning", markup=False)
        elif s.hidden:
            self.notify(
                f"pid {s.pid} belongs to another role whose sessions are hidden from the "
                "cockpit's role (grant it pg_monitor)",
                severity="warning",
                markup=False,
            )
            return None
        return s

    def action_terminate_idle(self) -> None:
        """The runbook's remedy: terminate sessions idle longer than the threshold."""
        minutes = (
            self.snapshot.idle_threshold_s / 60 if self.snapshot is not None else self.idle_minutes
        )
        self.post_message(ActionRequested("postgres.terminate-idle", minutes=minutes))

    def action_cancel_session(self) -> None:
        if (s := self._session()) is not None:
            self.post_message(ActionRequested("postgres.cancel", session=s))

    def action_terminate_session(self) -> None:
        if (s := self._session()) is not None:
            self.post_message(ActionRequested("postgres.terminate", session=s))

    def action_connectivity_test(self) -> None:
        server = self.snapshot.server if self.snapshot is not None else ""
        self.post_message(ActionRequested("postgres.connectivity", server=server))

    def action_deep_views(self) -> None:
        self.post_message(ViewRequested("pg-deep"))

    def palette_target(self, key: Key) -> str | None:
        if key.method not in ("cancel_session", "terminate_session"):
            return ""
        s = self.selected_session()
        return str(s.pid) if s is not None and not s.hidden else None

    def action_cycle_view(self) -> None:
        self.set_view(VIEWS[(VIEWS.index(self.view) + 1) % len(VIEWS)])

    def set_view(self, view: str) -> None:
        if view not in VIEWS:
            raise ValueError(f"unknown view {view!r}")
        self.view = view
        # Only the "all" view lists the young idle (and hidden) sessions: the source
        # sends their rows only while it is shown.
        self.post_message(SourceOptions("postgres", every_session=view == "all"))
        self._set_time_label()
        self.render_rows()

    def _set_time_label(self) -> None:
        table = self.table
        for key, column in table.columns.items():
            if key.value == "time":
                column.label = Text(TIME_LABEL[self.view])
        table.refresh()
