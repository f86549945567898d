"""A metrics poll at thousands of pods: the rows on screen first, the rest in chunks
between which the event loop serves keys, and in the end every row is up to date."""

from __future__ import annotations

from textual.app import App, ComposeResult

from cockpit.config import Settings
from cockpit.model import KubeSnapshot
from cockpit.sources.kube.convert import pod_row
from cockpit.sources.kube.source import top_from_metrics
from tests.app import scenes
from widgets.pods import REFRESH_CHUNK, PodsPane

PODS = 3 * REFRESH_CHUNK + 17


class PodsOnly(App):
    def compose(self) -> ComposeResult:
        yield PodsPane(id="pods", classes="pane")


def many_pods() -> KubeSnapshot:
    template = scenes.pods()[1]  # a Running rails pod
    raws = []
    for n in range(PODS):
        raw = {
            **template,
            "metadata": {**template["metadata"], "name": f"rails-x-{n:05d}", "uid": f"uid-{n:05d}"},
        }
        raws.append(raw)
    return KubeSnapshot("cockpit-sim", scenes.NS, tuple(pod_row(r) for r in raws), (), scenes.NOW)


def metrics(snapshot: KubeSnapshot, millicores: int):
    raw = {
        "items": [
            {
                "metadata": {"name": p.name},
                "timestamp": scenes.ts(7),
                "window": "15s",
                "containers": [
                    {"name": "c", "usage": {"cpu": f"{millicores}m", "memory": "100Mi"}}
                ],
            }
            for p in snapshot.pods
        ]
    }
    return top_from_metrics(raw, {p.name: p for p in snapshot.pods}, Settings())


def cpu_text(pane: PodsPane, uid: str) -> str:
    cells = pane.table.row_cells(uid)
    assert cells is not None
    return " ".join(str(c.text) for c in cells)


async def test_usage_refresh_is_chunked_and_complete() -> None:
    app = PodsOnly()
    async with app.run_test(size=(160, 30)) as pilot:
        pane = app.query_one(PodsPane)
        snapshot = many_pods()
        pane.show(snapshot)
        pane.show_usage(metrics(snapshot, 111))
        await pilot.pause(0.5)
        order = pane.table.keys_in_order()
        assert len(order) == PODS and all("111m" in cpu_text(pane, u) for u in order)

        pane.show_usage(metrics(snapshot, 222))
        # At once: the rows on screen; the last rows wait for later turns of the loop.
        assert "222m" in cpu_text(pane, order[0])
        assert "111m" in cpu_text(pane, order[-1])
        assert pane._pending
        await pilot.pause(0.5)
        assert not pane._pending
        assert all("222m" in cpu_text(pane, u) for u in order)
