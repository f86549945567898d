"""The cyclic garbage collector, tuned for a screen that answers keys within 50 ms.

At 5,000 pods the process tracks a few hundred thousand container objects (table cells,
the error log's rendered lines); a full (generation 2) collection walks all of them and
stops the event loop for a third of a second.  CPython starts one whenever the objects
that survived since the last are a quarter of the old ones, which a 15-second metrics
poll replacing 5,000 samples brings about every 15 s.  So: everything loaded at startup
is frozen out of the collector's sight, young collections (a few ms) run as usual, and
the full collection runs on a timer, every two minutes, instead of at every poll
(often enough that cyclic garbage never piles up: memory stays flat).
"""

from __future__ import annotations

import gc

FULL_COLLECTION_EVERY_S = 120.0
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
