"""The collector policy: startup objects frozen, full collections only on our timer."""

from __future__ import annotations

import gc

from cockpit import gctuning


def test_settle_freezes_and_stops_automatic_full_collections() -> None:
    before = gc.get_threshold()
    was_settled = gctuning._settled
    try:
        gctuning._settled = False
        gctuning.settle()
        assert gc.get_freeze_count() > 0
        young, middle, full = gc.get_threshold()
        assert (young, middle) == before[:2] and full >= 1_000_000
        frozen = gc.get_freeze_count()
        gctuning.settle()  # a second app in the same process: nothing more
        assert gc.get_freeze_count() == frozen

        class Cycle:
            def __init__(self) -> None:
                self.me = self

        for _ in range(10):
            Cycle()
        assert gctuning.full_collection() >= 10  # the timer's collection still finds them
    finally:
        gctuning._settled = was_settled
        gc.set_threshold(*before)
