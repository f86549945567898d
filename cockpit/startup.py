"""Which source starts when, and the pollers that keep them coming.

The order is for the first screen: Kubernetes connects and lists pods first (off the
loop); metrics, events, logs and the RBAC check follow once the pods are on screen
(they load the client's generated API classes, a second of CPU); the host, PostgreSQL,
Redis and S3 start then too, or after LOCAL_SOURCES_AT_LATEST when the API server is
slow, or at once when Kubernetes cannot be reached.  Every poller posts to the main screen, so a
snapshot that arrives after the screen is gone is simply dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from textual.message import Message

from actions.runner import Who
from cockpit import gctuning
from cockpit.errors import SourceError
from cockpit.lazy_imports import import_modules
from cockpit.marks import mark
from cockpit.messages import SnapshotReady, SourceFailed
from cockpit.model import SourceFailure
from cockpit.polling import Poller, backoff_delay
from cockpit.sources.kube import prefetch

if TYPE_CHECKING:
    # These import the kubernetes client (0.1 s): imported when connecting, after the
    # first screen when its rows came from the early Table request.
    from actions.kube.context import KubeContext
    from actions.rbac import AccessChecker
    from cockpit.app import CockpitApp
    from cockpit.sources.backups.source import BackupsSource
    from cockpit.sources.health import HealthSource
    from cockpit.sources.kube.client import KubeTarget
    from cockpit.sources.kube.source import KubeSource
    from cockpit.sources.prometheus.source import PrometheusSource
    from cockpit.sources.traffic.source import TrafficSource

# Each says "cannot reach Kubernetes" while the kubeconfig does not work.
KUBE_SOURCES = ("pods", "top", "events", "logs", "slo")
LOCAL_SOURCES_AT_LATEST = 5.0  # seconds after start, when the pods take longer (a slow API)
SCREEN_MOUNT_WAIT_S = 2.0  # for the main screen to take the early rows (first_pods)
EARLY_ROWS_WAIT_S = 1.0  # then for the early request, when it is still under way
EARLY_REST_WAIT_S = 5.0  # for the Table's other pages (else the pods poller brings them)


LATER_MODULES = (
    "cockpit.sources.backups.source",
    "cockpit.sources.health",
    "cockpit.sources.postgres.source",
    "cockpit.sources.redis.source",
    "cockpit.sources.prometheus.source",
    "cockpit.sources.disk",
    "cockpit.sources.traffic.source",
    "cockpit.sources.host",
)

# What connecting to Kubernetes and acting on it use (see _start_kube).
KUBE_MODULES = (
    "cockpit.sources.kube.client",
    "cockpit.sources.kube.source",
    "actions.kube.context",
    "actions.rbac",
)


def import_later_modules() -> None:
    """The modules of the sources started after the first screen.  Not the kubernetes
    client's generated API classes: nothing in steady state uses them (raw.py)."""
    import_modules(LATER_MODULES)


def kube_contexts(target: KubeTarget, settings: Any) -> tuple[Who, AccessChecker, KubeContext]:
    """Who acts, the RBAC checker and the actions' Kubernetes context, for a target."""
    from actions.kube.context import KubeContext
    from actions.rbac import AccessChecker

    timeout = settings.kube.request_timeout
    return (
        Who(target.context, target.user, target.namespace),
        AccessChecker(target.api, target.namespace, request_timeout=timeout),
        KubeContext(target.api, target.namespace, timeout),
    )


def early_pods(app: CockpitApp) -> Any:
    """The early Table's rows (a provisional KubeSnapshot) if they are in, else None."""
    if app.launch.kube_configuration is not None:
        return None
    snapshot = prefetch.early_snapshot()
    return None if snapshot is None or app.quitting else snapshot


async def early_pods_soon(app: CockpitApp, wait: float) -> Any:
    """As early_pods, waiting (off the loop) `wait` seconds at most for the request
    still under way."""
    snapshot = early_pods(app)
    if snapshot is None and app.launch.kube_configuration is None and prefetch.pending():
        snapshot = await asyncio.to_thread(prefetch.early_snapshot, wait)
    return None if snapshot is None or app.quitting else snapshot


