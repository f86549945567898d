"""The in-memory object store: one global resourceVersion, watch history, indexes.

Stored objects are never mutated in place: writers build a new dict (see
`objects.clone`) and hand it over.  That lets the store cache each object's JSON
bytes, so a list of thousands of pods is a join of cached bytes, not a re-encoding.
Everything here runs on the server's event loop thread.
"""

from __future__ import annotations

import asyncio
import bisect
import json
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from dataclasses import field as dc_field

from cockpit.sim.kinds import BY_KEY
from cockpit.sim.objects import new_uid, ts
from cockpit.sim.selectors import Matcher

ObjKey = tuple[str, str]  # (namespace, name); namespace "" for cluster-scoped objects


@dataclass(frozen=True, slots=True)
class Change:
    rv: int
    type: str  # ADDED, MODIFIED or DELETED
    key: str  # resource key, e.g. "pods", "deployments.apps"
    old: dict | None
    new: dict  # for DELETED: the last state, stamped with the deletion's resourceVersion


class Expired(Exception):
    """The requested resourceVersion is older than the watch history reaches."""

    def __init__(self, requested: int, oldest: int):
        super().__init__(f"too old resource version: {requested} ({oldest})")
        self.requested = requested
        self.oldest = oldest


@dataclass(eq=False)
class Watcher:
    key: str
    namespace: str | None
    label: Matcher | None = None
    field: Matcher | None = None
    queue: asyncio.Queue = dc_field(default_factory=asyncio.Queue)

    def matches(self, obj: dict | None) -> bool:
        if obj is None:
            return False
        if self.label is not None and not self.label(obj):
            return False
        return self.field is None or self.field(obj)

    def translate(self, change: Change) -> tuple[str, dict] | None:
        """What this watcher sees of a change: the apiserver turns an object that stops
        matching the selector into DELETED and one that starts matching into ADDED."""
        if change.key != self.key:
            return None
        if self.namespace and change.new["metadata"].get("namespace") != self.namespace:
            return None
        if change.type == "DELETED":
            return ("DELETED", change.new) if self.matches(change.new) else None
        new_ok = self.matches(change.new)
        if change.type == "ADDED":
            return ("ADDED", change.new) if new_ok else None
        old_ok = self.matches(change.old)
        if new_ok and old_ok:
            return ("MODIFIED", change.new)
        if new_ok:
            return ("ADDED", change.new)
        if old_ok:
            return ("DELETED", change.new)
        return None


def _spec_changed(old: dict, new: dict) -> bool:
    return old.get("spec") != new.get("spec")


