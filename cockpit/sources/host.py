"""The machine the cockpit runs on, via psutil: CPU, memory, disks, network rates."""

from __future__ import annotations

import asyncio
import socket
import time
from datetime import UTC, datetime

import psutil

from cockpit.config import Thresholds
from cockpit.model import DiskUsage, HostSnapshot, Level
from cockpit.thresholds import level_for

# Pseudo and read-only filesystems that are always "100 % full" or irrelevant.
_SKIP_FSTYPES = frozenset(
    {
        "squashfs",
        "iso9660",
        "tmpfs",
        "devtmpfs",
        "overlay",
        "proc",
        "sysfs",
        "cgroup",
        "cgroup2",
        "nsfs",
        "tracefs",
        "autofs",
    }
)


class HostSource:
    def __init__(self, thresholds: Thresholds) -> None:
        self.thresholds = thresholds
        self._last_net: tuple[float, int, int] | None = None
        psutil.cpu_percent(None)  # prime: the first call has no interval to measure over

    async def snapshot(self) -> HostSnapshot:
        return await asyncio.to_thread(self._read)

    def _read(self) -> HostSnapshot:
        th = self.thresholds
        cpu = psutil.cpu_percent(None)
        mem = psutil.virtual_memory()
        disks = []
        seen: set[str] = set()
        for part in psutil.disk_partitions(all=False):
            if part.fstype in _SKIP_FSTYPES or part.device in seen:
                continue
            seen.add(part.device)
            try:
                usage = psutil.disk_usage(part.mountpoint)
            except OSError:
                continue
            disks.append(
                DiskUsage(
                    part.mountpoint,
                    usage.total,
                    usage.used,
                    usage.percent,
                    level_for(usage.percent, th.disk_pct),
                )
            )
        if not disks:
            usage = psutil.disk_usage("/")
            disks.append(
                DiskUsage(
                    "/",
                    usage.total,
                    usage.used,
                    usage.percent,
                    level_for(usage.percent, th.disk_pct),
                )
            )
        disks.sort(key=lambda d: -d.percent)
        net = psutil.net_io_counters()
        now = time.monotonic()
        rx = tx = None
        if self._last_net is not None and net is not None:
            elapsed = now - self._last_net[0]
            if elapsed > 0:
                # Counters can wrap or reset (interface restarted): clamp to zero.
                rx = max(0, net.bytes_recv - self._last_net[1]) / elapsed
                tx = max(0, net.bytes_sent - self._last_net[2]) / elapsed
        if net is not None:
            self._last_net = (now, net.bytes_recv, net.bytes_sent)
        try:
            load = psutil.getloadavg()
        except (AttributeError, OSError):
            load = (0.0, 0.0, 0.0)
        cpu_level = level_for(cpu, th.cpu_pct)
        mem_level = level_for(mem.percent, th.memory_pct)
        level = max([cpu_level, mem_level, *(d.level for d in disks)], default=Level.OK)
        return HostSnapshot(
            hostname=socket.gethostname(),
            cpu_pct=cpu,
            cpu_count=psutil.cpu_count() or 1,
            load=tuple(load),  # type: ignore[arg-type]
            mem_total=mem.total,
            mem_used=mem.total - mem.available,
            mem_pct=mem.percent,
            disks=tuple(disks),
            net_rx_bps=rx,
            net_tx_bps=tx,
            taken_at=datetime.now(UTC),
            level=level,
            cpu_level=cpu_level,
            mem_level=mem_level,
        )
