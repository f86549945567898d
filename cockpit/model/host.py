"""The host the cockpit runs on."""

from __future__ import annotations

from datetime import datetime

from cockpit.model import Level, frozen

# -- the host --------------------------------------------------------------------------


@frozen
class DiskUsage:
    mount: str
    total: int
    used: int
    percent: float
    level: Level


@frozen
class HostSnapshot:
    hostname: str
    cpu_pct: float
    cpu_count: int
    load: tuple[float, float, float]
    mem_total: int
    mem_used: int
    mem_pct: float
    disks: tuple[DiskUsage, ...]
    net_rx_bps: float | None
    net_tx_bps: float | None
    taken_at: datetime
    level: Level = Level.OK
    cpu_level: Level = Level.OK
    mem_level: Level = Level.OK
