"""The main screen's one routing rule: a map built from the panes' declared sources."""

from __future__ import annotations

from dataclasses import dataclass

from cockpit.main_screen import routes


@dataclass
class Declared:
    name: str
    SOURCES: tuple[str, ...]


def test_one_map_routes_by_the_panes_declarations() -> None:
    workloads = Declared("workloads", ("pods",))
    pods = Declared("pods", ("pods", "top"))
    top = Declared("top", ("top",))
    table = routes([workloads, pods, top])  # type: ignore[list-item]
    assert table["pods"] == [workloads, pods]  # each pane once: no double marking
    assert table["top"] == [pods, top]
    assert "redis" not in table
