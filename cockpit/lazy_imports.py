"""Importing modules off the event loop, one thread at a time.

After the first screen, the modules of the panes below the pods and of the sources
started later are imported in worker threads: on the loop they would freeze the screen.
Two threads importing overlapping modules can each find the other's half-initialised
module (a circular import seen from two sides), so every such import holds one lock.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterable

_lock = threading.Lock()


def import_modules(names: Iterable[str]) -> None:
    """Import each named module (in a worker thread: this blocks while another does)."""
    with _lock:
        for name in names:
            importlib.import_module(name)
