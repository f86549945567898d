"""Tests' helper: a context entered by another thread, held while the test runs."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager


@contextmanager
def held_by_another_thread(
    context: AbstractContextManager[object],
) -> Iterator[Callable[[], None]]:
    """Another thread enters `context` (a lock, foreground work...) and stays inside it
    until the function yielded is called, or this block ends."""
    entered, leave = threading.Event(), threading.Event()

    def hold() -> None:
        with context:
            entered.set()
            leave.wait(5.0)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert entered.wait(5.0)
        yield leave.set
    finally:
        leave.set()
        holder.join()
