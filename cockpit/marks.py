"""Benchmark marks: moments of the cockpit's life written to a file for bench/."""

from __future__ import annotations

import os


def mark(event: str, detail: object = "") -> None:
    """Benchmarks: append "<event> <unix time> <detail>" to $COCKPIT_BENCH_MARKS, if set."""
    path = os.environ.get("COCKPIT_BENCH_MARKS")
    if path:
        import time

        with open(path, "a", encoding="utf-8") as handle:
            handle.write(f"{event} {time.time():.6f} {detail}\n")
