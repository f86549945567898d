"""CockpitApp: composes the panes, starts one poller per source, routes their messages.

This is the only module (with cli.py) that knows both the sources and the widgets.
Pollers run as workers, each in its own group; they post SnapshotReady or
SourceFailed, and the handlers below hand the snapshot to the panes that show it.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs
from kubernetes import client as kube_client
from textual import events, on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.command import Hit, Hits, Provider
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer

from actions.base import Action, Refused
from actions.catalog import build as build_action
from actions.catalog import catalog
from actions.kube import KubeContext
from actions.rbac import AccessChecker
from actions.runner import ActionRunner, Busy, Who
from cockpit import gctuning
from cockpit.audit import Journal
from cockpit.config import APP_NAME, Settings, dsn_password
from cockpit.errors import SourceError, describe
from cockpit.model import (
    BackupsSnapshot,
    EventsSnapshot,
    HostSnapshot,
    KubeSnapshot,
    Level,
    LogBatch,
    SourceFailure,
    TopSnapshot,
    worst,
)
from cockpit.polling import Poller, backoff_delay
from cockpit.sources.host import HostSource
from cockpit.sources.kube import KubeSource
from cockpit.sources.kube_client import KubeTarget, connect
from cockpit.sources.kube_describe import describe_service
from cockpit.sources.kube_logs import PodLogStream
from cockpit.views import open_view
from widgets.actionbar import ActionBar
from widgets.backups import BackupsPane
from widgets.confirm import ConfirmScreen
from widgets.errorlog import ErrorLogPane
from widgets.events import EventsPane
from widgets.header import CockpitHeader
from widgets.help import HelpScreen, KeyGroups
from widgets.host import HostPane
from widgets.logview import LogScreen, LogViewOptions
from widgets.messages import ActionRequested, ViewRequested
from widgets.pane import Pane
from widgets.pods import PodsPane
from widgets.postgres import PostgresPane
from widgets.redis import RedisPane
from widgets.textview import TextScreen
from widgets.top import TopPane
from widgets.warroom import Figure, WarRoomScreen
from widgets.workloads import WorkloadsPane

if TYPE_CHECKING:
    from cockpit.sources.backups import BackupsSource

KUBE_SOURCES = ("pods", "top", "events", "logs")
LOCAL_SOURCES_AT_LATEST = 5.0  # seconds after start, when the pods take longer (a slow API)
IO_THREADS = 32


class SnapshotReady(Message):
    def __init__(self, source: str, snapshot: Any) -> None:
        super().__init__()
        self.source = source
        self.snapshot = snapshot


class SourceFailed(Message):
    def __init__(self, failure: SourceFailure) -> None:
        super().__init__()
        self.failure = failure


@dataclass(frozen=True)
class Launch:
    """How the cockpit was started: settings plus what the command line chose."""

    settings: Settings
    context: str | None = None
    namespace: str | None = None
    kube_configuration: kube_client.Configuration | None = None
    note: str = ""  # shown in the header, e.g. "demo: simulated cluster (incident)"


class PaneCommands(Provider):
    """Command palette: jump to a pane, zoom, war room, refresh."""

    async def search(self, query: str) -> Hits:
        app = self.app
        assert isinstance(app, CockpitApp)
        matcher = self.matcher(query)
        for name, help_text, callback in app.palette_commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)


class CockpitApp(App[None]):
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses live elsewhere
    TITLE = "cockpit"
    COMMANDS = App.COMMANDS | {PaneCommands}
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help"),
        Binding("f5,ctrl+r", "refresh", "Refresh"),
        Binding("z", "zoom", "Zoom"),
        Binding("w", "war_room", "War room"),
        Binding("B", "trigger_backup", "Backup now", show=False),
        Binding("ctrl+p", "command_palette", "Palette", show=False),
        *(Binding(str(n), f"focus_pane({n})", f"Pane {n}", show=False) for n in range(1, 10)),
    ]

    def __init__(self, launch: Launch) -> None:
        super().__init__()
        self.launch = launch
        self.settings = launch.settings
        self.kube: KubeSource | None = None
        self.backups: BackupsSource | None = None
        self.kube_target: KubeTarget | None = None
        self.pollers: dict[str, Poller] = {}
        self.latest: dict[str, Any] = {}
        self.war_room: WarRoomScreen | None = None
        self._shutting_down = False
        self._sources_to_close: list[Callable[[], Awaitable[None]]] = []
        self.journal = Journal(
            self.settings.effective_journal_path(), secrets=known_secrets(self.settings)
        )
        self.runner = ActionRunner(
            self.journal,
            Who(launch.context or "", "", self.settings.kube.namespace),
            read_only=self.settings.is_read_only(launch.context),
            dry_run=self.settings.dry_run,
        )
        self.access: AccessChecker | None = None
        self._marked_pods = False
        self._panes: list[Pane] = []
        self._requested: set[str] = set()  # actions between key press and the end of the run
        self._action_contexts: dict[str, Any] = {}
        self.collector = gctuning.FullCollector()

    async def on_event(self, event: events.Event) -> None:
        # Keys and clicks as they come from the terminal: the full collection waits
        # for a pause in them (see cockpit/gctuning.py).
        if isinstance(event, events.Key | events.MouseDown) and not event.is_forwarded:
            self.collector.note_input()
        await super().on_event(event)

    # -- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        self.header = CockpitHeader(id="header")  # kept: queries fail while shutting down
        yield self.header
        with Horizontal(id="row-kube"):
            with Vertical(id="col-left"):
                yield WorkloadsPane(id="workloads", classes="pane")
                yield TopPane(id="top", classes="pane")
            yield PodsPane(id="pods", classes="pane")
        with Horizontal(id="row-logs"):
            yield ErrorLogPane(
                apps=self.settings.logs.apps,
                max_lines=self.settings.logs.max_lines,
                thresholds=(
                    self.settings.thresholds.error_lines_per_min.warn,
                    self.settings.thresholds.error_lines_per_min.crit,
                ),
                id="errorlog",
                classes="pane",
            )
            yield EventsPane(id="events", classes="pane")
        with Horizontal(id="row-data"):
            yield PostgresPane(id="postgres", classes="pane")
            yield RedisPane(id="redis", classes="pane")
            yield BackupsPane(id="backups", classes="pane")
            yield HostPane(id="host", classes="pane")
        yield ActionBar(id="actions")
        yield Footer()

    @property
    def main(self) -> Screen:
        """The screen with the panes (queries must not look at a modal on top)."""
        return self.screen_stack[0]

    def _panes_alive(self) -> bool:
        """False while starting or shutting down, when messages can outlive the panes."""
        # App._running turns False as soon as shutdown begins, before the panes go.
        return bool(self._panes) and self._running and not self._exit and self._panes[0].is_attached

    def _quitting(self) -> bool:
        """True once shutdown has begun: a worker resuming after an await must not touch
        the screens (they may be gone) nor start anything."""
        return self._shutting_down or self._exit or not self._running

    @property
    def panes(self) -> list[Pane]:
        """The panes in screen order (found once: a DOM query per message adds up)."""
        return self._panes

    def on_mount(self) -> None:
        # Blocking clients run in threads: the default pool (cores + 4) would let a few
        # hung API calls starve every other source of threads.
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(max_workers=IO_THREADS, thread_name_prefix="cockpit-io")
        )
        mark("app_mounted")
        self._panes = list(self.main.query(Pane))
        header = self.header
        header.note = self.launch.note
        header.set_mode(self.mode_name())
        self._check_journal()
        self.set_interval(1.0, self._tick)
        self._start_kube()
        self._start_host()
        self.set_timer(LOCAL_SOURCES_AT_LATEST, self._start_local_sources)
        focus = self.main.query_one("#pods-table")
        focus.focus()

    @property
    def read_only(self) -> bool:
        return self.runner.read_only

    def _check_journal(self) -> str | None:
        """No audit, no action: look whether the journal can be written, and say so in
        the header when it cannot (mutating actions are refused until it can)."""
        problem = self.journal.check()
        self.header.set_journal_problem(problem)
        return problem

    def mode_name(self) -> str:
        context = self.kube_target.context if self.kube_target else self.launch.context
        if self.settings.is_read_only(context):
            return "READ-ONLY"
        if self.settings.dry_run:
            return "DRY-RUN"
        return "ARMED"

    # -- sources and pollers ------------------------------------------------------------

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
        self.run_worker(poller.run, group=f"poll-{name}", exclusive=True, name=f"poll-{name}")
        return poller

    def _post_result(self, source: str, snapshot: Any) -> None:
        self.post_message(SnapshotReady(source, snapshot))

    def _post_failure(self, failure: SourceFailure) -> None:
        self.post_message(SourceFailed(failure))

    def _start_host(self) -> None:
        host = HostSource(self.settings.thresholds)
        self.start_poller("host", host.snapshot, self.settings.poll.host, label="host")

    def _start_local_sources(self) -> None:
        """PostgreSQL, Redis and S3: once the pods are on screen (or a moment later).

        Their client libraries take a fifth of a second of CPU to import, which the
        pods list would otherwise share; imported here, not at the top, for that.
        """
        if "postgres" in self.pollers:
            return
        from cockpit.sources.backups import BackupsSource
        from cockpit.sources.postgres import PostgresSource
        from cockpit.sources.redis import RedisSource

        poll = self.settings.poll
        postgres = PostgresSource(self.settings)
        redis = RedisSource(self.settings)
        # Backups show S3 before Kubernetes connects; the CronJob half joins later.
        self.backups = BackupsSource(self.settings)
        self._sources_to_close += [postgres.close, redis.close, self.backups.close]
        self.start_poller("postgres", postgres.snapshot, poll.postgres)
        self.start_poller("redis", redis.snapshot, poll.redis)
        self.start_poller("backups", self.backups.snapshot, poll.backups)
        if self.kube is not None and "top" in self.pollers:
            self.backups.attach(self.kube.backups_snapshot)  # Kubernetes came first
        # Every module is loaded now (see cockpit/gctuning.py for why this matters).
        gctuning.settle()
        self.set_interval(gctuning.CHECK_EVERY_S, self.collector.maybe_collect)

    @work(group="kube-connect", exclusive=True)
    async def _start_kube(self) -> None:
        """Connect (off the loop), retrying with backoff until the kubeconfig works."""
        failures = 0
        since = datetime.now(UTC)
        while True:
            try:
                # Connect and start the watches in one hop off the loop: the pods list
                # then runs while the first screen is still being drawn.
                target, kube = await asyncio.to_thread(self._connect_and_watch)
                break
            except SourceError as exc:
                failures += 1
                delay = backoff_delay(failures, 2.0, 60.0)
                for name in KUBE_SOURCES:
                    self._post_failure(
                        SourceFailure(name, exc.message, exc.hint, since, delay, failures)
                    )
                self._start_local_sources()  # no pods to wait for
                await asyncio.sleep(delay)
        if self._quitting():  # quit while the kubeconfig was read: nothing to show
            await asyncio.to_thread(kube.stop)
            return
        mark("kube_connected")
        self.kube_target = target
        self.runner.who = Who(target.context, target.user, target.namespace)
        self.runner.read_only = self.settings.is_read_only(target.context)
        self.access = AccessChecker(
            target.api, target.namespace, request_timeout=self.settings.kube.request_timeout
        )
        self._action_contexts["kube"] = KubeContext(
            target.api, target.namespace, self.settings.kube.request_timeout
        )
        self.header.set_target(target.context, target.namespace)
        self.header.set_mode(self.mode_name())
        self.refresh_bindings()
        self.kube = kube
        self.start_poller("pods", kube.kube_snapshot, self.settings.poll.pods)

    def _connect_and_watch(self) -> tuple[KubeTarget, KubeSource]:
        target = connect(
            self.settings.kube,
            self.launch.kube_configuration,
            context=self.launch.context,
            namespace=self.launch.namespace,
        )
        kube = KubeSource(target, self.settings)
        if not self._quitting():  # no watches that nobody would stop
            kube.start()
        return target, kube

    def _start_after_first_pods(self) -> None:
        """The rest of Kubernetes, once the pods are on screen: these load the client's
        API classes (a second of CPU) and would otherwise slow the first screen down."""
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
        self._check_access()

    # -- routing ------------------------------------------------------------------------

    @on(SnapshotReady)
    def _route_snapshot(self, message: SnapshotReady) -> None:
        if not self._panes_alive():
            return
        source, snapshot = message.source, message.snapshot
        self.latest[source] = snapshot
        if isinstance(snapshot, KubeSnapshot):
            self.main.query_one(WorkloadsPane).show(snapshot)
            self.main.query_one(PodsPane).show(snapshot)
            if not self._marked_pods:
                self._marked_pods = True
                self.call_after_refresh(mark, "pods_populated", len(snapshot.pods))
                self.set_timer(0.5, self._start_after_first_pods)
                self.call_after_refresh(self._start_local_sources)
        elif isinstance(snapshot, TopSnapshot):
            self.main.query_one(TopPane).show(snapshot)
            self.main.query_one(PodsPane).show_usage(snapshot)
        elif isinstance(snapshot, EventsSnapshot):
            self.main.query_one(EventsPane).show(snapshot)
        elif isinstance(snapshot, LogBatch):
            self.main.query_one(ErrorLogPane).show(snapshot)
        elif isinstance(snapshot, BackupsSnapshot):
            self.main.query_one(BackupsPane).show(snapshot)
        elif isinstance(snapshot, HostSnapshot):
            self.main.query_one(HostPane).show(snapshot)
        else:
            for pane in self.panes:
                if pane.SOURCES and pane.SOURCES[0] == source:
                    pane.show(snapshot)  # type: ignore[attr-defined]
        self._update_overall()

    @on(SourceFailed)
    def _route_failure(self, message: SourceFailed) -> None:
        if not self._panes_alive():
            return
        failure = message.failure
        if failure.source == "pods" and self.kube is not None:
            self._start_after_first_pods()  # the other panes must say so too
            self._start_local_sources()
        for pane in self.panes:
            if pane.SOURCES and pane.SOURCES[0] == failure.source:
                pane.mark_failed(failure)
            if failure.source == "pods" and isinstance(pane, WorkloadsPane):
                pane.mark_failed(failure)
        self._update_overall()

    def _update_overall(self) -> None:
        if not self._panes_alive():
            return
        panes = self.panes
        level = worst(p.effective_level for p in panes)
        short: list[str] = []  # for the one-line header
        detailed: list[str] = []  # for the war room, which has room for a sentence
        for pane in sorted(panes, key=lambda p: -p.effective_level):
            if pane.effective_level < Level.WARN:
                continue
            title = pane.PANE_TITLE
            if pane.failure is not None:
                short.append(f"{title} stale")
                detailed.append(f"{title}: stale — {pane.failure.message}")
            else:
                short.append(f"{title} {pane.level.label}")
                detailed.append(f"{title}: {pane.summary}" if pane.summary else short[-1])
        self.header.set_overall(level, short)
        if self.war_room is not None and self.screen is self.war_room:
            self.war_room.show(self.figures(), detailed)
            war_header = self.war_room.query_one(CockpitHeader)
            main_header = self.header
            war_header.context, war_header.namespace = main_header.context, main_header.namespace
            war_header.mode, war_header.note = main_header.mode, main_header.note
            war_header.set_overall(level, short)

    def _tick(self) -> None:
        if not self._panes_alive():
            return
        now = datetime.now(UTC)
        if self.journal.problem and now.second % 10 == 0:
            self._check_journal()  # fixed since? then the header says so within 10 s
        self.header.refresh_text()
        for pane in self.panes:
            pane.tick(now)

    # -- war room -----------------------------------------------------------------------

    def figures(self) -> list[Figure]:
        figures = []
        kube = self.latest.get("pods")
        if isinstance(kube, KubeSnapshot):
            not_ready = kube.not_ready
            level = Level.CRIT if not_ready else Level.OK
            figures.append(
                Figure(
                    "pods",
                    "PODS NOT READY",
                    str(not_ready),
                    level,
                    f"of {len(kube.pods)} pods in {kube.namespace}",
                )
            )
        else:
            figures.append(Figure("pods", "PODS NOT READY", "-", Level.WARN, "no data"))
        logs = self.latest.get("logs")
        if isinstance(logs, LogBatch):
            pane = self.main.query_one(ErrorLogPane)
            figures.append(
                Figure(
                    "errors",
                    "ERROR LINES / MIN",
                    str(logs.rate),
                    pane.level,
                    f"{len(logs.followed)} pods followed",
                )
            )
        else:
            figures.append(Figure("errors", "ERROR LINES / MIN", "-", Level.WARN, "no data"))
        pg = self.latest.get("postgres")
        if pg is not None and hasattr(pg, "connections"):
            figures.append(
                Figure(
                    "pg",
                    "PG CONNECTIONS",
                    str(pg.connections),
                    pg.level,
                    f"of max {pg.max_connections}",
                )
            )
        else:
            figures.append(Figure("pg", "PG CONNECTIONS", "-", Level.WARN, "no data"))
        redis = self.latest.get("redis")
        if redis is not None and getattr(redis, "memory_pct", None) is not None:
            figures.append(
                Figure(
                    "redis",
                    "REDIS MEMORY %",
                    f"{redis.memory_pct:.0f}",
                    redis.level,
                    f"policy {redis.policy}",
                )
            )
        elif redis is not None:
            figures.append(Figure("redis", "REDIS MEMORY %", "-", redis.level, "no maxmemory"))
        else:
            figures.append(Figure("redis", "REDIS MEMORY %", "-", Level.WARN, "no data"))
        return figures

    def action_war_room(self) -> None:
        if self.war_room is not None and self.screen is self.war_room:
            self.pop_screen()
            return
        self.war_room = WarRoomScreen()
        self.push_screen(self.war_room)
        self.call_after_refresh(self._update_overall)

    # -- keys ---------------------------------------------------------------------------

    def focused_pane(self) -> Pane | None:
        node = self.focused
        while node is not None:
            if isinstance(node, Pane):
                return node
            node = node.parent  # type: ignore[assignment]
        return None

    def action_refresh(self) -> None:
        pane = self.focused_pane()
        names: Iterable[str] = pane.SOURCES if pane is not None else self.pollers
        for name in list(names) or list(self.pollers):
            poller = self.pollers.get(name)
            if poller is not None:
                poller.refresh()
        self.notify("Refreshing " + (pane.PANE_TITLE if pane else "all panes"), timeout=1.5)

    def action_zoom(self) -> None:
        screen = self.screen
        if screen.maximized is not None:
            screen.minimize()
            return
        pane = self.focused_pane()
        if pane is not None:
            screen.maximize(pane, container=False)

    def action_focus_pane(self, number: int) -> None:
        panes = self.panes
        if 1 <= number <= len(panes):
            self.focus_pane(panes[number - 1])

    def focus_pane(self, pane: Pane) -> None:
        if self.screen.maximized is not None:
            self.screen.minimize()
        for widget in pane.query("*"):
            if widget.focusable:
                widget.focus()
                return

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.key_groups(), footer=self._contacts_text()))

    def key_groups(self) -> KeyGroups:
        everywhere = [
            b for b in self.BINDINGS if not (self.read_only and b.action == "trigger_backup")
        ]
        groups: KeyGroups = [("Everywhere", _binding_rows(everywhere))]
        groups[0][1].append(("1-9", "focus pane N (in screen order)"))
        groups[0][1].append(("tab / shift+tab", "next / previous pane"))
        for pane in self.panes:
            rows = []
            for binding in pane.BINDINGS:
                if not isinstance(binding, Binding):
                    continue
                if binding.action in pane.MUTATING and self.read_only:
                    continue  # read-only: not offered at all
                row = _binding_rows([binding])
                reason = self.forbidden(pane.ACTION_IDS.get(binding.action, ""))
                if row and reason:
                    row = [(row[0][0], f"{row[0][1]} — FORBIDDEN: {reason}")]
                rows += row
            if rows:
                groups.append((f"{pane.PANE_TITLE} pane", rows))
        groups.append(("Log view (enter on a pod)", _binding_rows(LogScreen.BINDINGS)))
        return groups

    def _contacts_text(self) -> str:
        c = self.settings.contacts
        return (
            f"Incidents: Slack {c.slack_channel} · {c.incident_email} · on-call {c.on_call_phone}"
            f" · lead {c.team_lead_phone}\nStatus page {c.links.get('status', '')}"
        )

    def palette_commands(self) -> list[tuple[str, str, Callable[[], Any]]]:
        commands: list[tuple[str, str, Callable[[], Any]]] = []
        for index, pane in enumerate(self.panes, start=1):
            commands.append(
                (
                    f"Go to pane: {pane.PANE_TITLE}",
                    f"key {index}",
                    lambda p=pane: self.focus_pane(p),
                )
            )
            commands.append(
                (
                    f"Zoom pane: {pane.PANE_TITLE}",
                    "key z toggles",
                    lambda p=pane: (self.focus_pane(p), self.screen.maximize(p, container=False)),
                )
            )
        commands.extend(self._action_commands())
        commands.append(("War room layout", "key w", self.action_war_room))
        commands.append(("Refresh all panes", "key F5", self._refresh_all))
        commands.append(("Help: every key", "key ?", self.action_help))
        return commands

    @work(group="rbac", exclusive=True)
    async def _check_access(self) -> None:
        """Ask the API server, once, which Kubernetes actions this identity may run."""
        if self.access is None:
            return
        for cls in catalog().values():
            if cls.context_kind != "kube":
                continue
            for permission in cls.required():
                try:
                    await self.access.check(permission)
                except Exception:  # unreachable now: the keypress checks again
                    return
        if not self._quitting():  # the screens may be gone by now
            self.refresh_bindings()

    def forbidden(self, action_id: str) -> str | None:
        """Why an action is forbidden, from the RBAC cache (None: allowed or unknown)."""
        cls = catalog().get(action_id)
        if cls is None or self.access is None or cls.context_kind != "kube":
            return None
        for permission in cls.required():
            access = self.access.cached(permission)
            if access is not None and not access.allowed:
                return access.reason
        return None

    def _action_commands(self) -> list[tuple[str, str, Callable[[], Any]]]:
        """Every pane's actions (for its current selection) and the global ones;
        forbidden ones say so (selecting one explains and journals the refusal)."""
        commands: list[tuple[str, str, Callable[[], Any]]] = []
        for pane in [*self.panes, None]:
            if pane is None:
                entries = [("Run the backup job now", "B", self.action_trigger_backup, True)]
                ids = {"trigger_backup": "backup.trigger"}
            else:
                entries = pane.palette_entries()
                ids = pane.ACTION_IDS
            for name, help_text, callback, mutating in entries:
                if mutating and self.read_only:
                    continue
                key_action = getattr(callback, "__name__", "").removeprefix("action_")
                reason = self.forbidden(ids.get(key_action, ""))
                if reason:
                    name, help_text = f"{name} (forbidden)", reason
                commands.append((name, help_text, callback))
        return commands

    def _refresh_all(self) -> None:
        for poller in self.pollers.values():
            poller.refresh()

    # -- pod logs -----------------------------------------------------------------------

    @on(PodsPane.OpenLogs)
    def _open_logs(self, message: PodsPane.OpenLogs) -> None:
        if self.kube is None:
            self.notify("Not connected to Kubernetes yet", severity="warning")
            return
        pod = message.pod
        kube = self.kube
        containers = tuple(c.name for c in pod.containers)
        logs = self.settings.logs

        def open_feed(options: LogViewOptions) -> PodLogStream:
            return PodLogStream(
                kube.core,
                kube.namespace,
                pod.name,
                options.container,
                tail_lines=options.tail_lines,
                since_seconds=options.since_seconds,
                previous=options.previous,
                follow=options.follow,
                max_lines=logs.viewer_max_lines,
                request_timeout=self.settings.kube.request_timeout,
            ).start()

        options = LogViewOptions(
            container=containers[0] if containers else None, previous=message.previous
        )
        self.push_screen(
            LogScreen(
                pod.name,
                containers,
                open_feed,
                save_log_lines,
                options,
                max_lines=logs.viewer_max_lines,
            )
        )

    # -- actions ------------------------------------------------------------------------

    async def action_context(self, kind: str) -> Any:
        """The context an action kind executes in; PostgreSQL/Redis ones open lazily."""
        if kind in self._action_contexts:
            return self._action_contexts[kind]
        if kind == "kube":
            raise Refused("not connected to Kubernetes yet")
        import importlib

        module = importlib.import_module(f"actions.{kind}")
        ctx = await module.make_context(self.settings, self.journal)
        self._action_contexts[kind] = ctx
        return ctx

    @on(ActionRequested)
    def _action_requested(self, message: ActionRequested) -> None:
        message.stop()
        self.request_action(build_action(message.action_id, **message.args))

    def request_action(self, action: Action) -> None:
        """Check, confirm, run and journal an action (the only way actions run)."""
        plan = action.plan()
        if not self.runner.allows(action):
            self.runner.refused(action, plan, "read-only mode")
            self.notify(
                f"Read-only mode: {plan.title} is not available", severity="warning", markup=False
            )
            return
        if plan.key in self._requested or self.runner.busy(plan):
            self.notify(f"{plan.title}: already in progress", severity="warning", markup=False)
            return
        if action.mutating and (problem := self._check_journal()):
            self.notify(problem, title="Refused: no journal", severity="error", markup=False,
                        timeout=15)
            return
        self._requested.add(plan.key)
        self._run_action(action, plan.key)

    @work(group="actions")
    async def _run_action(self, action: Action, key: str) -> None:
        try:
            await self._confirm_and_run(action)
        finally:
            self._requested.discard(key)

    async def _confirm_and_run(self, action: Action) -> None:
        try:
            ctx = await self.action_context(action.context_kind)
            if action.context_kind == "kube" and self.access is not None:
                access = await self.access.check_all(action.permissions())
                if not access.allowed:
                    self.runner.refused(action, action.plan(), access.reason)
                    self.notify(
                        access.reason, title="Forbidden", severity="error", markup=False, timeout=10
                    )
                    return
            action = await action.prepare(ctx)
        except Refused as exc:
            self.runner.refused(action, action.plan(), str(exc))
            self.notify(str(exc), severity="error", markup=False)
            return
        except Exception as exc:  # a dead backend while preparing: say so, journal it
            message, _ = describe(exc)
            self.runner.record(action, action.plan(), "failed", error=message)
            self.notify(f"{action.label}: {message}", severity="error", markup=False)
            return
        if not action.mutating:
            # Read-only actions (a connectivity test, ...) run at once, journaled all the same.
            await self._execute(action, ctx, dry_run=False)
            return
        if self._quitting():
            return
        session_dry = self.runner.dry_run
        note = (
            "DRY-RUN session: the server validates, nothing changes"
            if session_dry
            else f"ARMED · context {self.runner.who.context} · journal {self.journal.path}"
        )
        confirmation = await self.push_screen_wait(
            ConfirmScreen(action, session_dry_run=session_dry, mode_note=note)
        )
        action = confirmation.action
        plan = action.plan()
        if confirmation.choice == "cancel":
            self.runner.cancelled(action, plan)
            self.notify(f"Cancelled: {plan.title}", markup=False, timeout=3)
            return
        await self._execute(action, ctx, dry_run=confirmation.choice == "dry-run")

    async def _execute(self, action: Action, ctx: Any, dry_run: bool) -> None:
        plan = action.plan()
        bar = self.main.query_one(ActionBar)
        shown_dry = dry_run or (self.runner.dry_run and action.mutating)
        row = bar.start(plan.key, ("dry run: " if shown_dry else "") + plan.title)
        try:
            result = await self.runner.run(action, ctx, dry_run=dry_run, progress=row.progress)
        except (Refused, Busy) as exc:
            bar.finish(plan.key, False, str(exc))
            self.notify(str(exc), title="Refused", severity="error", markup=False, timeout=10)
            return
        if self._quitting():
            return  # journaled already; nobody left to tell
        bar.finish(plan.key, result.ok, result.message)
        self.notify(
            result.message,
            title="Done" if result.ok else "Failed",
            severity="information" if result.ok else "error",
            markup=False,
            timeout=8 if result.ok else 15,
        )
        self._refresh_after(action)

    def _refresh_after(self, action: Action) -> None:
        names = {
            "kube": ("pods", "events", "top"),
            "postgres": ("postgres",),
            "redis": ("redis",),
        }.get(action.context_kind, ())
        for name in names:
            if name in self.pollers:
                self.pollers[name].refresh()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "trigger_backup" and self.read_only:
            return False
        return True

    def action_trigger_backup(self) -> None:
        self.request_action(
            build_action(
                "backup.trigger", cronjob=self.settings.backups.cronjob, namespace=self._namespace()
            )
        )

    def _namespace(self) -> str:
        return self.kube_target.namespace if self.kube_target else self.settings.kube.namespace

    @on(ViewRequested)
    def _view_requested(self, message: ViewRequested) -> None:
        message.stop()
        self._open_view(message.view, message.args)

    @work(group="views")
    async def _open_view(self, view: str, args: dict[str, Any]) -> None:
        if view == "describe-service":
            if self.kube_target is None:
                self.notify("Not connected to Kubernetes yet", severity="warning")
                return
            workload = args["workload"]
            name = self._service_for(workload.name)
            try:
                lines = await asyncio.to_thread(
                    describe_service,
                    self.kube_target.api,
                    self.kube_target.namespace,
                    name,
                    self.settings.kube.request_timeout,
                )
            except Exception as exc:
                self.notify(describe(exc)[0], severity="error", markup=False)
                return
            title = f"kubectl describe svc -n {self.kube_target.namespace} {name}"
            if not self._quitting():
                await self.push_screen(TextScreen(title, lines))
            return
        try:
            screen = await open_view(self, view, args)
        except Exception as exc:
            self.notify(describe(exc)[0], severity="error", markup=False)
            return
        if screen is not None and not self._quitting():
            await self.push_screen(screen)

    def _service_for(self, workload: str) -> str:
        """The runbook's services are named <app>-service (nginx-service, ...)."""
        return f"{workload}-service"

    # -- shutdown -----------------------------------------------------------------------

    async def action_quit(self) -> None:
        await self.shutdown()
        self.exit()

    async def shutdown(self) -> None:
        """Stop watches, streams and connections; idempotent."""
        if self._shutting_down:
            return
        self._shutting_down = True
        self.workers.cancel_all()
        for ctx in self._action_contexts.values():
            close_ctx = getattr(ctx, "close", None)
            if close_ctx is not None:
                self._sources_to_close.append(close_ctx)
        for close in self._sources_to_close:
            try:
                await asyncio.wait_for(close(), 3.0)
            except Exception:
                pass
        if self.kube is not None:
            await asyncio.to_thread(self.kube.stop)

    async def on_unmount(self) -> None:
        await self.shutdown()


