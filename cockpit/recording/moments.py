"""Moments in a recording as a person types them: `03:12`, `2026-12-06T03:12:04Z`,
`+5m` (after the start), `-90s` (before the end)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

_OFFSET = re.compile(r"^([+-])(\d+(?:\.\d+)?)([smh]?)$")
_UNIT = {"s": 1, "": 1, "m": 60, "h": 3600}


class BadMoment(ValueError):
    pass


def parse_moment(text: str, span: tuple[datetime, datetime]) -> datetime:
    """The moment `text` names, clamped into the recording's span."""
    start, end = span
    text = text.strip()
    if match := _OFFSET.match(text):
        sign, number, unit = match.groups()
        delta = timedelta(seconds=float(number) * _UNIT[unit])
        moment = start + delta if sign == "+" else end - delta
    else:
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            try:
                clock = time.fromisoformat(text)
            except ValueError:
                raise BadMoment(
                    f"{text!r} is not a time: give 03:12, 03:12:04, 2026-12-06T03:12:04Z,"
                    " +5m (after the start) or -90s (before the end)"
                ) from None
            moment = datetime.combine(start.date(), clock, tzinfo=UTC)
            if moment < start and moment + timedelta(days=1) <= end:  # crossed midnight
                moment += timedelta(days=1)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    return min(max(moment, start), end)
