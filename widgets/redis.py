"""The Redis pane: memory against maxmemory and the policy first, then rates and clients.

Compact by design (about 50x12 cells on a 160x45 screen): warnings on top in the level
colour, then one fact per line, each cut with an ellipsis rather than wrapped.  Every
server-provided string (version, policy, warnings quoting them) is shown as plain text.

The body takes the focus so the pane's keys work: `[` / `]` choose a database from the
keyspace line (the URL's by default), `F` asks for FLUSHDB of it, `P` for a new
maxmemory-policy, `ctrl+z` to revert the last policy change, `D` for the deep views.
The pane only posts ActionRequested / ViewRequested; the app does the rest.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.events import Resize
from textual.widgets import Static

from cockpit import clock
from cockpit.model import Level, RedisSnapshot
from cockpit.textsafe import clean
from cockpit.units import age_text, ago, bytes_text, duration, pct, rate, since
from widgets.cells import LEVEL_MARK, LEVEL_STYLE, bar
from widgets.keys import Key
from widgets.messages import ActionRequested, ViewRequested
from widgets.pane import Pane
from widgets.statictext import set_text
from widgets.steady import SteadyFigure

DIM = "dim"
SEP = " · "


def count_text(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M"
    if n >= 10_000:
        return f"{n / 1000:.0f}k"
    if n >= 1000:
        return f"{n / 1000:.1f}k"
    return str(n)


def warnings_text(snap: RedisSnapshot) -> Text:
    """The warnings, worst first, in the snapshot's level colour (wrapping allowed)."""
    text = Text()
    style = LEVEL_STYLE[snap.level] or LEVEL_STYLE[Level.WARN]
    mark = LEVEL_MARK[max(snap.level, Level.WARN)]
    for index, warning in enumerate(snap.warnings):
        if index:
            text.append("\n")
        text.append(f"{mark} {clean(warning, 400)}", style=style)
    return text


def _memory_line(snap: RedisSnapshot, bar_width: int) -> Text:
    line = Text("mem  ", style=DIM)
    if snap.maxmemory:
        fraction = snap.used_memory / snap.maxmemory
        style = LEVEL_STYLE[snap.memory_level]
        line.append(f"{bar(fraction, bar_width)} {pct(snap.memory_pct)}", style)
        line.append(f" {bytes_text(snap.used_memory)}/{bytes_text(snap.maxmemory)}")
    else:
        line.append(f"{bar(None, bar_width)} {bytes_text(snap.used_memory)}")
        line.append(" no limit", style="italic")
    return line


def _policy_line(snap: RedisSnapshot) -> Text:
    line = Text("policy ", style=DIM)
    policy = clean(snap.policy, 40)
    if snap.policy == "noeviction":
        hot = snap.memory_level is Level.CRIT
        line.append(policy, style="bold white on red" if hot else "bold yellow")
    else:
        line.append(policy)
    if snap.fragmentation is not None:
        line.append(SEP + "frag ", style=DIM).append(f"{snap.fragmentation:.2f}")
    line.append(SEP + "v", style=DIM).append(clean(snap.version, 24))
    return line


def _rates_line(snap: RedisSnapshot) -> Text:
    line = Text("hit ", style=DIM)
    if snap.hit_ratio is not None:
        line.append(pct(100 * snap.hit_ratio))
    elif snap.hit_ratio_total is not None:
        line.append(pct(100 * snap.hit_ratio_total)).append(" life", style=DIM)
    else:
        line.append("-")
    line.append(SEP).append(rate(snap.ops_per_sec, " ops/s"))
    evicting = bool(snap.evicted_per_sec)
    line.append(SEP + "evict ", style=DIM)
    line.append(rate(snap.evicted_per_sec), style="bold yellow" if evicting else "")
    line.append(SEP + "exp ", style=DIM).append(rate(snap.expired_per_sec))
    if snap.oom_per_sec:
        line.append(SEP + "OOM ", style=LEVEL_STYLE[Level.CRIT])
        line.append(rate(snap.oom_per_sec), style=LEVEL_STYLE[Level.CRIT])
    return line


