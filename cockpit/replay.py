"""`cockpit replay FILE`: the normal cockpit on recorded data, read-only, at a moment.

The header's clock is the moment shown (cockpit/clock.py): every age, "live" and
"STALE" on screen is what it was then.  Keys move the moment; each move reads the
recording in a thread and posts every source's state at that moment to the panes, as
live pollers would have.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

from textual.binding import Binding

from cockpit import clock
from cockpit.app import CockpitApp, Launch
from cockpit.model import LogBatch, LogLine, SourceFailure
from cockpit.recording.codec import from_plain
from cockpit.recording.store import RecordingReader, SourceState
from cockpit.viewer import ViewerSources

SPEEDS = (1, 2, 5, 10, 30, 60, 300)
PLAY_TICK = 0.25  # seconds between moves while playing
LOG_LINES = 500  # the error log's lines shown at a moment
ACTIONS_SHOWN = 3  # journal entries notified per move


@dataclass(frozen=True)
class ReplayOptions:
    path: Path
    at: datetime | None = None  # None: the start
    speed: int = 10


class ReplaySources(ViewerSources):
    """The recording's states at the app's moment."""

    def __init__(self, app: ReplayApp) -> None:  # type: ignore[override]
        super().__init__(app)
        self.replay_app = app
        self.reader = RecordingReader(app.options.path)
        self.span = self.reader.span()
        self.shown: dict[str, SourceState] = {}
        self.moment: datetime | None = None
        self._moving = False
        self._wanted: datetime | None = None

    def start(self) -> None:
        if self.span is None:
            self.app.notify("The recording holds nothing yet.", severity="warning")
            return
        self.move_to(self.replay_app.options.at or self.span[0])

    def move_to(self, moment: datetime) -> None:
        """Show `moment` (moves asked while one is read coalesce into the last)."""
        if self.span is None:
            return
        self._wanted = min(max(moment, self.span[0]), self.span[1])
        if not self._moving:
            self._moving = True
            self.app.run_worker(self._move, group="replay-move")

    async def _move(self) -> None:
        try:
            while (wanted := self._wanted) is not None and not self.app.quitting:
                self._wanted = None
                before = self.moment
                states, lines, actions = await asyncio.to_thread(self._read, before, wanted)
                if self.app.quitting:
                    return
                self._show(before, wanted, states, lines, actions)
        finally:
            self._moving = False

    def _read(
        self, before: datetime | None, moment: datetime
    ) -> tuple[dict[str, SourceState], list[LogLine], list[tuple[datetime, dict[str, Any]]]]:
        states = self.reader.state_at(moment)
        lines = [from_plain("LogLine", plain) for plain in self.reader.log_lines(moment, LOG_LINES)]
        actions = []
        if before is not None and moment > before:
            actions = [
                (at, entry)
                for at, entry in self.reader.actions(before, moment)
                if at > before and entry.get("outcome") != "started"
            ]
        return states, lines, actions

    def _show(
        self,
        before: datetime | None,
        moment: datetime,
        states: dict[str, SourceState],
        lines: list[LogLine],
        actions: list[tuple[datetime, dict[str, Any]]],
    ) -> None:
        self.moment = moment
        clock.show_moment(moment)
        backwards = before is not None and moment < before
        for source, state in states.items():
            if state == self.shown.get(source):
                continue
            snapshot = state.snapshot
            if source == "logs" and isinstance(snapshot, LogBatch):
                self._reset_log_pane()
                snapshot = replace(snapshot, lines=tuple(lines))
            elif backwards and source == "logs":
                self._reset_log_pane()
            if snapshot is not None:
                self.show(source, snapshot)
            if state.failure is not None:
                self.fail(state.failure)
        for source in set(self.shown).difference(states):  # before its first row
            self.fail(SourceFailure(source, "not recorded yet at this moment", "move later"))
        self.shown = states
        for at, entry in actions[-ACTIONS_SHOWN:]:
            self.app.notify(action_text(at, entry), title="Journal", markup=False, timeout=8)
        self.replay_app.moved()

    def _reset_log_pane(self) -> None:
        from widgets.errorlog import ErrorLogPane

        for pane in self.app.main.query(ErrorLogPane):
            pane.reset()

    def level_change_near(self, moment: datetime, forward: bool) -> datetime | None:
        """The next (or previous) moment any pane's level changed."""
        changes = self.reader.level_changes()
        if forward:
            later = [c.at for c in changes if c.at > moment + timedelta(milliseconds=1)]
            return min(later, default=None)
        earlier = [c.at for c in changes if c.at < moment - timedelta(milliseconds=500)]
        return max(earlier, default=None)

    async def close(self) -> None:
        clock.show_moment(None)
        self.reader.close()


