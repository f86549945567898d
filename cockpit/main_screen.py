"""The main screen: the panes' layout, the routing of snapshots to them, focus and zoom.

Pollers post SnapshotReady and SourceFailed to this screen.  Each pane declares the
sources it shows (`Pane.SOURCES`); one map built from those declarations routes every
message, so a new pane needs no change here beyond its place in the layout.  A message
posted after the screen is gone is dropped by Textual: no shutdown guards needed.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen

from cockpit import clock, uipriority
from cockpit.lazy_imports import import_modules
from cockpit.messages import SnapshotReady, SourceFailed
from cockpit.model import Level, SourceFailure, worst
from widgets.actionbar import ActionBar
from widgets.compositor import RowCropped
from widgets.footer import KeyFooter
from widgets.frametimer import FramePaced
from widgets.header import CockpitHeader
from widgets.messages import SourceOptions
from widgets.pane import Pane
from widgets.pods import PodsPane

if TYPE_CHECKING:
    from cockpit.config import Settings

# The panes around the pods are mounted once the pods are on screen (their modules
# imported off the loop): composing all ten delayed the first screen by 0.1-0.15 s.
# The screens that keys open are imported then too, so that no key waits for them.
LATER_MODULES = (
    "cockpit.war_room",
    "widgets.warroom",
    "widgets.logview",
    "widgets.textview",
    "widgets.confirm",
    "widgets.notify",
    "widgets.alerts",
    "widgets.backups",
    "widgets.disk",
    "widgets.errorlog",
    "widgets.events",
    "widgets.health",
    "widgets.host",
    "widgets.postgres",
    "widgets.redis",
    "widgets.slo",
    "widgets.top",
    "widgets.workloads",
)
LATER_PANES_AT_LATEST = 0.5  # seconds after mount, when no pods came (or failed) by then


class MainScreen(RowCropped, FramePaced, Screen):
    # f5 and z are the app's (global keys, in the footer after q and ?); they land here.
    BINDINGS = [
        *(Binding(str(n), f"focus_pane({n})", f"Pane {n}", show=False) for n in range(1, 10)),
        Binding("0", "focus_pane(10)", "Pane 10", show=False),  # the rest: tab, the palette
    ]

    def __init__(
        self,
        settings: Settings | None,
        *,
        read_only: Callable[[], bool],
        refresh_sources: Callable[[tuple[str, ...]], None],
        on_snapshot: Callable[[str, Any], None],
        on_failure: Callable[[SourceFailure], None],
        on_overall: Callable[[], None],
        first_pods: Callable[[], Any] = lambda: None,
    ) -> None:
        super().__init__()
        self.settings = settings  # None until read (after the first paint): take_settings
        self._settings_in = asyncio.Event()
        if settings is not None:
            self._settings_in.set()
        self._read_only = read_only
        self._refresh_sources = refresh_sources
        self._on_snapshot = on_snapshot
        self._on_failure = on_failure
        self._on_overall = on_overall
        self._first_pods = first_pods  # pods to show before the first paint, or None
        self.latest: dict[str, Any] = {}  # the newest snapshot of each source
        # What panes asked of their sources beyond the default (read by the pollers).
        self.source_options: dict[str, dict[str, Any]] = {}
        self.header = CockpitHeader(id="header")
        self.panes: list[Pane] = []  # in screen order (found once: a query per message adds up)
        self._routes: dict[str, list[Pane]] = {}
        # What came for panes not mounted yet, in order (the pods before on_mount too).
        self._held: list[SnapshotReady | SourceFailed] = []
        self._later_started = False
        self.later_mounted = False  # the panes around the pods are there (see compose)

    def compose(self) -> ComposeResult:
        # The layout's rows are all here from the start, so the pods pane has its final
        # place at the first paint; the panes in the other rows follow (`_mount_later`).
        yield self.header
        yield Horizontal(id="row-service")
        with Horizontal(id="row-kube"):
            yield Vertical(id="col-left")
            yield PodsPane(read_only=self._read_only, id="pods", classes="pane")
        yield Horizontal(id="row-logs")
        yield Horizontal(id="row-data")
        yield ActionBar(id="actions")
        yield KeyFooter()

    def take_settings(self, settings: Settings) -> None:
        """The settings, read after the first paint: the panes around the pods may come."""
        self.settings = settings
        self._settings_in.set()

    def _later_panes(self) -> dict[str, list[Pane]]:
        """The panes around the pods, by the container they go in, in screen order.
        What users see first: health, SLOs, alerts; then the layers under them."""
        from widgets.alerts import AlertsPane
        from widgets.backups import BackupsPane
        from widgets.disk import DiskPane
        from widgets.errorlog import ErrorLogPane
        from widgets.events import EventsPane
        from widgets.health import HealthPane
        from widgets.host import HostPane
        from widgets.postgres import PostgresPane
        from widgets.redis import RedisPane
        from widgets.slo import SloPane
        from widgets.top import TopPane
        from widgets.workloads import WorkloadsPane

        settings, read_only = self.settings, self._read_only
        assert settings is not None  # _mount_later waits for them
        return {
            "#row-service": [
                SloPane(id="slo", classes="pane"),
                HealthPane(id="health", classes="pane"),
                AlertsPane(id="alerts", classes="pane"),
            ],
            "#col-left": [
                WorkloadsPane(
                    kube=settings.kube, read_only=read_only, id="workloads", classes="pane"
                ),
                TopPane(id="top", classes="pane"),
            ],
            "#row-logs": [
                ErrorLogPane(
                    apps=settings.logs.apps,
                    max_lines=settings.logs.max_lines,
                    id="errorlog",
                    classes="pane",
                ),
                EventsPane(id="events", classes="pane"),
            ],
            "#row-data": [
                PostgresPane(
                    idle_minutes=settings.postgres.idle_minutes,
                    read_only=read_only,
                    id="postgres",
                    classes="pane",
                ),
                RedisPane(read_only=read_only, id="redis", classes="pane"),
                BackupsPane(read_only=read_only, id="backups", classes="pane"),
                DiskPane(settings=settings.disk, read_only=read_only, id="disk", classes="pane"),
                HostPane(id="host", classes="pane"),
            ],
        }

    def on_mount(self) -> None:
        self._take_panes()
        self.set_interval(1.0, self._tick)
        self.query_one("#pods-table").focus()
        self.set_timer(LATER_PANES_AT_LATEST, self._mount_later_soon)
        self._route_held()
        # Rows that are in already go in the first paint: as a message, they would be
        # handled after it (an empty pane painted first, then the rows, 30-50 ms later).
        if (pods := self._first_pods()) is not None:
            self._route(SnapshotReady("pods", pods))

    def _take_panes(self) -> None:
        self.panes = list(self.query(Pane))
        self._routes = routes(self.panes)

    def _mount_later_soon(self) -> None:
        """After the next paint (the pods', when they came), once."""
        if not self._later_started:
            self._later_started = True
            self.call_after_refresh(self.run_worker, self._mount_later, group="later-panes")

    async def _mount_later(self) -> None:
        await asyncio.to_thread(import_modules, LATER_MODULES)
        await self._settings_in.wait()
        later = self._later_panes()
        for container, panes in later.items():
            for pane in panes:  # one per turn of the loop (30-100 ms each): keys go on
                if self._app_closing():
                    return
                await self.query_one(container).mount(pane)
        if self._app_closing():  # quit while they mounted: a pane may have no children
            return
        for pane in (pane for panes in later.values() for pane in panes):
            for source in pane.SOURCES:  # the pods, shown before these panes were there
                if (snapshot := self.latest.get(source)) is not None:
                    pane.show_source(source, snapshot)
        self._take_panes()
        self.later_mounted = True
        self._route_held()

    def _app_closing(self) -> bool:
        """The app is shutting down (q pressed while the panes were being mounted)."""
        return bool(getattr(self.app, "quitting", False)) or not self.is_attached

    def _route_held(self) -> None:
        held, self._held = self._held, []
        for message in held:  # in the order they came
            self._route(message)

    # -- routing --------------------------------------------------------------------------

    def on_snapshot_ready(self, message: SnapshotReady) -> None:
        with uipriority.foreground():  # the first metrics on 5,000 rows: 20-40 ms
            self._route(message)

    def on_source_failed(self, message: SourceFailed) -> None:
        self._route(message)

    def on_source_options(self, message: SourceOptions) -> None:
        options = self.source_options.setdefault(message.source, {})
        if all(options.get(k) == v for k, v in message.options.items()):
            return
        options.update(message.options)
        self._refresh_sources((message.source,))  # what the pane now shows, at once

    def _route(self, message: SnapshotReady | SourceFailed) -> None:
        source = message.source
        if not self.later_mounted and (source != "pods" or not self.panes):
            self._held.append(message)  # only the pods pane is there (or none yet)
            return
        if isinstance(message, SnapshotReady):
            self._show(message)
        else:
            self._fail(message)
        if source == "pods":  # the first screen is on its way: the rest after its paint
            self._mount_later_soon()

    def _show(self, message: SnapshotReady) -> None:
        self.latest[message.source] = message.snapshot
        for pane in self._routes.get(message.source, ()):
            pane.show_source(message.source, message.snapshot)
        self._on_snapshot(message.source, message.snapshot)
        self._on_overall()

    def _fail(self, message: SourceFailed) -> None:
        failure = message.failure
        for pane in self._routes.get(failure.source, ()):
            if pane.SOURCES[0] == failure.source:  # a pane's first source is its lifeline
                pane.mark_failed(failure)
            else:
                pane.show_other_failure(failure)
        self._on_failure(failure)
        self._on_overall()

    def overall(self) -> tuple[Level, list[str], list[str]]:
        """The worst level of all panes, and which are not OK: short (for the header)
        and with a sentence each (for the war room)."""
        level = worst(p.effective_level for p in self.panes)
        short: list[str] = []
        detailed: list[str] = []
        for pane in sorted(self.panes, key=lambda p: -p.effective_level):
            if pane.effective_level < Level.WARN:
                continue
            title = pane.PANE_TITLE
            if pane.failure is not None:
                short.append(f"{title} stale")
                detailed.append(f"{title}: stale — {pane.failure.message}")
            else:
                short.append(f"{title} {pane.level.label}")
                detailed.append(f"{title}: {pane.summary}" if pane.summary else short[-1])
        return level, short, detailed

    def _tick(self) -> None:
        now = clock.now()
        self.header.refresh_text()
        for pane in self.panes:
            pane.tick(now)

    # -- focus and zoom -------------------------------------------------------------------

    def focused_pane(self) -> Pane | None:
        node = self.focused
        while node is not None:
            if isinstance(node, Pane):
                return node
            node = node.parent  # type: ignore[assignment]
        return None

    def action_refresh(self) -> None:
        pane = self.focused_pane()
        self._refresh_sources(pane.SOURCES if pane is not None else ())
        self.notify("Refreshing " + (pane.PANE_TITLE if pane else "all panes"), timeout=1.5)

    def action_zoom(self) -> None:
        if self.maximized is not None:
            self.minimize()
            return
        pane = self.focused_pane()
        if pane is not None:
            self.maximize(pane, container=False)

    def action_focus_pane(self, number: int) -> None:
        if 1 <= number <= len(self.panes):
            self.focus_pane(self.panes[number - 1])

    def focus_pane(self, pane: Pane) -> None:
        if self.maximized is not None:
            self.minimize()
        for widget in pane.query("*"):
            if widget.focusable:
                widget.focus()
                return

    def zoom_pane(self, pane: Pane) -> None:
        self.focus_pane(pane)
        self.maximize(pane, container=False)


def routes(panes: list[Pane]) -> dict[str, list[Pane]]:
    """Source name -> the panes that show it, from the panes' own declarations."""
    table: dict[str, list[Pane]] = defaultdict(list)
    for pane in panes:
        for source in pane.SOURCES:
            table[source].append(pane)
    return dict(table)
