"""Which lines a container instance has written between two instants, computed.

A container instance (one run of one container: pod uid + container + startedAt) writes
*regular* events at a steady rate and a few *scripted* ones (boot banner, the fatal error
of a crash-looping pod, the memory warnings before an OOM kill, a backup job's start and
end).  Regular event i sits at the time where the cumulative rate reaches i + jitter, so
"the events between a and b" and "the last n events before b" are index arithmetic:
`--since` and `--tail` never scan a buffer.

History older than `pace.log_full_rate_hours` before the simulator started is tapered
(a quarter of the rate up to 6 h back, a thirtieth beyond), so `--since=24h` on a day-old
pod yields tens of thousands of lines, not hundreds of thousands.
"""

from __future__ import annotations

import bisect
import hashlib
import heapq
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from cockpit.sim import log_lines as L
from cockpit.sim.log_lines import Bits, Gen

OOM_LAST_S = 0.2  # an OOM-killed run logs its last memory error this long before the kill
OOM_QUIET_S = 0.25  # and its regular lines stop this long before the kill
LINE_STEP = 1e-6  # lines of one event are this far apart, so their order survives sorting
# Average lines per regular event, so that `log_lines_per_s` counts lines, not events.
MEAN_LINES = {
    "rails": 4.0,
    "fastapi": 1.6,
    "sidekiq": 2.1,
    "nginx": 1.0,  # its rate is Pace.nginx_requests_per_s: one access line a request
    "postgres": 1.8,
    "redis": 4.6,
}


class Timeline:
    """Cumulative event count as a function of time (piecewise linear), and its inverse."""

    def __init__(self, rate: float, origin: float, boot: float, full_hours: float) -> None:
        knots = [
            (origin, rate / 30.0),
            (boot - 6 * 3600, rate / 4.0),
            (boot - full_hours * 3600, rate),
        ]
        pieces: list[tuple[float, float]] = []
        for t0, r in knots:
            t0 = max(t0, origin)
            if pieces and t0 <= pieces[-1][0]:
                pieces[-1] = (pieces[-1][0], r)
            else:
                pieces.append((t0, r))
        self.t0s = [p[0] for p in pieces]
        self.rates = [max(p[1], 1e-9) for p in pieces]
        self.n0s = [0.0]
        for k in range(1, len(pieces)):
            self.n0s.append(self.n0s[-1] + (self.t0s[k] - self.t0s[k - 1]) * self.rates[k - 1])

    def count(self, t: float) -> float:
        if t <= self.t0s[0]:
            return 0.0
        k = bisect.bisect_right(self.t0s, t) - 1
        return self.n0s[k] + (t - self.t0s[k]) * self.rates[k]

    def time(self, c: float) -> float:
        k = max(0, bisect.bisect_right(self.n0s, c) - 1)
        return self.t0s[k] + (c - self.n0s[k]) / self.rates[k]


