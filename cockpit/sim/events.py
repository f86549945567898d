"""Core v1 Events, written the way client-go's event recorder does: repeats of the same
event on the same object bump `count` and `lastTimestamp` instead of adding rows."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from cockpit.sim.objects import event_name, ts
from cockpit.sim.store import Store

# Components as they appear in the SOURCE column of `kubectl get events -o wide`.
KUBELET = "kubelet"
SCHEDULER = "default-scheduler"
DEPLOYMENT = "deployment-controller"
REPLICASET = "replicaset-controller"
STATEFULSET = "statefulset-controller"
JOB = "job-controller"
CRONJOB = "cronjob-controller"


class Recorder:
    def __init__(self, store: Store, clock: Callable[[], float], limit: int = 2000) -> None:
        self.store = store
        self.clock = clock
        self.limit = limit  # the apiserver expires events after an hour; we cap the count
        self._seen: dict[tuple, tuple[str, str]] = {}
        self._keys: dict[tuple[str, str], tuple] = {}
        self._order: deque[tuple[str, str]] = deque()
        self.enabled = True

    def record(
        self,
        obj: dict,
        type_: str,
        reason: str,
        message: str,
        component: str = KUBELET,
        host: str | None = None,
        field_path: str | None = None,
        at: float | None = None,
        first: float | None = None,
        count: int = 1,
    ) -> dict | None:
        if not self.enabled:
            return None
        m = obj["metadata"]
        now = self.clock() if at is None else at
        ns = m.get("namespace") or "default"
        key = (m.get("uid"), type_, reason, message, component, field_path)
        hit = self._seen.get(key)
        if hit is not None:
            old = self.store.get("events", *hit)
            if old is not None:
                new = dict(old, count=(old.get("count") or 1) + count, lastTimestamp=ts(now))
                new["metadata"] = dict(old["metadata"])
                return self.store.update("events", new)
        involved = {
            "kind": obj.get("kind"),
            "namespace": m.get("namespace"),
            "name": m["name"],
            "uid": m.get("uid"),
            "apiVersion": obj.get("apiVersion"),
            "resourceVersion": m.get("resourceVersion"),
        }
        if not involved["namespace"]:
            involved.pop("namespace")
        if field_path:
            involved["fieldPath"] = field_path
        source = {"component": component}
        if host:
            source["host"] = host
        event = {
            "kind": "Event",
            "apiVersion": "v1",
            "metadata": {
                "name": event_name(m["name"], now),
                "namespace": ns,
                "creationTimestamp": ts(first if first is not None else now),
            },
            "involvedObject": involved,
            "reason": reason,
            "message": message,
            "source": source,
            "firstTimestamp": ts(first if first is not None else now),
            "lastTimestamp": ts(now),
            "count": count,
            "type": type_,
            "eventTime": None,
            "reportingComponent": component,
            "reportingInstance": host or "",
        }
        created = self.store.create("events", event)
        ident = (ns, event["metadata"]["name"])
        self._seen[key] = ident
        self._keys[ident] = key
        self._order.append(ident)
        while len(self._order) > self.limit:
            old = self._order.popleft()
            self._seen.pop(self._keys.pop(old, None), None)
            if self.store.get("events", *old) is not None:
                self.store.delete("events", *old)
        return created
