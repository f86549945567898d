"""Kubernetes: the error log lines."""

from __future__ import annotations

from datetime import datetime

from cockpit.model import Level, frozen

# -- Kubernetes: logs -------------------------------------------------------------------


@frozen
class LogLine:
    seq: int  # monotonically increasing per follower set, for "new since" reads
    time: datetime | None
    pod: str
    container: str
    app: str
    text: str  # control sequences already neutralised


@frozen
class LogBatch:
    """The error lines that arrived since the previous batch, plus the live picture."""

    lines: tuple[LogLine, ...]
    per_minute: tuple[int, ...]  # error lines per minute, oldest first
    followed: tuple[str, ...]  # pods currently followed
    capped: int  # pods not followed because of max_streams
    problems: tuple[str, ...]  # streams that failed, in words
    taken_at: datetime
    backlog_done: bool  # the window's history has been read for every followed pod
    level: Level  # the last full minute's rate against the runbook's threshold

    @property
    def rate(self) -> int:
        return rate_of(self.per_minute)


def rate_of(per_minute: tuple[int, ...]) -> int:
    """Error lines in the last full minute (the current one is still filling)."""
    return per_minute[-2] if len(per_minute) >= 2 else sum(per_minute)
