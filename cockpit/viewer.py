"""Sources for a cockpit that shows snapshots made elsewhere: a replay of a recording, or
the live feed of a shared recorder (`cockpit serve`).  Nothing here polls a backend; the
screens get the same SnapshotReady and SourceFailed messages as from live pollers."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from textual.css.query import NoMatches

from cockpit.app import CockpitApp, Launch
from cockpit.errors import SourceError, describe
from cockpit.messages import SnapshotReady, SourceFailed
from cockpit.model import SourceFailure
from cockpit.polling import backoff_delay
from cockpit.recording.feed import FeedState, follow
from cockpit.startup import kube_contexts


class ViewerSources:
    """What CockpitApp asks of its sources, with no client behind any of it."""

    kube = None
    kube_target = None
    backups = health = prometheus = traffic = None

    def __init__(self, app: CockpitApp) -> None:
        self.app = app
        self.settings = app.settings
        self.pollers: dict[str, Any] = {}

    def start(self) -> None:
        raise NotImplementedError

    def refresh(self, names: Iterable[str] = ()) -> None:
        """Nothing to poll here."""

    def on_snapshot(self, source: str, snapshot: Any) -> None:
        pass

    def on_failure(self, failure: SourceFailure) -> None:
        pass

    def first_pods(self) -> Any:
        """No early rows to paint: the feed's pods come as any snapshot does."""
        return None

    async def close(self) -> None:
        pass

    def show(self, source: str, snapshot: Any) -> None:
        if source == "pods" and self.kube_target is None:
            self._name_target(snapshot.context, snapshot.namespace)
        if screens := self.app.screen_stack:
            screens[0].post_message(SnapshotReady(source, snapshot))

    def _name_target(self, context: str, namespace: str) -> None:
        """The header names the recorded cluster (no kubeconfig here to name it)."""
        try:
            self.app.header.set_target(context, namespace)
        except (IndexError, NoMatches):  # the screen is not up yet, or gone
            pass

    def fail(self, failure: SourceFailure) -> None:
        if screens := self.app.screen_stack:
            screens[0].post_message(SourceFailed(failure))


class FeedSources(ViewerSources):
    """The live feed of a shared recorder (`cockpit serve`): every pane as the one set
    of pollers sees it.  Kubernetes is connected only for actions (no watches)."""

    def __init__(self, app: FeedApp) -> None:  # type: ignore[override]
        super().__init__(app)
        self.path = app.feed_path
        self.state = FeedState()
        self.connected = False

    def start(self) -> None:
        self.app.run_worker(self._follow, group="feed", exclusive=True)
        if not self.app.read_only:
            self.app.run_worker(self._connect_for_actions, group="kube-connect", exclusive=True)

    async def _follow(self) -> None:
        failures = 0
        since = datetime.now(UTC)
        while not self.app.quitting:
            try:
                async for wire in follow(self.path):
                    item = await asyncio.to_thread(self.state.take, wire)
                    if item is None or self.app.quitting:
                        continue
                    failures, since = 0, datetime.now(UTC)
                    if item.snapshot is not None:
                        self.show(item.source, item.snapshot)
                    elif item.failure is not None:
                        self.fail(item.failure)
            except (OSError, ValueError) as exc:
                reason = f"the shared pollers' feed {self.path}: {describe(exc)}"
            else:
                reason = "the shared pollers stopped (the feed ended)"
            failures += 1
            delay = backoff_delay(failures, 1.0, 10.0)
            for source in list(self.state.snapshots) or ["pods"]:
                self.fail(SourceFailure(source, reason, "is `cockpit serve` still running?",
                                        since, delay, failures))  # fmt: skip
            self.state = FeedState()
            await asyncio.sleep(delay)

    async def _connect_for_actions(self) -> None:
        from cockpit.sources.kube.client import connect

        launch = self.app.launch
        try:
            target = await asyncio.to_thread(
                connect, self.settings.kube, launch.kube_configuration,
                context=launch.context, namespace=launch.namespace,
            )  # fmt: skip
        except SourceError as exc:
            self.app.notify(
                f"Actions need Kubernetes: {exc.message}", severity="warning", markup=False
            )
            return
        self.kube_target = target  # type: ignore[assignment]
        self.app.kube_connected(target, kube_contexts(target, self.settings))


class FeedApp(CockpitApp):
    """The cockpit on the live feed of `cockpit serve`'s shared pollers."""

    SOURCES: ClassVar[type[Any]] = FeedSources

    def __init__(self, launch: Launch, feed_path: Path) -> None:
        self.feed_path = feed_path
        super().__init__(replace(launch, record=False))
