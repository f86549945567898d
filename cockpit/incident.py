"""Since when the service has been in trouble, as this session saw it, and the state the
message to the incident channel is built from (actions/notify/message.py).

The app calls `note()` whenever the overall level is recomputed; `state()` reads the
main screen at the moment `N` is pressed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from cockpit.model import Level

if TYPE_CHECKING:
    from actions.notify.message import IncidentState
    from cockpit.main_screen import MainScreen
    from widgets.pane import Pane


class IncidentTracker:
    def __init__(self) -> None:
        self.degraded_since: datetime | None = None  # the overall level first left OK
        self._failing_since: dict[str, datetime] = {}  # pane title -> first not OK

    def note(self, level: Level, panes: list[Pane], now: datetime | None = None) -> None:
        now = now or datetime.now(UTC)
        self.degraded_since = (self.degraded_since or now) if level >= Level.WARN else None
        since: dict[str, datetime] = {}
        for pane in panes:
            if pane.effective_level >= Level.WARN:
                first = self._failing_since.get(pane.PANE_TITLE, now)
                if pane.failure is not None and pane.failure.since is not None:
                    first = min(first, pane.failure.since)
                since[pane.PANE_TITLE] = first
        self._failing_since = since

    def state(self, main: MainScreen, context: str, namespace: str) -> IncidentState:
        """What the screen shows now, for the message to the incident channel."""
        from actions.notify.message import Failing, IncidentState

        level, _, detailed = main.overall()
        # overall() lists the panes that are not OK worst first, one sentence each.
        bad = sorted(
            (p for p in main.panes if p.effective_level >= Level.WARN),
            key=lambda p: -p.effective_level,
        )
        failing = []
        for pane, line in zip(bad, detailed, strict=False):
            title = pane.PANE_TITLE
            since = self._failing_since.get(title) if line.startswith(title) else None
            failing.append(Failing(line, pane.effective_level, since))
        return IncidentState(
            level=level,
            failing=tuple(failing),
            latest=dict(main.latest),
            context=context,
            namespace=namespace,
            degraded_since=self.degraded_since,
        )
