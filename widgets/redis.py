"""The Redis pane: memory against maxmemory and the policy first, then rates and clients.

Compact by design (about 50x12 cells on a 160x45 screen): warnings on top in the level
colour, then one fact per line, each cut with an ellipsis rather than wrapped.  Every
server-provided string (version, policy, warnings quoting them) is shown as plain text.
"""

from __future__ import annotations

from datetime import UTC, datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.events import Resize
from textual.widgets import Static

from cockpit.model import Level, RedisSnapshot
from cockpit.textsafe import clean
from widgets.cells import LEVEL_MARK, LEVEL_STYLE, bar, bytes_text, duration, pct, rate
from widgets.pane import Pane, age_text, since

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


def _keys_line(snap: RedisSnapshot) -> Text:
    line = Text("keys ", style=DIM)
    if not snap.keys:
        return line.append("none")
    ttl = dict(snap.expires)
    for index, (db, count) in enumerate(snap.keys):
        if index:
            line.append(SEP)
        line.append(f"db{db} ", style=DIM).append(count_text(count))
        if ttl.get(db):
            line.append(f" ({count_text(ttl[db])} ttl)", style=DIM)
    return line


def _persistence_line(snap: RedisSnapshot, now: datetime) -> Text:
    line = Text("saved ", style=DIM)
    if snap.last_save_ok is False:
        line.append("FAILED", style=LEVEL_STYLE[Level.WARN])
        line.append(f" (last ok {since(snap.last_save, now)} ago)", style=DIM)
    else:
        line.append(f"{since(snap.last_save, now)} ago" if snap.last_save else "never")
    fork = snap.last_fork_usec / 1e6 if snap.last_fork_usec else None
    line.append(SEP + "fork ", style=DIM).append(duration(fork))
    line.append(SEP + "rtt ", style=DIM).append(f"{snap.rtt_ms:.1f}ms")
    if snap.uptime_s is not None:
        line.append(SEP + "up ", style=DIM).append(age_text(snap.uptime_s))
    return line


def body_text(snap: RedisSnapshot, width: int = 48, now: datetime | None = None) -> Text:
    """Everything but the warnings, one fact per line, cut (not wrapped) at the width."""
    now = now or datetime.now(UTC)
    bar_width = max(6, min(20, width - 30))
    lines = [
        _memory_line(snap, bar_width),
        _policy_line(snap),
        _rates_line(snap),
        _clients_line(snap),
        _keys_line(snap),
        _persistence_line(snap, now),
        *(Text(clean(note, 300), style="dim italic") for note in snap.notes),
    ]
    body = Text("\n", no_wrap=True, overflow="ellipsis").join(lines)
    body.no_wrap = True
    body.overflow = "ellipsis"
    return body


class RedisPane(Pane):
    """`show(snapshot)` on every poll; `mark_failed(failure)` keeps the last data, stale."""

    PANE_TITLE = "Redis"
    SOURCES = ("redis",)
    DEFAULT_CSS = """
    RedisPane #redis-warnings { height: auto; max-height: 40%; display: none; }
    RedisPane #redis-warnings.shown { display: block; }
    RedisPane #redis-body { height: auto; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.snapshot: RedisSnapshot | None = None

    def compose(self) -> ComposeResult:
        yield self.compose_failure()
        yield Static("", id="redis-warnings", markup=False, classes="pane-body")
        yield Static("", id="redis-body", markup=False, classes="pane-body")

    def show(self, snap: RedisSnapshot) -> None:
        self.snapshot = snap
        self.mark_fresh(snap.taken_at)
        self._render_snapshot(snap)
        self.level = snap.level
        self.border_title = Text(f"Redis · {clean(snap.server, 60)}")

    def on_resize(self, event: Resize) -> None:
        if self.snapshot is not None:
            self._render_snapshot(self.snapshot)

    def _render_snapshot(self, snap: RedisSnapshot) -> None:
        warnings = self.query_one("#redis-warnings", Static)
        warnings.update(warnings_text(snap))
        warnings.set_class(bool(snap.warnings), "shown")
        width = self.content_size.width or 48
        self.query_one("#redis-body", Static).update(body_text(snap, width))
