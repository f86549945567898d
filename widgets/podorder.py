"""The order of the pods pane's rows (sort, then filter), computed off the event loop.

At 5,000 pods a re-sort or a filter keystroke is 20-60 ms of Python: on the event loop,
a key pressed meanwhile waits for it.  `PodOrder` holds what one pod list needs for
that (each sort's order, each pod's search text), built once per list in the worker
thread and reused by every sort change and keystroke until the list changes; the loop
only swaps the list of keys the table shows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from cockpit.model import PodRow, PodUsage

SortKey = Callable[[PodRow, PodUsage | None], object]
Match = Callable[[str], bool]

SORTS: dict[str, SortKey] = {
    "worst first": lambda p, u: (-p.level, p.ready >= p.total, -p.restarts, p.name),
    "name": lambda p, u: p.name,
    "age (newest)": lambda p, u: -(p.created.timestamp() if p.created else 0),
    "restarts": lambda p, u: (-p.restarts, p.name),
    "cpu": lambda p, u: (-(u.cpu_m if u else -1), p.name),
    "memory": lambda p, u: (-(u.mem_bytes if u else -1), p.name),
}
BY_USAGE = frozenset({"cpu", "memory"})  # the sorts that read the metrics


def next_sort(name: str) -> str:
    """The sort after `name` in `S`'s cycle."""
    names = list(SORTS)
    return names[(names.index(name) + 1) % len(names)]


def search_text(pod: PodRow) -> str:
    """What the `/` filter matches a pod against."""
    return f"{pod.name} {pod.status} {pod.node} {pod.app}"


class PodOrder:
    """One pod list (and one metrics map, for the usage sorts): the keys of any sort
    and filter over it.  Each sort's order and the search texts are computed on first
    use and kept.  Not locked: they are computed in one thread (the pane's worker);
    the event loop only reads an order that `known` says is complete."""

    def __init__(
        self,
        pods: Sequence[PodRow],
        usage: Mapping[str, PodUsage],
        carried: PodOrder | None = None,
    ) -> None:
        self.pods = pods
        self.usage = usage
        self._texts: list[str] | None = None
        self._sorted: dict[str, list[int]] = {}
        self._uids: dict[str, list[str]] = {}  # each sort's uids, unfiltered, once asked
        if carried is not None and carried.pods is pods:
            # Same pods, new metrics: only the usage sorts must be done again.
            self._texts = carried._texts
            self._sorted = {k: v for k, v in carried._sorted.items() if k not in BY_USAGE}
            self._uids = {k: v for k, v in carried._uids.items() if k not in BY_USAGE}

    def with_usage(self, usage: Mapping[str, PodUsage]) -> PodOrder:
        return PodOrder(self.pods, usage, carried=self)

    def sorted_indexes(self, sort_name: str) -> list[int]:
        indexes = self._sorted.get(sort_name)
        if indexes is None:
            key, usage = SORTS[sort_name], self.usage
            keys = [key(p, usage.get(p.name)) for p in self.pods]
            # Stable, as sorting the pods themselves: equal keys keep the list's order.
            indexes = sorted(range(len(keys)), key=keys.__getitem__)
            self._sorted[sort_name] = indexes
        return indexes

    def known(self, sort_name: str, match: Match | None) -> bool:
        """The keys are a list copy away (this sort done, no filter): no need for a
        thread hop.  Safe from the loop: a sort's list is stored once complete."""
        return match is None and sort_name in self._sorted

    def texts(self) -> list[str]:
        if self._texts is None:
            self._texts = [search_text(p) for p in self.pods]
        return self._texts

    def keys(self, sort_name: str, match: Match | None) -> list[str]:
        """The uids to show, in order (unfiltered: the same list each time, which its
        readers never change; `S` round the sorts builds each once per pod list)."""
        if match is None and (uids := self._uids.get(sort_name)) is not None:
            return uids
        pods, indexes = self.pods, self.sorted_indexes(sort_name)
        if match is None:
            uids = self._uids[sort_name] = [pods[i].uid for i in indexes]
            return uids
        texts = self.texts()
        return [pods[i].uid for i in indexes if match(texts[i])]
