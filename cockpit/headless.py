"""The cockpit's sources without a screen: `cockpit record`, and the shared pollers that
every browser session of `cockpit serve` watches through the live feed.

The same Sources class as the app's (cockpit/startup.py) starts the same pollers in the
same order; this host gives it what it asks of the app: workers, timers, and a "screen"
that only keeps the latest snapshot of each source and tells Sources, as the main
screen does, so that the pods' arrival starts the rest.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from cockpit import gctuning
from cockpit.launch import Launch
from cockpit.messages import SnapshotReady, SourceFailed
from cockpit.recording.feed import FeedServer
from cockpit.recording.recorder import Recorder
from cockpit.startup import Sources


class _Screen:
    """Stands in for the main screen: the latest snapshots and the options panes set."""

    def __init__(self, host: HeadlessHost) -> None:
        self.host = host
        self.latest: dict[str, Any] = {}
        self.source_options: dict[str, dict[str, Any]] = {}

    def post_message(self, message: object) -> bool:
        sources = self.host.sources
        if isinstance(message, SnapshotReady):
            self.latest[message.source] = message.snapshot
            if sources is not None:
                sources.on_snapshot(message.source, message.snapshot)
        elif isinstance(message, SourceFailed) and sources is not None:
            sources.on_failure(message.failure)
        return True


class HeadlessHost:
    """What Sources needs of CockpitApp, on a plain asyncio loop."""

    def __init__(self, launch: Launch, recorder: Recorder | None) -> None:
        self.launch = launch
        self.settings = launch.settings
        self.recorder = recorder
        self.main = _Screen(self)
        self.screen_stack = [self.main]
        self.collector = gctuning.FullCollector()
        self.sources: Sources | None = None
        self._stopping = False
        self._groups: dict[str, asyncio.Task[Any]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def quitting(self) -> bool:
        return self._stopping

    def run_worker(
        self,
        work: Callable[[], Awaitable[Any]],
        *,
        group: str = "",
        exclusive: bool = False,
        name: str = "",
    ) -> asyncio.Task[Any]:
        if exclusive and (old := self._groups.get(group)) is not None:
            old.cancel()
        task = asyncio.get_running_loop().create_task(work(), name=name or group)
        self._groups[group] = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def set_timer(self, delay: float, callback: Callable[[], Any]) -> None:
        asyncio.get_running_loop().call_later(delay, self._call, callback)

    def set_interval(self, interval: float, callback: Callable[[], Any]) -> None:
        async def repeat() -> None:
            while not self._stopping:
                await asyncio.sleep(interval)
                self._call(callback)

        self.run_worker(repeat, group=f"interval-{id(callback)}")

    def call_after_refresh(self, callback: Callable[..., Any], *args: Any) -> None:
        asyncio.get_running_loop().call_soon(self._call, callback, *args)

    def _call(self, callback: Callable[..., Any], *args: Any) -> None:
        if self._stopping:
            return
        result = callback(*args)
        if asyncio.iscoroutine(result):
            self.run_worker(lambda: result, group=f"call-{id(result)}")

    def kube_connected(self, target: Any, contexts: Any) -> None:
        """Nothing acts here: the contexts for actions are not needed."""

    async def check_access(self) -> None:
        """No keys to enable or disable."""

    async def stop(self) -> None:
        self._stopping = True
        if self.sources is not None:
            await self.sources.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def run_headless(
    launch: Launch,
    recorder: Recorder | None,
    *,
    feed_socket: Path | None = None,
    ready: Callable[[], None] | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Poll every source into the recorder (and its live feed) until SIGINT or SIGTERM,
    or until `stop` is set."""
    loop = asyncio.get_running_loop()
    loop.set_default_executor(ThreadPoolExecutor(max_workers=32, thread_name_prefix="cockpit-io"))
    stop = stop or asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stop.set)
        except (NotImplementedError, RuntimeError):  # not the main thread
            pass
    if recorder is not None:
        recorder.start()
    host = HeadlessHost(launch, recorder)
    host.sources = Sources(host)  # type: ignore[arg-type]
    feed = None
    if feed_socket is not None and recorder is not None:
        feed = FeedServer(recorder, feed_socket)
        await feed.start()
    host.sources.start()
    if ready is not None:
        ready()
    try:
        await stop.wait()
    finally:
        if feed is not None:
            await feed.close()
        await host.stop()
        if recorder is not None:
            await asyncio.to_thread(recorder.stop)
