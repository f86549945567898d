"""The collector policy: startup objects frozen, full collections only on our timer."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import weakref

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
        gctuning.settle()  # a second app in the same process: nothing more frozen
        # (not equal: a frozen object that refcounting frees leaves the count)
        assert gc.get_freeze_count() <= frozen

        class Cycle:
            def __init__(self) -> None:
                self.me = self

        for _ in range(10):
            Cycle()
        assert gctuning.full_collection() >= 10  # the timer's collection still finds them
    finally:
        gctuning._settled = was_settled
        gc.set_threshold(*before)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_full_collection_waits_for_a_pause_in_the_keys() -> None:
    clock = Clock()
    collector = gctuning.FullCollector(clock)
    clock.now += gctuning.FULL_COLLECTION_EVERY_S - 1
    assert not collector.due()  # too early
    clock.now += 1
    assert collector.due()  # on time, nobody typing
    collector.note_input()
    assert not collector.due()  # a key just now: wait
    clock.now += gctuning.QUIET_S - 0.1
    assert collector.maybe_collect() is None and collector.collections == 0
    clock.now += 0.2
    assert collector.maybe_collect() is not None and collector.collections == 1
    assert not collector.due()  # the next one is a full interval away


def test_full_collection_is_never_put_off_forever() -> None:
    clock = Clock()
    collector = gctuning.FullCollector(clock)
    while clock.now - 1000.0 < gctuning.OVERDUE_S - 1:
        clock.now += 0.5
        collector.note_input()  # keys without end
        assert not collector.due()
    clock.now += 1
    collector.note_input()
    assert collector.due()  # overdue: memory must not grow without bound


def test_startup_garbage_stays_frozen_and_no_collection_walks_it() -> None:
    """settle() collects nothing (the first screen is up, keys may come), and neither
    the first pause nor the timer's collections walk what it froze: that would be a
    0.25-0.3 s stall at 5,000 pods.  Startup's own cyclic garbage is the price."""

    class Cycle:
        def __init__(self) -> None:
            self.me = self

    before = gc.get_threshold()
    was_settled = gctuning._settled
    try:
        gc.disable()
        gctuning._settled = False
        startup = [weakref.ref(Cycle()) for _ in range(50)]
        gctuning.settle()
        assert gc.get_freeze_count() > 0
        clock = Clock()
        collector = gctuning.FullCollector(clock)
        clock.now += gctuning.QUIET_S
        assert not collector.due()  # the first pause: nothing to sweep
        clock.now += gctuning.FULL_COLLECTION_EVERY_S
        later = [weakref.ref(Cycle()) for _ in range(10)]
        assert (collector.maybe_collect() or 0) >= 10  # what came after settle()
        assert all(ref() is None for ref in later)
        assert all(ref() is not None for ref in startup)  # frozen, never walked
    finally:
        gctuning._settled = was_settled
        gc.set_threshold(*before)
        gc.enable()


def test_no_collection_from_startup_until_settled() -> None:
    was_settled = gctuning._settled
    before = gc.get_threshold()
    try:
        gctuning._settled = False
        gctuning.hold_for_startup()
        assert not gc.isenabled()
        gctuning.settle()
        assert gc.isenabled()
        gctuning.hold_for_startup()  # settled: a later app in this process keeps it on
        assert gc.isenabled()
    finally:
        gctuning._settled = was_settled
        gc.set_threshold(*before)
        gc.enable()


# The cockpit runs on Linux with glibc.  Eight threads allocate at once, then
# glibc's malloc_stats() lists the arenas used.
ARENAS = """
import ctypes, sys, threading
from cockpit import gctuning
print(gctuning.cap_malloc_arenas() if sys.argv[1] == "cap" else "uncapped")
barrier = threading.Barrier(8)
def work():
    barrier.wait()
    held = [bytearray(2048) for _ in range(20000)]
    barrier.wait()
threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
print(gctuning.release_free_memory())
sys.stdout.flush()
ctypes.CDLL(None).malloc_stats()
"""


def arenas(mode: str) -> tuple[list[str], int]:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    done = subprocess.run(
        [sys.executable, "-c", ARENAS, mode], capture_output=True, text=True, env=env, check=True
    )
    return done.stdout.split(), done.stderr.count("Arena ")


def test_malloc_arenas_are_capped_and_free_pages_handed_back() -> None:
    out, capped = arenas("cap")
    assert out == ["True", "True"]
    assert capped <= gctuning.MALLOC_ARENAS
    _, uncapped = arenas("none")
    assert uncapped > gctuning.MALLOC_ARENAS  # what the cap is for: one per busy thread


# Every other 8 KiB block freed: 80 MB of holes between the kept ones, which
# glibc's own trimming (the top of the heap only) never returns.
HOLES = """
import time
from cockpit import gctuning
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 1e6
blocks = [bytearray(8192) for _ in range(20000)]
del blocks[::2]
print(gctuning.start_trimming(0.2), gctuning.start_trimming(0.2))
before = rss()
time.sleep(1.0)
print(before, rss())
"""


def test_free_pages_are_handed_back_every_few_seconds() -> None:
    done = subprocess.run([sys.executable, "-c", HOLES], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    first, second = done.stdout.splitlines()
    assert first == "True False"  # one trimming thread per process
    before, after = map(float, second.split())
    assert before - after > 30, (before, after)  # about half the holes: whole pages


# After one 8 MB block is freed glibc would serve the next big ones from the heap; with
# the cap's fixed threshold they are mmapped, and given back whole once freed.
BIG_BLOCKS = """
import sys
from cockpit import gctuning
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 1e6
if sys.argv[1] == "cap":
    gctuning.cap_malloc_arenas()
del bytearray(8 << 20)[:]
kept, big = [], []
for _ in range(10):
    big.append(bytearray(4 << 20))
    kept.append(bytearray(200_000))  # from the heap: pins its top above each big block
before = rss()
del big
print(before - rss())
"""


def freed_by_big_blocks(mode: str) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    done = subprocess.run(
        [sys.executable, "-c", BIG_BLOCKS, mode], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    return float(done.stdout)


def test_big_blocks_go_back_whole_when_freed() -> None:
    assert freed_by_big_blocks("cap") > 35  # MB: all ten
    assert freed_by_big_blocks("none") < 10  # what the threshold is for