class Store:
    def __init__(self, history_size: int = 10_000) -> None:
        self._rv = 0
        self._objs: dict[str, dict[ObjKey, dict]] = {k: {} for k in BY_KEY}
        self._sorted: dict[str, list[ObjKey]] = {k: [] for k in BY_KEY}  # kept in order
        self._raw: dict[tuple[str, str, str], tuple[dict, bytes]] = {}
        self._uids: dict[str, tuple[str, ObjKey]] = {}
        self._owned: dict[str, set[tuple[str, ObjKey]]] = {}
        self._history: deque[Change] = deque(maxlen=history_size)
        self._floor = 0  # changes after this rv are all in the history
        self._watchers: set[Watcher] = set()
        self._listeners: list[Callable[[Change], None]] = []
        self.clock: Callable[[], float] = time.time

    # ---- reading ------------------------------------------------------------------

    @property
    def rv(self) -> int:
        return self._rv

    def get(self, key: str, namespace: str, name: str) -> dict | None:
        return self._objs[key].get((namespace or "", name))

    def keys(self, key: str, namespace: str | None = None) -> list[ObjKey]:
        """(namespace, name) pairs in the apiserver's order, optionally one namespace."""
        order = self._sorted[key]
        if not namespace:
            return order
        lo = bisect.bisect_left(order, (namespace, ""))
        hi = bisect.bisect_left(order, (namespace + "\x00", ""))
        return order[lo:hi]

    def list(self, key: str, namespace: str | None = None) -> list[dict]:
        objs = self._objs[key]
        return [objs[k] for k in self.keys(key, namespace)]

    def raw(self, key: str, obj: dict) -> bytes:
        """The object's JSON, cached until the object is replaced."""
        m = obj["metadata"]
        ck = (key, m.get("namespace", ""), m["name"])
        hit = self._raw.get(ck)
        if hit is not None and hit[0] is obj:
            return hit[1]
        data = json.dumps(obj, separators=(",", ":")).encode()
        if self._objs[key].get(ck[1:]) is obj:
            self._raw[ck] = (obj, data)
        return data

    def by_uid(self, uid: str) -> tuple[str, dict] | None:
        hit = self._uids.get(uid)
        if hit is None:
            return None
        obj = self._objs[hit[0]].get(hit[1])
        return (hit[0], obj) if obj is not None else None

    def owned(self, uid: str, key: str | None = None) -> list[dict]:
        """Objects whose ownerReferences name `uid`, optionally of one resource."""
        out = []
        for k, ok in sorted(self._owned.get(uid, ())):
            if key is None or k == key:
                obj = self._objs[k].get(ok)
                if obj is not None:
                    out.append(obj)
        return out

    def owned_keys(self, uid: str) -> list[tuple[str, dict]]:
        return [
            (k, self._objs[k][ok])
            for k, ok in sorted(self._owned.get(uid, ()))
            if ok in self._objs[k]
        ]

    def count(self, key: str, namespace: str | None = None) -> int:
        return len(self.keys(key, namespace)) if namespace else len(self._objs[key])

    # ---- writing ------------------------------------------------------------------

    def _next_rv(self) -> str:
        self._rv += 1
        return str(self._rv)

    def create(self, key: str, obj: dict) -> dict:
        m = obj.setdefault("metadata", {})
        ok = (m.get("namespace", "") or "", m["name"])
        if ok in self._objs[key]:
            raise KeyError(ok)
        m.setdefault("uid", new_uid())
        m.setdefault("creationTimestamp", ts(self.clock()))
        m.setdefault("generation", 1)
        m["resourceVersion"] = self._next_rv()
        self._objs[key][ok] = obj
        bisect.insort(self._sorted[key], ok)
        self._uids[m["uid"]] = (key, ok)
        self._index_owners(key, ok, None, obj)
        self._emit(Change(self._rv, "ADDED", key, None, obj))
        return obj

    def update(self, key: str, obj: dict) -> dict:
        m = obj["metadata"]
        ok = (m.get("namespace", "") or "", m["name"])
        old = self._objs[key][ok]
        m["uid"] = old["metadata"]["uid"]
        m["creationTimestamp"] = old["metadata"]["creationTimestamp"]
        gen = old["metadata"].get("generation", 1)
        if BY_KEY[key].workload and _spec_changed(old, obj):
            gen += 1
        if m.get("deletionTimestamp") and not old["metadata"].get("deletionTimestamp"):
            gen += 1
        m["generation"] = gen
        m["resourceVersion"] = self._next_rv()
        self._objs[key][ok] = obj
        self._index_owners(key, ok, old, obj)
        self._emit(Change(self._rv, "MODIFIED", key, old, obj))
        return obj

    def delete(self, key: str, namespace: str, name: str) -> dict:
        ok = (namespace or "", name)
        old = self._objs[key].pop(ok)
        order = self._sorted[key]
        del order[bisect.bisect_left(order, ok)]
        self._raw.pop((key, *ok), None)
        self._uids.pop(old["metadata"]["uid"], None)
        self._index_owners(key, ok, old, None)
        final = dict(old)
        final["metadata"] = dict(old["metadata"], resourceVersion=self._next_rv())
        self._emit(Change(self._rv, "DELETED", key, old, final))
        return final

    def _index_owners(self, key: str, ok: ObjKey, old: dict | None, new: dict | None) -> None:
        def uids(o: dict | None) -> set[str]:
            if o is None:
                return set()
            return {r["uid"] for r in o["metadata"].get("ownerReferences") or () if "uid" in r}

        before, after = uids(old), uids(new)
        for u in before - after:
            s = self._owned.get(u)
            if s is not None:
                s.discard((key, ok))
                if not s:
                    del self._owned[u]
        for u in after - before:
            self._owned.setdefault(u, set()).add((key, ok))

    # ---- watching -----------------------------------------------------------------

    def start_history(self) -> None:
        """Changes made so far (the seeding) are not replayable: a watch from before
        this point gets 410 Expired, as from a compacted etcd."""
        self._history.clear()
        self._floor = self._rv

    def _emit(self, change: Change) -> None:
        if len(self._history) == self._history.maxlen:
            self._floor = self._history[0].rv
        self._history.append(change)
        for listener in self._listeners:
            listener(change)
        for w in self._watchers:
            if w.key == change.key:
                w.queue.put_nowait(change)

    def changes_since(self, rv: int) -> Iterable[Change]:
        if rv < self._floor:
            raise Expired(rv, self._floor + 1)
        # Binary search would do, but the history is short and this runs once per watch.
        return [c for c in self._history if c.rv > rv]

    def add_listener(self, fn: Callable[[Change], None]) -> None:
        self._listeners.append(fn)

    def add_watcher(self, watcher: Watcher) -> None:
        self._watchers.add(watcher)

    def remove_watcher(self, watcher: Watcher) -> None:
        self._watchers.discard(watcher)

    def watchers(self) -> list[Watcher]:
        return list(self._watchers)
