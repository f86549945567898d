"""The frame every pane shares, when its source fails: the level the header counts, and a
"retrying in N s" that counts down instead of going stale."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from textual.app import App, ComposeResult

from cockpit.app import Launch
from cockpit.config import KubeSettings, Settings
from cockpit.main_screen import SourceFailed
from cockpit.model import Level, SourceFailure
from cockpit.startup import KUBE_SOURCES
from tests.app.static_app import StaticCockpitApp
from tests.pilot import cockpit_running
from widgets.header import CockpitHeader
from widgets.pane import FailureLine, Pane


class BarePane(Pane):
    PANE_TITLE = "bare"
    SOURCES = ("bare",)

    def compose(self) -> ComposeResult:
        yield self.compose_failure()


class BareApp(App[None]):
    def compose(self) -> ComposeResult:
        yield BarePane()


def refused(failures: int = 1, retry_in: float | None = None) -> SourceFailure:
    return SourceFailure(
        "bare", "API server: connection refused", failures=failures, retry_in=retry_in
    )


async def test_a_source_never_reached_is_crit() -> None:
    """No such context, 401: `cockpit check` calls it UNREACHABLE and exits 2."""
    async with BareApp().run_test() as pilot:
        pane = pilot.app.query_one(BarePane)
        pane.mark_failed(refused())
        assert pane.effective_level is Level.CRIT


async def test_one_failure_after_good_data_warns_and_two_in_a_row_are_crit() -> None:
    async with BareApp().run_test() as pilot:
        pane = pilot.app.query_one(BarePane)
        pane.mark_fresh()
        assert pane.effective_level is Level.OK
        pane.mark_failed(refused(failures=1))  # a dropped watch, say
        assert pane.effective_level is Level.WARN
        pane.mark_failed(refused(failures=2))
        assert pane.effective_level is Level.CRIT
        pane.mark_fresh()
        assert pane.effective_level is Level.OK
        pane.level = Level.CRIT  # the data's own level is never lowered by a failure
        pane.mark_failed(refused(failures=1))
        assert pane.effective_level is Level.CRIT


async def test_retrying_in_counts_down_between_reports() -> None:
    async with BareApp().run_test() as pilot:
        pane = pilot.app.query_one(BarePane)
        pane.mark_fresh()
        pane.mark_failed(refused(retry_in=10.0))
        line = pane.query_one(FailureLine)
        assert "retrying in 10 s" in str(line.render())
        now = datetime.now(UTC)
        pane.tick(now + timedelta(seconds=4))
        assert "retrying in 6 s" in str(line.render())
        pane.tick(now + timedelta(seconds=65))
        assert "retrying now" in str(line.render())
        assert "retrying in" not in str(line.render())


async def test_the_header_says_crit_when_every_kubernetes_pane_fails(tmp_path: Path) -> None:
    """What the app posts when the kubeconfig names no such context (see _start_kube)."""
    settings = Settings(
        journal_path=tmp_path / "journal.jsonl", kube=KubeSettings(context="nowhere")
    )
    app = StaticCockpitApp(Launch(settings=settings, context="nowhere"))
    async with cockpit_running(app, size=(120, 40)) as pilot:
        since = datetime.now(UTC)
        for name in KUBE_SOURCES:
            failure = SourceFailure(
                name, "kubeconfig: no context named 'nowhere'", "", since, 2.0, 1
            )
            app.main.post_message(SourceFailed(failure))
        await pilot.pause(0.2)
        assert app.query_one(CockpitHeader).overall is Level.CRIT
