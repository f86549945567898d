"""The first screen is the pods pane alone; the panes around it follow, missing nothing.

The main screen mounts the pods pane first and the other twelve once the first pods
have been drawn (cockpit/main_screen.py).  What came for those panes in between is
held and shown once they are there, and a pane that shows the pods too (Workloads) gets
the pods shown before it existed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cockpit.app import CockpitApp, Launch
from cockpit.config import KubeSettings, Settings
from cockpit.main_screen import SnapshotReady
from cockpit.sources.kube import early, prefetch
from tests.pilot import cockpit_running
from widgets.errorlog import ErrorLogPane
from widgets.pods import PodsPane
from widgets.postgres import PostgresPane
from widgets.workloads import WorkloadsPane

from . import scenes
from .conftest import wait_for
from .static_app import StaticCockpitApp

SCREEN_ORDER = [
    "slo", "health", "alerts", "workloads", "top", "pods", "errorlog", "events",
    "postgres", "redis", "backups", "disk", "host",
]  # fmt: skip


async def test_the_panes_around_the_pods_come_after_them_and_miss_nothing(
    tmp_path: Path,
) -> None:
    settings = Settings(
        journal_path=tmp_path / "journal.jsonl", kube=KubeSettings(context="cockpit-sim")
    )
    app = StaticCockpitApp(Launch(settings=settings, context="cockpit-sim"))
    async with app.run_test(size=(160, 45)) as pilot:
        main = app.main
        # PostgreSQL and the error log answer before Kubernetes: nobody shows them yet.
        main.post_message(SnapshotReady("postgres", scenes.postgres()))
        main.post_message(SnapshotReady("logs", scenes.logs()))
        kube = scenes.kube()
        main.post_message(SnapshotReady("pods", kube))
        await wait_for(pilot, lambda: main.later_mounted, what="the panes around the pods")
        # In screen order: the number keys go by it.
        assert [pane.id for pane in main.panes] == SCREEN_ORDER
        await wait_for(pilot, lambda: app.query_one(PostgresPane).taken_at is not None)
        errorlog = app.query_one(ErrorLogPane)
        await wait_for(pilot, lambda: errorlog.taken_at is not None, what="the held log batch")
        assert app.query_one(WorkloadsPane).snapshot is kube  # the pods it missed
        assert app.query_one(PodsPane).snapshot is kube
        # And they route as any pane does from now on.
        later = scenes.kube()
        main.post_message(SnapshotReady("pods", later))
        await wait_for(pilot, lambda: app.query_one(WorkloadsPane).snapshot is later)
        await pilot.press("9")  # the ninth pane in screen order: PostgreSQL
        assert main.focused_pane() is app.query_one(PostgresPane)


class PaintRecording(CockpitApp):
    """Remembers, at each frame it writes, how many pods the pods pane shows."""

    def __init__(self, launch: Launch) -> None:
        super().__init__(launch)
        self.pods_painted: list[int] = []

    def _display(self, screen: Any, renderable: Any) -> None:
        if renderable is not None and self.screen_stack:
            panes = self.screen_stack[0].query(PodsPane)
            shown = panes.first().snapshot if panes else None
            self.pods_painted.append(len(shown.pods) if shown is not None else 0)
        super()._display(screen, renderable)


async def test_the_early_rows_are_in_the_first_paint(
    make_sim: Callable[..., Any],
    make_settings: Callable[..., Settings],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`cockpit run` with a plain kubeconfig: the Table asked before the imports is in
    when the screen mounts, so the first frame has the pods, not an empty pane that
    the rows fill a frame later."""
    sim = make_sim("incident")
    settings = make_settings(sim)
    monkeypatch.setenv("KUBECONFIG", str(settings.kube.kubeconfig))  # what early.py reads
    early.begin("cockpit-sim", None)
    prefetch.start(settings.kube, "cockpit-sim", None)
    assert prefetch.early_snapshot(10.0) is not None  # in before the app starts, as it is
    app = PaintRecording(Launch(settings=settings, context="cockpit-sim"))
    async with cockpit_running(app, size=(160, 45)) as pilot:
        pods = app.query_one(PodsPane)
        await wait_for(pilot, lambda: pods.snapshot and not pods.snapshot.provisional)
        assert app.pods_painted[0] == len(sim.list_objects("pods", scenes.NS)) > 0


async def test_quitting_while_the_panes_around_the_pods_mount_ends_cleanly(
    tmp_path: Path,
) -> None:
    """`q` while the later panes are still being mounted (one per turn of the loop): the
    mounting stops, no pane is shown a snapshot it has no table for yet (a crash, and
    a non-zero exit, in a CI run)."""
    settings = Settings(
        journal_path=tmp_path / "journal.jsonl", kube=KubeSettings(context="cockpit-sim")
    )
    app = StaticCockpitApp(Launch(settings=settings, context="cockpit-sim"))
    async with app.run_test(size=(160, 45)) as pilot:
        app.main.post_message(SnapshotReady("pods", scenes.kube()))
        await wait_for(pilot, lambda: app.query(WorkloadsPane), what="a later pane mounting")
        assert not app.main.later_mounted
        # Leaving the block shuts the app down there and then, as `q` does.
    assert app._exception is None
