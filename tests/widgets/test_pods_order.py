"""Sorting (`S`) and filtering (`/`) thousands of pods off the event loop: the title says
the new sort or filter at once, the rows follow in the right order, the selection stays
on its pod, and typing fast only computes the newest filter."""

from __future__ import annotations

import threading
from typing import Any

from textual import events
from textual.app import App, ComposeResult

from cockpit.model import KubeSnapshot
from cockpit.sources.kube.convert import pod_row
from tests.app import scenes
from tests.pilot import wait_for
from widgets.filter import FilterBar, matcher
from widgets.offloop import Newest
from widgets.podorder import SORTS, PodOrder, search_text
from widgets.pods import INLINE_ROWS, PodsPane

PODS = 3000
assert PODS > INLINE_ROWS  # the worker's path, not the inline one


class PodsOnly(App):
    def compose(self) -> ComposeResult:
        yield PodsPane(id="pods", classes="pane")


def many_pods() -> KubeSnapshot:
    """Copies of the scene's pods (running, crashing, pending...), names numbered."""
    templates = scenes.pods()
    raws = []
    for n in range(PODS):
        t = templates[n % len(templates)]
        meta = {**t["metadata"], "name": f"{t['metadata']['name']}-{n:05d}", "uid": f"u{n:05d}"}
        raws.append({**t, "metadata": meta})
    return KubeSnapshot("cockpit-sim", scenes.NS, tuple(pod_row(r) for r in raws), (), scenes.NOW)


def expected(snapshot: KubeSnapshot, sort_name: str, needle: str = "") -> list[str]:
    """The order computed plainly, as the pane did on the loop before."""
    key = SORTS[sort_name]
    pods = [p for p in snapshot.pods if needle.lower() in search_text(p).lower()]
    return [p.uid for p in sorted(pods, key=lambda p: key(p, None))]


async def type_keys(pilot: Any, text: str) -> None:
    """Characters as a terminal sends them, all posted before the app handles any."""
    for char in text:
        pilot.app.post_message(events.Key(char if char.isalnum() else "slash", char))


async def shown_pods(pilot: Any) -> tuple[PodsPane, KubeSnapshot]:
    """The pane showing PODS pods, every row on the table, the table focused."""
    pane = pilot.app.query_one(PodsPane)
    snapshot = many_pods()
    pane.show(snapshot)
    await wait_for(pilot, lambda: pane.table.row_count == PODS, what="the rows")
    pane.table.focus()
    return pane, snapshot


async def test_sort_key_reorders_off_the_loop_and_keeps_the_selection() -> None:
    app = PodsOnly()
    async with app.run_test(size=(160, 30)) as pilot:
        pane, snapshot = await shown_pods(pilot)
        assert pane.table.keys_in_order() == expected(snapshot, "worst first")
        chosen = expected(snapshot, "worst first")[40]
        assert pane.table.select_key(chosen)

        # The next sort (S goes round them in turn) is done ahead in the worker.
        order = pane._order
        assert order is not None
        await wait_for(pilot, lambda: order.known("name", None), what="name sorted ahead")
        for sort_name in list(SORTS)[1:4]:  # name, age, restarts
            pane.action_cycle_sort()
            # The sort indicator changes at once; the rows once the order is ready.
            assert f"sort: {sort_name}" in str(pane.border_title)
            await wait_for(pilot, lambda s=sort_name: pane.shown_order[0] == s, what=sort_name)
            assert pane.table.keys_in_order() == expected(snapshot, sort_name)
            assert pane.table.selected_key == chosen

        await pilot.press("S")  # the key itself, through the pane's binding: cpu
        await wait_for(pilot, lambda: pane.shown_order[0] == "cpu", what="the cpu sort")
        assert pane.table.keys_in_order() == expected(snapshot, "cpu")
        assert pane.table.selected_key == chosen


async def test_typed_filter_shows_the_newest_text_and_keeps_the_selection() -> None:
    app = PodsOnly()
    async with app.run_test(size=(160, 30)) as pilot:
        pane, snapshot = await shown_pods(pilot)
        chosen = next(uid for uid in expected(snapshot, "worst first", "0042"))
        assert pane.table.select_key(chosen)

        pane.action_filter()
        await wait_for(pilot, lambda: isinstance(app.focused, FilterBar), what="the bar")
        await type_keys(pilot, "00")
        await type_keys(pilot, "42")
        await wait_for(pilot, lambda: pane.shown_order == ("worst first", "0042"), what="0042")
        shown = pane.table.keys_in_order()
        assert shown == expected(snapshot, "worst first", "0042") and 0 < len(shown) < PODS
        assert pane.table.selected_key == chosen
        assert f"({len(shown)}/{PODS})" in str(pane.border_title)

        # Cleared (Escape): every pod again, the selection still on the same pod.
        await pilot.press("escape")
        await wait_for(pilot, lambda: pane.shown_order == ("worst first", ""), what="no filter")
        assert pane.table.keys_in_order() == expected(snapshot, "worst first")
        assert pane.table.selected_key == chosen
        assert "filter on" not in str(pane.border_title)


async def test_only_the_newest_request_is_computed_and_delivered() -> None:
    app = PodsOnly()
    async with app.run_test(size=(80, 10)) as pilot:
        pane = app.query_one(PodsPane)
        newest: Newest[str] = Newest(pane, "test-order")
        release = threading.Event()
        computed: list[str] = []
        delivered: list[str] = []

        def compute(text: str) -> str:
            if not computed:
                release.wait(5)  # the first one runs long: the others queue up behind it
            computed.append(text)
            return text

        for text in ("a", "ab", "abc", "abcd"):
            newest.request(lambda t=text: compute(t), delivered.append)
            await pilot.pause(0.05)
        release.set()
        await wait_for(pilot, lambda: not newest.busy, what="the worker done")
        # "a" was under way when the rest came: dropped; "ab" and "abc" never computed.
        assert computed == ["a", "abcd"] and delivered == ["abcd"]

        newest.request(lambda: compute("late"), delivered.append)
        newest.cancel()  # a newer answer came from elsewhere: this one is dropped
        await wait_for(pilot, lambda: not newest.busy, what="the worker done")
        assert delivered == ["abcd"]
        newest.close()


def test_an_unfiltered_order_is_made_once_per_pod_list() -> None:
    """`S` round the sorts: each sort's uids are built once per pod list (and the usage
    sorts once per metrics poll), filtered ones each time."""
    snapshot = many_pods()
    order = PodOrder(snapshot.pods, {})
    by_name = order.keys("name", None)
    assert by_name == expected(snapshot, "name") and order.keys("name", None) is by_name
    assert order.keys("cpu", None) is order.keys("cpu", None)
    filtered = order.keys("name", matcher("7"))
    assert filtered == expected(snapshot, "name", "7") and filtered is not by_name
    newer = order.with_usage({})  # new metrics, the same pods
    assert newer.keys("name", None) is by_name  # carried over
    assert newer.keys("cpu", None) is not order.keys("cpu", None)  # made anew
    assert PodOrder(list(snapshot.pods), {}).keys("name", None) is not by_name  # a new list
