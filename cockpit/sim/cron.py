"""Just enough cron for CronJob schedules: five fields, `*`, lists, ranges, steps,
and the @hourly/@daily/... macros; times in UTC like kube-controller-manager's."""

from __future__ import annotations

import time

_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))


def _field(text: str, lo: int, hi: int) -> set[int]:
    out: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, step_s = part.split("/", 1)
            step = int(step_s)
        if part in ("*", "?"):
            start, end = lo, hi
        elif "-" in part:
            a, b = part.split("-", 1)
            start, end = int(a), int(b)
        else:
            start = int(part)
            end = hi if step > 1 else start
        out.update(range(start, end + 1, step))
    if 7 in out and hi == 6:  # Sunday spelled 7
        out.add(0)
    return out


def parse(expr: str) -> tuple[set[int], ...]:
    expr = _MACROS.get(expr.strip(), expr.strip())
    if expr.startswith("CRON_TZ=") or expr.startswith("TZ="):
        expr = expr.split(None, 1)[1]
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"expected exactly 5 fields, found {len(fields)}: {expr}")
    return tuple(_field(f, lo, hi) for f, (lo, hi) in zip(fields, _RANGES, strict=True))


def _matches(spec: tuple[set[int], ...], t: float) -> bool:
    tm = time.gmtime(t)
    minute, hour, dom, month, dow = spec
    weekday = (tm.tm_wday + 1) % 7  # Python: Monday=0; cron: Sunday=0
    return (
        tm.tm_min in minute
        and tm.tm_hour in hour
        and tm.tm_mon in month
        and tm.tm_mday in dom
        and weekday in dow
    )


def last_fire(expr: str, now: float, horizon_days: int = 8) -> float | None:
    """The most recent scheduled time at or before `now` (None beyond the horizon)."""
    spec = parse(expr)
    t = now - now % 60
    for _ in range(horizon_days * 24 * 60):
        if _matches(spec, t):
            return t
        t -= 60
    return None


def fires_between(expr: str, start: float, end: float) -> list[float]:
    spec = parse(expr)
    t = start - start % 60 + 60
    out = []
    while t <= end:
        if _matches(spec, t):
            out.append(t)
        t += 60
    return out
