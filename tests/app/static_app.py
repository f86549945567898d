"""A CockpitApp that polls nothing: tests feed it fixed snapshots (scenes.py)."""

from __future__ import annotations

from cockpit.app import CockpitApp, SnapshotReady
from widgets.header import CockpitHeader

from . import scenes


class StaticCockpitApp(CockpitApp):
    def _start_kube(self) -> None:  # type: ignore[override]
        """No cluster: the test feeds snapshots."""

    def _start_host(self) -> None:
        """No host polling: the host pane shows the scene's host."""

    def _start_local_sources(self) -> None:
        """No PostgreSQL, Redis or S3 polling either."""

    def feed(self, hostile: bool = False) -> None:
        header = self.main.query_one(CockpitHeader)
        header.set_target("cockpit-sim", scenes.NS)
        kube = scenes.kube()
        for source, snapshot in (
            ("pods", kube),
            ("top", scenes.top(kube, self.settings)),
            ("events", scenes.events()),
            ("logs", scenes.logs(hostile)),
            ("postgres", scenes.postgres(hostile)),
            ("redis", scenes.redis()),
            ("backups", scenes.backups()),
            ("host", scenes.host()),
        ):
            self.post_message(SnapshotReady(source, snapshot))
