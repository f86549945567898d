"""The time the panes measure ages against: now, or the moment a replay shows.

Every "3m ago", "live" and "since" on screen is computed from `now()`.  A replay sets
the moment it shows (`show_moment`), so a pane says what it said then.
"""

from __future__ import annotations

from datetime import UTC, datetime

_moment: datetime | None = None


def now() -> datetime:
    return _moment if _moment is not None else datetime.now(UTC)


def show_moment(moment: datetime | None) -> None:
    """From now on `now()` is `moment` (None: the real time again)."""
    global _moment
    _moment = moment


def replaying() -> bool:
    return _moment is not None
