"""`cockpit run` draws its first screen before it reads the settings.

pydantic-settings cost a tenth of a second of CPU to import, as much as Textual; when
they cannot name another kubeconfig, context or namespace than the early Table request
asked (cockpit/first_screen.py), the app paints the early rows first and reads the
settings in a thread after that paint.  Keys typed meanwhile wait and are handled in
order; settings refused then end the app with status 2 and the usual message.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.common import PtyProcess
from cockpit.app import CockpitApp
from cockpit.config import ConfigError, Settings
from cockpit.first_screen import settings_keep_target
from cockpit.launch import Launch
from cockpit.sim.runner import kubeconfig_text
from cockpit.sources.kube import early, prefetch
from tests.pilot import wait_for
from tests.slowproxy import slow_proxy
from widgets.pods import PodsPane

from . import scenes

ROOT = Path(__file__).resolve().parents[2]
PYDANTIC = ("pydantic", "pydantic_core", "pydantic_settings")


@pytest.fixture(autouse=True)
def nothing_left_pending() -> Iterator[None]:
    """A request or prefetch left behind would be taken by the next test's app."""
    yield
    prefetch.provide_settings(None)  # a prefetch still waiting for settings ends
    early._pending = None
    prefetch._pending = None


class PaintRecording(CockpitApp):
    """Remembers, at each frame it writes, how many pods the pods pane shows and
    whether the settings were in."""

    def __init__(self, launch: Launch, load_settings: Callable[[], Settings]) -> None:
        super().__init__(launch, load_settings=load_settings)
        self.painted: list[tuple[int, bool]] = []

    def _display(self, screen: Any, renderable: Any) -> None:
        if renderable is not None and self.screen_stack:
            panes = self.screen_stack[0].query(PodsPane)
            shown = panes.first().snapshot if panes else None
            self.painted.append((len(shown.pods) if shown is not None else 0, self.ready))
        super()._display(screen, renderable)


# -- which launches may paint first ---------------------------------------------------


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.upper().startswith("COCKPIT_"):
            monkeypatch.delenv(name)
    path = tmp_path / "config.toml"
    monkeypatch.setenv("COCKPIT_CONFIG", str(path))
    return path


@pytest.mark.parametrize(
    ("text", "env", "first"),
    [
        ("[poll]\npods = 3\n", {}, True),
        ('[kube]\npostgres_pod = "pg-0"\n', {}, True),  # not where the pods come from
        ('[kube]\nnamespace = "other"\n', {}, False),
        ('[kube]\ncontext = "prod"\n', {}, False),
        ('[kube]\nkubeconfig = "/etc/kc"\n', {}, False),
        ('kube = { namespace = "other" }\n', {}, False),
        ("", {"COCKPIT_KUBE__NAMESPACE": "other"}, False),
        ("", {"cockpit_kube__context": "prod"}, False),  # names are not case-sensitive
        ("", {"COCKPIT_KUBE": '{"namespace": "other"}'}, False),
        ("[poll\n", {}, False),  # malformed: the settings say what is wrong, first
        (b"\xff\xfe", {}, False),
    ],
)
def test_the_settings_decide_first_when_they_could_name_another_target(
    config_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    text: str | bytes,
    env: dict[str, str],
    first: bool,
) -> None:
    if isinstance(text, bytes):
        config_file.write_bytes(text)
    else:
        config_file.write_text(text)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert settings_keep_target(None) is first


def test_a_named_file_that_is_missing_is_read_first(config_file: Path) -> None:
    assert not settings_keep_target(None)  # $COCKPIT_CONFIG names it: an error to say
    assert not settings_keep_target(config_file.with_name("nope.toml"))


def test_no_file_at_the_default_place_paints_first(
    config_file: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("COCKPIT_CONFIG")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "empty"))
    assert settings_keep_target(None)


