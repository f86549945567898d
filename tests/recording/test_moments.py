"""Moments as people type them, clamped into the recording."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cockpit.recording.moments import BadMoment, parse_moment

SPAN = (datetime(2026, 12, 6, 3, 0, tzinfo=UTC), datetime(2026, 12, 6, 4, 0, tzinfo=UTC))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+5m", datetime(2026, 12, 6, 3, 5, tzinfo=UTC)),
        ("-90s", datetime(2026, 12, 6, 3, 58, 30, tzinfo=UTC)),
        ("03:12", datetime(2026, 12, 6, 3, 12, tzinfo=UTC)),
        ("03:12:04", datetime(2026, 12, 6, 3, 12, 4, tzinfo=UTC)),
        ("2026-12-06T03:12:04Z", datetime(2026, 12, 6, 3, 12, 4, tzinfo=UTC)),
        ("2026-12-06T04:12:04+01:00", datetime(2026, 12, 6, 3, 12, 4, tzinfo=UTC)),
        ("+2h", SPAN[1]),  # clamped to the end
        ("01:00", SPAN[0]),  # before the start: the start
    ],
)
def test_moments(text: str, expected: datetime) -> None:
    assert parse_moment(text, SPAN) == expected


def test_not_a_moment_says_what_would_be() -> None:
    with pytest.raises(BadMoment, match=r"03:12.*\+5m.*-90s"):
        parse_moment("yesterday", SPAN)
