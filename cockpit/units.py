"""Durations, ages, sizes, rates and percentages as the panes and the actions write them.

Plain strings only: no Textual, no Rich, no widgets (an import-linter contract says so),
so sources and actions format the way the panes do.  Durations are in seconds unless a
function's name says otherwise (duration_ms, duration_us); "-" stands for unknown.
Where two functions look alike they differ on purpose, and their docstrings say how:
bytes_text ("768Mi", table cells) against size_words ("1.5 MiB", sentences), age_text
("3m", kubectl's age) against duration ("3m12s", how long something took).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

# -- durations -------------------------------------------------------------------------


def duration(seconds: float | None, *, ms: bool = True) -> str:
    """How long, in its two largest units: 250ms, 4.5s, 12m03s, 2h05m, 3d4h; "-" unknown.

    ms=False writes under a second in seconds too (0.2s), as the action sentences do.
    """
    if seconds is None:
        return "-"
    seconds = max(0.0, seconds)
    if ms and seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    if seconds < 3600:
        return f"{int(seconds // 60)}m{int(seconds % 60):02d}s"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h{int(seconds % 3600 // 60):02d}m"
    return f"{int(seconds // 86400)}d{int(seconds % 86400 // 3600)}h"


def duration_ms(millis: float) -> str:
    """Milliseconds, decimals kept while small: 0.042ms, 12.5ms, 250ms; from 1 s as duration."""
    if millis < 1:
        return f"{millis:.3f}ms"
    if millis < 100:
        return f"{millis:.1f}ms"
    if millis < 1000:
        return f"{millis:.0f}ms"
    return duration(millis / 1000)


def duration_us(micros: int) -> str:
    """Microseconds (the slow log's unit): 850µs, 12.5ms; from 1 s as duration (4.0s)."""
    if micros < 1000:
        return f"{micros}µs"
    return f"{micros / 1000:.1f}ms" if micros < 1_000_000 else duration(micros / 1e6)


def threshold_text(seconds: float) -> str:
    """A limit in the largest unit it is whole in, for a status line: 90s, 10m, 2h."""
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g}h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g}m"
    return f"{seconds:g}s"


def threshold_words(seconds: float) -> str:
    """A limit for a sentence, in minutes from one minute on: 30 s, 1.5 min, 10 min."""
    if seconds < 60:
        return f"{seconds:g} s"
    return f"{seconds / 60:g} min"


# -- ages ------------------------------------------------------------------------------


def age_text(seconds: float) -> str:
    """Compact age like kubectl, whole units: 5s, 119s, 3m, 119m, 2h, 47h, 4d."""
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 2 * 3600:
        return f"{seconds // 60}m"
    if seconds < 2 * 86400:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def since(moment: datetime | None, now: datetime | None = None) -> str:
    """The age_text of a moment: 3m; "-" when there is none (now defaults to the clock)."""
    if moment is None:
        return "-"
    now = now or datetime.now(UTC)
    return age_text((now - moment).total_seconds())


def ago(moment: datetime | None, now: datetime | None = None) -> str:
    """A moment's age for a sentence: 3h ago; "never" when there is none."""
    return "never" if moment is None else f"{since(moment, now)} ago"


def age_words(age: timedelta) -> str:
    """An age in hours up to two days, then days and hours: 5m, 27h, 3d, 3d 4h."""
    hours = int(age.total_seconds() // 3600)
    if hours < 48:
        return f"{hours}h" if hours else f"{int(age.total_seconds() // 60)}m"
    days, rest = divmod(hours, 24)
    return f"{days}d {rest}h" if rest else f"{days}d"


# -- sizes -----------------------------------------------------------------------------


def bytes_text(amount: float | None) -> str:
    """Bytes in kubectl top's binary units, for table cells: 512B, 1.5Ki, 768Mi; "-" unknown."""
    if amount is None:
        return "-"
    value = float(amount)
    if abs(value) < 1024:
        return f"{int(value)}B"
    value /= 1024
    unit = "Ki"
    for bigger in ("Mi", "Gi", "Ti"):
        if abs(value) < 1024:
            break
        value /= 1024
        unit = bigger
    return f"{value:.0f}{unit}" if value >= 100 else f"{value:.1f}{unit}"


def size_words(amount: float | None) -> str:
    """Bytes in binary units with a space, for sentences: 512 B, 1.5 MiB; "?" unknown."""
    if amount is None:
        return "?"
    value = float(amount)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def millicores(value: float | None) -> str:
    """CPU as kubectl top writes it: 250m, then cores from 10 on: 12.5; "-" unknown."""
    if value is None:
        return "-"
    if value >= 10_000:
        return f"{value / 1000:.1f}"
    return f"{value:.0f}m"


# PostgreSQL's own units (pg_settings, postgresql.conf): kB is 1024 bytes, case matters.
PG_MEMORY = {"B": 1, "kB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}
PG_TIME = {
    "us": 0.001,
    "ms": 1.0,
    "s": 1000.0,
    "min": 60_000.0,
    "h": 3_600_000.0,
    "d": 86_400_000.0,
}


def pg_amount(value: float, kind: str) -> str:
    """Bytes or ms in PostgreSQL's largest unit that divides them exactly: 256MB, 5min."""
    if kind == "memory":
        for name in ("TB", "GB", "MB", "kB"):
            size = PG_MEMORY[name]
            if value >= size and value % size == 0:
                return f"{int(value // size)}{name}"
        if value >= 1024 * 1024:
            return f"{value / 1024**2:.1f}MB"
        return f"{value:g}B"
    if kind == "time":
        for name in ("d", "h", "min", "s", "ms"):
            size = PG_TIME[name]
            if value >= size and value % size == 0:
                return f"{int(value // size)}{name}"
        return f"{value:g}ms"
    return f"{value:g}"


# -- rates and shares ------------------------------------------------------------------


def rate(value: float | None, unit: str = "/s") -> str:
    """A rate, one decimal while small: 0.5/s, 42/s, 1.2k/s (unit "" for "1.2k"); "-"."""
    if value is None:
        return "-"
    if value >= 1000:
        return f"{value / 1000:.1f}k{unit}"
    if value >= 10:
        return f"{value:.0f}{unit}"
    return f"{value:.1f}{unit}"


def pct(value: float | None, digits: int = 0) -> str:
    """A percentage already times 100: 42%, or 42.5% with digits=1; "-" unknown."""
    return "-" if value is None else f"{value:.{digits}f}%"
