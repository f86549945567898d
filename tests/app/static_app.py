"""A CockpitApp that polls nothing: tests feed it fixed snapshots (scenes.py)."""

from __future__ import annotations

from typing import Any

from cockpit.app import CockpitApp
from cockpit.main_screen import SnapshotReady
from cockpit.startup import Sources
from widgets.header import CockpitHeader

from . import scenes


class NoSources(Sources):
    """No cluster, host, PostgreSQL, Redis or S3 polling: the test feeds snapshots."""

    def start(self) -> None:
        pass

    def on_snapshot(self, source: str, snapshot: Any) -> None:
        pass

    def on_failure(self, failure: Any) -> None:
        pass

    def first_pods(self) -> Any:
        return None  # never the rows of a prefetch another test left behind


class StaticCockpitApp(CockpitApp):
    SOURCES = NoSources

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
            self.main.post_message(SnapshotReady(source, snapshot))
