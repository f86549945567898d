"""The disk-full incident through the real CockpitApp, keys only: the Disk pane shows
postgres-0 at 90 %, `C` on its row opens the clean-up's exact preview, the pod's name is
typed, and the old server logs go: the pane then shows the space gained, the journal
lists every removed file.  (Needs the lead's wiring: the "disk" poller and the pane.)"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.widgets import Button, Input

from cockpit.app import CockpitApp, Launch
from cockpit.config import DiskSettings, KubeSettings, PostgresSettings, RedisSettings, Settings
from cockpit.sim.filesystem import File
from cockpit.sim.runner import SimCluster
from tests.app.conftest import FAST_POLL
from tests.pilot import cockpit_running, confirm_modal, wait_for
from widgets.confirm import ConfirmScreen
from widgets.disk import DiskPane
from widgets.table import KeyedTable

NO_POSTGRES = PostgresSettings(dsn="host=127.0.0.1 port=1 user=none dbname=none", connect_timeout=1)
NO_REDIS = RedisSettings(url="redis://127.0.0.1:1/0", connect_timeout=1)


def pg_logs(sim: SimCluster) -> set[str]:
    obj = sim.get_object("pods", "postgres-0")
    assert obj is not None and sim.execserver is not None
    fs = sim.call(lambda: sim.execserver.filesystems.get(obj))
    return sim.call(
        lambda: {p for p, n, _ in fs.walk("/var/lib/postgresql/data/log") if isinstance(n, File)}
    )


async def test_disk_full_fixed_with_keys_only(
    make_sim: Callable[..., SimCluster], tmp_path: Path
) -> None:
    sim = make_sim("incident")
    settings = Settings(
        journal_path=tmp_path / "journal.jsonl",
        kube=KubeSettings(
            kubeconfig=sim.write_kubeconfig(tmp_path / "kubeconfig"), context="cockpit-sim"
        ),
        postgres=NO_POSTGRES,
        redis=NO_REDIS,
        poll=FAST_POLL,
        disk=DiskSettings(interval=1.0),
    )
    app = CockpitApp(Launch(settings=settings, context="cockpit-sim"))
    logs_before = pg_logs(sim)
    async with cockpit_running(app, size=(220, 70)) as pilot:
        pane = app.query_one(DiskPane)
        await wait_for(pilot, lambda: pane.snapshot is not None, timeout=30, what="disk data")
        table = pane.query_one("#disk-table", KeyedTable)
        first = [str(c) for c in table.get_row_at(0)]
        assert [first[i] for i in (0, 3, 1)] == ["postgres-0", "/var/lib/postgresql/data", "90%"]
        app.main.focus_pane(pane)
        await pilot.pause()
        await pilot.press("C")
        modal: ConfirmScreen = await confirm_modal(pilot, app)
        plan = modal.plan
        assert plan.title == "Clean up disk in postgres-0" and plan.confirm_phrase == "postgres-0"
        planned = [f["path"] for f in plan.files]  # type: ignore[attr-defined]
        assert planned and set(planned) < logs_before
        execute = modal.query_one("#execute", Button)
        assert execute.disabled and app.focused is modal.query_one("#cancel", Button)
        modal.query_one("#confirm-phrase", Input).focus()
        await pilot.press(*"postgres-0")
        assert not execute.disabled
        await pilot.click("#execute")

        def outcome() -> Any:
            done = [e for e in app.journal.read() if e["action"] == "disk.cleanup"]
            return done if done and done[-1]["outcome"] != "started" else None

        entries = await wait_for(pilot, outcome, timeout=30, what="the clean-up's outcome")
        intent, last = entries[0], entries[-1]
        assert last["outcome"] == "succeeded", last
        assert [f["path"] for f in intent["plan"]["files"]] == planned
        assert sorted(last["result"]["removed"]) == sorted(planned)
        assert pg_logs(sim) == logs_before - set(planned)

        def below_90() -> bool:
            snap = pane.snapshot
            return bool(snap and snap.pods[0].mounts and snap.pods[0].mounts[0].percent < 90)

        await wait_for(pilot, below_90, timeout=30, what="the pane to show the space gained")
