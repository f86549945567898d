"""The full-screen log view of one pod: tail, since, previous, follow, wrap, search, save.

The screen does no I/O itself: the app hands it `open_feed` (start a log stream with
these options) and `save` (write lines to a file), both of which run off the UI.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Input, RichLog, Static

from widgets.filter import matcher
from widgets.growinglog import GrowingLog
from widgets.screens import KeysAfterMount

SINCE_CHOICES: tuple[tuple[str, int | None], ...] = (
    ("all", None),
    ("5m", 300),
    ("1h", 3600),
    ("24h", 86400),
)
TAIL_CHOICES: tuple[int | None, ...] = (500, 5000, None)


@dataclass(frozen=True)
class LogViewOptions:
    container: str | None = None
    previous: bool = False
    since_seconds: int | None = None
    tail_lines: int | None = 500
    follow: bool = True


class LogFeed(Protocol):
    error: str
    ended: bool
    dropped: int

    def drain(self) -> list[tuple[datetime | None, str]]: ...

    def stop(self) -> None: ...


class LogScreen(KeysAfterMount, Screen):
    BINDINGS = [
        Binding("escape,q", "close", "Close"),
        Binding("f", "toggle_follow", "Follow"),
        Binding("w", "toggle_wrap", "Wrap"),
        Binding("t", "toggle_timestamps", "Timestamps"),
        Binding("p", "toggle_previous", "Previous"),
        Binding("s", "cycle_since", "Since"),
        Binding("T", "cycle_tail", "Tail"),
        Binding("c", "cycle_container", "Container"),
        Binding("slash", "search", "Search"),
        Binding("n", "next_match", "Next"),
        Binding("ctrl+s", "save", "Save"),
    ]
    DEFAULT_CSS = """
    LogScreen #logview-status { height: 1; background: $panel; }
    LogScreen #logview-search { dock: bottom; display: none; }
    LogScreen #logview-search.open { display: block; }
    LogScreen RichLog { height: 1fr; }
    """

    def __init__(
        self,
        pod: str,
        containers: tuple[str, ...],
        open_feed: Callable[[LogViewOptions], LogFeed],
        save: Callable[[str, list[str]], str],
        options: LogViewOptions,
        max_lines: int = 20_000,
    ) -> None:
        super().__init__()
        self.pod = pod
        self.containers = containers or ("",)
        self.open_feed = open_feed
        self.save = save
        self.options = options
        self.max_lines = max_lines
        self.lines: deque[tuple[datetime | None, str]] = deque(maxlen=max_lines)
        self.feed: LogFeed | None = None
        self.wrap = False
        self.timestamps = False
        self.search_text = ""
        self._match: Callable[[str], bool] | None = None
        self._match_index = -1
        self.message = ""

    def compose(self) -> ComposeResult:
        yield Static("", id="logview-status", markup=False)
        yield GrowingLog(
            id="logview-log", max_lines=self.max_lines, wrap=False, markup=False, auto_scroll=True
        )
        yield Input(
            placeholder="search (regex or text); Enter to jump, Esc to close", id="logview-search"
        )
        yield Footer()

    def on_mount(self) -> None:
        self._reopen()
        self.set_interval(0.25, self._drain)

    @property
    def log_view(self) -> RichLog:
        return self.query_one(RichLog)

    # -- the feed -----------------------------------------------------------------------

    def _reopen(self) -> None:
        if self.feed is not None:
            self.feed.stop()
        self.lines.clear()
        self.log_view.clear()
        self.message = ""
        self.feed = self.open_feed(self.options)
        self._status()

    def _drain(self) -> None:
        if self.feed is None:
            return
        fresh = self.feed.drain()
        if fresh:
            self.lines.extend(fresh)
            log = self.log_view
            for ts, text in fresh:
                log.write(self._line(ts, text))
        self._status()

    def _line(self, ts: datetime | None, text: str) -> Text:
        line = Text(no_wrap=not self.wrap)
        if self.timestamps and ts is not None:
            line.append(ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ "), style="dim")
        if self._match is not None and self._match(text):
            line.append(text, style="reverse")
        else:
            line.append(text)
        return line

    def _rerender(self) -> None:
        log = self.log_view
        log.clear()
        log.wrap = self.wrap
        for ts, text in self.lines:
            log.write(self._line(ts, text))

    def _status(self) -> None:
        o = self.options
        since = next(label for label, value in SINCE_CHOICES if value == o.since_seconds)
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f" {self.pod}", style="bold")
        if o.container:
            text.append(f"/{o.container}")
        text.append(
            "  previous" if o.previous else "  current", style="bold yellow" if o.previous else ""
        )
        text.append(f" · since {since} · tail {o.tail_lines or 'all'}")
        text.append(f" · {'following' if o.follow else 'not following'}")
        text.append(f" · wrap {'on' if self.wrap else 'off'}")
        text.append(f" · {len(self.lines)} lines")
        feed = self.feed
        if feed is not None:
            if feed.dropped:
                text.append(f" · {feed.dropped} dropped (line cap)", style="yellow")
            if feed.error:
                text.append(f" · {feed.error}", style="bold red")
            elif feed.ended and o.follow:
                text.append(" · stream ended", style="italic")
        if self.message:
            text.append(f" · {self.message}", style="bold")
        self.query_one("#logview-status", Static).update(text)

    # -- keys ---------------------------------------------------------------------------

    def action_close(self) -> None:
        search = self.query_one("#logview-search", Input)
        if search.has_focus:
            search.remove_class("open")
            self.log_view.focus()
            return
        if self.feed is not None:
            self.feed.stop()
        self.dismiss()

    def action_toggle_follow(self) -> None:
        self.options = replace(self.options, follow=not self.options.follow)
        self.log_view.auto_scroll = self.options.follow
        self._reopen()

    def action_toggle_wrap(self) -> None:
        self.wrap = not self.wrap
        self._rerender()
        self._status()

    def action_toggle_timestamps(self) -> None:
        self.timestamps = not self.timestamps
        self._rerender()

    def action_toggle_previous(self) -> None:
        self.options = replace(self.options, previous=not self.options.previous)
        self._reopen()

    def action_cycle_since(self) -> None:
        values = [value for _, value in SINCE_CHOICES]
        index = values.index(self.options.since_seconds)
        self.options = replace(self.options, since_seconds=values[(index + 1) % len(values)])
        self._reopen()

    def action_cycle_tail(self) -> None:
        index = TAIL_CHOICES.index(self.options.tail_lines)
        tail = TAIL_CHOICES[(index + 1) % len(TAIL_CHOICES)]
        self.options = replace(self.options, tail_lines=tail)
        self._reopen()

    def action_cycle_container(self) -> None:
        if len(self.containers) < 2:
            return
        current = self.options.container or self.containers[0]
        index = self.containers.index(current) if current in self.containers else 0
        self.options = replace(
            self.options, container=self.containers[(index + 1) % len(self.containers)]
        )
        self._reopen()

    def action_search(self) -> None:
        search = self.query_one("#logview-search", Input)
        search.add_class("open")
        search.focus()

    @on(Input.Submitted, "#logview-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        self.search_text = event.value
        self._match = matcher(event.value)
        self._match_index = -1
        self._rerender()
        self.action_next_match()
        self.log_view.focus()

    def action_next_match(self) -> None:
        if self._match is None:
            return
        lines = list(self.lines)
        for offset in range(1, len(lines) + 1):
            index = (self._match_index + offset) % len(lines)
            if self._match(lines[index][1]):
                self._match_index = index
                self.options = replace(self.options, follow=self.options.follow)
                self.log_view.auto_scroll = False
                self.log_view.scroll_to(y=index, animate=False)
                self.message = f"match at line {index + 1}"
                self._status()
                return
        self.message = "no match"
        self._status()

    def action_save(self) -> None:
        lines = []
        for ts, text in self.lines:
            prefix = ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ ") if ts is not None else ""
            lines.append(prefix + text)
        try:
            self.message = "saved to " + self.save(self.pod, lines)
        except OSError as exc:
            self.message = f"could not save: {exc.strerror or exc}"
        self._status()
