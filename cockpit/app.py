"""CockpitApp: the shell.  Settings, journal, mode, screens and the global keys.

Everything else has a room of its own: the layout, routing, focus and zoom in
cockpit/main_screen.py; which source starts when in cockpit/startup.py; the action
flow in cockpit/action_flow.py; the war-room figures in cockpit/war_room.py; the views
in cockpit/views/.  This module and cli.py are the only ones that wire sources,
actions and widgets together.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events, on
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from actions.runner import ActionRunner, Who
from cockpit import gctuning
from cockpit.action_flow import ActionFlow
from cockpit.audit import Journal
from cockpit.errors import describe
from cockpit.incident import IncidentTracker
from cockpit.launch import Launch
from cockpit.main_screen import MainScreen
from cockpit.marks import mark
from cockpit.messages import SnapshotReady
from cockpit.palette import contacts_text, key_groups, palette_commands
from cockpit.recording.recorder import recorder_for
from cockpit.redaction import known_secrets
from cockpit.sources.kube import prefetch
from cockpit.startup import (
    Sources,
    early_pods,
    early_pods_soon,
    early_pods_whole,
    mark_pods_shown,
)
from cockpit.views import open_view, pod_log_screen
from widgets.frametimer import FramePaced
from widgets.header import CockpitHeader
from widgets.help import HelpScreen, KeyGroups
from widgets.keys import Key
from widgets.messages import ActionRequested, ViewRequested
from widgets.pane import Pane
from widgets.pods import PodsPane

if TYPE_CHECKING:
    from textual.driver import Driver

    from actions.base import Action
    from actions.kube.context import KubeContext
    from actions.notify.message import IncidentState
    from actions.rbac import AccessChecker
    from cockpit.config import Settings
    from cockpit.sources.kube.client import KubeTarget
    from cockpit.war_room import Figure
    from widgets.warroom import WarRoomScreen

IO_THREADS = 32
# Handled even before the settings are in (a settings file on a hung mount, say).
QUIT_AT_ONCE = frozenset({"ctrl+q", "ctrl+c"})
# The early Table's rows, still on their way when the screen mounted, before the settings.
LATE_ROWS_WAIT_S = 2.0
WHOLE_BEFORE_SETTINGS_S = 0.5  # the settings (and so typed keys) wait this long at most
RECORDER_CHECK_S = 3.0  # after start: whether the recorder could open its file
# Remedies that belong to no pane; declared once, like the panes' keys.
GLOBAL_KEYS = (
    Key("B", "trigger_backup", "Backup now", "backup.trigger", mutating=True, show=False,
        palette="Run the backup job now"),
    # The second path, for when the CronJob is broken: pg_dump from here, straight to S3.
    Key("U", "dump_now", "Dump now", "backup.dump-now", mutating=True, show=False,
        palette="Dump the database to S3 now (pg_dump from this machine)"),
    # Not `mutating` here: it changes nothing in the cluster, so a read-only observer
    # may tell the channel too; the action still asks for confirmation and is journaled.
    # The runbook's data-loss procedure, step by step (cockpit/views/restore.py).
    Key("G", "guided_restore", "Guided restore", "restore.stop-writers", mutating=True,
        show=False, palette="Restore the database from a dump, step by step"),
    Key("N", "notify", "Notify channel", "notify.send", mutating=False, show=False,
        palette="Notify the incident channel"),
)  # fmt: skip
GLOBAL_MUTATING = frozenset(key.method for key in GLOBAL_KEYS if key.mutating)


class CockpitApp(App[None]):
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses live elsewhere
    TITLE = "cockpit"
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help"),
        Binding("f5,ctrl+r", "refresh", "Refresh"),
        Binding("z", "zoom", "Zoom"),
        Binding("w", "war_room", "War room"),
        Binding("ctrl+p", "command_palette", "Palette", show=False),
        *(key.binding() for key in GLOBAL_KEYS),
    ]

    SOURCES: ClassVar[type[Sources]] = Sources  # tests swap in sources that poll nothing

    def __init__(self, launch: Launch, load_settings: Callable[[], Settings] | None = None) -> None:
        """With `launch.settings` None, `load_settings` reads them after the first paint
        (`cockpit run`, see cockpit/first_screen.py); until then keys wait (`ready`)."""
        super().__init__()
        self.launch = launch
        self.war_room: WarRoomScreen | None = None
        self._shutting_down = False
        self.collector = gctuning.FullCollector()
        self.incident = IncidentTracker()  # since when things are not OK (for notify)
        self.ready = False  # the settings are in, and what is made of them
        self.config_error: str | None = None  # why the settings read late were refused
        self._load_settings = load_settings
        self._held_keys: list[events.Key] = []  # typed before `ready`, in order
        self._early_first: Any = None  # the early rows given to the screen before `ready`
        self._early_routed = False  # ... and shown by it (drawn at the next frame)
        self._early_whole_asked = False  # the Table's other pages are on their way
        self._early_settled = asyncio.Event()  # ... and drawn, or not coming
        if launch.settings is not None:
            self._take_settings(launch.settings)
        elif load_settings is None:
            raise ValueError("no settings and no way to read them")

    def _take_settings(self, settings: Settings) -> None:
        """The journal, the action runner, the recorder and the sources."""
        launch = self.launch
        self.settings = settings
        self.journal = Journal(settings.effective_journal_path(), secrets=known_secrets(settings))
        self.runner = ActionRunner(
            self.journal,
            Who(launch.context or "", "", settings.kube.namespace),
            read_only=settings.is_read_only(launch.context),
            dry_run=settings.dry_run,
        )
        self.recorder = recorder_for(settings) if launch.record else None
        self.sources = self.SOURCES(self)
        self.flow = ActionFlow(self, self.runner, self.sources.refresh)
        self.ready = True

    def get_driver_class(self) -> type[Driver]:
        # Textual's Linux driver polls the terminal ten times a second for nothing;
        # widgets/quietdriver.py's sleeps until there is input.  Any other choice
        # (TEXTUAL_DRIVER, another platform) stays Textual's.
        chosen = super().get_driver_class()
        from textual.drivers.linux_driver import LinuxDriver

        if chosen is LinuxDriver:
            from widgets.quietdriver import QuietLinuxDriver

            return QuietLinuxDriver
        return chosen

    def get_default_screen(self) -> Screen:
        # The sources are made with the settings: until then (`ready`) nothing polls,
        # so nothing calls these.
        return MainScreen(
            self.settings if self.ready else None,
            read_only=lambda: self.read_only,
            refresh_sources=lambda names: self.sources.refresh(names),
            on_snapshot=self._on_snapshot,
            on_failure=lambda failure: self.sources.on_failure(failure),
            on_overall=self.update_overall,
            first_pods=self._first_pods,
        )

    def _on_snapshot(self, source: str, snapshot: Any) -> None:
        if self.ready:
            self.sources.on_snapshot(source, snapshot)
        elif source == "pods":  # the early rows (`_first_pods`, `_early_rows_later`)
            self._early_routed = True
            mark_pods_shown(self, snapshot)
            if snapshot.remaining is not None and not self._early_whole_asked:
                # The Table's first page is painted: the other pages' rows are parsed
                # and shown while the settings are read (prefetch.py).
                self._early_whole_asked = True
                self.call_after_refresh(self.run_worker, self._early_whole, group="early-rows")

    def _first_pods(self) -> Any:
        if self.ready:
            return self.sources.first_pods()
        # The sources hear of these once they are made (`_settings_read`).
        self._early_first = early_pods(self)
        if self._early_first is None:  # not in yet: shown when they come
            self.run_worker(self._early_rows_later, group="early-rows")
        return self._early_first

    async def on_event(self, event: events.Event) -> None:
        if (
            not self.ready
            and isinstance(event, events.Key | events.MouseEvent)
            and getattr(event, "key", "") not in QUIT_AT_ONCE
        ):
            # The settings are being read (a fifth of a second after the first paint):
            # keys wait and are handled in order once they are in; clicks are dropped.
            if isinstance(event, events.Key) and not event.is_forwarded:
                self._held_keys.append(events.Key(event.key, event.character))
            return
        # Keys and clicks as they come from the terminal: the full collection waits
        # for a pause in them (see cockpit/gctuning.py).
        if isinstance(event, events.Key | events.MouseDown) and not event.is_forwarded:
            self.collector.note_input()
            # ... and what they change is drawn without waiting for the frame pacing.
            screen = self.screen
            if isinstance(screen, FramePaced):
                screen.note_input()
        await super().on_event(event)

    def on_mount(self) -> None:
        # Blocking clients run in threads: the default pool (cores + 4) would let a few
        # hung API calls starve every other source of threads.
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(max_workers=IO_THREADS, thread_name_prefix="cockpit-io")
        )
        mark("app_mounted")
        self.header.note = self.launch.note
        if self.ready:
            self._start()
        else:
            self.call_after_refresh(self.run_worker, self._settings_read, group="settings")

    async def _early_rows_later(self) -> None:
        """The early Table's rows, when they came after the screen mounted: shown as
        they come, not after the settings (once those are in, the sources post them)."""
        snapshot = await early_pods_soon(self, LATE_ROWS_WAIT_S)
        if snapshot is None or self.ready:
            return
        self._early_first = snapshot
        self.main.post_message(SnapshotReady("pods", snapshot))

    async def _early_whole(self) -> None:
        """The whole early Table, after its first page (before the settings are in)."""
        whole = None
        try:
            whole = await early_pods_whole(self)
        finally:
            if whole is None or self.ready:
                self._early_settled.set()
        if whole is None or self.ready:
            return  # once the settings are in, the sources show it (_start_kube)
        self._early_first = whole
        self.main.post_message(SnapshotReady("pods", whole))
        self.main.call_after_refresh(self._early_settled.set)  # drawn: the settings now

    async def _settings_read(self) -> None:
        """The settings, read after the first paint (in a thread: pydantic's imports are
        a tenth of a second of CPU); then everything that needs them starts."""
        if self._early_whole_asked:
            # The Table's first page is on screen and the rest are being parsed: the
            # whole list first (on two cores, the two would share the GIL and each
            # come later), the settings right after.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._early_settled.wait(), WHOLE_BEFORE_SETTINGS_S)
        settings = await asyncio.to_thread(self._read_settings)
        mark("settings_read")
        if isinstance(settings, str):
            prefetch.provide_settings(None)
            self.config_error = settings  # cli.py prints it once the terminal is back
            self.exit(return_code=2)
            return
        prefetch.provide_settings(settings.kube)
        self._take_settings(settings)
        self.sources.screen_took(self._early_first, painted=self._early_routed)
        self.main.take_settings(settings)
        self._start()
        self.refresh_bindings()
        held, self._held_keys = self._held_keys, []
        for key in held:
            self.post_message(key)

    def _read_settings(self) -> Settings | str:
        """The settings, or why they are refused (in a thread, with their imports)."""
        from cockpit.config import ConfigError

        assert self._load_settings is not None
        try:
            return self._load_settings()
        except ConfigError as exc:
            return str(exc)

    def _start(self) -> None:
        self.header.set_mode(self.mode_name())
        self.check_journal()
        self.set_interval(10.0, self._recheck_journal)
        if self.recorder is not None:
            self.recorder.start()
            self.set_timer(RECORDER_CHECK_S, self._say_recorder_problem)
        self.sources.start()
        if self.launch.war_room:
            self.call_after_refresh(self.action_war_room)
        # Cheap: the restore screen's modules load only when there is a bookmark.
        if (self.settings.effective_journal_path().parent / "restore.json").exists():
            self.call_after_refresh(self._offer_unfinished_restore)

    # -- state the screens read -----------------------------------------------------------

    @property
    def main(self) -> MainScreen:
        """The screen with the panes (queries must not look at a modal on top)."""
        return self.screen_stack[0]  # type: ignore[return-value]

    @property
    def header(self) -> CockpitHeader:
        return self.main.header

    @property
    def panes(self) -> list[Pane]:
        return self.main.panes

    @property
    def read_only(self) -> bool:
        return self.runner.read_only if self.ready else True  # nothing is offered yet

    @property
    def quitting(self) -> bool:
        """True once shutdown has begun: a worker resuming after an await must not touch
        the screens (they may be gone) nor start anything."""
        return self._shutting_down or self._exit or not self._running

    def mode_name(self) -> str:
        target = self.sources.kube_target
        context = target.context if target else self.launch.context
        if self.settings.is_read_only(context):
            return "READ-ONLY"
        if self.settings.dry_run:
            return "DRY-RUN"
        return "ARMED"

    def check_journal(self) -> str | None:
        """No audit, no action: look whether the journal can be written, and say so in
        the header when it cannot (mutating actions are refused until it can)."""
        problem = self.journal.check()
        self.header.set_journal_problem(problem)
        return problem

    def _say_recorder_problem(self) -> None:
        """Recording is best effort (the cockpit runs without it), but not silently."""
        problem = self.recorder.problem if self.recorder is not None else None
        if problem and not self.quitting:
            self.notify(problem, title="Flight recorder", severity="warning", markup=False)

    def _recheck_journal(self) -> None:
        if self.journal.problem:
            self.check_journal()  # fixed since? then the header says so within 10 s

    def kube_connected(
        self, target: KubeTarget, contexts: tuple[Who, AccessChecker, KubeContext]
    ) -> None:
        who, access, kube_context = contexts
        self.runner.who = who
        self.runner.read_only = self.settings.is_read_only(target.context)
        self.flow.access = access
        self.flow.contexts["kube"] = kube_context
        self.header.set_target(target.context, target.namespace)
        self.header.set_mode(self.mode_name())
        self.refresh_bindings()

    async def check_access(self) -> None:
        await self.flow.check_access()
        if not self.quitting:  # the screens may be gone by now
            self.refresh_bindings()

    def forbidden(self, action_id: str) -> str | None:
        return self.flow.forbidden(action_id) if self.ready else "starting"

    async def action_context(self, kind: str) -> Any:
        return await self.flow.context(kind)

    def request_action(self, action: Action) -> None:
        self.flow.request(action)

    # -- overall level and the war room ---------------------------------------------------

    def update_overall(self) -> None:
        level, short, detailed = self.main.overall()
        self.header.set_overall(level, short)
        self.incident.note(level, self.panes)
        war = self.war_room
        # Pushed but not yet mounted (a snapshot can come in between): it has no
        # figures to fill yet, and action_war_room fills it once it is mounted.
        if war is not None and self.screen is war and war.is_mounted:
            war.show(self.figures(), detailed)  # kept for its mount if not composed yet
            if not war.ready:
                return
            war_header = war.query_one(CockpitHeader)
            main_header = self.header
            war_header.context, war_header.namespace = main_header.context, main_header.namespace
            war_header.mode, war_header.note = main_header.mode, main_header.note
            war_header.set_overall(level, short)

    def incident_state(self) -> IncidentState:
        """What the screen shows now, for the message to the incident channel."""
        target = self.sources.kube_target
        return self.incident.state(
            self.main,
            target.context if target else (self.launch.context or ""),
            target.namespace if target else self.settings.kube.namespace,
        )

    @property
    def degraded_since(self) -> datetime | None:
        return self.incident.degraded_since

    def figures(self) -> list[Figure]:
        from cockpit.war_room import figures

        return figures(self.main.latest)

    async def action_war_room(self) -> None:
        if self.war_room is not None and self.screen is self.war_room:
            self.pop_screen()
            return
        from widgets.warroom import WarRoomScreen

        self.war_room = WarRoomScreen()
        await self.push_screen(self.war_room)
        self.update_overall()

    # -- keys, help and palette -----------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action in GLOBAL_MUTATING and self.read_only)

    def action_refresh(self) -> None:
        self.main.action_refresh()

    def action_zoom(self) -> None:
        if self.screen is self.main:
            self.main.action_zoom()

    def action_trigger_backup(self) -> None:
        target = self.sources.kube_target
        namespace = target.namespace if target else self.settings.kube.namespace
        self.flow.request_by_id(
            "backup.trigger", {"cronjob": self.settings.backups.cronjob, "namespace": namespace}
        )

    def action_dump_now(self) -> None:
        b = self.settings.backups
        self.flow.request_by_id(
            "backup.dump-now",
            {"database": self.settings.postgres.database, "bucket": b.bucket, "prefix": b.prefix},
        )

    def action_guided_restore(self) -> None:
        from cockpit.views.restore import RestoreScreen, unfinished_restore

        if not isinstance(self.screen, RestoreScreen):
            self.push_screen(RestoreScreen(self, unfinished_restore(self)))

    def _offer_unfinished_restore(self) -> None:
        """A restore the last run left half-done is the first thing to see."""
        from cockpit.views.restore import RestoreScreen, unfinished_restore

        state = unfinished_restore(self)
        if state is not None and not self.quitting:
            self.notify(
                state.summary(),
                title="Unfinished restore",
                severity="warning",
                markup=False,
                timeout=20,
            )
            self.push_screen(RestoreScreen(self, state))

    def action_notify(self) -> None:
        self.flow.request_by_id("notify.send", {"state": self.incident_state()})

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.key_groups(), footer=self._contacts_text()))

    def key_groups(self) -> KeyGroups:
        return key_groups(self, GLOBAL_KEYS)

    def _contacts_text(self) -> str:
        return contacts_text(self.settings)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield from self.palette_commands()

    def palette_commands(self) -> Iterator[SystemCommand]:
        return palette_commands(self, GLOBAL_KEYS)

    # -- what the panes ask for -----------------------------------------------------------

    @on(ActionRequested)
    def _action_requested(self, message: ActionRequested) -> None:
        message.stop()
        self.flow.request_by_id(message.action_id, message.args)

    # Why views that read live data (logs, describe, deep views) are not offered, if so.
    VIEWS_REFUSAL: ClassVar[str] = ""

    def _views_refused(self) -> bool:
        if self.VIEWS_REFUSAL:
            self.notify(self.VIEWS_REFUSAL, severity="warning", markup=False)
        return bool(self.VIEWS_REFUSAL)

    @on(ViewRequested)
    def _view_requested(self, message: ViewRequested) -> None:
        message.stop()
        if self._views_refused():
            return
        self.run_worker(self._open_view(message.view, message.args), group="views")

    async def _open_view(self, view: str, args: dict[str, Any]) -> None:
        try:
            screen = await open_view(self, view, args)
        except Exception as exc:
            self.notify(describe(exc)[0], severity="error", markup=False)
            return
        if screen is not None and not self.quitting:
            await self.push_screen(screen)

    @on(PodsPane.OpenLogs)
    def _open_logs(self, message: PodsPane.OpenLogs) -> None:
        if self._views_refused():
            return
        screen = pod_log_screen(self, message.pod, message.previous)
        if screen is not None:
            self.push_screen(screen)

    # -- shutdown -------------------------------------------------------------------------

    async def action_quit(self) -> None:
        await self.shutdown()
        self.exit()

    async def shutdown(self) -> None:
        """Stop watches, streams and connections; idempotent."""
        if self._shutting_down:
            return
        self._shutting_down = True
        self.workers.cancel_all()
        if not self.ready:
            return  # the settings never came: nothing was started
        for close in (self.flow.close, self.sources.close):
            try:
                await asyncio.wait_for(close(), 5.0)
            except Exception:
                pass
        if self.recorder is not None:
            await asyncio.to_thread(self.recorder.stop)

    async def on_unmount(self) -> None:
        await self.shutdown()