def _binding_rows(bindings: Iterable[Any]) -> list[tuple[str, str]]:
    rows = []
    for binding in bindings:
        if isinstance(binding, Binding):
            if not binding.show and not binding.description:
                continue
            keys = binding.key_display or binding.key.replace(",", " / ")
            rows.append((keys, binding.description or binding.action))
    return rows


def known_secrets(settings: Settings) -> tuple[str, ...]:
    """Passwords the journal must mask even where they hide in free text."""
    found = [
        dsn_password(settings.effective_pg_dsn()),
        os.environ.get("PGPASSWORD"),
        dsn_password(settings.effective_redis_url()),
        dsn_password(settings.backups.endpoint_url or ""),
    ]
    return tuple(dict.fromkeys(secret for secret in found if secret))


def mark(event: str, detail: object = "") -> None:
    """Benchmarks: append "<event> <unix time> <detail>" to $COCKPIT_BENCH_MARKS, if set."""
    path = os.environ.get("COCKPIT_BENCH_MARKS")
    if path:
        import time

        with open(path, "a", encoding="utf-8") as handle:
            handle.write(f"{event} {time.time():.6f} {detail}\n")


def save_log_lines(pod: str, lines: list[str]) -> str:
    """Write a log view's lines under the XDG data dir; returns the path."""
    directory = Path(platformdirs.user_data_dir(APP_NAME)) / "logs"
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", pod)
    # Logs can carry customer data: readable by their owner only, like the journal.
    # O_EXCL: two saves within a second get two files, never one overwritten.
    for n in range(100):
        path = directory / (f"{safe}-{stamp}.log" if n == 0 else f"{safe}-{stamp}-{n}.log")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            break
        except FileExistsError:
            continue
    else:
        raise FileExistsError(f"{directory}: too many saves of {pod} this second")
    with open(fd, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + ("\n" if lines else ""))
        handle.flush()
        os.fsync(handle.fileno())
    return str(path)
