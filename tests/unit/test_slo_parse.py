"""The access-log parser: the contract's example lines, the kubelet prefix, hostile input."""

from __future__ import annotations

import calendar
import time

import pytest

from cockpit.slo.parse import OTHER, AccessParser, kubelet_time, split_kubelet, time_local
from cockpit.slo.sample import access_line, kubelet_prefix

UPSTREAMS = {"rails": "rails", "fastapi": "fastapi"}
T0 = float(calendar.timegm((2026, 12, 6, 3, 12, 1, 0, 0, 0)))

EXAMPLES = [
    (
        '203.0.113.9 - - [06/Dec/2026:03:12:01 +0000] "GET /api/v1/files HTTP/1.1" 200 5123 "-" '
        '"Mozilla/5.0 (X11; Linux x86_64)" 412 0.123 [excel-unified-rails-service-3000] [] '
        "10.0.1.23:3000 5123 0.121 200 5f2c0a9e1b7d4c3aa1e2f3b4c5d6e7f8",
        (T0, "rails", 200, 123.0),
    ),
    (
        '198.51.100.7 - - [06/Dec/2026:03:12:01 +0000] "POST /api/ai/v1/analyze HTTP/1.1" 503 97 '
        '"-" "python-requests/2.32.3" 880 2.514 [excel-unified-fastapi-service-8000] [] '
        "10.0.2.11:8000 97 2.512 503 0c1d...",
        (T0, "fastapi", 503, 2514.0),
    ),
    (
        '198.51.100.7 - - [06/Dec/2026:03:12:02 +0000] "GET /dashboard HTTP/1.1" 502 157 "-" '
        '"Mozilla/5.0" 390 0.002 [excel-unified-rails-service-3000] [] 10.0.1.24:3000, '
        "10.0.1.25:3000 0, 157 0.001, 0.001 502, 502 9a8b...",
        (T0 + 1, "rails", 502, 2.0),
    ),
    (
        '10.0.0.1 - - [06/Dec/2026:03:12:02 +0000] "GET /healthz HTTP/1.1" 200 2 "-" '
        '"kube-probe/1.32" 120 0.000 [-] [] - - - - 1b2c...',
        (T0 + 1, None, 200, 0.0),
    ),
]


@pytest.mark.parametrize(("line", "expected"), EXAMPLES)
def test_the_contracts_examples(line: str, expected: tuple) -> None:
    record = AccessParser(UPSTREAMS).parse(line)
    assert record is not None
    assert (record.t, record.upstream, record.status, record.latency_ms) == pytest.approx(expected)
    assert record.error is (500 <= expected[2] <= 599)


def test_kubelet_time_wins_over_time_local_and_is_split_off() -> None:
    line = kubelet_prefix(T0 + 0.25) + " " + EXAMPLES[1][0]
    t, rest = split_kubelet(line)
    assert t == pytest.approx(T0 + 0.25, abs=1e-6)
    assert rest == EXAMPLES[1][0]
    record = AccessParser(UPSTREAMS).parse(rest, t)
    assert record is not None and record.t == t and record.upstream == "fastapi"
    assert kubelet_time("2026-12-06T03:12:01Z") == T0
    assert kubelet_time("2026-12-06T03:12:01.5Z") == T0 + 0.5
    for bad in ("2026-13-06T03:12:01Z", "2026-12-06T03:12:01", "２026-12-06T03:12:01Z", "x" * 30):
        assert kubelet_time(bad) is None
    assert split_kubelet("no prefix here") == (None, "no prefix here")


def test_time_local_offsets_and_nonsense() -> None:
    assert time_local("06/Dec/2026:03:12:01 +0000") == T0
    assert time_local("06/Dec/2026:05:12:01 +0200") == T0
    assert time_local("06/Dec/2026:03:12:01 -0130") == T0 + 5400
    for bad in ("06/Foo/2026:03:12:01 +0000", "", "06/Dec/2026", "06/Dec/2026:03:12:01 0000"):
        assert time_local(bad) is None


def test_upstream_matching_other_and_custom_names() -> None:
    parser = AccessParser({"web": "rails-service", "ai": "fastapi"})
    rec = parser.parse(access_line(T0, "rails"))
    assert rec is not None and rec.upstream == "web"
    rec = parser.parse(access_line(T0, "upstream-default-backend"))
    assert rec is not None and rec.upstream == OTHER  # counted in "all" only
    rec = parser.parse(access_line(T0, None))
    assert rec is not None and rec.upstream is None


def test_lines_that_are_not_access_lines_are_none() -> None:
    parser = AccessParser(UPSTREAMS)
    for line in (
        "2026/12/06 03:12:02 [error] 29#29: *1 connect() failed (111: Connection refused)",
        "2026/12/06 03:12:00 [notice] 1#1: nginx/1.25.4",
        "",
        " ",
        "[[[[[[",
        '1.2.3.4 - - [06/Dec/2026:03:12:01 +0000] "GET / HTTP/1.1" abc 1 "-" "-" 1 0.1 [x] []',
        # a request time nobody waits for
        access_line(T0).replace(" 0.050 [", " 999999.000 ["),
    ):
        assert parser.parse(line) is None, line


def test_hostile_lines_never_raise_and_stay_linear() -> None:
    parser = AccessParser(UPSTREAMS)
    good = access_line(T0, "fastapi", 500, 1.5)
    hostile = [
        "\x00\x1b[31m\x07" * 1000,
        "\ufffd" * 10_000,
        good.replace("GET", "GET \x1b]0;pwned\x07"),
        good + "\x00" * 1000,
        '1.2.3.4 - - [06/Dec/2026:03:12:01 +0000] "' + "a" * 200_000,
        "1 " + "- " * 50_000,
        "[" * 100_000,
        '"' * 100_000,
        good[: len(good) // 2],
    ]
    started = time.perf_counter()
    results = [parser.parse(line) for line in hostile]
    assert time.perf_counter() - started < 0.5
    assert results[0] is None and results[1] is None and results[4] is None
    # Controls inside the quoted request do not stop the figures from being read.
    assert results[2] is not None and results[2].status == 500
    assert results[3] is not None and results[3].latency_ms == pytest.approx(1500)
    assert results[-1] is None


def test_the_upstream_cache_stays_bounded() -> None:
    parser = AccessParser(UPSTREAMS)
    for n in range(5000):
        parser.parse(access_line(T0, f"svc-{n}"))
    assert len(parser._names) <= 1026


def test_retried_upstreams_and_the_sample_helper_round_trip() -> None:
    parser = AccessParser(UPSTREAMS)
    rec = parser.parse(access_line(T0 + 7, "rails", 502, 0.004, retried=True))
    assert rec is not None and (rec.t, rec.upstream, rec.status) == (T0 + 7, "rails", 502)
    assert rec.latency_ms == pytest.approx(4.0)
