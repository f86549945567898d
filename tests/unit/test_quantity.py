"""Kubernetes quantities and the metrics join: the fast path agrees with the grammar."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cockpit.config import Settings
from cockpit.sources.kube.convert import cpu_millicores, memory_bytes, parse_quantity
from cockpit.sources.kube.source import top_from_metrics


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("123456789n", 123456789e-9),  # metrics-server's CPU
        ("2048Ki", 2048 * 1024.0),  # and memory
        ("250m", 0.25),
        ("3", 3.0),
        ("00012Mi", 12 * 2**20),
        ("5E", 5e18),
        ("1.5Gi", 1.5 * 2**30),  # the regex's forms
        ("1e3", 1000.0),
        ("+5", 5.0),
        (" 7 ", 7.0),
        ("-3m", -0.003),
    ],
)
def test_quantities(text: str, value: float) -> None:
    assert parse_quantity(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["", "Ki", "12e", "5Kib", "１２m", "²", "abc", "1..2m"])
def test_not_quantities(text: str) -> None:
    assert parse_quantity(text) is None


def test_units_and_rounding() -> None:
    assert cpu_millicores("1500000n") == pytest.approx(1.5)
    assert memory_bytes("1Mi") == 2**20 and memory_bytes(None) is None


def test_metrics_join_takes_the_latest_scrape_of_shared_stamps() -> None:
    items = [
        {
            "metadata": {"name": f"web-{i}"},
            "timestamp": stamp,
            "window": "30s",
            "containers": [{"usage": {"cpu": "250000000n", "memory": "1024Ki"}}],
        }
        for i, stamp in enumerate(
            ["2026-12-06T20:00:00Z", "2026-12-06T20:00:15.123456789Z", "2026-12-06T20:00:00Z", 7]
        )
    ]
    top = top_from_metrics({"items": items}, {}, Settings())
    assert top.sample_time == datetime(2026, 12, 6, 20, 0, 15, 123456, tzinfo=UTC)
    assert [round(p.cpu_m) for p in top.pods] == [250] * 4
    assert {p.mem_bytes for p in top.pods} == {2**20}
