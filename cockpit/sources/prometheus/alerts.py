"""Reading `/api/v1/alerts`: each alert's name, state, severity, since, summary, level and
the runbook section it maps to.

Levels (documented in the README's alerts section too):
  firing + severity "critical" (or "page")  CRIT
  firing + any other severity              WARN
  pending (its `for` not yet over)          WARN
Order: firing first, then pending; worst level first; oldest first within a level.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from cockpit.model import Alert, Level
from cockpit.textsafe import one_line

# The shipped rules carry a `runbook` annotation; this map covers the same two rules
# when a Prometheus runs an older copy of them without it.
RUNBOOK_SECTIONS = {
    "HighErrorRate": "4.1 서비스 응답 없음 (service not responding); 5 긴급 대응 절차",
    "HighMemoryUsage": "6 성능 튜닝 (performance tuning); Redis: 4.3 Redis 메모리 부족",
}
CRITICAL = frozenset({"critical", "page"})
STATES = ("firing", "pending")
MAX_ALERTS = 200  # carried in a snapshot; the pane shows fewer
_FRACTION = re.compile(r"(\.\d{6})\d+")


def alert_level(state: str, severity: str) -> Level:
    if state == "firing":
        return Level.CRIT if severity.lower() in CRITICAL else Level.WARN
    return Level.WARN


def parse_time(text: object) -> datetime | None:
    """Prometheus' RFC 3339 times (nanoseconds, "Z"); its zero time is "never"."""
    if not isinstance(text, str) or not text or text.startswith("0001-"):
        return None
    try:
        moment = datetime.fromisoformat(_FRACTION.sub(r"\1", text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _strings(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items()}


def runbook_section(name: str, annotations: dict[str, str]) -> str:
    for key in ("runbook", "runbook_section", "runbook_url"):
        if annotations.get(key):
            return annotations[key]
    return RUNBOOK_SECTIONS.get(name, "")


def parse_alert(item: Any) -> Alert | None:
    """One entry of data.alerts, or None when it is not a firing/pending alert."""
    if not isinstance(item, dict):
        return None
    state = str(item.get("state", ""))
    if state not in STATES:
        return None
    labels = _strings(item.get("labels"))
    annotations = _strings(item.get("annotations"))
    name = labels.get("alertname", "") or "(no alertname)"
    severity = labels.get("severity", "")
    summary = annotations.get("summary") or annotations.get("description") or ""
    shown = tuple((k, v) for k, v in sorted(labels.items()) if k not in ("alertname", "severity"))
    return Alert(
        name=one_line(name, 120),
        state=state,
        severity=one_line(severity, 40),
        since=parse_time(item.get("activeAt")),
        summary=one_line(summary, 300),
        runbook=one_line(runbook_section(name, annotations), 200),
        labels=shown[:20],
        value=one_line(str(item.get("value", "")), 40),
        level=alert_level(state, severity),
    )


def _order(alert: Alert) -> tuple[int, int, datetime, str]:
    never = datetime.max.replace(tzinfo=UTC)
    return (STATES.index(alert.state), -alert.level, alert.since or never, alert.name)


def parse_alerts(data: Any) -> tuple[Alert, ...]:
    """`data` of /api/v1/alerts -> the firing and pending alerts, in the order above."""
    items = data.get("alerts") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ValueError("no `alerts` list in the answer")
    alerts = [a for a in (parse_alert(item) for item in items) if a is not None]
    alerts.sort(key=_order)
    return tuple(alerts[:MAX_ALERTS])
