"""The app's reliability promises (issue 8): no journal, no action, said in the header;
a crash is never exit status 0."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from cockpit.cli import exit_status
from tests.pilot import cockpit_running
from widgets.bignumber import BigNumber
from widgets.confirm import ConfirmScreen
from widgets.header import CockpitHeader
from widgets.warroom import WarRoomScreen

from .conftest import wait_for
from .test_kube_actions import pod_uids, ready_app, select_pod


async def test_an_unwritable_journal_is_in_the_header_and_refuses_actions(
    make_sim, make_app, tmp_path: Path
) -> None:
    sim = make_sim("healthy")
    blocker = tmp_path / "state-is-a-file"
    blocker.write_text("")  # even root cannot create a journal under a regular file
    app = make_app(sim, journal_path=blocker / "journal.jsonl")
    before = pod_uids(sim)
    async with cockpit_running(app, size=(160, 45)) as pilot:
        header = app.query_one(CockpitHeader)
        assert header.journal_problem and "cannot be written" in header.journal_problem
        assert "NO JOURNAL" in str(header.render())
        pods, _ = await ready_app(pilot, app)
        await select_pod(pilot, pods, lambda p: p.name.startswith("rails"))
        await pilot.press("ctrl+d")
        await wait_for(
            pilot,
            lambda: any("no journal" in (n.title or "").lower() for n in app._notifications),
            what="the refusal",
        )
        assert not isinstance(app.screen, ConfirmScreen)  # no modal: nothing to confirm
        # Fixed while running: the header clears within seconds and actions come back.
        blocker.unlink()
        await wait_for(
            pilot, lambda: header.journal_problem is None, timeout=15, what="the header to clear"
        )
        await pilot.press("ctrl+d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the modal")
        await pilot.press("escape")
    assert pod_uids(sim) == before


def test_a_crash_is_not_exit_status_zero(tmp_path: Path) -> None:
    """The real entry point's status after an unhandled exception in a handler."""
    script = tmp_path / "crash.py"
    script.write_text(
        textwrap.dedent("""
        import sys
        from textual.app import App
        from cockpit.cli import exit_status

        class Crashing(App):
            def on_mount(self):
                self.set_timer(0.1, self.boom)
            def boom(self):
                raise RuntimeError("boom")

        app = Crashing()
        app.run(headless=True)
        sys.exit(exit_status(app))
    """)
    )
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).parents[2],
    )
    assert done.returncode == 1, done.stderr
    assert "boom" in done.stdout + done.stderr


async def test_a_quit_is_exit_status_zero(make_sim, make_app) -> None:
    app = make_app(make_sim("healthy"))
    async with cockpit_running(app, size=(120, 40)) as pilot:
        await pilot.press("q")
        await pilot.pause(0.3)
    assert exit_status(app) == 0


async def test_escape_queued_behind_the_key_that_opens_a_modal(make_sim, make_app) -> None:
    """The key fuzz found it: Escape handled before the modal was mounted dismissed it,
    then its on_mount ran with no children and killed the app."""
    sim = make_sim("healthy")
    app = make_app(sim, dry_run=True)
    async with cockpit_running(app, size=(160, 45)) as pilot:
        pods, _ = await ready_app(pilot, app)
        await select_pod(pilot, pods, lambda p: p.name.startswith("rails"))
        push = app.push_screen
        before_mount: list[bool | None] = []

        def push_then_escape(screen, *args, **kwargs):
            result = push(screen, *args, **kwargs)
            if isinstance(screen, ConfirmScreen):
                # The Escape a person typed right after ctrl+d reaches the modal's
                # bindings before it is mounted: Textual asks check_action first.
                before_mount.append(screen.check_action("cancel", ()))
            return result

        app.push_screen = push_then_escape  # type: ignore[method-assign]
        await pilot.press("ctrl+d")
        screen = await wait_for(
            pilot, lambda: isinstance(app.screen, ConfirmScreen) and app.screen, what="the modal"
        )
        assert before_mount == [False]
        assert app.is_running and app._exception is None
        assert screen.check_action("cancel", ()) is True  # mounted: keys act again
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmScreen), what="closed")


async def test_a_snapshot_between_war_room_push_and_mount(make_sim, make_app) -> None:
    """The key fuzz found it: `w` pushed the war room, a snapshot arrived before it was
    mounted, and filling its figures raised NoMatches and killed the app."""
    app = make_app(make_sim("healthy"))
    async with cockpit_running(app, size=(160, 45)) as pilot:
        await ready_app(pilot, app)
        war = WarRoomScreen()
        app.war_room = war
        app.push_screen(war)
        assert app.screen is war and not war.is_mounted
        app.update_overall()  # what a SnapshotReady handled right now does
        await wait_for(pilot, lambda: war.is_mounted, what="the war room mounted")
        await pilot.press("w")  # back to the panes
        await pilot.press("w")  # and the real key: filled once mounted
        await wait_for(pilot, lambda: isinstance(app.screen, WarRoomScreen), what="war room")
        assert app.is_running and app._exception is None
        await wait_for(
            pilot,
            lambda: app.screen.query_one("#figure-pods").query_one(BigNumber).value != "",
            what="the pods figure",
        )
