"""A metrics poll at thousands of pods: the rows on screen are rebuilt at once, the rest
only when they are drawn or read, and then they are up to date."""

from __future__ import annotations

from dataclasses import replace

from textual.app import App, ComposeResult

from cockpit.config import Settings
from cockpit.model import KubeSnapshot
from cockpit.sources.kube.convert import pod_row
from cockpit.sources.kube.source import top_from_metrics
from tests.app import scenes
from widgets.pods import BUILD_LATER_AT, COLUMNS, PodsPane
from widgets.vtable import row_widths

PODS = 767


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


def shown_text(pane: PodsPane, uid: str) -> str:
    """What the table holds for the row now, without asking for a rebuild."""
    return " ".join(str(c.text) for c in pane.table._cells[uid])


async def test_usage_refresh_rebuilds_what_is_seen_and_the_rest_when_looked_at() -> None:
    app = PodsOnly()
    async with app.run_test(size=(160, 30)) as pilot:
        pane = app.query_one(PodsPane)
        snapshot = many_pods()
        pane.show(snapshot)
        pane.show_usage(metrics(snapshot, 111))
        await pilot.pause()
        order = pane.table.keys_in_order()
        assert len(order) == PODS and all("111m" in cpu_text(pane, u) for u in order)

        pane.show_usage(metrics(snapshot, 222))
        # At once: the rows on screen; the last rows are not rebuilt...
        assert "222m" in shown_text(pane, order[0])
        assert "111m" in shown_text(pane, order[-1])
        await pilot.pause()
        assert "111m" in shown_text(pane, order[-1])
        # ...until drawn (scrolled to) or read.
        pane.table.focus()
        await pilot.press("end")
        await pilot.pause()
        assert "222m" in shown_text(pane, order[-1])
        assert "111m" in shown_text(pane, order[PODS // 2])
        assert "222m" in cpu_text(pane, order[PODS // 2])
        assert all("222m" in cpu_text(pane, u) for u in order)
        line = pane.table.render_line(pane.table.size.height - 1)
        assert "222m" in line.text

        # Every row again (the order may move): the rows on screen at once, the rest
        # when drawn or read, as above.
        pane.show_usage(metrics(snapshot, 333))
        pane.render_rows()
        await pilot.pause()
        assert "333m" in pane.table.render_line(pane.table.size.height - 1).text
        assert all("333m" in cpu_text(pane, u) for u in order)


async def test_the_same_pods_as_new_objects_rebuild_what_is_seen_first() -> None:
    """The full objects replacing the first screen's provisional rows (same pods, same
    order): the rows on screen at once, the rest when drawn or read; the selection
    stays where it was."""
    app = PodsOnly()
    async with app.run_test(size=(160, 30)) as pilot:
        pane = app.query_one(PodsPane)
        first = many_pods()
        pane.show(first)
        await pilot.pause()
        pane.table.focus()
        await pilot.press("down", "down")
        selected = pane.table.selected_key
        order = pane.table.keys_in_order()
        assert all("node-new" not in shown_text(pane, u) for u in order)

        moved = tuple(replace(p, node="node-new") for p in first.pods)
        pane.show(replace(first, pods=moved))
        assert pane.table.keys_in_order() == order
        assert pane.table.selected_key == selected
        assert "node-new" in shown_text(pane, order[0])  # on screen: now
        assert "node-new" not in shown_text(pane, order[-1])  # not drawn yet
        assert "node-new" in cpu_text(pane, order[-1])  # read: rebuilt then
        await pilot.press("end")
        await pilot.pause()
        assert "node-new" in pane.table.render_line(pane.table.size.height - 1).text
        assert pane.selected_pod() is not None and pane.selected_pod().node == "node-new"

        # A pod gone, one come, the rest new objects (the node moved again): only the
        # newcomer's cells are built now, the others on screen at once or when read,
        # and the selection stays on its pod.
        await pilot.press("home", "down", "down")
        selected = pane.table.selected_key
        again = tuple(replace(p, node="node-newer") for p in moved[1:])
        newcomer = replace(again[0], uid="uid-new", name="rails-x-new")
        pane.show(replace(first, pods=(*again, newcomer)))
        await pilot.pause()
        keys = pane.table.keys_in_order()
        assert sorted(keys) == sorted([*(p.uid for p in again), "uid-new"])
        assert pane.table.selected_key == selected
        assert "rails-x-new" in shown_text(pane, "uid-new")
        assert "node-newer" in shown_text(pane, keys[0])  # on screen
        far = keys[-1] if keys[-1] != "uid-new" else keys[-2]
        assert "node-newer" not in shown_text(pane, far)  # not built: not seen yet
        assert all("node-newer" in cpu_text(pane, u) for u in keys)  # read: current


async def test_thousands_of_new_rows_draw_the_screenful_first_and_the_rest_after() -> None:
    """The first screen at thousands of pods: only the rows on screen are built before
    its paint; the rest follow a chunk per turn of the loop, and then every row has its
    cells and the columns fit them all (a long name far down the list included)."""
    template = many_pods().pods[0]
    count = BUILD_LATER_AT * 3
    pods = [replace(template, uid=f"uid-{n:05d}", name=f"rails-x-{n:05d}") for n in range(count)]
    pods[-1] = replace(pods[-1], name="rails-x-" + "long" * 8)  # sorts last
    app = PodsOnly()
    async with app.run_test(size=(160, 30)) as pilot:
        pane = app.query_one(PodsPane)
        table = pane.table
        pane.show(KubeSnapshot("cockpit-sim", scenes.NS, tuple(pods), (), scenes.NOW))
        order = table.keys_in_order()
        assert len(order) == count
        assert "rails-x-00000" in shown_text(pane, order[0])  # on screen: built
        assert shown_text(pane, order[-1]).strip() == ""  # not yet
        name_width = table._widths[0]
        assert name_width < len(pods[-1].name)
        for _ in range(20):
            await pilot.pause()
            if not table._stale:
                break
        assert not table._stale
        assert pods[-1].name in shown_text(pane, order[-1])
        expected = [len(label) for _, label in COLUMNS]
        for cells in table._cells.values():
            expected = [max(a, b) for a, b in zip(expected, row_widths(cells), strict=True)]
        assert table._widths == tuple(expected)
        assert table._widths[0] == len(pods[-1].name)
