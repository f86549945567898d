"""The cyclic garbage collector, tuned for a screen that answers keys within 50 ms.

At 5,000 pods the process tracks a few hundred thousand container objects (table cells,
the error log's rendered lines); a full (generation 2) collection walks all of them and
stops the event loop for a third of a second.  CPython starts one whenever the objects
that survived since the last are a quarter of the old ones, which a 15-second metrics
poll replacing 5,000 samples brings about every 15 s.  So: everything loaded at startup
is frozen out of the collector's sight, young collections (a few ms) run as usual, and
the full collection runs about every two minutes, instead of at every poll (often enough
that cyclic garbage never piles up: memory stays flat), at a moment when nobody is
typing: a key pressed during the stall would wait for it.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

FULL_COLLECTION_EVERY_S = 120.0
QUIET_S = 3.0  # no key or click for this long: the user is reading, not navigating
OVERDUE_S = 600.0  # after this long, collect even while keys keep coming
CHECK_EVERY_S = 2.0  # how often the app asks `due()`
_NEVER = 1_000_000_000  # young collections between two automatic full ones


_settled = False


def settle() -> None:
    """Call once everything is imported: freeze it and take full collections over.
    Only the first call does anything (tests start many apps in one process)."""
    global _settled
    if _settled:
        return
    _settled = True
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, _NEVER)


def full_collection() -> int:
    """The collection CPython no longer starts by itself; returns objects collected."""
    return gc.collect()


class FullCollector:
    """When to run the full collection: every FULL_COLLECTION_EVERY_S, once the user
    has been idle for QUIET_S, and unconditionally once OVERDUE_S have passed."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.last_collection = clock()
        self.last_input = float("-inf")
        self.collections = 0

    def note_input(self) -> None:
        self.last_input = self._clock()

    def due(self) -> bool:
        now = self._clock()
        waited = now - self.last_collection
        if waited >= OVERDUE_S:
            return True
        return waited >= FULL_COLLECTION_EVERY_S and now - self.last_input >= QUIET_S

    def maybe_collect(self) -> int | None:
        """Collect if due; the number of objects collected, or None if not now."""
        if not self.due():
            return None
        found = full_collection()
        self.last_collection = self._clock()
        self.collections += 1
        return found
