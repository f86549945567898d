"""The app shell: starts, shows context/namespace/mode, quits cleanly (issue 2)."""

from __future__ import annotations

import threading

from cockpit.model import Level
from tests.pilot import cockpit_running
from widgets.header import CockpitHeader
from widgets.help import HelpScreen
from widgets.pods import PodsPane
from widgets.warroom import WarRoomScreen

from .conftest import wait_for


async def test_starts_shows_target_and_quits_without_stray_threads(make_sim, make_app) -> None:
    before = {t.ident for t in threading.enumerate()}
    sim = make_sim("healthy")
    app = make_app(sim)
    async with cockpit_running(app, size=(160, 45)) as pilot:
        header = app.query_one(CockpitHeader)
        await wait_for(pilot, lambda: header.context == "cockpit-sim", what="the context")
        assert header.namespace == "excel-unified"
        assert header.mode == "ARMED"
        pods = app.query_one(PodsPane)
        await wait_for(pilot, lambda: pods.snapshot is not None, what="pods")
        await pilot.press("q")
        await pilot.pause(0.5)
    assert not app.is_running
    sim.stop()
    leftover = [
        t
        for t in threading.enumerate()
        if t.ident not in before
        and t.is_alive()
        and not t.name.startswith(("asyncio", "ThreadPoolExecutor", "cockpit-io"))
    ]
    assert leftover == [], [t.name for t in leftover]


async def test_read_only_and_dry_run_modes_are_in_the_header(make_sim, make_app) -> None:
    sim = make_sim("healthy")
    for overrides, mode in (({"read_only": True}, "READ-ONLY"), ({"dry_run": True}, "DRY-RUN")):
        app = make_app(sim, **overrides)
        async with cockpit_running(app, size=(160, 45)) as pilot:
            header = app.query_one(CockpitHeader)
            await wait_for(pilot, lambda h=header: h.context == "cockpit-sim", what="connect")
            assert header.mode == mode
            rendered = str(header.render())
            assert mode in rendered


async def test_help_lists_every_key_and_war_room_toggles(make_sim, make_app) -> None:
    sim = make_sim("incident")
    app = make_app(sim)
    async with cockpit_running(app, size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.query_one(PodsPane).snapshot is not None, what="pods")
        before = app.collector.last_input
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        assert app.collector.last_input > before  # a key puts the full collection off
        groups = dict(app.key_groups())
        everywhere = {key for key, _ in groups["Everywhere"]}
        assert {"q", "question_mark", "z", "w"} <= everywhere
        assert any(key == "ctrl+d" for key, _ in groups["Pods pane"])
        await pilot.press("escape")
        await pilot.press("w")
        await wait_for(pilot, lambda: isinstance(app.screen, WarRoomScreen), what="war room")

        def pods_figure() -> str:
            return next(f.value for f in app.figures() if f.key == "pods")

        await wait_for(pilot, lambda: pods_figure() not in ("-", "0"), what="figures")
        figures = {f.key: f for f in app.figures()}
        assert figures["pods"].level is Level.CRIT  # crash-looping and OOMKilled pods
        await pilot.press("w")
        await wait_for(pilot, lambda: not isinstance(app.screen, WarRoomScreen), what="back")


async def test_a_broken_kubeconfig_is_a_message_not_a_crash(make_app, tmp_path) -> None:
    bad = tmp_path / "broken-kubeconfig"
    bad.write_text("apiVersion: v1\nclusters: [this is: not: valid\n")
    app = make_app(None, kube={"kubeconfig": bad, "context": None})
    async with cockpit_running(app, size=(160, 45)) as pilot:
        pods = app.query_one(PodsPane)
        await wait_for(pilot, lambda: pods.failure is not None, what="a failure")
        assert str(bad) in pods.failure.message
        assert pods.has_class("stale")
        assert app.is_running  # the rest of the cockpit keeps going
