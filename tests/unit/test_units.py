"""cockpit.units: every format with its edges (unknown, zero, negative, unit boundaries)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cockpit.units import (
    age_text,
    age_words,
    ago,
    bytes_text,
    duration,
    duration_ms,
    duration_us,
    millicores,
    pct,
    pg_amount,
    rate,
    since,
    size_words,
    threshold_text,
    threshold_words,
)

NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
KI, MI, GI, TI = 1024, 1024**2, 1024**3, 1024**4
DAY = 86_400


# -- durations -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (None, "-"),
        (0, "0ms"),
        (-5, "0ms"),  # a clock skew is not a negative duration
        (0.25, "250ms"),
        (0.9994, "999ms"),
        (1, "1.0s"),
        (59.9, "59.9s"),
        (59.96, "60.0s"),  # rounded, still under a minute
        (60, "1m00s"),
        (61.7, "1m01s"),
        (3599, "59m59s"),
        (3600, "1h00m"),
        (2 * 3600 + 5 * 60 + 59, "2h05m"),
        (DAY - 1, "23h59m"),
        (DAY, "1d0h"),
        (2 * DAY, "2d0h"),
        (2 * DAY + 3 * 3600 + 59 * 60, "2d3h"),
    ],
)
def test_duration(seconds: float | None, shown: str) -> None:
    assert duration(seconds) == shown


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (None, "-"),
        (0, "0.0s"),
        (-5, "0.0s"),
        (0.4, "0.4s"),
        (59.9, "59.9s"),
        (60, "1m00s"),
        (723, "12m03s"),
        (3599, "59m59s"),
        (3600, "1h00m"),
        (2 * DAY, "2d0h"),
    ],
)
def test_duration_without_milliseconds(seconds: float | None, shown: str) -> None:
    assert duration(seconds, ms=False) == shown


@pytest.mark.parametrize(
    ("millis", "shown"),
    [
        (0, "0.000ms"),
        (0.042, "0.042ms"),
        (1, "1.0ms"),
        (12.5, "12.5ms"),
        (99.9, "99.9ms"),
        (100, "100ms"),
        (999, "999ms"),
        (1000, "1.0s"),
        (90_000, "1m30s"),
        (3_600_000, "1h00m"),
    ],
)
def test_duration_ms(millis: float, shown: str) -> None:
    assert duration_ms(millis) == shown


@pytest.mark.parametrize(
    ("micros", "shown"),
    [
        (0, "0µs"),
        (999, "999µs"),
        (1000, "1.0ms"),
        (12_500, "12.5ms"),
        (999_999, "1000.0ms"),  # under a second stays in ms
        (1_000_000, "1.0s"),
        (90_000_000, "1m30s"),
    ],
)
def test_duration_us(micros: int, shown: str) -> None:
    assert duration_us(micros) == shown


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0, "0s"),
        (30.5, "30.5s"),
        (59, "59s"),
        (60, "1m"),
        (90, "90s"),  # not whole minutes: seconds
        (600, "10m"),
        (3599, "3599s"),
        (3600, "1h"),
        (5400, "90m"),  # not whole hours: minutes
        (7200, "2h"),
        (2 * DAY, "48h"),
    ],
)
def test_threshold_text(seconds: float, shown: str) -> None:
    assert threshold_text(seconds) == shown


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0, "0 s"),
        (30, "30 s"),
        (59.9, "59.9 s"),
        (60, "1 min"),
        (90, "1.5 min"),
        (600, "10 min"),
        (7200, "120 min"),
    ],
)
def test_threshold_words(seconds: float, shown: str) -> None:
    assert threshold_words(seconds) == shown


# -- ages ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0, "0s"),
        (-5, "0s"),
        (5.9, "5s"),  # whole seconds, never rounded up
        (59.9, "59s"),
        (60, "60s"),
        (119, "119s"),
        (120, "2m"),
        (3599, "59m"),
        (2 * 3600 - 1, "119m"),
        (2 * 3600, "2h"),
        (2 * DAY - 1, "47h"),
        (2 * DAY, "2d"),
        (4 * DAY + 23 * 3600, "4d"),
    ],
)
def test_age_text(seconds: float, shown: str) -> None:
    assert age_text(seconds) == shown


def test_since_and_ago() -> None:
    assert since(None, NOW) == "-"
    assert since(NOW - timedelta(minutes=3, seconds=59), NOW) == "3m"
    assert since(NOW + timedelta(minutes=5), NOW) == "0s"  # a moment ahead of our clock
    assert since(datetime.now(UTC) - timedelta(hours=3)) == "3h"  # now: the clock
    assert ago(None, NOW) == "never"
    assert ago(NOW - timedelta(hours=3), NOW) == "3h ago"
    assert ago(NOW - timedelta(days=2), NOW) == "2d ago"
    assert ago(datetime.now(UTC) - timedelta(seconds=30)).endswith("s ago")


@pytest.mark.parametrize(
    ("age", "shown"),
    [
        (timedelta(0), "0m"),
        (timedelta(seconds=59), "0m"),
        (timedelta(minutes=5), "5m"),
        (timedelta(minutes=59, seconds=59), "59m"),
        (timedelta(hours=1), "1h"),
        (timedelta(hours=27), "27h"),
        (timedelta(hours=47, minutes=59), "47h"),
        (timedelta(days=2), "2d"),
        (timedelta(days=3), "3d"),
        (timedelta(days=3, hours=4), "3d 4h"),
    ],
)
def test_age_words(age: timedelta, shown: str) -> None:
    assert age_words(age) == shown


# -- sizes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (None, "-"),
        (0, "0B"),
        (1023, "1023B"),
        (1023.9, "1023B"),  # bytes are whole
        (1024, "1.0Ki"),
        (1536, "1.5Ki"),
        (99.9 * KI, "99.9Ki"),
        (100 * KI, "100Ki"),
        (MI - 1, "1024Ki"),  # just under a Mi: rounded, still Ki
        (MI, "1.0Mi"),
        (768 * MI, "768Mi"),
        (GI, "1.0Gi"),
        (5 * TI, "5.0Ti"),
        (2048 * TI, "2048Ti"),  # Ti is the largest unit
        (-512, "-512B"),
        (-2048, "-2.0Ki"),
    ],
)
def test_bytes_text(amount: float | None, shown: str) -> None:
    assert bytes_text(amount) == shown


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (None, "?"),
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1.0 KiB"),
        (1.5 * MI, "1.5 MiB"),
        (768 * MI, "768.0 MiB"),
        (GI, "1.0 GiB"),
        (TI, "1.0 TiB"),
        (2048 * TI, "2048.0 TiB"),
        (-100, "-100 B"),
    ],
)
def test_size_words(amount: float | None, shown: str) -> None:
    assert size_words(amount) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [(None, "-"), (0, "0m"), (250, "250m"), (9999, "9999m"), (10_000, "10.0"), (12_500, "12.5")],
)
def test_millicores(value: float | None, shown: str) -> None:
    assert millicores(value) == shown


@pytest.mark.parametrize(
    ("value", "kind", "shown"),
    [
        (256 * MI, "memory", "256MB"),
        (1536 * KI, "memory", "1536kB"),  # exact, so not 1.5MB
        (GI, "memory", "1GB"),
        (TI, "memory", "1TB"),
        (8192, "memory", "8kB"),
        (MI + 1, "memory", "1.0MB"),  # no exact unit: MB with a decimal
        (1000, "memory", "1000B"),
        (0, "memory", "0B"),
        (5 * 60_000, "time", "5min"),
        (1000, "time", "1s"),
        (1500, "time", "1500ms"),
        (3_600_000, "time", "1h"),
        (86_400_000, "time", "1d"),
        (0.5, "time", "0.5ms"),
        (0, "time", "0ms"),
        (100, "", "100"),
        (0.5, "", "0.5"),
    ],
)
def test_pg_amount(value: float, kind: str, shown: str) -> None:
    assert pg_amount(value, kind) == shown


# -- rates and shares ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (None, "/s", "-"),
        (0, "/s", "0.0/s"),
        (0.5, "/s", "0.5/s"),
        (9.94, "/s", "9.9/s"),
        (10, "/s", "10/s"),
        (999, "/s", "999/s"),
        (1000, "/s", "1.0k/s"),
        (1500, "", "1.5k"),
        (42, " ops/s", "42 ops/s"),
        (-5, "/s", "-5.0/s"),
    ],
)
def test_rate(value: float | None, unit: str, shown: str) -> None:
    assert rate(value, unit) == shown


def test_pct() -> None:
    assert pct(None) == "-"
    assert pct(0) == "0%"
    assert pct(42.4) == "42%"
    assert pct(42.46, 1) == "42.5%"
    assert pct(100) == "100%"
    assert pct(-1) == "-1%"


def test_imports_nothing_of_textual_rich_or_widgets() -> None:
    code = (
        "import sys, cockpit.units; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich', 'widgets')))"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=60
    )
    assert done.stdout.strip() == "[]", done.stderr
