"""One nginx access-log line in ingress-nginx's "upstreaminfo" format -> what the SLOs need.

    $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent
    "$http_referer" "$http_user_agent" $request_length $request_time
    [$proxy_upstream_name] [$proxy_alternative_upstream_name] $upstream_addr ...

Only the head of the line is matched: the `$upstream_*` fields after the upstream name
may be "-" or comma-separated lists and are not needed (latency is `$request_time`,
what the user waited).  nginx escapes `"` inside variables as `\\x22`, so a quoted
field never contains a raw quote.  Every input is untrusted: any text gives a record
or None, never an exception, in time linear in its length.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from typing import NamedTuple

# Possessive quantifiers: a hostile line fails in one pass instead of backtracking.
_LINE = re.compile(
    r"[^ \[]*+ [^\[]*+\[([^\]]{1,40})\] "  # $remote_addr - $remote_user [$time_local]
    r'"[^"]*+" (\d{3}) [^ ]*+ "[^"]*+" "[^"]*+" '  # "$request" $status $bytes "ref" "ua"
    r"[^ ]*+ (\d{1,9}(?:\.\d{1,9})?) \[([^\]]{0,300})\] \["  # $request_length $request_time
)
MAX_LINE = 65_536  # longer is not an access line we can trust (and not worth matching)
MAX_LATENCY_MS = 24 * 3600 * 1000.0  # nginx's own timeouts are far shorter
NO_UPSTREAM = "-"  # `[-]`: nginx answered itself (probes, redirects, 404 of no route)
OTHER = ""  # an upstream none of the configured names matches: counted in "all" only
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTHS = {m: i for i, m in enumerate(_MONTH_NAMES, 1)}


class Access(NamedTuple):
    """One request: when it ended, whose it was, how it went, how long the user waited."""

    t: float | None  # epoch seconds (the kubelet's timestamp, else $time_local)
    upstream: str | None  # a configured name, OTHER, or None for `[-]`
    status: int
    latency_ms: float

    @property
    def error(self) -> bool:
        return 500 <= self.status <= 599


def time_local(text: str) -> float | None:
    """`06/Dec/2026:03:12:01 +0000` -> epoch seconds; None when it is not that."""
    try:
        day, month, rest = text.split("/", 2)
        year, hh, mm, rest = rest.split(":", 3)
        ss, zone = rest.split(" ", 1)
        mon = _MONTHS[month]
        sign = -1 if zone[0] == "-" else 1
        if zone[0] not in "+-" or len(zone) != 5:
            return None
        offset = sign * (int(zone[1:3]) * 3600 + int(zone[3:5]) * 60)
        stamp = calendar.timegm((int(year), mon, int(day), int(hh), int(mm), int(ss), 0, 0, 0))
    except (ValueError, KeyError, IndexError, OverflowError):
        return None
    return float(stamp - offset)


def kubelet_time(text: str) -> float | None:
    """The kubelet's RFC 3339 prefix (`2026-12-06T03:12:01.123456789Z`) -> epoch seconds.

    Only UTC ("Z"), which is what the kubelet writes; anything else is None.
    """
    if len(text) < 20 or text[-1] != "Z" or text[10] != "T":
        return None
    whole = _whole_second(text[:19])
    if whole is None:
        return None
    rest = text[19:-1]
    if not rest:
        return whole
    digits = rest[1:10]
    if rest[0] != "." or not (digits.isascii() and digits.isdigit()):
        return None
    return whole + int(digits) / 10 ** len(digits)


_SECOND_CACHE: dict[str, float] = {}


def _whole_second(head: str) -> float | None:
    """ "2026-12-06T03:12:01" -> epoch; lines of one second share it (a small cache)."""
    hit = _SECOND_CACHE.get(head)
    if hit is not None:
        return hit
    digits = head[0:4] + head[5:7] + head[8:10] + head[11:13] + head[14:16] + head[17:19]
    if not (
        len(head) == 19
        and head[4] == head[7] == "-"
        and head[13] == head[16] == ":"
        and digits.isascii()
        and digits.isdigit()
    ):
        return None
    year, month, day = int(digits[0:4]), int(digits[4:6]), int(digits[6:8])
    hh, mm, ss = int(digits[8:10]), int(digits[10:12]), int(digits[12:14])
    if not (1 <= month <= 12 and 1 <= day <= 31 and hh < 24 and mm < 60 and ss < 61):
        return None
    stamp = float(calendar.timegm((year, month, day, hh, mm, ss, 0, 0, 0)))
    if len(_SECOND_CACHE) > 4096:
        _SECOND_CACHE.clear()
    _SECOND_CACHE[head] = stamp
    return stamp


def split_kubelet(line: str) -> tuple[float | None, str]:
    """`timestamps=true`'s prefix split off: (epoch seconds or None, the rest)."""
    head, sep, rest = line.partition(" ")
    if sep and len(head) <= 40:
        t = kubelet_time(head)
        if t is not None:
            return t, rest
    return None, line


class AccessParser:
    """Parses lines against the configured upstreams (shown name -> text in the name)."""

    def __init__(self, upstreams: Mapping[str, str]) -> None:
        self._rules = [(name, needle) for name, needle in upstreams.items() if needle]
        self._names: dict[str, str | None] = {NO_UPSTREAM: None, "": None}
        self._times: dict[str, float | None] = {}

    def upstream(self, proxy_upstream_name: str) -> str | None:
        try:
            return self._names[proxy_upstream_name]
        except KeyError:
            pass
        shown = next((n for n, needle in self._rules if needle in proxy_upstream_name), OTHER)
        if len(self._names) > 1024:  # hostile variety: stay bounded
            self._names = {NO_UPSTREAM: None, "": None}
        self._names[proxy_upstream_name] = shown
        return shown

    def parse(self, text: str, t: float | None = None) -> Access | None:
        """The access record of `text` (the kubelet prefix already split off), else None.

        `t` is the kubelet's time of the line when known; otherwise `$time_local`.
        """
        if len(text) > MAX_LINE:
            return None
        m = _LINE.match(text)
        if m is None:
            return None
        stamp, status, request_time, upstream = m.groups()
        if t is None:
            t = self._times.get(stamp)
            if t is None:
                t = time_local(stamp)
                if t is None:
                    return None
                if len(self._times) > 256:
                    self._times.clear()
                self._times[stamp] = t
        latency_ms = float(request_time) * 1000.0
        if latency_ms > MAX_LATENCY_MS:
            return None
        return Access(t, self.upstream(upstream), int(status), latency_ms)