def action_text(at: datetime, entry: dict[str, Any]) -> str:
    who = entry.get("os_user") or entry.get("user") or "someone"
    what = entry.get("action") or entry.get("id") or "an action"
    target = entry.get("target") or ""
    outcome = entry.get("outcome") or ""
    return f"{at:%H:%M:%S} {who}: {what} {target} → {outcome}".replace("  ", " ")


class ReplayApp(CockpitApp):
    """The cockpit on a recording: read-only, with a time cursor in the header."""

    SOURCES: ClassVar[type[Any]] = ReplaySources
    VIEWS_REFUSAL = (
        "A replay shows the recorded panes only: logs, describe and the deep views read "
        "live data (open them in `cockpit`)."
    )
    BINDINGS: ClassVar[list[Any]] = [
        *CockpitApp.BINDINGS,
        Binding("comma", "step(-10)", "−10 s", priority=True),
        Binding("full_stop", "step(10)", "+10 s", priority=True),
        Binding("left_curly_bracket", "step(-60)", "−1 min", show=False, priority=True),
        Binding("right_curly_bracket", "step(60)", "+1 min", show=False, priority=True),
        Binding("less_than_sign", "level_change(0)", "◂ change", priority=True),
        Binding("greater_than_sign", "level_change(1)", "change ▸", priority=True),
        Binding("space", "play", "Play/pause", priority=True),
        Binding("plus,equals_sign", "speed(1)", "Faster", show=False, priority=True),
        Binding("minus", "speed(-1)", "Slower", show=False, priority=True),
    ]

    def __init__(self, launch: Launch, options: ReplayOptions) -> None:
        self.options = options
        self.playing = False
        self.speed = options.speed if options.speed in SPEEDS else 10
        read_only = launch.settings.model_copy(update={"read_only": True})
        super().__init__(replace(launch, settings=read_only, record=False))
        self.replay: ReplaySources = self.sources  # type: ignore[assignment]

    def on_mount(self) -> None:
        super().on_mount()
        self.set_interval(PLAY_TICK, self._play_tick)
        self.moved()

    def _offer_unfinished_restore(self) -> None:
        """A replay restores nothing."""

    def moved(self) -> None:
        state = f"▶ {self.speed}×" if self.playing else "⏸"
        self.header.note = f"replay {self.options.path.name} {state}"

    def action_step(self, seconds: int) -> None:
        if self.replay.moment is not None:
            self.replay.move_to(self.replay.moment + timedelta(seconds=seconds))

    def action_level_change(self, forward: int) -> None:
        moment = self.replay.moment
        if moment is None:
            return
        found = self.replay.level_change_near(moment, bool(forward))
        if found is None:
            self.notify("No further change of level.", timeout=3)
            return
        self.replay.move_to(found)

    def action_play(self) -> None:
        self.playing = not self.playing
        self.moved()

    def action_speed(self, faster: int) -> None:
        index = SPEEDS.index(self.speed) + (1 if faster > 0 else -1)
        self.speed = SPEEDS[min(max(index, 0), len(SPEEDS) - 1)]
        self.moved()

    def _play_tick(self) -> None:
        moment, span = self.replay.moment, self.replay.span
        if not self.playing or moment is None or span is None:
            return
        if moment >= span[1]:
            self.playing = False
            self.moved()
            self.notify("End of the recording.", timeout=3)
            return
        self.replay.move_to(moment + timedelta(seconds=PLAY_TICK * self.speed))
