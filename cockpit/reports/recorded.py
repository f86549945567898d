"""What a recording holds for the reports: the SLO figures as series, the last backups
snapshot.  Each SLO point is one recorded SloSnapshot's five-minute window (the window
Prometheus' rates use), at the time it was recorded."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from cockpit.model import BackupsSnapshot, SloSnapshot, WindowFigures
from cockpit.reports.figures import FIGURES, Point, Traffic

if TYPE_CHECKING:
    from cockpit.recording.store import RecordingReader


def window_values(w: WindowFigures) -> dict[str, float | None]:
    return {
        "p50_ms": w.p50_ms,
        "p95_ms": w.p95_ms,
        "p99_ms": w.p99_ms,
        "error_pct": w.error_pct,
        "rps": w.rps,
    }


def slo_snapshots(
    reader: RecordingReader, start: datetime | None, end: datetime | None
) -> list[tuple[datetime, SloSnapshot]]:
    return [
        (f.at, f.snapshot)
        for f in reader.frames(start, end, sources=["slo"])
        if isinstance(f.snapshot, SloSnapshot)
    ]


def traffic_from_snapshots(
    snaps: list[tuple[datetime, SloSnapshot]], one_minute: bool = False
) -> list[Traffic]:
    """Per-upstream series, in the snapshots' upstream order ("all" first)."""
    by_up: dict[str, dict[str, list[Point]]] = {}
    for at, snap in snaps:
        t = at.timestamp()
        for up in snap.upstreams:
            values = window_values(up.one_minute if one_minute else up.five_minutes)
            series = by_up.setdefault(up.name, {f: [] for f in FIGURES})
            for figure in FIGURES:
                series[figure].append((t, values[figure]))
    return [Traffic(name, series) for name, series in by_up.items()]


def last_backups(
    reader: RecordingReader, start: datetime | None, end: datetime | None
) -> BackupsSnapshot | None:
    found = None
    for f in reader.frames(start, end, sources=["backups"]):
        if isinstance(f.snapshot, BackupsSnapshot):
            found = f.snapshot
    return found