def test_the_first_screen_imports_no_pydantic() -> None:
    """What `cockpit run` imports before its first paint, the prefetch thread's included."""
    code = (
        "import sys\n"
        "import cockpit.cli, cockpit.first_screen, cockpit.app, orjson\n"
        "import cockpit.sources.kube.prefetch, cockpit.sources.kube.first_pods\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {PYDANTIC!r}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert done.stdout.strip() == "[]"


# -- the app ----------------------------------------------------------------------------


def early_rows_in(kubeconfig: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What `cockpit run` does before its imports: the Table asked, the prefetch begun
    without settings, the rows in."""
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    early.begin("cockpit-sim", None)
    prefetch.start(None, "cockpit-sim", None)
    assert prefetch.early_snapshot(10.0) is not None


async def test_keys_typed_before_the_settings_wait_for_them(
    make_sim: Callable[..., Any],
    make_settings: Callable[..., Settings],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sim = make_sim("incident")
    settings = make_settings(sim)
    early_rows_in(settings.kube.kubeconfig, monkeypatch)
    gate = threading.Event()

    def load() -> Settings:
        assert gate.wait(20)
        return settings

    app = PaintRecording(Launch(settings=None, context="cockpit-sim"), load)
    async with app.run_test(size=(160, 45)) as pilot:
        pods = app.query_one(PodsPane)
        await wait_for(pilot, lambda: app.painted, what="the first paint")
        # The early rows are in the first frame, before any setting was read.
        assert app.painted[0] == (len(sim.list_objects("pods", scenes.NS)), False)
        assert pods.snapshot is not None and pods.snapshot.provisional
        assert app.read_only and app.forbidden("pod.restart")  # nothing offered yet
        await pilot.press("w", "w", "w")  # the war room, back, and again
        await pilot.pause(0.2)
        assert app.war_room is None and app.screen is app.main
        gate.set()
        await wait_for(pilot, lambda: app.ready, what="the settings")
        assert app.header.mode == "ARMED" and not app.read_only
        await wait_for(pilot, lambda: app.war_room is not None and app.screen is app.war_room)
        await wait_for(pilot, lambda: app.main.later_mounted, what="the panes around the pods")
        # The client connected with the settings and the full objects replaced the rows.
        await wait_for(pilot, lambda: not pods.snapshot.provisional, what="the full list")
        assert {p.name for p in pods.snapshot.pods} == {
            o["metadata"]["name"] for o in sim.list_objects("pods", scenes.NS)
        }


async def test_rows_that_come_after_the_mount_are_shown_before_the_settings(
    make_sim: Callable[..., Any],
    make_settings: Callable[..., Settings],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """A slow API server: the screen mounts without rows; they are drawn as they come,
    not once the settings are in (until then nothing would post them)."""
    sim = make_sim("incident")
    gate = threading.Event()
    with slow_proxy(sim.url, delay=1.0) as url:
        kubeconfig = tmp_path / "slow-kubeconfig"
        kubeconfig.write_text(kubeconfig_text(url, sim.token, scenes.NS))
        settings = make_settings(sim, kube={"kubeconfig": kubeconfig})
        monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
        early.begin("cockpit-sim", None)
        prefetch.start(None, "cockpit-sim", None)

        def load() -> Settings:
            assert gate.wait(20)
            return settings

        app = PaintRecording(Launch(settings=None, context="cockpit-sim"), load)
        try:
            async with app.run_test(size=(160, 45)) as pilot:
                pods = app.query_one(PodsPane)
                await wait_for(pilot, lambda: app.painted, what="the first paint")
                assert app.painted[0] == (0, False)  # the Table is still on its way
                await wait_for(pilot, lambda: pods.snapshot is not None, what="the rows")
                assert pods.snapshot.provisional and not app.ready
                await wait_for(pilot, lambda: app.painted[-1][0] > 0, what="their paint")
                gate.set()
                await wait_for(pilot, lambda: app.main.later_mounted, what="the other panes")
                await wait_for(pilot, lambda: not pods.snapshot.provisional, what="the list")
        finally:
            gate.set()


async def test_ctrl_q_quits_while_the_settings_are_read() -> None:
    gate = threading.Event()

    def load() -> Settings:
        gate.wait(20)
        raise ConfigError("never read")

    app = CockpitApp(Launch(settings=None, context="cockpit-sim"), load_settings=load)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause(0.1)
            await pilot.press("q")  # waits for the settings
            await pilot.pause(0.2)
            assert app.is_running
            await pilot.press("ctrl+q")
            await wait_for(pilot, lambda: not app.is_running, what="the quit")
    finally:
        gate.set()
    assert app.config_error is None and app.return_code == 0


async def test_settings_refused_after_the_first_paint_end_the_app_with_2() -> None:
    def load() -> Settings:
        raise ConfigError("environment variable COCKPIT_POLL: poll: not valid JSON")

    app = CockpitApp(Launch(settings=None, context="cockpit-sim"), load_settings=load)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.config_error, what="the refusal")
    assert app.return_code == 2
    assert app.config_error == "environment variable COCKPIT_POLL: poll: not valid JSON"


def test_cockpit_run_paints_then_says_what_is_wrong_with_the_settings(
    make_sim: Callable[..., Any], tmp_path: Path
) -> None:
    """On a terminal, as a person runs it: the first screen comes without the settings
    (no settings_loaded mark before it), then the refusal, after the terminal is back."""
    sim = make_sim("incident")
    kubeconfig = sim.write_kubeconfig(tmp_path / "kubeconfig")
    config = tmp_path / "config.toml"
    config.write_text("[poll]\npods = -1\n")
    marks = tmp_path / "marks"
    env = {
        **{k: v for k, v in os.environ.items() if not k.upper().startswith("COCKPIT_")},
        "TERM": "xterm-256color",
        "KUBECONFIG": str(kubeconfig),
        "COCKPIT_CONFIG": str(config),
        "COCKPIT_BENCH_MARKS": str(marks),
        "XDG_STATE_HOME": str(tmp_path / "state"),
    }
    terminal = PtyProcess([sys.executable, "-m", "cockpit", "run"], env, (120, 40), ROOT)
    try:
        status = terminal.proc.wait(60)
    finally:
        terminal.stop()
    shown = terminal.tail_text()
    assert status == 2, shown
    assert "cockpit: configuration error" in shown and "poll.pods" in shown, shown
    assert "Traceback" not in shown
    names = [line.split()[0] for line in marks.read_text().splitlines()]
    assert "app_mounted" in names and "settings_loaded" not in names
