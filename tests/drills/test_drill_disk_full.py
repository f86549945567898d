"""Fire drill: postgres-0's disk at 90 % (`cockpit demo --scenario incident`).

Runbook, "디스크 공간 부족": `df -h` in the pod, `find /app -type f -size +100M`, delete
`*.log` older than 7 days and uploads older than 30 days.  The incident's postgres-0
has a month and a half of server logs on its data volume.  In the cockpit: the Disk
pane shows postgres-0's data volume at 90 % in yellow (WARN over the runbook's 85 %);
`0` then `tab` reach the Disk pane (it has no digit), the arrow keys the row, `C`
previews the exact files and the space they free, the pod's name is typed to confirm.
The fix is checked in the pod, through the real kubernetes client's exec: `df` reports
less than 85 %, and exactly the previewed logs are gone, the recent ones kept.
"""

from __future__ import annotations

from pathlib import Path

from kubernetes.stream import stream

from cockpit.config import DiskSettings
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
    launch,
    move_to_row,
    outcome,
    shows_level,
    tab_to_pane,
)
from tests.pilot import cockpit_running, wait_for
from widgets.confirm import ConfirmScreen
from widgets.disk import DiskPane, row_key

POD = "postgres-0"
MOUNT = "/var/lib/postgresql/data"
LOGS = f"{MOUNT}/log"


def run_in_pod(cluster: Cluster, *argv: str) -> str:
    """`kubectl exec -n excel-unified postgres-0 -- argv...`, through the real client."""
    return stream(
        cluster.core.connect_get_namespaced_pod_exec,
        POD,
        NS,
        command=list(argv),
        stderr=True,
        stdin=False,
        stdout=True,
        tty=False,
        _preload_content=True,
    )


def used_pct(cluster: Cluster) -> int:
    """`df -P` of the data volume: the Capacity column of its line."""
    lines = run_in_pod(cluster, "df", "-P", MOUNT).strip().splitlines()
    fields = lines[-1].split()
    assert fields[-1] == MOUNT, lines
    return int(fields[-2].rstrip("%"))


def server_logs(cluster: Cluster) -> set[str]:
    out = run_in_pod(cluster, "find", LOGS, "-name", "*.log", "-type", "f")
    return {line for line in out.splitlines() if line}


async def test_disk_full_cleaned_up(
    incident_sim: SimCluster, cluster: Cluster, tmp_path: Path
) -> None:
    assert used_pct(cluster) == 90
    logs_before = server_logs(cluster)
    assert len(logs_before) > 40
    settings = demo_settings(incident_sim, tmp_path, disk=DiskSettings(interval=1.0))
    app = launch(settings)
    async with cockpit_running(app, size=SIZE) as pilot:
        pane = app.main.query_one(DiskPane)
        table = pane.query_one("#disk-table")
        key = row_key(POD, MOUNT)
        await wait_for(
            pilot,
            lambda: pane.snapshot is not None and key in table.keys_in_order(),
            timeout=30,
            what="postgres-0's data volume in the Disk pane",
        )
        # The incident on screen: 90 % in the warning colour, the pane yellow.
        cells = cell_texts(table, key)
        assert cells[0] == POD and cells[1] == "90%" and cells[-1] == "▲ WARN"
        assert cell_styles(table, key)[1] == "bold yellow"
        assert shows_level(pane, Level.WARN) and f"{POD} {MOUNT} 90%" in pane.summary

        # 0 then tab: the Disk pane; the arrow keys to the row; C: the preview.
        await tab_to_pane(pilot, app, "0", DiskPane)
        await move_to_row(pilot, table, key)
        await pilot.press("C")
        previewed: list[str] = []

        def check(modal: ConfirmScreen) -> None:
            plan = modal.plan
            assert plan.title == f"Clean up disk in {POD}" and plan.confirm_phrase == POD
            previewed.extend(f["path"] for f in plan.files)  # type: ignore[attr-defined]

        await confirm_with_keys(pilot, app, check=check)
        entry = await outcome(pilot, app, "disk.cleanup", timeout=30)
        assert entry["outcome"] == "succeeded", entry
        assert previewed and set(previewed) < logs_before
        assert sorted(entry["result"]["removed"]) == sorted(previewed)

        # The pod: df under the runbook's 85 %, exactly the previewed files gone.
        after = used_pct(cluster)
        assert after < 85, after
        logs_after = server_logs(cluster)
        assert logs_after == logs_before - set(previewed)
        assert len(logs_after) >= 7  # the last week's logs are kept

        # The screen: the row and the pane back to OK, with the figure df gives now (a
        # poll that ran while the files were being removed may show OK with a figure
        # from halfway through; the next one has the final figure).
        await wait_for(
            pilot,
            lambda: (
                shows_level(pane, Level.OK)
                and cell_texts(table, key)[-1] == "● ok"
                and cell_texts(table, key)[1] == f"{after}%"
            ),
            timeout=20,
            what=f"the Disk pane healthy at {after}%",
        )
        assert cell_texts(table, key)[1] == f"{after}%"
