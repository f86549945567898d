"""Immutable snapshots: what a source saw at one moment, ready for a pane to render.

Sources build these; panes only read them.  Every class is a frozen, slotted dataclass
so a snapshot can cross from a worker to the UI without copies or locks.  Free text in
them (names, log lines, queries, messages) is untrusted: panes render it as plain text.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import TYPE_CHECKING


class Level(IntEnum):
    """Severity, ordered so that max() gives the worst."""

    OK = 0
    WARN = 1
    CRIT = 2

    @property
    def css(self) -> str:
        return ("ok", "warn", "crit")[self]

    @property
    def label(self) -> str:
        return ("OK", "WARN", "CRIT")[self]


def worst(levels: object) -> Level:
    return max((lv for lv in levels if isinstance(lv, Level)), default=Level.OK)  # type: ignore[union-attr]


frozen = dataclass(frozen=True, slots=True)


@frozen
class SourceFailure:
    """Why a source could not produce a snapshot, worded for the person at the screen."""

    source: str
    message: str  # "Redis 127.0.0.1:6379: connection refused"
    hint: str = ""  # what to do about it
    since: datetime | None = None  # first failure of this streak
    retry_in: float | None = None  # seconds until the next attempt
    failures: int = 1


# Each name below lives in the submodule beside it, imported on first use: creating the
# ~45 frozen, slotted dataclasses costs 40-55 ms of CPU, and the first screen needs only
# the pods' (`from cockpit.model import PodRow` works as before).
_SUBMODULE = {
    "ContainerRow": "pods",
    "PodRow": "pods",
    "WorkloadRow": "pods",
    "KubeSnapshot": "pods",
    "PodUsage": "top",
    "WorkloadUsage": "top",
    "TopSnapshot": "top",
    "LogLine": "logs",
    "LogBatch": "logs",
    "rate_of": "logs",
    "EventRow": "events",
    "EventsSnapshot": "events",
    "RECENT_EVENTS_S": "events",
    "PgSession": "postgres",
    "PgSnapshot": "postgres",
    "PgStatement": "postgres",
    "PgIndexUsage": "postgres",
    "PgSettingRow": "postgres",
    "PgBlockNode": "postgres",
    "PgDeepSnapshot": "postgres",
    "PG_STATES": "postgres",
    "RedisSnapshot": "redis",
    "RedisMemoryReport": "redis",
    "RedisSlowEntry": "redis",
    "RedisSlowlog": "redis",
    "RedisClientRow": "redis",
    "RedisClientList": "redis",
    "RedisBigKey": "redis",
    "RedisBigKeyScan": "redis",
    "DiskUsage": "host",
    "HostSnapshot": "host",
    "JobRow": "backups",
    "BackupObject": "backups",
    "BackupsSnapshot": "backups",
    "VerifyProgress": "backups",
    "DumpVerdict": "backups",
    "VERIFIED": "backups",
    "TRUNCATED": "backups",
    "CORRUPT": "backups",
    "TOO_SMALL": "backups",
    "UNREADABLE": "backups",
    "EndpointHealth": "service",
    "HealthSnapshot": "service",
    "WindowFigures": "service",
    "UpstreamSlo": "service",
    "BurnRate": "service",
    "SloSnapshot": "service",
    "Alert": "service",
    "PromFigures": "service",
    "PrometheusSnapshot": "service",
    "PodMount": "disk",
    "PodDisk": "disk",
    "DiskSnapshot": "disk",
}
SUBMODULES = tuple(dict.fromkeys(_SUBMODULE.values()))

if TYPE_CHECKING:
    from cockpit.model.backups import (
        CORRUPT,
        TOO_SMALL,
        TRUNCATED,
        UNREADABLE,
        VERIFIED,
        BackupObject,
        BackupsSnapshot,
        DumpVerdict,
        JobRow,
        VerifyProgress,
    )
    from cockpit.model.disk import DiskSnapshot, PodDisk, PodMount
    from cockpit.model.events import RECENT_EVENTS_S, EventRow, EventsSnapshot
    from cockpit.model.host import DiskUsage, HostSnapshot
    from cockpit.model.logs import LogBatch, LogLine, rate_of
    from cockpit.model.pods import ContainerRow, KubeSnapshot, PodRow, WorkloadRow
    from cockpit.model.postgres import (
        PG_STATES,
        PgBlockNode,
        PgDeepSnapshot,
        PgIndexUsage,
        PgSession,
        PgSettingRow,
        PgSnapshot,
        PgStatement,
    )
    from cockpit.model.redis import (
        RedisBigKey,
        RedisBigKeyScan,
        RedisClientList,
        RedisClientRow,
        RedisMemoryReport,
        RedisSlowEntry,
        RedisSlowlog,
        RedisSnapshot,
    )
    from cockpit.model.service import (
        Alert,
        BurnRate,
        EndpointHealth,
        HealthSnapshot,
        PrometheusSnapshot,
        PromFigures,
        SloSnapshot,
        UpstreamSlo,
        WindowFigures,
    )
    from cockpit.model.top import PodUsage, TopSnapshot, WorkloadUsage


def __getattr__(name: str) -> object:
    submodule = _SUBMODULE.get(name)
    if submodule is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{submodule}"), name)
    globals()[name] = value  # the next lookup is a plain one
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "CORRUPT",
    "PG_STATES",
    "RECENT_EVENTS_S",
    "TOO_SMALL",
    "TRUNCATED",
    "UNREADABLE",
    "VERIFIED",
    "Alert",
    "BackupObject",
    "BackupsSnapshot",
    "BurnRate",
    "ContainerRow",
    "DiskSnapshot",
    "DiskUsage",
    "DumpVerdict",
    "EndpointHealth",
    "EventRow",
    "EventsSnapshot",
    "HealthSnapshot",
    "HostSnapshot",
    "JobRow",
    "KubeSnapshot",
    "Level",
    "LogBatch",
    "LogLine",
    "PgBlockNode",
    "PgDeepSnapshot",
    "PgIndexUsage",
    "PgSession",
    "PgSettingRow",
    "PgSnapshot",
    "PgStatement",
    "PodDisk",
    "PodMount",
    "PodRow",
    "PodUsage",
    "PromFigures",
    "PrometheusSnapshot",
    "RedisBigKey",
    "RedisBigKeyScan",
    "RedisClientList",
    "RedisClientRow",
    "RedisMemoryReport",
    "RedisSlowEntry",
    "RedisSlowlog",
    "RedisSnapshot",
    "SloSnapshot",
    "SourceFailure",
    "TopSnapshot",
    "UpstreamSlo",
    "VerifyProgress",
    "WindowFigures",
    "WorkloadRow",
    "WorkloadUsage",
    "frozen",
    "rate_of",
    "worst",
]
