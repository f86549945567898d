"""`cockpit check` lines for the health endpoints: one per endpoint, worded like the pane."""

from __future__ import annotations

from cockpit.model import EndpointHealth, HealthSnapshot, Level
from cockpit.textsafe import one_line
from cockpit.units import duration_ms


def endpoint_line(e: EndpointHealth) -> str:
    """'rails-service:3000 (service proxy): 200 in 12.5ms, status ok'."""
    head = f"{one_line(e.name, 80)} ({e.via})"
    if e.error and e.status is None:
        text = f"{head}: {one_line(e.error, 200)}"
    else:
        text = f"{head}: {e.status} in {duration_ms(e.ms) if e.ms is not None else '-'}"
        if e.error and not e.error.startswith(f"HTTP {e.status}"):
            text += f", {one_line(e.error, 200)}"
    if e.app_status:
        text += f", status {one_line(e.app_status, 40)}"
    if e.cert_days is not None:
        text += f", cert {cert_days_text(e.cert_days)}"
    if e.hint and e.level > Level.OK:
        text += f" ({one_line(e.hint, 200)})"
    return text


def cert_days_text(days: float | None) -> str:
    """'42 d', or hours on the last day ('5 h'); '' when there is no certificate."""
    if days is None:
        return ""
    return f"{days:.0f} d" if days >= 1 else f"{max(days, 0) * 24:.0f} h"


def check_lines(snap: HealthSnapshot) -> list[tuple[Level, str]]:
    """(level, line) per endpoint, in the configured order."""
    return [(e.level, endpoint_line(e)) for e in snap.endpoints]
