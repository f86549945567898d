"""The first screen is the pods pane alone; the panes around it follow, missing nothing.

The main screen mounts the pods pane first and the other twelve once the first pods
have been drawn (cockpit/main_screen.py).  What came for those panes in between is
held and shown once they are there, and a pane that shows the pods too (Workloads) gets
the pods shown before it existed.
"""

from __future__ import annotations

from pathlib import Path

from cockpit.app import Launch
from cockpit.config import KubeSettings, Settings
from cockpit.main_screen import SnapshotReady
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
