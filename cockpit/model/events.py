"""Kubernetes: events."""

from __future__ import annotations

from datetime import datetime

from cockpit.model import Level, frozen

# -- Kubernetes: events ----------------------------------------------------------------


@frozen
class EventRow:
    uid: str
    type: str  # Normal / Warning
    reason: str
    object_kind: str
    object_name: str
    message: str
    count: int
    last_seen: datetime | None
    first_seen: datetime | None
    level: Level


@frozen
class EventsSnapshot:
    events: tuple[EventRow, ...]  # warnings first, newest first
    taken_at: datetime
    recent: tuple[EventRow, ...]  # warnings seen in the last RECENT_EVENTS_S, newest first
    level: Level  # WARN while there is a recent warning


RECENT_EVENTS_S = 600.0  # a warning older than this no longer colours the pane
