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

Until then (`cockpit run`), no collection at all: importing the app and drawing the first
screen create a few hundred thousand objects and no cyclic garbage worth the ~0.1 s
that the collections among them cost.  The garbage among them (some 20,000 objects,
mostly Textual's throwaway style nodes) is frozen with the rest and never swept: a
collection that could find it walks every object (0.25-0.3 s at 5,000 pods, a stall),
and sweeping it gave no memory back (the blocks stay in the allocator's arenas).

The C allocator gets two arenas, not one per thread (the pollers' threads each kept
their own, holding freed parse buffers), and gives freed memory back to the system every
few seconds and after each full collection.
"""

from __future__ import annotations

import ctypes
import gc
import os
import platform
import threading
import time
from collections.abc import Callable

FULL_COLLECTION_EVERY_S = 120.0
QUIET_S = 3.0  # no key or click for this long: the user is reading, not navigating
OVERDUE_S = 600.0  # after this long, collect even while keys keep coming
CHECK_EVERY_S = 2.0  # how often the app asks `due()`
_NEVER = 1_000_000_000  # young collections between two automatic full ones
MALLOC_ARENAS = 2  # glibc's default is 8 per core, and a thread keeps the one it used
_M_ARENA_MAX = -8  # mallopt's parameter number (malloc.h)
_M_MMAP_THRESHOLD = -3
# Blocks above this are mmapped and go back whole when freed.  Set, it also stops glibc
# raising the threshold to the largest block freed (up to 32 MB), after which the
# lists' multi-megabyte bodies would come from the heap and leave holes in it.
MMAP_THRESHOLD = 256 * 1024
# malloc_trim every so often: 8-16 MB back each time at 5,000 pods while the log history
# is read, for 1-2 ms in a thread that does not hold the GIL (ctypes releases it).
TRIM_EVERY_S = 10.0


_settled = False


def hold_for_startup() -> None:
    """`cockpit run`, before the app is imported: no collection until settle()."""
    if not _settled:
        gc.disable()


def settle() -> None:
    """Call once everything is imported: freeze it and take full collections over.
    Only the first call does anything (tests start many apps in one process).

    No collection, now or later, over what is frozen here: with the collector held since
    startup every object is young, so one would walk all of them (400,000 at 5,000 pods:
    0.25-0.3 s) just as the first screen is up and the first keys come.  What startup
    left as garbage (some 20,000 objects, 2 MB) stays frozen with the rest."""
    global _settled
    if _settled:
        return
    _settled = True
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, _NEVER)
    gc.enable()  # after hold_for_startup()


def _libc() -> ctypes.CDLL | None:
    """glibc, whose mallopt and malloc_trim these are; None elsewhere (musl, macOS)."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        return ctypes.CDLL(None)
    except OSError:
        return None


def cap_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Before any thread starts: at most `arenas` malloc arenas (unless the user set
    MALLOC_ARENA_MAX, which glibc reads itself).  True when glibc took it."""
    libc = _libc()
    if libc is None or "MALLOC_ARENA_MAX" in os.environ:
        return False
    if "MALLOC_MMAP_THRESHOLD_" not in os.environ:
        libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    return bool(libc.mallopt(_M_ARENA_MAX, arenas))


def release_free_memory() -> bool:
    """Hand the allocator's free pages back to the system (malloc_trim); True if any."""
    libc = _libc()
    return bool(libc.malloc_trim(0)) if libc is not None else False


_trimming: threading.Thread | None = None


def start_trimming(every: float = TRIM_EVERY_S) -> bool:
    """`cockpit run`: release_free_memory() every `every` seconds for the life of the
    process (once per process; False where there is no glibc)."""
    global _trimming
    if _trimming is not None or _libc() is None:
        return False

    def trim() -> None:
        while True:
            time.sleep(every)
            release_free_memory()

    _trimming = threading.Thread(target=trim, name="malloc-trim", daemon=True)
    _trimming.start()
    return True


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
        release_free_memory()
        self.last_collection = self._clock()
        self.collections += 1
        return found
