"""A postmortem of a real recording: the incident scenario's pods, polled by the real
KubeSource and written by the real Recorder, which also follows the journal while a
real RestartPod (through the ActionRunner) replaces the crash-looping rails pod."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from kubernetes import client as k8s

from actions.kube.context import KubeContext
from actions.kube.pods import RestartPod
from actions.runner import ActionRunner, Who
from cockpit.audit import Journal
from cockpit.config import Settings
from cockpit.model import KubeSnapshot, Level
from cockpit.recording.recorder import Recorder
from cockpit.recording.store import RecordingReader
from cockpit.reports.postmortem import build
from cockpit.reports.render_postmortem import render_postmortem
from cockpit.sim.runner import SimCluster
from cockpit.sources.kube.client import connect
from cockpit.sources.kube.source import KubeSource

NS = "excel-unified"


async def poll_until(
    kube: KubeSource, recorder: Recorder, done: Callable[[KubeSnapshot], bool], limit: float
) -> KubeSnapshot:
    """Record a pods snapshot every 0.2 s until `done` says so."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        snap = await kube.kube_snapshot()
        recorder.snapshot("pods", snap, datetime.now(UTC))
        if done(snap):
            return snap
        await asyncio.sleep(0.2)
    raise AssertionError("the cluster did not get there in time")


async def test_the_restart_and_the_level_changes_of_a_recorded_incident(
    incident_sim: SimCluster, tmp_path: Path
) -> None:
    settings = Settings()
    journal = tmp_path / "journal.jsonl"
    recorder = Recorder(tmp_path / "incident.db", journal=journal)
    recorder.start()
    kube = KubeSource(connect(settings.kube, incident_sim.client_configuration()), settings)
    kube.start()
    try:

        def crashing(snap: KubeSnapshot) -> bool:
            return any(p.app == "rails" and p.status == "CrashLoopBackOff" for p in snap.pods)

        before = await poll_until(kube, recorder, crashing, 20)
        bad = next(p for p in before.pods if p.app == "rails" and p.status == "CrashLoopBackOff")
        rails = next(w for w in before.workloads if w.name == "rails")
        ctx = KubeContext(k8s.ApiClient(incident_sim.client_configuration()), NS, 5.0)
        runner = ActionRunner(
            Journal(journal), Who("cockpit-sim", "oncall", NS), read_only=False, dry_run=False
        )
        result = await runner.run(RestartPod(bad, rails, NS), ctx)
        assert result.ok, result.message

        def replaced(snap: KubeSnapshot) -> bool:
            names = {p.name for p in snap.pods}
            ready = [p for p in snap.pods if p.app == "rails" and p.ready == p.total]
            return bad.name not in names and len(ready) >= 2

        after = await poll_until(kube, recorder, replaced, 20)
    finally:
        await asyncio.to_thread(kube.stop)
        recorder.stop()
    assert recorder.problem is None, recorder.problem

    reader = RecordingReader(tmp_path / "incident.db")
    try:
        pm = build(reader, settings.thresholds)
    finally:
        reader.close()
    # The restart, as the journal has it: who, what, how it ended.
    [action] = pm.actions
    assert action.action == "pod.restart" and action.targets == f"pod/{bad.name}"
    assert action.outcome == "succeeded" and action.who.startswith(
        f"{Journal(journal).read()[0]['os_user']}@"
    )
    # The pods that went and came, after the action was asked for.
    gone = [c for c in pm.pods if c.pod == bad.name and c.what == "gone"]
    new = {p.name for p in after.pods} - {p.name for p in before.pods}
    came = [c for c in pm.pods if c.what == "appeared" and c.pod in new]
    assert gone and came and gone[0].at >= action.at and came[0].at >= action.at
    # The pods pane's levels: first what it showed, then every change.
    pods = [c for c in pm.changes if c.source == "pods"]
    assert pods[0].before is None and pods[0].after == before.level.label
    assert before.level == Level.CRIT and bad.name in pods[0].detail
    page = render_postmortem(pm, "incident.db")
    assert bad.name in page and "pod.restart" in page
