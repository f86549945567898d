"""Rolling windows of requests per upstream, bounded in memory whatever the traffic.

Two rings of time buckets, indexed by the line's own time (lines of several pods come
slightly late and out of order):

- 10-second buckets over the last 5 minutes (+1 for the bucket being filled): request
  and 5xx counts and one DDSketch of latencies per upstream.  The 1 m and 5 m figures
  merge 6 or 30 of them (about a millisecond for 30 sketches); the sparklines read
  them one by one.
- 1-minute buckets over the last 6 hours (+1): request and 5xx counts only, for the
  burn-rate windows (30 m, 1 h, 6 h), which need ratios, not quantiles.

Memory is buckets x upstreams x (two counts + one sketch of at most BIN_LIMIT bins),
however many lines arrive.  A window reports the time it really covers (less than its
length while the data does not reach back that far) and rates divide by it.  Not
thread-safe: the caller holds one lock around add() and the reads.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ddsketch import LogCollapsingLowestDenseDDSketch

from cockpit.slo.parse import OTHER

FINE_S = 10  # seconds per sketch bucket (and per sparkline point)
FINE_SPAN_S = 300  # the longest window with quantiles (5 m)
COARSE_S = 60  # seconds per count-only bucket
COARSE_SPAN_S = 6 * 3600  # the longest burn window (6 h)
RELATIVE_ACCURACY = 0.01  # DDSketch's guarantee: a quantile within 1 % of a true value
BIN_LIMIT = 2048  # bins per sketch; latencies from 1 ms to 1 day need about 950
ZERO_MS = 0.5  # nginx times to the millisecond: below this is "0.000"
ALL = "all"


def _sketch() -> LogCollapsingLowestDenseDDSketch:
    return LogCollapsingLowestDenseDDSketch(RELATIVE_ACCURACY, BIN_LIMIT)


class _FineBucket:
    __slots__ = ("errors", "index", "requests", "sketches")

    def __init__(self, index: int, keys: Sequence[str]) -> None:
        self.index = index
        self.requests = dict.fromkeys(keys, 0)
        self.errors = dict.fromkeys(keys, 0)
        self.sketches = {key: _sketch() for key in keys}


class _CoarseBucket:
    __slots__ = ("errors", "index", "requests")

    def __init__(self, index: int, keys: Sequence[str]) -> None:
        self.index = index
        self.requests = dict.fromkeys(keys, 0)
        self.errors = dict.fromkeys(keys, 0)


@dataclass(frozen=True, slots=True)
class Totals:
    """One upstream over one window: counts, covered seconds, merged latencies."""

    requests: int
    errors: int
    seconds: float  # the time the window really covers (>= 1 s)
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def error_ratio(self) -> float | None:
        return self.errors / self.requests if self.requests else None


class SloWindows:
    """Per-upstream buckets.  `upstreams`: the configured names; lines of an upstream
    none of them matches (parse.OTHER) count in "all" only."""

    def __init__(self, upstreams: Iterable[str], origin: float) -> None:
        self.names = tuple(n for n in upstreams if n and n != ALL)
        self.keys = (*self.names, OTHER)
        self._key_set = frozenset(self.keys)
        self.origin = origin  # the earliest time the data can reach back to
        self._fine: list[_FineBucket | None] = [None] * (FINE_SPAN_S // FINE_S + 1)
        self._coarse: list[_CoarseBucket | None] = [None] * (COARSE_SPAN_S // COARSE_S + 1)
        self.newest = -math.inf  # the newest line time seen
        self.too_old = 0  # lines older than every window when they came

    # -- ingest ----------------------------------------------------------------------------

    def add(self, t: float, upstream: str, error: bool, latency_ms: float) -> bool:
        """Count one request; False when it is older than the longest window."""
        if upstream not in self._key_set:
            upstream = OTHER
        if t > self.newest:
            self.newest = t
        coarse = int(t // COARSE_S)
        if coarse <= int(self.newest // COARSE_S) - len(self._coarse):
            self.too_old += 1
            return False
        slot = coarse % len(self._coarse)
        bucket = self._coarse[slot]
        if bucket is None or bucket.index < coarse:
            bucket = self._coarse[slot] = _CoarseBucket(coarse, self.keys)
        elif bucket.index > coarse:  # its slot already holds a newer minute
            self.too_old += 1
            return False
        bucket.requests[upstream] += 1
        if error:
            bucket.errors[upstream] += 1
        fine = int(t // FINE_S)
        slot = fine % len(self._fine)
        cell = self._fine[slot]
        if cell is None or cell.index < fine:
            cell = self._fine[slot] = _FineBucket(fine, self.keys)
        elif cell.index > fine:
            return True  # counted for the burn rates; too old for the 5-minute figures
        cell.requests[upstream] += 1
        if error:
            cell.errors[upstream] += 1
        cell.sketches[upstream].add(latency_ms if latency_ms >= ZERO_MS else 0.0)
        return True

    # -- reads -----------------------------------------------------------------------------

    def covered(self, start: float, now: float) -> float:
        """Seconds of [start, now] the data can cover (at least 1, to divide by)."""
        return max(1.0, now - max(start, self.origin))

    def _fine_cells(self, seconds: int, now: float) -> tuple[list[_FineBucket], float]:
        """The fine buckets of the last `seconds` and where the window starts.  Whole
        buckets, the one being filled included: the window starts up to FINE_S later
        than now - seconds, and covered() says so."""
        last = int(now // FINE_S)
        first = last - seconds // FINE_S + 1
        cells = []
        for index in range(first, last + 1):
            cell = self._fine[index % len(self._fine)]
            if cell is not None and cell.index == index:
                cells.append(cell)
        return cells, float(first * FINE_S)

    def window(self, upstream: str, seconds: int, now: float) -> Totals:
        """Counts and quantiles of `upstream` (or ALL) over the last `seconds` (<= 5 m)."""
        keys = self.keys if upstream == ALL else (upstream,)
        cells, start = self._fine_cells(seconds, now)
        merged = _sketch()
        requests = errors = 0
        for cell in cells:
            for key in keys:
                n = cell.requests.get(key, 0)
                if n:
                    requests += n
                    errors += cell.errors[key]
                    merged.merge(cell.sketches[key])
        return Totals(
            requests,
            errors,
            self.covered(start, now),
            *_quantiles(merged),
        )

    def counts(self, upstream: str, seconds: int, now: float) -> Totals:
        """Requests and errors over the last `seconds`: fine buckets up to 5 m, else
        minutes (the window then starts on a minute: up to 59 s shorter)."""
        keys = self.keys if upstream == ALL else (upstream,)
        if seconds <= FINE_SPAN_S:
            cells, start = self._fine_cells(seconds, now)
            buckets: Iterable[_FineBucket | _CoarseBucket] = cells
        else:
            last = int(now // COARSE_S)
            first = last - seconds // COARSE_S + 1
            start = float(first * COARSE_S)
            found = []
            for index in range(first, last + 1):
                bucket = self._coarse[index % len(self._coarse)]
                if bucket is not None and bucket.index == index:
                    found.append(bucket)
            buckets = found
        requests = errors = 0
        for bucket in buckets:
            for key in keys:
                requests += bucket.requests.get(key, 0)
                errors += bucket.errors.get(key, 0)
        return Totals(requests, errors, self.covered(start, now))

    def history(
        self, upstream: str, now: float
    ) -> tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]:
        """Per 10-s bucket over 5 minutes, oldest first: req/s, error %, p99 ms (0 when
        the bucket had no requests or is before the data starts)."""
        keys = self.keys if upstream == ALL else (upstream,)
        last = int(now // FINE_S)
        rps: list[float] = []
        err: list[float] = []
        p99: list[float] = []
        for index in range(last - FINE_SPAN_S // FINE_S + 1, last + 1):
            start = index * FINE_S
            if start + FINE_S <= self.origin:
                continue  # no data can be there: not a zero
            cell = self._fine[index % len(self._fine)]
            requests = errors = 0
            sketch = None
            if cell is not None and cell.index == index:
                used = [key for key in keys if cell.requests.get(key, 0)]
                requests = sum(cell.requests[key] for key in used)
                errors = sum(cell.errors[key] for key in used)
                if len(used) == 1:
                    sketch = cell.sketches[used[0]]
                elif used:
                    sketch = _sketch()
                    for key in used:
                        sketch.merge(cell.sketches[key])
            span = min(float(FINE_S), max(1.0, now - max(start, self.origin)))
            rps.append(requests / span)
            err.append(100.0 * errors / requests if requests else 0.0)
            value = sketch.get_quantile_value(0.99) if sketch is not None else None
            p99.append(float(value or 0.0))
        return tuple(rps), tuple(err), tuple(p99)

    def bucket_count(self) -> int:
        """Buckets held (for the memory bound's test)."""
        return sum(b is not None for b in self._fine) + sum(b is not None for b in self._coarse)


def _quantiles(sketch: LogCollapsingLowestDenseDDSketch) -> tuple[float | None, ...]:
    if sketch.count == 0:
        return (None, None, None)
    return tuple(float(sketch.get_quantile_value(q) or 0.0) for q in (0.5, 0.95, 0.99))
