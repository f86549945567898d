"""The error-log pane: lines matching the error pattern from the configured apps.

The pane keeps its own bounded copy of the lines (so filters can be changed without
asking the source again) and a bounded RichLog to show them.  Pausing stops the view
from following; lines keep arriving and are shown when it resumes.
"""

from __future__ import annotations

import asyncio
import heapq
from collections import deque
from collections.abc import Callable
from math import inf

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import RichLog, Sparkline, Static

from cockpit.model import LogBatch, LogLine
from cockpit.textsafe import one_line
from widgets.filter import FilterBar, matcher
from widgets.growinglog import GrowingLog
from widgets.pane import Pane
from widgets.statictext import set_text

APP_STYLES = ("cyan", "magenta", "green", "blue", "bright_cyan", "bright_magenta")
# Rendering thousands of lines at once (the 24 h backlog arriving in one batch) stalls
# the UI; the view only needs the newest screenfuls.  Older lines stay in `self.lines`
# and are written when the filter changes or the view is paused to scroll back.
WRITE_PER_BATCH = 300
REWRITE_MAX = 2000  # on a filter change or a pause: enough to scroll back through
# Lines rendered per turn of the loop (about 0.5 ms each, wrapped to the width): the
# first batch's 300 or a rewrite's 2,000 held keys and frames for 0.15-1 s in one go,
# and 40 a turn (with the 300 lines' Texts built at once) still held the first batch's
# turn for 60 ms.  A line's Text is built when it is written.
WRITE_PER_TURN = 20


def line_text(line: LogLine, app_style: str) -> Text:
    stamp = line.time.strftime("%H:%M:%S") if line.time else "--:--:--"
    text = Text(no_wrap=False)
    text.append(stamp + " ", style="dim")
    text.append(line.pod, style=app_style)
    text.append("/" + line.container + " ", style="dim")
    text.append(line.text)  # already neutralised by the source; appended as plain text
    return text


def newest(lines: list[LogLine], limit: int) -> list[LogLine]:
    """The `limit` newest lines, oldest first.  Lines arrive in stream order: one pod's
    24 h backlog can land after another pod's live line, so arrival order is not time
    order, and the last `limit` arrivals could drop the line that just happened.
    A first batch can hold 20,000 lines of history: picking the newest is 6 ms where
    sorting them all held the loop for 36."""
    if len(lines) <= limit:
        return sorted(lines, key=_when)
    return heapq.nlargest(limit, lines, key=_when)[::-1]


def _when(line: LogLine) -> tuple[float, int]:
    """Time order; a line without a time counts as newest; `seq` keeps arrival order."""
    return (line.time.timestamp() if line.time else inf, line.seq)