def _clients_line(snap: RedisSnapshot) -> Text:
    line = Text("clients ", style=DIM).append(str(snap.connected_clients))
    line.append(SEP + "blocked ", style=DIM).append(str(snap.blocked_clients))
    line.append(SEP + "rejected ", style=DIM)
    rejecting = bool(snap.rejected_per_sec)
    line.append(str(snap.rejected_connections), style="bold yellow" if rejecting else "")
    if rejecting:
        line.append(f" ({rate(snap.rejected_per_sec)})", style="bold yellow")
    return line


def url_db(snap: RedisSnapshot) -> int:
    """The database the cockpit's URL selects, from the snapshot's host:port/db."""
    tail = snap.server.rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def _keys_line(snap: RedisSnapshot, selected: int | None = None) -> Text:
    """Key counts per db; the selected db (the target of F and D) is marked ▸."""
    line = Text("keys ", style=DIM)
    if not snap.keys:
        return line.append("none")
    counts = dict(snap.keys)
    if selected is not None and selected not in counts:
        counts[selected] = 0
    ttl = dict(snap.expires)
    for index, db in enumerate(sorted(counts)):
        if index:
            line.append(SEP)
        chosen = db == selected
        line.append(("▸" if chosen else "") + f"db{db} ", style="bold reverse" if chosen else DIM)
        line.append(count_text(counts[db]), style="bold" if chosen else "")
        if ttl.get(db):
            line.append(f" ({count_text(ttl[db])} ttl)", style=DIM)
    return line


def _persistence_line(snap: RedisSnapshot, now: datetime) -> Text:
    line = Text("saved ", style=DIM)
    if snap.last_save_ok is False:
        line.append("FAILED", style=LEVEL_STYLE[Level.WARN])
        line.append(f" (last ok {since(snap.last_save, now)} ago)", style=DIM)
    else:
        line.append(ago(snap.last_save, now))
    fork = snap.last_fork_usec / 1e6 if snap.last_fork_usec else None
    line.append(SEP + "fork ", style=DIM).append(duration(fork))
    line.append(SEP + "rtt ", style=DIM).append(f"{snap.rtt_ms:.1f}ms")
    if snap.uptime_s is not None:
        line.append(SEP + "up ", style=DIM).append(age_text(snap.uptime_s))
    return line


def body_text(
    snap: RedisSnapshot,
    width: int = 48,
    now: datetime | None = None,
    selected_db: int | None = None,
) -> Text:
    """Everything but the warnings, one fact per line, cut (not wrapped) at the width."""
    now = now or clock.now()
    bar_width = max(6, min(20, width - 30))
    lines = [
        _memory_line(snap, bar_width),
        _policy_line(snap),
        _rates_line(snap),
        _clients_line(snap),
        _keys_line(snap, selected_db),
        _persistence_line(snap, now),
        *(Text(clean(note, 300), style="dim italic") for note in snap.notes),
    ]
    body = Text("\n", no_wrap=True, overflow="ellipsis").join(lines)
    body.no_wrap = True
    body.overflow = "ellipsis"
    return body


class RedisBody(Static, can_focus=True):
    """The pane's facts; focusable so that the pane's keys reach the pane."""


