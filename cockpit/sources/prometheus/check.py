"""`cockpit check` lines for Prometheus: one per firing/pending alert, or why none."""

from __future__ import annotations

from datetime import UTC, datetime

from cockpit.model import Level, PrometheusSnapshot
from cockpit.textsafe import one_line
from cockpit.units import since

MAX_LINES = 10


def check_lines(snap: PrometheusSnapshot, now: datetime | None = None) -> list[tuple[Level, str]]:
    """(level, words) for `cockpit check`: the alerts, worst first as the snapshot has
    them; "not configured" is OK (Prometheus is optional), a figures problem WARN."""
    now = now or datetime.now(UTC)
    if not snap.configured:
        return [
            (Level.OK, f"prometheus: {one_line(snap.message, 200)} ({one_line(snap.hint, 160)})")
        ]
    lines: list[tuple[Level, str]] = []
    if not snap.alerts:
        lines.append((Level.OK, f"prometheus: no alerts firing or pending ({snap.url})"))
    for alert in snap.alerts[:MAX_LINES]:
        words = f"alert {alert.name} {alert.state}"
        if alert.severity:
            words += f" ({alert.severity})"
        if alert.since is not None:
            words += f" for {since(alert.since, now)}"
        if alert.summary:
            words += f": {alert.summary}"
        if alert.runbook:
            words += f" · runbook {alert.runbook}"
        lines.append((alert.level, one_line(words, 400)))
    if len(snap.alerts) > MAX_LINES:
        rest = snap.alerts[MAX_LINES:]
        lines.append((max(a.level for a in rest), f"… {len(rest)} more alerts"))
    if snap.message:
        lines.append((Level.WARN, one_line(f"prometheus: {snap.message} ({snap.hint})", 400)))
    return lines
