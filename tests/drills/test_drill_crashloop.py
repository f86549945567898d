"""Fire drill: a crash-looping rails pod (`cockpit demo --scenario incident`).

Runbook, "서비스 응답 없음" (service not answering): `kubectl get pods`, restart the
failing pod (`kubectl delete pod`), read its previous container's logs (`--previous`).
In the cockpit: the Pods pane shows the pod CrashLoopBackOff in red, the Workloads pane
rails 2/3; `6` focuses Pods, the arrow keys reach the pod, `p` shows why it crashed,
`ctrl+d` restarts it (its ReplicaSet replaces it).  The fix is checked in the cluster:
the pod is gone, three rails pods run Ready, none crash-looping.
"""

from __future__ import annotations

from pathlib import Path

from cockpit.model import Level
from cockpit.sim.runner import SimCluster
from tests.drills.helpers import (
    SIZE,
    Cluster,
    cell_styles,
    cell_texts,
    confirm_with_keys,
    demo_settings,
    focus_pane,
    in_warning_colour,
    launch,
    move_to_row,
    outcome,
    ready,
    shows_level,
    waiting_reason,
)
from tests.pilot import cockpit_running, wait_for
from widgets.logview import LogScreen
from widgets.pods import PodsPane
from widgets.workloads import WorkloadsPane


async def test_crash_looping_pod_restarted(
    incident_sim: SimCluster, cluster: Cluster, tmp_path: Path
) -> None:
    broken = incident_sim.broken["crashloop"]
    [pod] = [p for p in cluster.pods("rails") if p.metadata.name == broken]
    assert waiting_reason(pod) == "CrashLoopBackOff"
    app = launch(demo_settings(incident_sim, tmp_path))
    async with cockpit_running(app, size=SIZE) as pilot:
        pods = app.main.query_one(PodsPane)
        workloads = app.main.query_one(WorkloadsPane)
        row = await wait_for(
            pilot,
            lambda: (
                next((p for p in pods.snapshot.pods if p.name == broken), None)
                if pods.snapshot
                else None
            ),
            what="the crash-looping pod in the Pods pane",
        )
        # The incident as the screen shows it: the pod in red, the pane in its colour.
        assert row.status == "CrashLoopBackOff" and row.level is Level.CRIT
        assert cell_texts(pods.table, row.uid)[2] == "CrashLoopBackOff"
        assert cell_styles(pods.table, row.uid)[0] == "bold red"
        assert shows_level(pods, Level.CRIT) and "failing" in str(pods.border_title)
        failing_before = {p.name for p in pods.snapshot.pods if p.level is Level.CRIT}
        assert broken in failing_before
        rails = next(w for w in workloads.snapshot.workloads if w.name == "rails")
        assert rails.ready_text == "2/3" and in_warning_colour(workloads)
        await wait_for(pilot, lambda: app.flow.access is not None, what="the RBAC check")

        # 6: the Pods pane; the arrow keys to the pod; p: why it crashed.
        await focus_pane(pilot, app, "6", PodsPane)
        await move_to_row(pilot, pods.table, row.uid)
        await pilot.press("p")
        view = await wait_for(
            pilot,
            lambda: (
                app.screen if isinstance(app.screen, LogScreen) and app.screen.is_mounted else None
            ),
            what="the previous container's logs",
        )
        await wait_for(
            pilot,
            lambda: any("could not connect to server" in text for _, text in view.lines),
            what="the crash's cause in the previous container's log",
        )
        assert view.options.previous
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.main, what="back to the main screen")

        # ctrl+d: restart the pod (delete it; its ReplicaSet makes a new one).
        assert pods.table.selected_key == row.uid
        await pilot.press("ctrl+d")

        def check(modal) -> None:
            assert modal.plan.command == f"kubectl delete pod -n excel-unified {broken}"

        await confirm_with_keys(pilot, app, check=check)
        entry = await outcome(pilot, app, "pod.restart")
        assert entry["outcome"] == "succeeded", entry
        assert entry["targets"] == [f"pod/{broken}"]

        # The cluster: the pod is gone, three rails pods Ready, none crash-looping.
        def three_ready() -> list | None:
            found = cluster.pods("rails")
            return found if len(found) == 3 and all(ready(p) for p in found) else None

        rails_pods = await wait_for(pilot, three_ready, timeout=15, what="3 rails pods Ready")
        assert broken not in {p.metadata.name for p in rails_pods}
        assert pod.metadata.uid not in {p.metadata.uid for p in rails_pods}
        assert not any(waiting_reason(p) == "CrashLoopBackOff" for p in rails_pods)
        deployment = cluster.apps.read_namespaced_deployment("rails", "excel-unified")
        assert deployment.status.ready_replicas == 3

        # The screen: rails 3/3 in Workloads, no rails pod left in a warning colour.
        def healed() -> bool:
            snap = workloads.snapshot
            rails = next(w for w in snap.workloads if w.name == "rails")
            rails_rows = [p for p in pods.snapshot.pods if p.app == "rails" and not p.deleting]
            return (
                rails.ready_text == "3/3"
                and rails.level is Level.OK
                and len(rails_rows) == 3
                and all(p.level is Level.OK and p.status == "Running" for p in rails_rows)
            )

        await wait_for(pilot, healed, timeout=15, what="rails healthy on screen")
        # The other incidents' pods (OOMKilled fastapi, the failed backup) are other drills.
        failing = {p.name for p in pods.snapshot.pods if p.level is Level.CRIT}
        assert failing <= failing_before - {broken}, failing