class ErrorLogPane(Pane):
    PANE_TITLE = "Error logs"
    SOURCES = ("logs",)
    BINDINGS = [
        Binding("slash", "filter", "Filter"),
        Binding("a", "cycle_app", "App"),
        Binding("space", "toggle_pause", "Pause"),
        Binding("G", "follow", "Follow"),
    ]

    def __init__(
        self,
        apps: tuple[str, ...] = ("rails", "fastapi"),
        max_lines: int = 5000,
        **kwargs: object,
    ) -> None:
        super().__init__(**kwargs)
        self.apps = apps
        self.app_filter: str | None = None
        self.lines: deque[LogLine] = deque(maxlen=max_lines)
        self.max_lines = max_lines
        self.paused = False
        self._status_shown = Text()
        self.pending = 0
        self.last_batch: LogBatch | None = None
        self.filter_text = ""
        self._match: Callable[[str], bool] | None = None
        self._styles = {app: APP_STYLES[i % len(APP_STYLES)] for i, app in enumerate(apps)}
        self._unwritten: deque[LogLine] = deque(maxlen=REWRITE_MAX)  # in order, oldest first
        self._writing_later = False

    def compose(self) -> ComposeResult:
        yield self.compose_failure()
        with Horizontal(id="errorlog-head"):
            yield Static("", id="errorlog-status", markup=False)
            yield Sparkline([], id="errorlog-spark")
        # Rendered lines cost about 2 KB each (a Strip, its segments, seven small caches):
        # the log keeps as many as a rewrite gives back, not the 5,000 `self.lines` keep
        # for filtering (3,000 more rendered lines were about 6 MB).
        yield GrowingLog(
            id="errorlog-log",
            max_lines=min(self.max_lines, REWRITE_MAX),
            wrap=True,
            markup=False,
            auto_scroll=True,
        )
        yield FilterBar(id="errorlog-filter")

    @property
    def log_view(self) -> RichLog:
        return self.query_one(RichLog)

    def _visible(self, line: LogLine) -> bool:
        if self.app_filter is not None and line.app != self.app_filter:
            return False
        return self._match is None or self._match(f"{line.pod} {line.text}")

    def show(self, batch: LogBatch) -> None:
        self.last_batch = batch
        self.mark_fresh(batch.taken_at)
        self.lines.extend(batch.lines)
        fresh = [line for line in batch.lines if self._visible(line)]
        if self.paused:
            self.pending += len(fresh)
        elif fresh:
            self._write(fresh)
        spark = self.query_one("#errorlog-spark", Sparkline)
        recent = list(batch.per_minute[-30:])
        if spark.data != recent:  # assigning repaints, even the same numbers
            spark.data = recent
        self.summary = f"{batch.rate} error lines/min"
        self.level = batch.level  # the source applied the runbook's threshold
        self._update_status()

    def reset(self) -> None:
        """Forget every line (a replay moved back in time and shows that moment's)."""
        self.lines.clear()
        self.pending = 0
        self._unwritten.clear()
        self.log_view.clear()

    def _write(self, lines: list[LogLine], limit: int = WRITE_PER_BATCH) -> None:
        self._unwritten.extend(newest(lines, limit))
        self._write_some()

    def _write_some(self) -> None:
        """The next WRITE_PER_TURN lines now, the rest after what else is waiting."""
        log, unwritten, styles = self.log_view, self._unwritten, self._styles
        for _ in range(min(WRITE_PER_TURN, len(unwritten))):
            line = unwritten.popleft()
            log.write(line_text(line, styles.get(line.app, "cyan")))
        if unwritten and not self._writing_later:
            self._writing_later = True
            # The next turn of the event loop, not of this pane's message queue: turns
            # queued with call_later ran back to back in one loop callback (the first
            # batch's 300 lines held keys and frames for 80-110 ms).
            asyncio.get_running_loop().call_soon(self._write_next_turn)

    def _write_next_turn(self) -> None:
        self._writing_later = False
        if self.is_attached:  # not after the app has gone
            self._write_some()

    @property
    def writing(self) -> bool:
        """Lines are still being rendered into the log, a turn at a time."""
        return bool(self._unwritten)

    def _rewrite(self) -> None:
        log = self.log_view
        log.clear()
        self._unwritten.clear()
        self.pending = 0
        self._write([line for line in self.lines if self._visible(line)], limit=REWRITE_MAX)

    def _update_status(self) -> None:
        batch = self.last_batch
        status = Text()
        if batch is not None:
            status.append(f"{batch.rate}/min", style="bold")
            status.append(f" · {len(batch.followed)} pods followed")
            if batch.capped:
                status.append(f" · {batch.capped} not followed (max_streams)", style="yellow")
            if not batch.backlog_done:
                status.append(" · reading history…", style="italic")
            if batch.problems:
                status.append(" · " + one_line(batch.problems[0], 120), style="yellow")
        if self.paused:
            status.append(f" · PAUSED ({self.pending} new)", style="bold reverse")
        if status != self._status_shown:
            self._status_shown = status
            set_text(self.query_one("#errorlog-status", Static), status)
        scope = self.app_filter or "+".join(self.apps)
        title = f"Error logs · {scope}"
        if self.filter_text:
            title += " · filter on"
        self.set_title(title)

    # -- keys ---------------------------------------------------------------------------

    def action_filter(self) -> None:
        self.query_one(FilterBar).open()

    @on(FilterBar.FilterChanged)
    def _filter_changed(self, event: FilterBar.FilterChanged) -> None:
        self.filter_text = event.text
        self._match = matcher(event.text)
        self._rewrite()
        self._update_status()

    def action_cycle_app(self) -> None:
        choices: list[str | None] = [None, *self.apps]
        self.app_filter = choices[(choices.index(self.app_filter) + 1) % len(choices)]
        self._rewrite()
        self._update_status()

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        self.log_view.auto_scroll = not self.paused
        if not self.paused:
            self._rewrite()
            self.log_view.scroll_end(animate=False)
        self._update_status()

    def action_follow(self) -> None:
        if self.paused:
            self.action_toggle_pause()
        else:
            self.log_view.scroll_end(animate=False)
