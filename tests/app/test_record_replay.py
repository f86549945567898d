"""The flight recorder end to end (issue 13, item 7): the incident scenario recorded
headless for a minute with a pod restart in it, then replayed by keys."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from kubernetes import client as k8s

from actions.kube.context import KubeContext
from actions.kube.pods import RestartPod
from actions.runner import ActionRunner, Who
from cockpit.app import Launch
from cockpit.audit import Journal
from cockpit.config import RecorderSettings
from cockpit.headless import run_headless
from cockpit.recording.recorder import recorder_for
from cockpit.recording.store import RecordingReader
from cockpit.replay import ReplayApp, ReplayOptions
from cockpit.reports.postmortem import build
from cockpit.reports.render_postmortem import render_postmortem
from tests.pilot import cockpit_running
from widgets.pods import PodsPane
from widgets.postgres import PostgresPane

from .conftest import wait_for

NS = "excel-unified"
RECORD_FOR = 60.0  # seconds, the restart in the middle


def crashlooping(snapshot) -> list:
    return [p for p in snapshot.pods if p.app == "rails" and p.status == "CrashLoopBackOff"]


@pytest.fixture
async def recorded(make_sim, make_settings, tmp_path: Path):
    """A minute of the incident scenario; the crash-looping rails pod restarted at half
    time through the journaled action.  Returns the settings, the restart's moment and
    the names of the pod restarted."""
    sim = make_sim("incident")
    settings = make_settings(sim, recorder=RecorderSettings(path=tmp_path / "rec.db"))
    recorder = recorder_for(settings)
    stop = asyncio.Event()
    task = asyncio.create_task(run_headless(Launch(settings, "cockpit-sim"), recorder, stop=stop))
    started = datetime.now(UTC)

    def present(source: str):
        return {e.source: e for e in recorder.subscribe(lambda _e: None)}.get(source)

    deadline = asyncio.get_running_loop().time() + 30
    while (event := present("pods")) is None or not event.body["pods"]:
        assert asyncio.get_running_loop().time() < deadline, "no pods recorded"
        await asyncio.sleep(0.2)
    await asyncio.sleep(RECORD_FOR / 2 - (datetime.now(UTC) - started).total_seconds())
    reader = RecordingReader(settings.effective_recording_path())
    before = reader.state_at(datetime.now(UTC))["pods"].snapshot
    reader.close()
    victim = crashlooping(before)[0]
    api = k8s.ApiClient(sim.client_configuration())
    runner = ActionRunner(
        Journal(settings.effective_journal_path()), Who("cockpit-sim", "t", NS),
        read_only=False, dry_run=False,
    )  # fmt: skip
    restarted_at = datetime.now(UTC)
    result = await runner.run(RestartPod(victim, None, NS), KubeContext(api, NS, 5.0))
    assert result.ok, result
    await asyncio.sleep(RECORD_FOR - (datetime.now(UTC) - started).total_seconds())
    stop.set()
    await asyncio.wait_for(task, 20)
    assert recorder.problem is None
    return settings, restarted_at, victim


async def test_a_minute_recorded_replays_before_and_after_the_restart(recorded) -> None:
    settings, restarted_at, victim = recorded
    path = settings.effective_recording_path()
    reader = RecordingReader(path)
    start, end = reader.span()
    assert (end - start).total_seconds() >= RECORD_FOR - 10
    # Every source the cockpit polls is in it, and the restart is in the journal part.
    assert {"pods", "top", "events", "logs", "postgres", "redis", "slo"} <= set(reader.sources())
    done = [e for _, e in reader.actions() if e.get("action") == "pod.restart"]
    assert [e["outcome"] for e in done][-1] == "succeeded"
    after = reader.state_at(end)["pods"].snapshot
    assert victim.uid not in {p.uid for p in after.pods}
    reader.close()

    # Replay opens before the restart: the crash-looping pod is on screen.
    at = restarted_at - timedelta(seconds=3)
    app = ReplayApp(Launch(settings), ReplayOptions(path, at))
    async with cockpit_running(app, size=(200, 50)) as pilot:
        pane = app.query_one(PodsPane)
        shown = await wait_for(pilot, lambda: getattr(pane, "snapshot", None), what="pods")
        then = next(p for p in shown.pods if p.uid == victim.uid)
        assert then.restarts > 0 and then.status in ("CrashLoopBackOff", "Error", "Running")
        assert app.read_only and "READ-ONLY" in app.header.mode
        # Forward a minute and a half by keys: the replacement, not the restarted pod.
        for key in ("right_curly_bracket", "full_stop", "full_stop", "full_stop"):
            await pilot.press(key)
        await wait_for(
            pilot, lambda: victim.uid not in {p.uid for p in pane.snapshot.pods},
            what="the pods after the restart",
        )  # fmt: skip
        rails = [p for p in pane.snapshot.pods if p.app == "rails"]
        assert len(rails) == len([p for p in shown.pods if p.app == "rails"])
        assert app.replay.moment > restarted_at
        # And back again by keys: the restarted pod is there once more.
        for _ in range(4):
            await pilot.press("comma")
        await wait_for(
            pilot, lambda: victim.uid in {p.uid for p in pane.snapshot.pods},
            what="the pods before the restart again",
        )  # fmt: skip
        # A pod's live logs are not the recording's: refused, in words.
        await pilot.press("enter")
        await wait_for(pilot, lambda: app._notifications, what="the refusal")
        assert "recorded panes only" in str(list(app._notifications)[-1].message)
        assert app.screen is app.main
        # At the recording's start only the pods were recorded (they come first): the
        # PostgreSQL pane says it has nothing yet rather than keep what it showed.
        postgres = app.query_one(PostgresPane)
        assert postgres.failure is None
        await pilot.press(*["left_curly_bracket"] * 3)
        await wait_for(pilot, lambda: postgres.failure is not None, what="nothing recorded yet")
        assert "not recorded yet" in postgres.failure.message
        assert pane.failure is None
        await pilot.press("q")
    check_postmortem(recorded)


def check_postmortem(recorded) -> None:
    """The same minute's postmortem lists the restart and the level changes."""
    settings, restarted_at, victim = recorded
    reader = RecordingReader(settings.effective_recording_path())
    report = build(reader, settings.thresholds)
    restart = [a for a in report.actions if a.action == "pod.restart"]
    assert len(restart) == 1 and restart[0].outcome == "succeeded"
    assert victim.name in restart[0].targets
    assert abs((restart[0].at - restarted_at).total_seconds()) < 5
    assert any(c.pod == victim.name and c.what == "gone" for c in report.pods)
    # Each pane's first level, and every change the recording holds, in time order.
    first = {c.source: c.after for c in report.changes if c.before is None}
    assert first["pods"] == "CRIT" and first["slo"] in ("WARN", "CRIT")  # crash loop, 5xx
    assert [c.at for c in report.changes] == sorted(c.at for c in report.changes)
    assert len(report.changes) == len(reader.level_changes())
    page = render_postmortem(report, "minute.db")
    assert victim.name in page and "pod.restart" in page
