"""SVG snapshots of the main screen and the war room, and hostile text on every pane.

Time is frozen (time-machine) and the panes are fed fixed snapshots, so the pictures
are the same on every run; update them with `pytest --snapshot-update` after a
deliberate change, and look at the report before committing.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import time_machine
from textual.widgets import DataTable

from cockpit.app import Launch
from cockpit.config import KubeSettings, Settings
from tests.pilot import cockpit_running
from widgets.errorlog import ErrorLogPane
from widgets.postgres import PostgresPane

from . import scenes
from .static_app import StaticCockpitApp

SIZE = (160, 45)


@pytest.fixture
def frozen():
    previous = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    with time_machine.travel(scenes.NOW, tick=False):
        yield
    if previous is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = previous
    time.tzset()


def static_app(tmp_path: Path, **overrides: object) -> StaticCockpitApp:
    settings = Settings(
        journal_path=tmp_path / "journal.jsonl",
        kube=KubeSettings(context="cockpit-sim"),
        **overrides,
    )
    return StaticCockpitApp(
        Launch(settings=settings, context="cockpit-sim", note="demo: simulated cluster, incident")
    )


async def settle(pilot) -> None:
    """Feed the scene and wait until every pane has drawn it (machine load varies)."""
    pilot.app.feed()
    for _ in range(200):
        await pilot.pause(0.05)
        main = pilot.app.main
        if main.later_mounted and all(pane.taken_at is not None for pane in main.panes):
            break
    await pilot.app.workers.wait_for_complete()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause(0.3)
    # A DataTable sizes its columns for new rows when it is next idle: under load the
    # picture could be taken before, with every column as narrow as its header.
    for _ in range(100):
        tables = pilot.app.query(DataTable)
        if not any(t._require_update_dimensions or t._updated_cells for t in tables):
            break
        await pilot.pause(0.05)
    await pilot.pause(0.1)  # and drawn so


def test_main_screen(snap_compare, tmp_path: Path, frozen: None) -> None:
    assert snap_compare(static_app(tmp_path), terminal_size=SIZE, run_before=settle)


def test_war_room(snap_compare, tmp_path: Path, frozen: None) -> None:
    async def war_room(pilot) -> None:
        await settle(pilot)
        await pilot.press("w")
        await pilot.pause(0.3)

    assert snap_compare(static_app(tmp_path), terminal_size=SIZE, run_before=war_room)


def test_small_terminal_over_ssh(snap_compare, tmp_path: Path, frozen: None) -> None:
    assert snap_compare(
        static_app(tmp_path, read_only=True), terminal_size=(100, 30), run_before=settle
    )


async def test_hostile_text_is_shown_literally(tmp_path: Path) -> None:
    app = static_app(tmp_path)
    async with cockpit_running(app, size=SIZE) as pilot:
        app.feed(hostile=True)
        await pilot.pause(0.5)
        logs = app.main.query_one(ErrorLogPane)
        rendered = "\n".join(strip.text for strip in logs.log_view.lines)
        assert "[@click=app.quit]quit[/]" in rendered
        assert "[bold red]boom[/]" in rendered
        assert "\x1b" not in rendered and "␛[31mred" in rendered
        screenshot = app.export_screenshot()
        assert "\x1b" not in screenshot and "\x07" not in screenshot
        pg = app.main.query_one(PostgresPane)
        assert pg.snapshot is not None
        await pilot.press("v", "v")  # every view of the sessions, with the hostile query
        await pilot.pause(0.3)
        assert app.is_running  # no MarkupError, and the [@click=app.quit] did nothing
