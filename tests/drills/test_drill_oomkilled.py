"""Fire drill: an OOM-killed fastapi pod (`cockpit demo --scenario incident`).

The runbook has no OOM procedure of its own: its memory alert (`HighMemoryUsage`) and
its emergency procedure point to `kubectl rollout undo deployment/fastapi` (a restart
would only start the same template, which is killed again).  In the cockpit: the Pods
pane shows the fastapi pod OOMKilled in red, the Workloads pane fastapi 1/2; `4` focuses
Workloads, the arrow keys reach fastapi, `u` shows what the rollback changes (image,
MODEL_BATCH_SIZE) and rolls fastapi back.  The fix is checked in the cluster: the
deployment's template is the previous revision's, both replicas run Ready on it, and
the OOM-killed pod is gone.
"""

from __future__ import annotations

from pathlib import Path

from cockpit.model import Level
from cockpit.sim.runner import SimCluster
from tests.drills.helpers import (
    NS,
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
from widgets.confirm import ConfirmScreen
from widgets.pods import PodsPane
from widgets.workloads import WorkloadsPane

PREVIOUS_IMAGE = "excel-unified/fastapi:v1.8.2"


def image_of(deployment) -> str:
    return deployment.spec.template.spec.containers[0].image


async def test_oom_killed_fastapi_rolled_back(
    incident_sim: SimCluster, cluster: Cluster, tmp_path: Path
) -> None:
    broken = incident_sim.broken["oomkill"]
    [pod] = [p for p in cluster.pods("fastapi") if p.metadata.name == broken]
    last = pod.status.container_statuses[0].last_state.terminated
    assert last.reason == "OOMKilled" and last.exit_code == 137
    assert image_of(cluster.apps.read_namespaced_deployment("fastapi", NS)) != PREVIOUS_IMAGE
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
            what="the OOM-killed pod in the Pods pane",
        )
        # The incident on screen: the pod OOMKilled in red, fastapi 1/2 in Workloads.
        assert row.status == "OOMKilled" and row.level is Level.CRIT
        assert cell_texts(pods.table, row.uid)[2] == "OOMKilled"
        assert cell_styles(pods.table, row.uid)[0] == "bold red"
        assert shows_level(pods, Level.CRIT)
        fastapi = next(w for w in workloads.snapshot.workloads if w.name == "fastapi")
        assert fastapi.ready_text == "1/2" and fastapi.level >= Level.WARN
        assert cell_styles(workloads.table, fastapi.uid)[0] in ("bold yellow", "bold red")
        assert in_warning_colour(workloads)
        await wait_for(pilot, lambda: app.flow.access is not None, what="the RBAC check")

        # 4: Workloads; the arrow keys to fastapi; u: roll it back.
        await focus_pane(pilot, app, "4", WorkloadsPane)
        await move_to_row(pilot, workloads.table, fastapi.uid)
        await pilot.press("u")

        def check(modal: ConfirmScreen) -> None:
            plan = modal.plan
            assert plan.command == f"kubectl rollout undo deployment/fastapi -n {NS}"
            assert any(PREVIOUS_IMAGE in line for line in plan.details), plan.details
            assert any("MODEL_BATCH_SIZE: 32 → 16" in line for line in plan.details), plan.details

        await confirm_with_keys(pilot, app, check=check)
        entry = await outcome(pilot, app, "deployment.rollout-undo", timeout=30)
        assert entry["outcome"] == "succeeded", entry

        # The cluster: the previous template, two Ready pods on it, the killed pod gone.
        def rolled_back() -> list | None:
            deployment = cluster.apps.read_namespaced_deployment("fastapi", NS)
            found = cluster.pods("fastapi")
            images = {p.spec.containers[0].image for p in found}
            done = (
                image_of(deployment) == PREVIOUS_IMAGE
                and deployment.status.ready_replicas == 2
                and deployment.status.updated_replicas == 2
                and len(found) == 2
                and images == {PREVIOUS_IMAGE}
                and all(ready(p) for p in found)
            )
            return found if done else None

        fastapi_pods = await wait_for(pilot, rolled_back, timeout=20, what="the rollback")
        assert broken not in {p.metadata.name for p in fastapi_pods}
        for p in fastapi_pods:
            assert waiting_reason(p) == "" and p.status.container_statuses[0].restart_count == 0

        # The screen: fastapi 2/2, rollout complete, no fastapi pod in a warning colour.
        def healed() -> bool:
            snap = workloads.snapshot
            fastapi = next(w for w in snap.workloads if w.name == "fastapi")
            rows = [p for p in pods.snapshot.pods if p.app == "fastapi"]
            return (
                fastapi.ready_text == "2/2"
                and fastapi.rollout == "complete"
                and fastapi.level is Level.OK
                and len(rows) == 2
                and all(p.level is Level.OK and p.status == "Running" for p in rows)
            )

        await wait_for(pilot, healed, timeout=15, what="fastapi healthy on screen")
        fastapi = next(w for w in workloads.snapshot.workloads if w.name == "fastapi")
        assert cell_texts(workloads.table, fastapi.uid)[1] == "2/2"
        assert cell_styles(workloads.table, fastapi.uid)[0] == ""
