"""Benchmark marks: moments of the cockpit's life written to a file for bench/."""

from __future__ import annotations

import os


def mark(event: str, detail: object = "") -> None:
    """Benchmarks: append "<event> <unix time> <detail>" to $COCKPIT_BENCH_MARKS, if set."""
    path = os.environ.get("COCKPIT_BENCH_MARKS")
    if path:
        import time

        with open(path, "a", encoding="utf-8") as handle:
            handle.write(mark_line(event, time.time(), detail))


def mark_line(event: str, when: float, detail: object = "") -> str:
    """One mark as the marks file holds it."""
    return f"{event} {when:.6f} {detail}\n"