class RedisPane(Pane):
    """`show(snapshot)` on every poll; `mark_failed(failure)` keeps the last data, stale."""

    PANE_TITLE = "Redis"
    SOURCES = ("redis",)
    # A calm server's figures are read every 10 s, PINGed between (the source's cadence):
    # they are live until a reading is more than a poll late.
    FRESH_FOR = 15.0
    KEYS = (
        Key("left_square_bracket,left", "previous_db", "◂db", key_display="["),
        Key("right_square_bracket,right", "next_db", "db▸", key_display="]"),
        Key("P", "policy", "Policy", "redis.policy", mutating=True,
            palette="Redis: set maxmemory-policy"),
        Key("ctrl+z", "revert_policy", "Revert policy", "redis.policy-revert", mutating=True,
            palette="Redis: revert the last policy change"),
        Key("F", "flushdb", "FLUSHDB", "redis.flushdb", mutating=True,
            palette="Redis: FLUSHDB {target}"),
        Key("D", "deep_view", "Deep views",
            palette="Redis: deep views (memory, slowlog, clients, big keys)"),
    )  # fmt: skip
    DEFAULT_CSS = """
    RedisPane #redis-warnings { height: auto; max-height: 40%; display: none; }
    RedisPane #redis-warnings.shown { display: block; }
    RedisPane #redis-body { height: auto; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.snapshot: RedisSnapshot | None = None
        self.selected_db: int | None = None  # None: the URL's database
        self._rtt = SteadyFigure()

    def compose(self) -> ComposeResult:
        yield self.compose_failure()
        yield Static("", id="redis-warnings", markup=False, classes="pane-body")
        yield RedisBody("", id="redis-body", markup=False, classes="pane-body")

    def show(self, snap: RedisSnapshot) -> None:
        self.summary = snap.warnings[0] if snap.warnings else ""
        self.snapshot = snap
        self.mark_fresh(snap.taken_at)
        self._render_snapshot(snap)
        self.level = snap.level
        self.set_title(Text(f"Redis · {clean(snap.server, 60)}"))

    def on_resize(self, event: Resize) -> None:
        if self.snapshot is not None:
            self._render_snapshot(self.snapshot)

    def _render_snapshot(self, snap: RedisSnapshot) -> None:
        snap = replace(snap, rtt_ms=self._rtt(snap.rtt_ms))  # jitter alone: no repaint
        warnings = self.query_one("#redis-warnings", Static)
        set_text(warnings, warnings_text(snap))
        warnings.set_class(bool(snap.warnings), "shown")
        width = self.content_size.width or 48
        body = body_text(snap, width, selected_db=self.target_db)
        set_text(self.query_one("#redis-body", Static), body)

    # -- choosing a database ------------------------------------------------------------

    @property
    def target_db(self) -> int | None:
        """The database F and D act on: the one chosen, else the URL's."""
        if self.selected_db is not None:
            return self.selected_db
        return url_db(self.snapshot) if self.snapshot is not None else None

    def databases(self) -> list[int]:
        """The dbs to choose from: those with keys, plus the URL's."""
        if self.snapshot is None:
            return []
        return sorted({db for db, _ in self.snapshot.keys} | {url_db(self.snapshot)})

    def _step_db(self, step: int) -> None:
        choices = self.databases()
        if not choices or self.snapshot is None:
            return
        current = self.target_db
        index = choices.index(current) if current in choices else 0
        self.selected_db = choices[(index + step) % len(choices)]
        self._render_snapshot(self.snapshot)

    def action_previous_db(self) -> None:
        self._step_db(-1)

    def action_next_db(self) -> None:
        self._step_db(1)

    # -- actions and views (the app builds, confirms, runs and journals them) ------------

    def _ready(self) -> RedisSnapshot | None:
        if self.snapshot is None:
            self.notify("No Redis data yet", severity="warning")
        return self.snapshot

    def action_policy(self) -> None:
        if (snap := self._ready()) is not None:
            self.post_message(ActionRequested("redis.policy", snapshot=snap))

    def action_revert_policy(self) -> None:
        if (snap := self._ready()) is not None:
            self.post_message(ActionRequested("redis.policy-revert", snapshot=snap))

    def action_flushdb(self) -> None:
        if (snap := self._ready()) is not None:
            self.post_message(ActionRequested("redis.flushdb", snapshot=snap, db=self.target_db))

    def action_deep_view(self) -> None:
        if self._ready() is not None:
            self.post_message(ViewRequested("redis-deep", db=self.target_db))

    def palette_target(self, key: Key) -> str | None:
        db = self.target_db
        return f"db{db}" if db is not None else "the selected db"
