"""The frame every pane shares: title, level colour, data age, and the stale state.

A pane keeps its last good data when its source fails; it turns visibly stale (dimmed,
border in the warning colour) and says what failed and what to do, until the source
recovers by itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from rich.text import Text
from textual.containers import Vertical
from textual.content import Content
from textual.geometry import Region
from textual.reactive import reactive
from textual.widgets import Static

from cockpit import clock
from cockpit.model import Level, SourceFailure
from cockpit.textsafe import one_line
from cockpit.units import ago
from widgets.keys import DeclaredKeys, Key, PaletteEntry, palette_entry
from widgets.statictext import set_text


def retry_text(seconds: float) -> str:
    whole = round(seconds)
    return f"retrying in {whole} s" if whole > 0 else "retrying now"


class FailureLine(Static):
    """One line saying what failed; never parsed as markup."""

    DEFAULT_CSS = """
    FailureLine { height: auto; display: none; }
    FailureLine.shown { display: block; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__("", markup=False, **kwargs)  # type: ignore[arg-type]


class Pane(DeclaredKeys, Vertical, can_focus=False):
    """Base class: subclasses compose their body after `compose_failure()`."""

    level: reactive[Level] = reactive(Level.OK)
    PANE_TITLE = "pane"
    SOURCES: tuple[str, ...] = ()  # the poller names this pane shows
    ALLOW_MAXIMIZE = True
    FRESH_FOR = 10.0  # seconds during which the data reads "live"

    def __init__(self, *, read_only: Callable[[], bool] = lambda: False, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        # Asked, not stored: a context's read-only setting is known only once connected.
        self.read_only = read_only
        self.taken_at: datetime | None = None
        self.failure: SourceFailure | None = None
        self._failed_at: datetime | None = None  # when `failure` came
        self.waiting_message = "waiting for the first data…"
        self.summary = ""  # a few words on what is wrong, for the header and the war room
        self._shown_age: tuple[Text | None, str] | None = None
        self.set_title(self.PANE_TITLE)
        self.add_class("level-ok")

    def set_title(self, title: str | Text) -> None:
        """Titles carry names from the cluster: never let Textual parse them as markup."""
        text = title if isinstance(title, Text) else Text(one_line(title, 200))
        if text != getattr(self, "_title_text", None):
            self._title_text = text
            self._set_border_label(text, bottom=False)

    def _set_border_label(self, text: Text, bottom: bool) -> None:
        """The border's title (top) or subtitle (bottom), repainting that line alone.
        Textual's `border_title` setter repaints the whole pane on every assignment: the
        pods pane's 14 lines and its table's area for each filter keystroke's count, and
        every pane each time its age changed.  Stored as that setter stores it (Textual
        8.2.8's `_BorderTitle`)."""
        label = Content.from_rich_text(text).expand_tabs(4).split()[0]
        if bottom:
            self._border_subtitle = label
        else:
            self._border_title = label
        width, height = self.outer_size
        if not (width and height and self.is_mounted):
            self.refresh()
            return
        # refresh() takes regions relative to the content, the border's line is above
        # (or below) it.
        dx, dy = self.content_offset
        self.refresh(Region(-dx, (height - 1 if bottom else 0) - dy, width, 1))

    def show_source(self, source: str, snapshot: Any) -> None:
        """A snapshot of one of SOURCES (the main screen routes by them).  Panes with
        one source show it; a pane with more overrides this."""
        self.show(snapshot)  # type: ignore[attr-defined]

    def compose_failure(self) -> FailureLine:
        return FailureLine(classes="failure")

    # -- freshness ----------------------------------------------------------------------

    def mark_fresh(self, taken_at: datetime | None = None) -> None:
        self.taken_at = taken_at or clock.now()
        if self.failure is not None:
            self.failure = None
            self.remove_class("stale")
            self._failure_line().remove_class("shown")
        self.tick()

    def show_other_failure(self, failure: SourceFailure) -> None:
        """A source other than the lifeline failed (e.g. Prometheus beside the access
        logs): by default nothing; a pane that shows it says so in its own way."""

    def mark_failed(self, failure: SourceFailure, now: datetime | None = None) -> None:
        self.failure = failure
        self._failed_at = now or clock.now()
        self.add_class("stale")
        self._failure_line().add_class("shown")
        self.tick(self._failed_at)

    def failure_text(self, failure: SourceFailure, now: datetime | None = None) -> Text:
        text = Text("⚠ ", style="bold")
        text.append(one_line(failure.message, 200))
        if failure.retry_in is not None:
            text.append(" · " + retry_text(self._retry_left(failure, now)))
        if failure.hint:
            text.append(" · " + one_line(failure.hint, 160), style="italic")
        return text

    def _retry_left(self, failure: SourceFailure, now: datetime | None) -> float:
        """Seconds to the retry announced by `failure`, counted down since it came: a
        "retrying in 3 s" that stayed up for a minute was a lie."""
        assert failure.retry_in is not None
        failed_at = self._failed_at
        if now is None or failed_at is None:
            return failure.retry_in
        return failure.retry_in - (now - failed_at).total_seconds()

    def tick(self, now: datetime | None = None) -> None:
        """Refresh the age shown in the border (called every second by the app).

        Data younger than FRESH_FOR reads "live": a label that changed every second on
        every pane would repaint the whole screen every second for nothing.
        """
        now = now or clock.now()
        if self.taken_at is None:
            age = "no data yet" if self.failure else "loading…"
        else:
            seconds = (now - self.taken_at).total_seconds()
            age = "live" if seconds < self.FRESH_FOR else ago(self.taken_at, now)
        if self.failure is not None and self.taken_at is not None:
            age = f"STALE · last good {age}"
        elif self.failure is not None:
            age = "FAILING"
        if self.failure is not None:
            set_text(self._failure_line(), self.failure_text(self.failure, now))
        prefix = self.subtitle_prefix()
        if (prefix, age) != self._shown_age:
            self._shown_age = (prefix, age)
            self._set_border_label(Text.assemble(prefix or "", age), bottom=True)

    def subtitle_prefix(self) -> Text | None:
        """Text before the data age in the bottom border (a key hint, for example)."""
        return None

    def _failure_line(self) -> FailureLine:
        return self.query_one(FailureLine)

    def palette_entries(self) -> Iterator[PaletteEntry]:
        """This pane's keys for the command palette, titled for what is selected."""
        for key in self.KEYS:
            if not key.palette:
                continue
            target = self.palette_target(key)
            if target is None:
                continue  # needs a selection, and there is none
            title = key.palette.format(target=target)
            yield palette_entry(key, self, title, f"{key.display} in {self.PANE_TITLE}")

    def palette_target(self, key: Key) -> str | None:
        """What `{target}` stands for in `key.palette`; None leaves the entry out."""
        return ""

    # -- level colour -------------------------------------------------------------------

    def watch_level(self, old: Level, new: Level) -> None:
        # Each class change restyles the pane's subtree: none for the call on mount
        # (__init__ gave the class), one for a change.
        if old is new:
            return
        self.remove_class(f"level-{old.css}", update=False)
        self.add_class(f"level-{new.css}")

    @property
    def effective_level(self) -> Level:
        """What the header counts: the data's level, raised by a failing source.

        A source that cannot be reached is CRIT, as in `cockpit check` (UNREACHABLE
        exits 2): when it never gave data (wrong context, 401) or failed two polls in
        a row.  One failure after good data may be a blip (a dropped watch): WARN.
        """
        if self.failure is None:
            return self.level
        unreachable = self.taken_at is None or self.failure.failures >= 2
        return max(self.level, Level.CRIT if unreachable else Level.WARN)
