"""One line of words for a snapshot of any source: what `cockpit check` prints and what
a postmortem says a pane showed.  Pure; core level."""

from __future__ import annotations

from typing import Any

from cockpit.model import (
    BackupsSnapshot,
    EventsSnapshot,
    HostSnapshot,
    KubeSnapshot,
    Level,
    PgSnapshot,
    RedisSnapshot,
    TopSnapshot,
)


def summarise(name: str, snapshot: Any) -> tuple[Level, str]:
    """(level, one line) for a snapshot of any source."""
    if isinstance(snapshot, KubeSnapshot):
        failing = [p.name for p in snapshot.pods if p.level is Level.CRIT]
        text = f"{len(snapshot.pods)} pods, {snapshot.not_ready} not ready"
        if failing:
            text += f"; failing: {', '.join(failing[:5])}"
        degraded = [w.name for w in snapshot.workloads if w.ready < w.desired]
        if degraded:
            text += f"; degraded: {', '.join(degraded)}"
        return snapshot.level, text
    if isinstance(snapshot, TopSnapshot):
        if not snapshot.available:
            return Level.OK, snapshot.message
        hot = [
            f"{p.name} mem {p.mem_limit_pct:.0f}%"
            for p in snapshot.pods
            if p.level > Level.OK and p.mem_limit_pct is not None
        ]
        return snapshot.level, "; ".join(hot) or "within the thresholds"
    if isinstance(snapshot, EventsSnapshot):
        warnings = [e for e in snapshot.events if e.type == "Warning"]
        text = f"{len(warnings)} warnings"
        if warnings:
            e = warnings[0]
            text += f"; newest: {e.reason} {e.object_kind.lower()}/{e.object_name}"
        return snapshot.level, text
    if isinstance(snapshot, PgSnapshot):
        text = (
            f"{snapshot.connections}/{snapshot.max_connections} connections, "
            f"{len(snapshot.idle_over_threshold)} idle > "
            f"{snapshot.idle_threshold_s / 60:.0f} min, {len(snapshot.blocked)} blocked, "
            f"rtt {snapshot.rtt_ms:.1f} ms"
        )
        return snapshot.level, text
    if isinstance(snapshot, RedisSnapshot):
        memory = (
            f"{snapshot.memory_pct:.0f}% of maxmemory"
            if snapshot.memory_pct is not None
            else "no maxmemory"
        )
        text = f"{memory}, policy {snapshot.policy}"
        if snapshot.warnings:
            text += f"; {snapshot.warnings[0]}"
        return snapshot.level, text
    if isinstance(snapshot, HostSnapshot):
        disk = snapshot.disks[0] if snapshot.disks else None
        text = f"cpu {snapshot.cpu_pct:.0f}%, mem {snapshot.mem_pct:.0f}%"
        if disk is not None:
            text += f", disk {disk.mount} {disk.percent:.0f}%"
        return snapshot.level, text
    if isinstance(snapshot, BackupsSnapshot):
        last = snapshot.jobs[0] if snapshot.jobs else None
        text = f"last job {last.name}: {last.status}" if last else "no backup jobs"
        if snapshot.s3_message:
            text += f"; S3: {snapshot.s3_message}"
        return snapshot.level, text
    return Level.OK, str(snapshot)
