"""Background threads step aside while the event loop draws a frame.

Python runs one thread at a time (the GIL).  A thread that wants it while another runs
gets it after at most 5 ms (`sys.getswitchinterval()`), so a frame drawn while an
informer converts its list, or the error-log streams parse the history, takes twice as
long: at start-up, 30-50 ms frames became 60-110 ms stalls.  The event loop marks the
work a person waits for, a frame or a snapshot put on the panes (`foreground()`); the
background loops call `courtesy()` between items, a read of one flag, and sleep while
that work runs (MAX_WAIT_S at most).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")

MAX_WAIT_S = 0.1  # a frame that never ends must not stop the sources
STEP_S = 0.001

_busy = False


@contextmanager
def foreground() -> Iterator[None]:
    """The event loop draws a frame or shows a snapshot: background threads that call
    `courtesy()` step aside meanwhile."""
    global _busy
    _busy = True
    try:
        yield
    finally:
        _busy = False


def courtesy() -> None:
    """Called by background threads between items: wait while the loop's foreground
    work runs."""
    if not _busy:
        return
    deadline = time.monotonic() + MAX_WAIT_S
    while _busy and time.monotonic() < deadline:
        time.sleep(STEP_S)


def stepping_aside(items: Iterable[T], every: int) -> Iterator[T]:
    """`items`, with a `courtesy()` before every `every`th one (the first included)."""
    for n, item in enumerate(items):
        if n % every == 0:
            courtesy()
        yield item
