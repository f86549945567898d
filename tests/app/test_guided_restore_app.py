"""The data-loss fire drill: the guided restore (G) driven by keys only, against the
simulated cluster (incident scenario), a real PostgreSQL and a dump in a moto S3.

Launch → G → stop the writers (typed `rails`) → choose the newest dump → rehearse
(row counts: the lost rows are in the dump) → restore (typed database name) → start the
writers (Ready and /health).  Checked on the backends: the deployments at 0 and back at
the runbook's counts, the orders back in the live database, the old one kept.  And the
bookmark: a restore left half-done is shown at the next start with what comes next.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from kubernetes import client as kube

from actions.backup import DumpNow, make_context
from actions.backup.procedure_state import DONE, RUNNING, DumpChoice, RestoreState, StateFile
from cockpit.app import CockpitApp
from cockpit.config import BackupSettings, PostgresSettings
from cockpit.demo.pg_server import PgServer
from cockpit.sim.runner import SimCluster
from cockpit.views.restore import RestoreScreen
from tests.fixtures.postgres import create_database, drop_database
from tests.fixtures.s3 import MotoServer
from tests.pilot import cockpit_running, confirm_modal, wait_for
from tests.test_backup_roundtrip import SEED, runner

NS = "excel-unified"


def replicas(sim: SimCluster, name: str) -> tuple[int, int]:
    """(spec.replicas, pods that exist) of a deployment, read through the real client."""
    api = kube.ApiClient(sim.client_configuration())
    dep = kube.AppsV1Api(api).read_namespaced_deployment(name, NS)
    pods = kube.CoreV1Api(api).list_namespaced_pod(NS, label_selector=f"app={name}").items
    return int(dep.spec.replicas), len(pods)


def orders(server: PgServer, database: str) -> int:
    with psycopg.connect(server.dsn(dbname=database)) as conn:
        row = conn.execute("SELECT count(*) FROM orders").fetchone()
    return int(row[0]) if row else -1


async def confirm_by_keys(pilot: Any, app: CockpitApp, phrase: str | None) -> None:
    """As a person does: focus starts on Cancel; shift+tab reaches the phrase field,
    enter goes back to Cancel, tab past Dry run to Execute, enter."""
    modal = await confirm_modal(pilot, app)
    assert modal.plan.confirm_phrase == phrase, modal.plan
    if phrase:
        await pilot.press("shift+tab", *phrase, "enter")
    await pilot.press("tab", "tab")
    assert getattr(app.focused, "id", None) == "execute", app.focused
    await pilot.press("enter")


def step_status(screen: RestoreScreen, step: str) -> str:
    return screen.state.steps[step].status


@pytest.fixture
def live_database(pg_server: PgServer) -> Any:
    admin = pg_server.with_params(dbname=pg_server.dbname)
    name = create_database(admin, "cockpit_drill_")
    yield name
    with psycopg.connect(pg_server.dsn(dbname="postgres"), autocommit=True) as conn:
        leftovers = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", (f"{name}%",)
        ).fetchall()
    for (db,) in leftovers:
        drop_database(admin, db)


async def test_data_loss_drill_from_launch_to_healthy_writers(
    make_sim: Callable[..., SimCluster],
    make_app: Callable[..., CockpitApp],
    pg_server: PgServer,
    live_database: str,
    moto_server: MotoServer,
    s3_bucket: str,
    tmp_path: Path,
) -> None:
    live = live_database
    with psycopg.connect(pg_server.dsn(dbname=live), autocommit=True) as conn:
        conn.execute(SEED)
    postgres = PostgresSettings(dsn=pg_server.dsn(dbname="postgres"), database=live)
    backups = BackupSettings(bucket=s3_bucket, endpoint_url=moto_server.url)
    sim = make_sim("incident")
    app = make_app(sim, postgres=postgres, backups=backups)
    # Last night's dump, then the incident: every order deleted.
    ctx = await make_context(app.settings)
    assert (await runner(tmp_path).run(DumpNow(live, s3_bucket), ctx)).ok
    await ctx.close()
    with psycopg.connect(pg_server.dsn(dbname=live), autocommit=True) as conn:
        conn.execute("DELETE FROM orders")
    assert replicas(sim, "rails")[0] == 3 and replicas(sim, "sidekiq")[0] == 2

    async with cockpit_running(app, size=(160, 50)) as pilot:
        await wait_for(pilot, lambda: "kube" in app.flow.contexts, what="Kubernetes")
        await pilot.press("G")
        screen = await wait_for(
            pilot,
            lambda: (
                app.screen if isinstance(app.screen, RestoreScreen) and app.screen.focused else None
            ),
            what="the restore screen",
        )
        await wait_for(pilot, lambda: screen.dumps, what="the dumps listed")

        # 1. Stop the writers: typed confirmation, then their pods gone.
        await pilot.press("enter")
        await confirm_by_keys(pilot, app, "rails")
        await wait_for(
            pilot, lambda: step_status(screen, "stop") == DONE, timeout=60, what="writers stopped"
        )
        assert replicas(sim, "rails") == (0, 0) and replicas(sim, "sidekiq") == (0, 0)
        assert screen.state.stopped_from == {"rails": 3, "sidekiq": 2}

        # 2. Choose the newest dump (the cursor starts on it).
        await pilot.press("enter")
        assert step_status(screen, "choose") == DONE
        assert screen.state.dump is not None and screen.state.dump.key.endswith(".sql.gz")

        # 3. Rehearse: the dump has the orders the live database lost.
        await pilot.press("enter")
        await confirm_by_keys(pilot, app, None)
        await wait_for(
            pilot, lambda: step_status(screen, "rehearse") == DONE, timeout=60, what="rehearsal"
        )
        counts = {t: (d, lv) for t, d, lv in screen.counts}
        assert counts["public.orders"] == (12000, 0)
        assert orders(pg_server, live) == 0  # a rehearsal changes nothing

        # 4. Restore: typed database name.
        await pilot.press("enter")
        await confirm_by_keys(pilot, app, live)
        await wait_for(
            pilot, lambda: step_status(screen, "restore") == DONE, timeout=60, what="restore"
        )
        assert orders(pg_server, live) == 12000
        kept = screen.state.steps["restore"].detail.split("kept as ")[1].split(";")[0]
        assert orders(pg_server, kept) == 0

        # 5. Start the writers: the runbook's counts, Ready, rails answering /health.
        await pilot.press("enter")
        await confirm_by_keys(pilot, app, None)
        await wait_for(
            pilot, lambda: step_status(screen, "start") == DONE, timeout=90, what="writers started"
        )
        assert "healthy: rails-service:3000" in screen.state.steps["start"].detail
        assert replicas(sim, "rails") == (3, 3) and replicas(sim, "sidekiq") == (2, 2)
        assert screen.state.finished
        assert not (app.settings.effective_journal_path().parent / "restore.json").exists()

    journal = app.journal.read()
    done = [e["action"] for e in journal if e.get("outcome") == "succeeded"]
    assert done == [
        "restore.stop-writers",
        "restore.rehearse",
        "restore.restore",
        "restore.start-writers",
    ]


async def test_an_unfinished_restore_is_shown_at_the_next_start(
    make_app: Callable[..., CockpitApp], journal_path: Path
) -> None:
    state = RestoreState("excel_unified", "cockpit-sim", NS, {"rails": 3, "sidekiq": 2})
    state.mark("stop", DONE, "writers stopped: no pod of rails, sidekiq is left")
    state.dump = DumpChoice("s3", "backup_20261205_020000.sql.gz", 1234, "2026-12-05 02:03 UTC")
    state.mark("choose", DONE, "backup_20261205_020000.sql.gz")
    state.mark("rehearse", RUNNING, "")  # the cockpit died while rehearsing
    StateFile(journal_path.parent).save(state)

    app = make_app(None)
    async with cockpit_running(app, size=(140, 40)) as pilot:
        screen = await wait_for(
            pilot,
            lambda: (
                app.screen
                if isinstance(app.screen, RestoreScreen) and app.screen.is_mounted
                else None
            ),
            what="the restore screen at startup",
        )
        steps = str(screen.query_one("#restore-steps").render())
        assert "✔ 1. Stop the writers" in steps and "✔ 2. Choose a dump" in steps
        assert "interrupted" in steps
        heading = str(screen.query_one("#restore-heading").render())
        assert "Unfinished restore" in heading and state.id in heading
        assert screen.state.next_step == "rehearse"
        await pilot.press("s")  # skip the rehearsal: the bookmark moves on
        await wait_for(pilot, lambda: screen.state.next_step == "restore", what="skip")
        assert StateFile(journal_path.parent).load().steps["rehearse"].status == "skipped"
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, RestoreScreen), what="back")


async def test_writers_running_again_are_stopped_before_the_restore(
    make_sim: Callable[..., SimCluster],
    make_app: Callable[..., CockpitApp],
    journal_path: Path,
) -> None:
    """A resumed bookmark says the writers were stopped, but the cluster runs them: the
    heading says so in red, and enter asks to stop them again, not to restore."""
    state = RestoreState("excel_unified", "cockpit-sim", NS, {"rails": 3, "sidekiq": 2})
    state.mark("stop", DONE, "writers stopped")
    state.dump = DumpChoice("s3", "backup_20261205_020000.sql.gz")
    state.mark("choose", DONE, "backup_20261205_020000.sql.gz")
    state.mark("rehearse", "skipped", "skipped")
    StateFile(journal_path.parent).save(state)
    sim = make_sim("incident")
    app = make_app(sim)
    async with cockpit_running(app, size=(160, 50)) as pilot:
        screen = await wait_for(
            pilot,
            lambda: (
                app.screen if isinstance(app.screen, RestoreScreen) and app.screen.focused else None
            ),
            what="the restore screen at startup",
        )
        await wait_for(pilot, lambda: screen.writers_now().get("rails") == 3, what="workloads")
        await wait_for(
            pilot,
            lambda: "run again since" in str(screen.query_one("#restore-heading").render()),
            what="the warning",
        )
        await pilot.press("enter")
        modal = await confirm_modal(pilot, app)
        assert modal.plan.action == "restore.stop-writers", modal.plan
        await pilot.press("escape")  # cancelled: the bookmark says stop comes next
        await wait_for(pilot, lambda: app.screen is screen, what="back on the restore screen")
        assert screen.state.next_step == "stop"
