"""Read-only views of stored objects in another API's shape: events.k8s.io/v1 Events
are the core v1 Events, converted the way the apiserver converts them."""

from __future__ import annotations

from collections.abc import Callable

from cockpit.sim.objects import micro_ts, parse_ts


def event_v1(ev: dict) -> dict:
    last = ev.get("lastTimestamp") or ev.get("firstTimestamp")
    out: dict = {
        "kind": "Event",
        "apiVersion": "events.k8s.io/v1",
        "metadata": ev["metadata"],
        # eventTime is required in events.k8s.io; old-style events get their first time.
        "eventTime": ev.get("eventTime") or micro_ts(parse_ts(ev.get("firstTimestamp") or last)),
        "reportingController": ev.get("reportingComponent")
        or (ev.get("source") or {}).get("component", ""),
        "reportingInstance": ev.get("reportingInstance")
        or (ev.get("source") or {}).get("host", ""),
        "action": ev.get("action") or ev.get("reason", ""),
        "reason": ev.get("reason", ""),
        "regarding": ev.get("involvedObject") or {},
        "note": ev.get("message", ""),
        "type": ev.get("type", ""),
        "deprecatedSource": ev.get("source") or {},
        "deprecatedFirstTimestamp": ev.get("firstTimestamp"),
        "deprecatedLastTimestamp": ev.get("lastTimestamp"),
        "deprecatedCount": ev.get("count") or 0,
    }
    return {k: v for k, v in out.items() if v is not None}


# view resource key -> (stored resource key, converter)
VIEWS: dict[str, tuple[str, Callable[[dict], dict]]] = {
    "events.events.k8s.io": ("events", event_v1),
}