async def early_pods_whole(app: CockpitApp) -> Any:
    """The early rows made whole, once the Table's first page is on screen: the prefetch
    thread is let go to parse the other pages (off the loop); None when the first
    snapshot was whole already, or a page failed (connecting asks for the whole Table)."""
    prefetch.release()
    whole = await asyncio.to_thread(prefetch.early_rest, EARLY_REST_WAIT_S)
    return None if whole is None or app.quitting else whole


def mark_pods_shown(app: CockpitApp, snapshot: Any) -> None:
    """The benchmarks' marks: the first pods are rendered, then on screen."""
    mark("pods_rendered", len(snapshot.pods))
    app.call_after_refresh(mark, "pods_populated", len(snapshot.pods))


class Sources:
    """The app's sources and their pollers, started in the order above."""

    def __init__(self, app: CockpitApp) -> None:
        self.app = app
        self.settings = app.settings
        self.pollers: dict[str, Poller] = {}
        self.kube: KubeSource | None = None
        self.kube_target: KubeTarget | None = None
        self.backups: BackupsSource | None = None
        self.health: HealthSource | None = None
        self.prometheus: PrometheusSource | None = None
        self.traffic: TrafficSource | None = None
        self._first_pods = False
        # The early Table's rows went on screen before connecting (prefetch.py): set
        # once they are painted, when the client may load.
        self._early_shown = False
        self._early: Any = None  # ... the snapshot shown (the Table's first page, or all)
        self._early_painted = asyncio.Event()
        # The main screen is mounted and was offered the early rows (first_pods).
        self._screen_mounted = asyncio.Event()
        self._importing = False  # the later sources' modules are being imported (thread)
        self._to_close: list[Callable[[], Awaitable[None]]] = []
        # Told before a refresh polls them: read everything, not only what moves.
        self._on_refresh: dict[str, Callable[[], None]] = {}

    def start(self) -> None:
        self.app.run_worker(self._start_kube, group="kube-connect", exclusive=True)
        self.app.set_timer(LOCAL_SOURCES_AT_LATEST, self.start_local)

    def refresh(self, names: Iterable[str] = ()) -> None:
        """Poll these sources now (all of them when none is named): after an action, or
        the refresh key.  A source that reads some things only now and then (Redis)
        reads everything this time."""
        for name in list(names) or list(self.pollers):
            if (full := self._on_refresh.get(name)) is not None:
                full()
            if (poller := self.pollers.get(name)) is not None:
                poller.refresh()

    # -- pollers --------------------------------------------------------------------------

    def start_poller(
        self, name: str, fetch: Callable[[], Awaitable[Any]], interval: float, label: str = ""
    ) -> Poller:
        poll = self.settings.poll
        poller = Poller(
            name,
            fetch,
            interval=interval,
            timeout=poll.timeout,
            on_result=self._post_result,
            on_failure=self._post_failure,
            label=label,
            backoff_max=poll.backoff_max,
        )
        self.pollers[name] = poller
        # The method, not a coroutine: a worker that never starts (at shutdown) leaves
        # no coroutine behind un-awaited.
        self.app.run_worker(poller.run, group=f"poll-{name}", exclusive=True, name=f"poll-{name}")
        return poller

    def _post_result(self, source: str, snapshot: Any) -> None:
        self._record(source, snapshot)
        self._post(SnapshotReady(source, snapshot))

    def _record(self, source: str, snapshot: Any) -> None:
        if (recorder := self.app.recorder) is not None:
            recorder.snapshot(source, snapshot)

    def _post_failure(self, failure: SourceFailure) -> None:
        if (recorder := self.app.recorder) is not None:
            recorder.failure(failure)
        self._post(SourceFailed(failure))

    def _post(self, message: Message) -> None:
        # To the main screen: once it is gone (shutdown) the message is dropped.
        if screens := self.app.screen_stack:
            screens[0].post_message(message)

    # -- the order ------------------------------------------------------------------------

    def _start_host(self) -> None:
        from cockpit.sources.host import HostSource  # psutil: 10 ms the first screen skips

        host = HostSource(self.settings.thresholds)
        self.start_poller("host", host.snapshot, self.settings.poll.host, label="host")

    def start_local(self) -> None:
        """PostgreSQL, Redis, S3 and health: their client libraries take a fifth of a
        second of CPU to import, which the pods list would otherwise share; imported here."""
        if "postgres" in self.pollers or self._importing:
            return  # started, or about to be once the imports are done
        from cockpit.sources.backups.source import BackupsSource
        from cockpit.sources.health import HealthSource
        from cockpit.sources.postgres.source import PostgresSource
        from cockpit.sources.redis.source import RedisSource

        self._start_host()
        poll = self.settings.poll
        postgres = PostgresSource(self.settings)
        redis = RedisSource(self.settings)
        # Backups show S3 before Kubernetes connects; the CronJob half joins later.
        self.backups = BackupsSource(self.settings)
        self._to_close += [postgres.close, redis.close, self.backups.close]
        self._on_refresh["redis"] = redis.refresh_all

        async def postgres_snapshot() -> Any:
            # The pane's "all" view lists every session; the others only the busy ones,
            # the idle candidates and the blockers (the server counts the rest).
            options = self.app.main.source_options.get("postgres", {})
            postgres.every_session = bool(options.get("every_session"))
            return await postgres.snapshot()

        self.start_poller("postgres", postgres_snapshot, poll.postgres)
        self.start_poller("redis", redis.snapshot, poll.redis)
        self.start_poller("backups", self.backups.snapshot, poll.backups)
        # The public URLs are checked at once; the in-cluster services once connected.
        self.health = HealthSource(self.settings, self.kube_target)
        self._to_close.append(self.health.close)
        self.start_poller("health", self.health.snapshot, poll.health)
        self._start_prometheus()
        if self.kube is not None and "top" in self.pollers:
            self.backups.attach(self.kube.backups_snapshot)  # Kubernetes came first
        # Every module is loaded now (see cockpit/gctuning.py for why this matters).
        gctuning.settle()
        self.app.set_interval(gctuning.CHECK_EVERY_S, self.app.collector.maybe_collect)

    async def _start_kube(self) -> None:
        """Connect (off the loop), retrying with backoff until the kubeconfig works."""
        if await self._show_early_rows():
            await self._early_painted.wait()
            # The Table's first page is on screen: the other pages' rows follow at once,
            # before the client is imported and connected (prefetch.py).
            whole = await early_pods_whole(self.app)
            if whole is not None and whole is not self._early:  # not shown by the app
                self._early = whole
                self._post_result("pods", whole)
        prefetch.release()
        failures = 0
        since = datetime.now(UTC)
        while True:
            try:
                # Connect and start the watches in one hop off the loop: the pods list
                # then runs while the first screen is still being drawn.
                loop = asyncio.get_running_loop()
                if (
                    self.app.launch.kube_configuration is None
                    and prefetch.ready()
                    and all(name in sys.modules for name in KUBE_MODULES)
                ):
                    # Connected already (`cockpit run`): building the source and starting
                    # its threads takes a millisecond; a hop to a thread waits for the
                    # first frame.
                    target, kube = self._connect_and_watch(loop)
                else:
                    # Their modules are imported in the thread: on the loop, importing
                    # them (or waiting for the thread that imports the panes' modules to
                    # finish one they share) held it 50-75 ms at start-up.
                    target, kube = await asyncio.to_thread(self._import_connect_and_watch, loop)
                break
            except SourceError as exc:
                failures += 1
                delay = backoff_delay(failures, 2.0, 60.0)
                for name in KUBE_SOURCES:
                    self._post_failure(
                        SourceFailure(name, exc.message, exc.hint, since, delay, failures)
                    )
                self.start_local()  # no pods to wait for
                await asyncio.sleep(delay)
        if self.app.quitting:  # quit while the kubeconfig was read: nothing to show
            await asyncio.to_thread(kube.stop)
            return
        mark("kube_connected")
        self.kube_target, self.kube = target, kube
        self.app.kube_connected(target, self._kube_context(target))
        self.start_poller("pods", kube.kube_snapshot, self.settings.poll.pods)
        if self._early_shown:  # the provisional rows are painted: the full list, the rest
            kube.list_pods()
            self._start_rest()

    def first_pods(self) -> Any:
        """The main screen is mounting: the early Table's rows if they are in already
        (`cockpit run`, see prefetch.py), for it to show before its first paint.  None:
        they come later as a message (`_show_early_rows`), or not at all."""
        if self._early_shown:
            self._screen_mounted.set()
            return None
        return self.screen_took(early_pods(self.app))

    def screen_took(self, snapshot: Any, painted: bool = False) -> Any:
        """The main screen mounted with these early rows (None: with none).  `painted`:
        they are on screen already, the settings (and so these sources) having been
        read after the first paint (cockpit/first_screen.py)."""
        self._screen_mounted.set()
        if snapshot is None:
            return None
        self._early_shown, self._early = True, snapshot
        self._record("pods", snapshot)
        if painted:
            self._first_pods = True
            self._early_painted.set()
        return snapshot

    async def _show_early_rows(self) -> bool:
        """Post the early Table's rows as the first pods snapshot, before the client
        is imported (`cockpit run` with a plain kubeconfig, see prefetch.py), unless the
        main screen took them as it mounted (first_pods)."""
        if self.app.launch.kube_configuration is not None:
            return False
        # A message posted now would be handled after the screen's first, empty paint.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._screen_mounted.wait(), SCREEN_MOUNT_WAIT_S)
        if self._early_shown:
            return True
        snapshot = await early_pods_soon(self.app, EARLY_ROWS_WAIT_S)
        if snapshot is None:
            return False
        self._early_shown, self._early = True, snapshot
        self._post_result("pods", snapshot)
        return True

    def _kube_context(self, target: KubeTarget) -> tuple[Who, AccessChecker, KubeContext]:
        return kube_contexts(target, self.settings)

    def _import_connect_and_watch(
        self, loop: asyncio.AbstractEventLoop
    ) -> tuple[KubeTarget, KubeSource]:
        import_modules(KUBE_MODULES)
        return self._connect_and_watch(loop)

    def _connect_and_watch(self, loop: asyncio.AbstractEventLoop) -> tuple[KubeTarget, KubeSource]:
        from cockpit.sources.kube.client import connect
        from cockpit.sources.kube.source import KubeSource

        launch = self.app.launch
        pre = None
        if launch.kube_configuration is None:  # `cockpit run` began this before the UI
            pre = prefetch.take(self.settings.kube, launch.context, launch.namespace)
        if pre is not None and pre.error is not None:
            raise pre.error
        target = (
            pre.target
            if pre is not None
            else connect(
                self.settings.kube,
                launch.kube_configuration,
                context=launch.context,
                namespace=launch.namespace,
            )
        )
        kube = KubeSource(
            target,
            self.settings,
            table_first=True,
            table=pre.rows if pre is not None else None,
            workloads=pre.workloads if pre is not None else None,
        )
        # The first screen shows the pods of a Table; the full list replaces them at once.
        kube.on_pods_synced = lambda: loop.call_soon_threadsafe(self._pods_listed)
        if not self.app.quitting:  # no watches that nobody would stop
            kube.start()
        return target, kube

    def _pods_listed(self) -> None:
        poller = self.pollers.get("pods")
        if poller is not None:
            poller.refresh()

    def on_snapshot(self, source: str, snapshot: Any) -> None:
        """The first pods on screen: the rest of Kubernetes and the local sources."""
        if source != "pods" or self._first_pods:
            return
        self._first_pods = True
        mark_pods_shown(self.app, snapshot)
        if self._early_shown:  # painted: now the client, then the full objects
            self.app.call_after_refresh(self._early_painted.set)
            return
        if self.kube is not None:  # provisional rows painted: now the full objects
            self.app.call_after_refresh(self.kube.list_pods)
        self._start_rest()

    def _start_rest(self) -> None:
        self._importing = True
        self.app.run_worker(self._start_rest_after_imports, group="local-imports", exclusive=True)

    async def _start_rest_after_imports(self) -> None:
        """Import what the other sources need in a thread first: on the loop, those
        imports (the client API classes alone are 0.4 s) froze the screen after the
        first paint.  Nothing else imports them meanwhile (two threads importing the
        same modules can each get the other's half-initialised one)."""
        try:
            await asyncio.to_thread(import_later_modules)
        finally:
            self._importing = False
        if not self.app.quitting:
            self.start_local()
            self._start_after_first_pods()

    def on_failure(self, failure: SourceFailure) -> None:
        if failure.source == "pods" and self.kube is not None and not self._importing:
            self._start_after_first_pods()  # the other panes must say so too
            self.start_local()

    def _start_after_first_pods(self) -> None:
        """These load the client's API classes (a second of CPU) and would otherwise
        slow the first screen down."""
        kube = self.kube
        if kube is None or "top" in self.pollers:
            return
        poll = self.settings.poll
        self.start_poller("top", kube.top_snapshot, poll.metrics)
        self.start_poller("events", kube.events_snapshot, poll.events)
        self.start_poller("logs", kube.log_batch, poll.logs)
        if self.backups is not None:
            self.backups.attach(kube.backups_snapshot)
            self.pollers["backups"].refresh()
        if self.health is not None and self.kube_target is not None:
            self.health.attach(self.kube_target)
            self.pollers["health"].refresh()
        self._start_traffic(kube)
        self._start_disk()
        self.app.run_worker(self.app.check_access, group="rbac", exclusive=True)

    def _start_prometheus(self) -> None:
        """A configured URL, or a `prometheus` service found through the API server
        (asked of whichever target is connected at each poll)."""
        from cockpit.sources.prometheus.source import PrometheusSource

        self.prometheus = PrometheusSource(self.settings, lambda: self.kube_target)
        self._to_close.append(self.prometheus.close)
        self.start_poller("prometheus", self.prometheus.snapshot, self.settings.poll.prometheus)

    def _start_disk(self) -> None:
        """`df` in the data pods over exec (slowly: exec is not free)."""
        from cockpit.sources.disk import DiskSource

        target, kube = self.kube_target, self.kube
        if target is None or kube is None:
            return
        disk = DiskSource(
            self.settings, target.api.configuration, target.namespace, pod_rows=kube.pod_rows
        )
        self._to_close.append(disk.close)
        self.start_poller("disk", disk.snapshot, self.settings.disk.interval)

    def _start_traffic(self, kube: KubeSource) -> None:
        """The nginx pods' access logs into the SLO windows (one stream per pod, on
        threads); each poll follows the pods the pods pane last showed."""
        from cockpit.sources.traffic.source import TrafficSource

        traffic = self.traffic = TrafficSource(self.settings, kube)
        self._to_close.append(traffic.close)

        async def slo_snapshot() -> Any:
            pods = self.app.main.latest.get("pods")
            if pods is not None:
                # Off the loop: it walks every pod, and starts streams under the lock
                # their threads take for each line (a 64 ms stall at start-up).
                await asyncio.to_thread(traffic.sync, pods.pods)
            return await traffic.snapshot()

        self.start_poller("slo", slo_snapshot, self.settings.poll.slo)

    async def close(self) -> None:
        """Stop watches, streams and connections."""
        for close in self._to_close:
            try:
                await asyncio.wait_for(close(), 3.0)
            except Exception:
                pass
        if self.kube is not None:
            await asyncio.to_thread(self.kube.stop)
