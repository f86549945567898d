"""The early Table in pages (cockpit/sources/kube/early.py), as kubectl reads it: the first
page is painted, the other pages follow before the settings and the client, and the
full objects replace them all.  The sim has a few dozen pods, so the page sizes are made
small here (the constants are the project's own, not a client's)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest
from textual.app import App, ComposeResult

from cockpit.app import CockpitApp
from cockpit.config import Settings
from cockpit.launch import Launch
from cockpit.model import Level
from cockpit.sources.kube import early, prefetch
from cockpit.sources.kube.first_pods import table_rows
from tests.jsonhandler import JsonHandler
from tests.pilot import wait_for
from widgets.pods import PodsPane

from . import scenes

FIRST = 5


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(early, "FIRST_PAGE", FIRST)
    monkeypatch.setattr(prefetch, "SMALL_REST", 0)  # even a few more pods come in a second step


class TitleRecording(CockpitApp):
    """Remembers, at each frame it writes, the pods pane's title and whether the
    settings were in."""

    def __init__(self, launch: Launch, load_settings: Callable[[], Settings] | None = None):
        super().__init__(launch, load_settings=load_settings)
        self.titles: list[tuple[str, bool]] = []

    def _display(self, screen: Any, renderable: Any) -> None:
        if renderable is not None and self.screen_stack:
            panes = self.screen_stack[0].query(PodsPane)
            if panes and panes.first().snapshot is not None:
                title = str(getattr(panes.first(), "_title_text", ""))
                if not self.titles or self.titles[-1] != (title, self.ready):
                    self.titles.append((title, self.ready))
        super()._display(screen, renderable)


class PodsOnly(App):
    def compose(self) -> ComposeResult:
        yield PodsPane(id="pods", classes="pane")


def sim_pods(sim: Any) -> set[str]:
    return {o["metadata"]["uid"] for o in sim.list_objects("pods", scenes.NS)}


def test_the_table_comes_in_a_first_page_and_the_rest(
    make_sim: Callable[..., Any], tmp_path: Any, small_pages: None
) -> None:
    sim = make_sim("incident")
    plan = early.plan(str(sim.write_kubeconfig(tmp_path / "kubeconfig")), None, None)
    assert plan is not None
    got = early.fetch(plan)
    assert got.first.is_set() and got.done.is_set()
    first = table_rows(orjson.loads(got.pods), datetime.now(UTC))
    everyone = sim_pods(sim)
    assert len(first) == FIRST and got.pods_remaining == len(everyone) - FIRST > 0
    assert got.more_pods is not None and len(got.more_pods) == 1  # the rest in one answer
    rest = [r for body in got.more_pods for r in table_rows(orjson.loads(body), datetime.now(UTC))]
    uids = [r.uid for r in first + rest]
    assert len(uids) == len(set(uids)) and set(uids) == everyone


def test_a_whole_table_in_one_page_says_nothing_remains(
    make_sim: Callable[..., Any], tmp_path: Any
) -> None:
    sim = make_sim("incident")
    got = early.fetch(early.plan(str(sim.write_kubeconfig(tmp_path / "kc")), None, None))  # type: ignore[arg-type]
    assert got.pods_remaining is None and got.more_pods == []
    assert len(table_rows(orjson.loads(got.pods), datetime.now(UTC))) == len(sim_pods(sim))


async def test_the_first_page_is_painted_then_the_rest_before_the_settings(
    make_sim: Callable[..., Any],
    make_settings: Callable[..., Settings],
    monkeypatch: pytest.MonkeyPatch,
    small_pages: None,
) -> None:
    sim = make_sim("incident")
    settings = make_settings(sim)
    everyone = sim_pods(sim)
    monkeypatch.setenv("KUBECONFIG", str(settings.kube.kubeconfig))
    early.begin("cockpit-sim", None)
    prefetch.start(None, "cockpit-sim", None)
    assert prefetch.early_snapshot(10.0) is not None
    gate = threading.Event()
    shown_at_load: list[int] = []

    def load() -> Settings:
        panes = app.screen_stack[0].query(PodsPane)
        shown_at_load.append(len(panes.first().snapshot.pods))
        assert gate.wait(20)
        return settings

    app = TitleRecording(Launch(settings=None, context="cockpit-sim"), load)
    try:
        async with app.run_test(size=(160, 45)) as pilot:
            pods = app.query_one(PodsPane)
            await wait_for(pilot, lambda: shown_at_load, what="the settings being read")
            # The first frame: the first page, said to be one.
            title, ready = app.titles[0]
            assert f"Pods ({FIRST} of {len(everyone)}, loading)" in title and not ready
            # The rest came before the settings were read, as one more frame.
            assert shown_at_load == [len(everyone)]
            assert any(t.startswith(f"Pods ({len(everyone)})") for t, _ in app.titles)
            assert {p.uid for p in pods.snapshot.pods} == everyone
            assert pods.snapshot.provisional and pods.snapshot.remaining is None
            gate.set()
            await wait_for(pilot, lambda: app.ready, what="the settings")
            await wait_for(pilot, lambda: not pods.snapshot.provisional, what="the full list")
            assert {p.uid for p in pods.snapshot.pods} == everyone
    finally:
        gate.set()


async def test_the_selection_stays_on_its_pod_when_the_rest_of_the_table_comes() -> None:
    """The pane: a pod picked on the first page stays picked when the whole Table
    (here, a crash-looping pod that sorts first among them) replaces it."""
    whole = scenes.kube()
    healthy = [p for p in whole.pods if p.level is Level.OK]
    first = replace(whole, pods=tuple(healthy[:3]), provisional=True, remaining=len(whole.pods) - 3)
    app = PodsOnly()
    async with app.run_test(size=(160, 30)) as pilot:
        pane = app.query_one(PodsPane)
        pane.show(first)
        await pilot.pause()
        assert f"Pods (3 of {len(whole.pods)}, loading)" in str(pane._title_text)
        pane.table.focus()
        await pilot.press("down")
        picked = pane.selected_pod()
        assert picked is not None and pane.table.cursor_row == 1
        row_before = pane.table.cursor_row
        pane.show(replace(whole, provisional=True))
        await wait_for(pilot, lambda: pane.shown_order[0] == pane.sort_name and pane._shown)
        await pilot.pause()
        assert pane.selected_pod().uid == picked.uid
        assert pane.table.cursor_row != row_before  # it moved down: worse pods sort first
        assert str(pane._title_text).startswith(f"Pods ({len(whole.pods)})")


# -- a server whose later pages differ: no column definitions, or a token gone stale --


TOKEN = "t+/=x"  # characters a query string must escape


@pytest.fixture
def paging_server() -> Iterator[tuple[str, dict[str, Any]]]:
    """Pods in two pages: the first says three more follow.  `state["expired"]`: the
    continue request gets 410 Gone, as a real API server's does once etcd compacted."""
    state: dict[str, Any] = {"expired": False, "tokens": []}

    def row(name: str) -> dict[str, Any]:
        cells = [name, "1/1", "Running", "0", "5m", "10.0.0.1", "node-1"]
        return {"cells": cells, "object": {"metadata": {"name": name, "uid": f"uid-{name}"}}}

    columns = [{"name": n} for n in ("Name", "Ready", "Status", "Restarts", "Age", "IP", "Node")]

    class Handler(JsonHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            status, doc = 200, {"items": []}
            if url.path.endswith("/pods") and "continue" in query:
                state["tokens"].append(query["continue"][0])
                if state["expired"]:
                    status, doc = 410, {"kind": "Status", "code": 410, "reason": "Expired"}
                else:  # a later page without columnDefinitions
                    doc = {"kind": "Table", "metadata": {},
                           "rows": [row(f"web-{n}") for n in (3, 4, 5)]}  # fmt: skip
            elif url.path.endswith("/pods"):
                doc = {"kind": "Table", "columnDefinitions": columns,
                       "metadata": {"continue": TOKEN, "remainingItemCount": 3},
                       "rows": [row("web-1"), row("web-2")]}  # fmt: skip
            self.send_json(doc, status)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", state
    server.shutdown()
    server.server_close()


def token_kubeconfig(path: Path, server: str) -> Path:
    path.write_text(
        json.dumps(
            {
                "clusters": [{"name": "c", "cluster": {"server": server}}],
                "users": [{"name": "u", "user": {"token": "secret"}}],
                "contexts": [{"name": "ctx", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "ctx",
            }
        )
    )
    return path


def test_a_later_page_without_columns_reads_with_the_first_pages(
    paging_server: tuple[str, dict[str, Any]], tmp_path: Path
) -> None:
    url, state = paging_server
    got = early.fetch(early.plan(str(token_kubeconfig(tmp_path / "kc", url)), None, None))  # type: ignore[arg-type]
    assert got.pods_remaining == 3 and state["tokens"] == [TOKEN]  # sent back as it came
    first = table_rows(orjson.loads(got.pods), datetime.now(UTC))
    rows = prefetch._all_rows(got, first)
    assert rows is not None
    assert [(r.name, r.status, r.node) for r in rows] == [
        (f"web-{n}", "Running", "node-1") for n in range(1, 6)
    ]


def test_a_stale_continue_token_leaves_the_first_page_and_connecting_asks_again(
    paging_server: tuple[str, dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, state = paging_server
    state["expired"] = True
    monkeypatch.setattr(early, "_pending", None)
    monkeypatch.setattr(prefetch, "_pending", None)
    monkeypatch.setenv("KUBECONFIG", str(token_kubeconfig(tmp_path / "kc", url)))
    early.begin(None, None)
    prefetch.start(None, None, None)
    first = prefetch.early_snapshot(10.0)
    assert first is not None and len(first.pods) == 2 and first.remaining == 3
    prefetch.release()
    # Nothing whole to show: the first page stays, saying more are to come, and the
    # connection made with the settings will ask for the whole Table (not these rows).
    assert prefetch.early_rest(5.0) is None
    assert prefetch.early_snapshot() is first
    pre = prefetch._pending
    assert pre is not None
    pre.target = type("Target", (), {"context": "ctx", "namespace": first.namespace,
                                     "server": url})()  # fmt: skip
    assert not prefetch._early_agrees(pre)
    prefetch.provide_settings(None)  # refused: the thread ends
    assert pre.done.wait(5.0) and pre.error is None