@dataclass(slots=True)
class Instance:
    """One run of one container."""

    key: bytes  # hash prefix identifying the run
    gen: Gen
    start: float
    end: float | None  # finishedAt; None while it runs
    kind: str  # "normal", "crash", "oom", "job", "quiet"
    exit_code: int = 0
    timeline: Timeline | None = None  # None: no regular events
    crash_at: float = 0.0
    scripted: list[tuple[float, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.scripted = sorted(_script(self))

    # -- regular events ------------------------------------------------------------------

    def _event(self, i: int) -> tuple[float, Bits]:
        assert self.timeline is not None
        h = int.from_bytes(
            hashlib.blake2b(self.key + i.to_bytes(5, "big"), digest_size=32).digest(), "big"
        )
        u = (h & 0xFFFF) / 65536.0 * 0.9  # jitter, < 1 so events stay in index order
        return self.timeline.time(i + u), Bits(h >> 16)

    def _regular_from(self) -> float:
        """Regular events start after the boot banner."""
        return self.start + 2.0

    def _regular_until(self) -> float:
        """Regular events end with the run; a run that is OOM-killed stops serving a
        moment before its last memory error (a process at its memory limit stalls in
        allocation), so that error is its last line, as the runbook's check expects."""
        if self.end is None:
            return math.inf
        return self.end - OOM_QUIET_S if self.kind == "oom" else self.end

    def events(self, a: float, b: float, strict: bool = False) -> Iterator[tuple[float, Bits]]:
        """Regular events with a <= t <= b (a < t if strict), in order: (time, bits).
        The nginx requests' metrics replay these, so they count what the logs show."""
        if self.timeline is None:
            return
        if self.end is not None:
            b = min(b, self.end)
        a = max(a, self._regular_from())
        b = min(b, self._regular_until())
        if b < a:
            return
        tl = self.timeline
        first = max(0, math.floor(tl.count(a)) - 1)
        last = math.floor(tl.count(b))
        for i in range(first, last + 1):
            t, bits = self._event(i)
            if (a < t if strict else a <= t) and t <= b:
                yield t, bits

    def regular(self, a: float, b: float, strict: bool = False) -> Iterator[tuple[float, str]]:
        """Lines of regular events with a <= t <= b (a < t if strict), in order."""
        fn = L.REGULAR.get(self.gen.app, L.generic)
        for t, bits in self.events(a, b, strict):
            for j, line in enumerate(fn(bits, t, self.gen)):
                yield t + j * LINE_STEP, line

    def regular_tail(self, a: float, b: float, n: int) -> list[tuple[float, str]]:
        """The last n lines of regular events in [a, b]."""
        if self.timeline is None or n <= 0:
            return []
        a = max(a, self._regular_from())
        b = min(b, self._regular_until())
        if b < a:
            return []
        tl = self.timeline
        fn = L.REGULAR.get(self.gen.app, L.generic)
        out: list[list[tuple[float, str]]] = []
        got = 0
        i = math.floor(tl.count(b))
        lowest = max(0, math.floor(tl.count(a)) - 1)
        while i >= lowest and got < n:
            t, bits = self._event(i)
            if a <= t <= b:
                lines = [(t + j * LINE_STEP, x) for j, x in enumerate(fn(bits, t, self.gen))]
                out.append(lines)
                got += len(lines)
            i -= 1
        flat = [x for ev in reversed(out) for x in ev]
        return flat[-n:]

    # -- all sources ---------------------------------------------------------------------

    def lines(
        self, a: float, b: float, extra: Iterable[tuple[float, str]] = (), strict: bool = False
    ) -> Iterator[tuple[float, str]]:
        """Every line with a <= t <= b (a < t if strict), time-ordered; `extra` (injected
        lines) are taken as they come, already filtered."""
        if self.end is not None:
            b = min(b, self.end)
        scripted = [x for x in self.scripted if (a < x[0] if strict else a <= x[0]) and x[0] <= b]
        yield from heapq.merge(
            self.regular(a, b, strict), scripted, list(extra), key=lambda x: x[0]
        )

    def tail(
        self, a: float, b: float, n: int, extra: Iterable[tuple[float, str]] = ()
    ) -> list[tuple[float, str]]:
        if self.end is not None:
            b = min(b, self.end)
        scripted = [x for x in self.scripted if a <= x[0] <= b][-n:] if n else []
        injected = list(extra)[-n:] if n else []
        merged = list(
            heapq.merge(self.regular_tail(a, b, n), scripted, injected, key=lambda x: x[0])
        )
        return merged[-n:] if n else []


def _at(t: float, lines: list[str]) -> Iterator[tuple[float, str]]:
    for j, line in enumerate(lines):
        yield t + j * LINE_STEP, line


def _script(inst: Instance) -> Iterator[tuple[float, str]]:
    g, s = inst.gen, inst.start
    if inst.kind == "job":
        yield from _at(s + 0.01, L.backup_start(s, g))
        if inst.end is not None:
            yield from _at(inst.end - 0.01, L.backup_end(inst.end, g, inst.exit_code == 0))
        return
    if inst.kind == "quiet":
        yield from _at(s + 0.01, [f"{g.pod}: /backups mounted, waiting for restore requests"])
        return
    boot = L.BOOT.get(g.app)
    if boot is not None:
        yield from _at(s + 0.01, boot(s, g))
    if inst.kind == "crash":
        yield from _at(inst.crash_at, L.rails_crash(inst.crash_at, g))
        return
    if g.app == "rails":
        yield from _at(s + 1.5, L.rails_boot_done(s + 1.5, g))
    if inst.kind == "oom" and inst.end is not None:
        # Memory climbs over the last ten minutes (or the whole run if shorter), then the
        # kernel kills the process mid-stride: no shutdown message.
        span = min(600.0, max(1.0, inst.end - s - 2.5))
        steps = 12
        for k in range(steps):
            # The last just before the kill, after the regular lines have stopped.
            t = inst.end - span + (span - OOM_LAST_S) * k / (steps - 1)
            yield from _at(t, L.fastapi_memory(0.62 + 0.37 * k / (steps - 1), g))
