"""What every fire drill does: start the cockpit as `cockpit demo --scenario incident`
does, and drive it with keys only, the way a person at the keyboard would.

A person focuses a pane with its digit (or `tab`), moves the cursor to the row with the
arrow keys, presses the remedy key, moves through the confirmation modal with `tab` /
`shift+tab`, types into its fields and presses `enter` on *Execute*.  The helpers below
do exactly that and nothing else: they read the app's state to decide which key to
press next (as a person reads the screen) but never call an action or set a widget's
value themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from kubernetes import client as k8s
from textual.widget import Widget
from textual.widgets import Button, Input

from cockpit.app import CockpitApp, Launch
from cockpit.config import PostgresSettings, RedisSettings, Settings
from cockpit.demo.servers import DEMO_IDLE_MINUTES, DemoServers
from cockpit.model import Level
from cockpit.sim.runner import SimCluster
from tests.app.conftest import FAST_POLL
from tests.pilot import confirm_modal, wait_for
from widgets.confirm import ConfirmScreen
from widgets.pane import Pane

NS = "excel-unified"
SIZE = (200, 60)  # a roomy terminal: every pane shows its rows
# Where nothing listens: a drill whose incident is in the cluster leaves the machine's
# own PostgreSQL and Redis alone (the demo without its own servers would watch them).
NO_POSTGRES = PostgresSettings(dsn="host=127.0.0.1 port=1 user=none dbname=none", connect_timeout=1)
NO_REDIS = RedisSettings(url="redis://127.0.0.1:1/0", connect_timeout=1)


# -- starting the cockpit as the incident demo does ---------------------------------------


def demo_settings(
    sim: SimCluster,
    tmp_path: Path,
    servers: DemoServers | None = None,
    **overrides: Any,
) -> Settings:
    """The settings `cockpit demo --scenario incident` derives (cockpit/demo/environment.py):
    the simulated cluster's kubeconfig and context, nginx's service standing in for the
    public health URLs, and the demo's own PostgreSQL and Redis (with its shortened idle
    threshold) when `servers` is given.  The tests' fast poll intervals on top."""
    base = Settings(
        journal_path=tmp_path / "state" / "journal.jsonl",
        poll=FAST_POLL,
        postgres=NO_POSTGRES,
        redis=NO_REDIS,
        **overrides,
    )
    kube = base.kube.model_copy(
        update={
            "kubeconfig": Path(sim.write_kubeconfig(tmp_path / "kubeconfig")),
            "context": "cockpit-sim",
            "namespace": sim.namespace,
        }
    )
    health = base.health.model_copy(
        update={"urls": (), "services": ("nginx-service:80", *base.health.services)}
    )
    settings = base.model_copy(update={"kube": kube, "health": health})
    if servers is not None:
        settings = servers.settings_for(settings)
    return settings


def launch(settings: Settings, servers: DemoServers | None = None) -> CockpitApp:
    note = "demo: simulated cluster, incident"
    if servers is not None:
        note += f"; idle threshold shortened to {round(DEMO_IDLE_MINUTES * 60)} s"
    return CockpitApp(Launch(settings=settings, context="cockpit-sim", note=note))


# -- what the screen shows ----------------------------------------------------------------


def shows_level(pane: Pane, level: Level) -> bool:
    """The pane is at `level` and drawn in its colour (the border's level class)."""
    return pane.level is level and pane.has_class(f"level-{level.css}")


def in_warning_colour(pane: Pane) -> bool:
    return pane.level >= Level.WARN and shows_level(pane, pane.level)


def cell_texts(table: Any, key: str) -> list[str]:
    """A row's cells as shown (Text cells of a KeyedTable, Cell tuples of a VirtualTable)."""
    cells = table.row_cells(key)
    assert cells is not None, f"no row {key!r}"
    return [cell.plain if hasattr(cell, "plain") else str(cell.text) for cell in cells]


def cell_styles(table: Any, key: str) -> list[str]:
    cells = table.row_cells(key)
    assert cells is not None, f"no row {key!r}"
    return [str(cell.style) for cell in cells]


# -- keys ---------------------------------------------------------------------------------


async def focus_pane(pilot: Any, app: CockpitApp, key: str, pane_type: type[Pane]) -> Pane:
    """Press the pane's digit; wait until the focus is inside it."""
    pane = app.main.query_one(pane_type)
    await pilot.press(key)
    await wait_for(
        pilot, lambda: app.main.focused_pane() is pane, what=f"{pane.PANE_TITLE} focused"
    )
    return pane


async def tab_to_pane(
    pilot: Any, app: CockpitApp, start: str, pane_type: type[Pane], limit: int = 12
) -> Pane:
    """Panes past the tenth have no digit: focus the tenth (`start`), then `tab` on."""
    pane = app.main.query_one(pane_type)
    await pilot.press(start)
    for _ in range(limit):
        await pilot.pause()
        if app.main.focused_pane() is pane:
            return pane
        await pilot.press("tab")
    raise AssertionError(f"{limit} tabs did not reach the {pane.PANE_TITLE} pane")


async def move_to_row(pilot: Any, table: Any, key: str, limit: int = 60) -> None:
    """Arrow keys until the cursor is on the row keyed `key` (rows may reorder between
    presses: the direction is decided again before each one)."""
    for _ in range(limit):
        order = table.keys_in_order()
        assert key in order, f"row {key!r} is not shown"
        here = table.selected_key
        if here == key:
            return
        index = order.index(here) if here in order else 0
        await pilot.press("down" if order.index(key) > index else "up")
        await pilot.pause()
    raise AssertionError(f"{limit} arrow keys did not reach row {key!r}")


def keys_of(text: str) -> list[str]:
    """The key presses that type `text`: Pilot takes a printable character as its key."""
    return list(text)


async def tab_to(
    pilot: Any, screen: ConfirmScreen, widget: Widget, backwards: bool = False, limit: int = 12
) -> None:
    key = "shift+tab" if backwards else "tab"
    for _ in range(limit):
        if screen.focused is widget:
            return
        await pilot.press(key)
        await pilot.pause()
    raise AssertionError(f"{limit} x {key} did not reach #{widget.id}")


async def confirm_with_keys(
    pilot: Any,
    app: CockpitApp,
    params: dict[str, str] | None = None,
    check: Callable[[ConfirmScreen], None] | None = None,
) -> ConfirmScreen:
    """The confirmation modal, worked from the keyboard: Cancel has the focus; each
    parameter field is reached with shift+tab, emptied and typed into; the confirmation
    phrase (when the plan asks for one) is typed where the modal asks, `enter` there
    goes back to Cancel; then `tab` to Execute and `enter`.  `check(modal)` looks at the
    plan once the parameters are in, before anything is confirmed."""
    modal = await confirm_modal(pilot, app)
    assert modal.focused is modal.query_one("#cancel", Button), "Cancel must have the focus"
    for name, value in (params or {}).items():
        field = modal.query_one(f"#param-{name}", Input)
        await tab_to(pilot, modal, field, backwards=True)
        await pilot.press("end", *["backspace"] * len(field.value), *keys_of(value))
        await wait_for(pilot, lambda f=field, v=value: f.value == v, what=f"{name} typed")
    if check is not None:
        check(modal)
    execute = modal.query_one("#execute", Button)
    phrase = modal.plan.confirm_phrase
    if phrase:
        assert execute.disabled, "a typed confirmation must be asked before Execute"
        field = modal.query_one("#confirm-phrase", Input)
        assert field.display
        await tab_to(pilot, modal, field, backwards=True)
        await pilot.press(*keys_of(phrase), "enter")  # enter: back to Cancel, no execution
        await wait_for(pilot, lambda: modal.focused is modal.query_one("#cancel", Button))
    await wait_for(pilot, lambda: not execute.disabled, what="Execute enabled")
    await tab_to(pilot, modal, execute)
    await pilot.press("enter")
    await wait_for(pilot, lambda: app.screen is not modal, what="the modal closed")
    return modal


# -- the journal --------------------------------------------------------------------------


async def outcome(
    pilot: Any, app: CockpitApp, action: str, nth: int = 1, timeout: float = 20.0
) -> dict:
    """The journaled outcome (not the intent) of the `nth` run of `action` (the count
    tells a second run from the first, whose outcome is already there)."""

    def done() -> dict | None:
        runs = [
            e for e in app.journal.read() if e["action"] == action and e["outcome"] != "started"
        ]
        return runs[nth - 1] if len(runs) >= nth else None

    return await wait_for(pilot, done, timeout=timeout, what=f"outcome {nth} of {action}")


# -- the cluster, through the real kubernetes client --------------------------------------


class Cluster:
    """The simulated cluster as any client sees it: the kubernetes API over HTTP."""

    def __init__(self, sim: SimCluster) -> None:
        self.api = k8s.ApiClient(sim.client_configuration())
        self.core = k8s.CoreV1Api(self.api)
        self.apps = k8s.AppsV1Api(self.api)
        self.batch = k8s.BatchV1Api(self.api)

    def close(self) -> None:
        self.api.close()

    def pods(self, app: str) -> list[Any]:
        items = self.core.list_namespaced_pod(NS, label_selector=f"app={app}").items
        return [p for p in items if p.metadata.deletion_timestamp is None]

    def pod_uids(self, app: str) -> set[str]:
        return {p.metadata.uid for p in self.pods(app)}


def ready(pod: Any) -> bool:
    conditions = pod.status.conditions or []
    return any(c.type == "Ready" and c.status == "True" for c in conditions)


def waiting_reason(pod: Any) -> str:
    for status in pod.status.container_statuses or []:
        if status.state and status.state.waiting:
            return status.state.waiting.reason or ""
        if status.state and status.state.terminated:
            return status.state.terminated.reason or ""
    return ""
