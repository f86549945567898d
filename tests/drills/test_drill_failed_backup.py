"""Fire drill: last night's backup failed (`cockpit demo --scenario incident`).

Runbook, "백업 확인" and "수동 백업": `kubectl get cronjobs`, `kubectl get jobs | grep
backup`, and a manual `pg_dump` when the nightly one did not run.  In the incident the
CronJob's last Job failed, new ones fail too, and last night's dump is missing from
the bucket.  The drill starts the cockpit on the demo's own PostgreSQL and the demo's
bucket (a local S3 with a month of nightly dumps, last night's missing), as the demo
does.  In the cockpit: the Backups pane is red and says the last backup Job failed;
`B` runs the Job now (it fails again: the CronJob is still broken, and the cockpit says
so), `U` dumps the database to the bucket from this machine and reads it back.  Then
the team fixes what broke the CronJob (outside the cockpit: here the simulated Job
template's outcome) and `B` runs it again.  The fix is checked on the backends: a new
object in the bucket whose bytes hash to the SHA-256 in its metadata and gunzip to a
complete pg_dump of excel_unified, and a new Job that completed; the pane is healthy.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from cockpit.config import BackupSettings
from cockpit.demo.servers import DemoServers
from cockpit.model import Level
from cockpit.sim.controller import OUTCOME
from cockpit.sim.runner import SimCluster
from cockpit.sim.s3 import REGION, demo_bucket
from tests.drills.helpers import (
    NS,
    SIZE,
    Cluster,
    cell_styles,
    cell_texts,
    confirm_with_keys,
    demo_settings,
    launch,
    outcome,
    shows_level,
)
from tests.pilot import cockpit_running, wait_for
from widgets.backups import BackupsPane
from widgets.confirm import ConfirmScreen

CRONJOB = "postgres-backup"


@pytest.fixture
def bucket(aws_env: None) -> Iterator[tuple[str, str]]:
    """The demo's bucket (cockpit.sim.s3.demo_bucket): (name, endpoint URL)."""
    name = BackupSettings().bucket
    with demo_bucket(name, "", "incident", REGION) as endpoint:
        assert endpoint is not None, "moto is a test dependency"
        yield name, endpoint


def s3(endpoint: str) -> Any:
    return boto3.client("s3", endpoint_url=endpoint, region_name=REGION)


def job_state(cluster: Cluster, name: str) -> str:
    """Complete / Failed / "" from the Job's conditions (as `kubectl get jobs` reads them)."""
    job = cluster.batch.read_namespaced_job(name, NS)
    for condition in job.status.conditions or []:
        if condition.status == "True" and condition.type in ("Complete", "Failed"):
            return condition.type
    return ""


async def run_backup_job(pilot, app, nth: int) -> dict:
    """B, confirmed from the keyboard; the journaled outcome of this (the nth) run."""
    await pilot.press("B")

    def check(modal: ConfirmScreen) -> None:
        command = modal.plan.command
        assert command.startswith(f"kubectl create job --from=cronjob/{CRONJOB} "), command

    await confirm_with_keys(pilot, app, check=check)
    return await outcome(pilot, app, "backup.trigger", nth=nth, timeout=30)


async def test_failed_backup_dumped_now_then_job_rerun(
    incident_sim: SimCluster,
    cluster: Cluster,
    demo_servers: DemoServers,
    bucket: tuple[str, str],
    tmp_path: Path,
) -> None:
    name, endpoint = bucket
    keys_before = {o["Key"] for o in s3(endpoint).list_objects_v2(Bucket=name)["Contents"]}
    jobs_before = {j.metadata.name for j in cluster.batch.list_namespaced_job(NS).items}
    backups = BackupSettings(bucket=name, endpoint_url=endpoint, region=REGION)
    settings = demo_settings(incident_sim, tmp_path, servers=demo_servers, backups=backups)
    app = launch(settings, demo_servers)
    async with cockpit_running(app, size=SIZE) as pilot:
        pane = app.main.query_one(BackupsPane)
        # The incident on screen: red, "last backup Job … failed", the Job in red.
        snap = await wait_for(
            pilot,
            lambda: (s := pane.snapshot) is not None and s.jobs and s.verdict and s,
            timeout=30,
            what="the CronJob, its Jobs and the newest dump verified",
        )
        assert shows_level(pane, Level.CRIT)
        failed = snap.last_job
        assert failed is not None and failed.status == "Failed"
        assert snap.problems[0] == (Level.CRIT, f"last backup Job {failed.name} failed")
        jobs = pane.query_one("#backups-jobs")
        assert cell_texts(jobs, failed.uid)[1] == "Failed"
        assert cell_styles(jobs, failed.uid)[1] == "bold red"
        assert "problem" in pane.title_shown.plain
        await wait_for(pilot, lambda: app.flow.access is not None, what="the RBAC check")

        # B: the Job again, from the CronJob as it is: it fails, and the cockpit says so.
        entry = await run_backup_job(pilot, app, nth=1)
        new_jobs = {j.metadata.name for j in cluster.batch.list_namespaced_job(NS).items}
        [manual] = new_jobs - jobs_before
        assert entry["outcome"] == "failed", entry
        assert entry["error"].startswith(f"backup Job {manual} failed: BackoffLimitExceeded")
        assert job_state(cluster, manual) == "Failed"
        await wait_for(
            pilot,
            lambda: (
                (last := pane.snapshot.last_job) is not None
                and (last.name, last.status) == (manual, "Failed")
            ),
            what="the failed manual Job in the pane",
        )
        assert shows_level(pane, Level.CRIT)

        # U: dump now, from this machine, read back and verified.
        await pilot.press("U")

        def dump_plan(modal: ConfirmScreen) -> None:
            assert modal.plan.title.startswith(f"Dump database excel_unified now to s3://{name}/")

        await confirm_with_keys(pilot, app, check=dump_plan)
        entry = await outcome(pilot, app, "backup.dump-now", timeout=60)
        assert entry["outcome"] == "succeeded", entry
        key = entry["result"]["key"]
        assert key not in keys_before and key.startswith("backup_") and key.endswith(".sql.gz")

        # The bucket: the object's bytes hash to its metadata and hold a whole dump.
        obj = s3(endpoint).get_object(Bucket=name, Key=key)
        body = obj["Body"].read()
        assert obj["Metadata"]["sha256"] == hashlib.sha256(body).hexdigest()
        sql = gzip.decompress(body).decode()
        assert "CREATE TABLE public.workbooks" in sql and "COPY public.users" in sql
        assert "\n-- PostgreSQL database dump complete\n" in sql  # pg_dump got to the end

        await wait_for(
            pilot,
            lambda: (
                (s := pane.snapshot).newest is not None
                and s.newest.key == key
                and s.verdict is not None
                and s.verdict.key == key
                and s.verdict.status == "verified"
            ),
            timeout=20,
            what="the new dump listed and verified in the pane",
        )
        assert "● verified" in str(pane.query_one("#backups-summary").render())
        # The data is safe again: yellow, not red; the broken CronJob is still said first.
        await wait_for(pilot, lambda: shows_level(pane, Level.WARN), what="the pane yellow")
        assert pane.snapshot.problems[0] == (
            Level.WARN,
            f"last backup Job {manual} failed (a newer dump, verified, covers it)",
        )

        # The team fixes the CronJob (outside the cockpit); B runs it again.
        cluster.batch.patch_namespaced_cron_job(
            CRONJOB,
            NS,
            {"spec": {"jobTemplate": {"metadata": {"annotations": {OUTCOME: "succeed"}}}}},
        )
        entry = await run_backup_job(pilot, app, nth=2)
        assert entry["outcome"] == "succeeded", entry
        [rerun] = {j.metadata.name for j in cluster.batch.list_namespaced_job(NS).items} - (
            new_jobs
        )
        assert job_state(cluster, rerun) == "Complete"

        # The screen: the pane healthy, the rerun Complete, the new dump the newest.
        def rerun_shown_complete() -> bool:
            # A running Job is no problem either: the pane can be healthy a poll before
            # the Jobs watch brings the rerun's completion (a clean clone's run saw it).
            last = pane.snapshot.last_job
            return last is not None and last.name == rerun and last.status == "Complete"

        await wait_for(
            pilot,
            lambda: (
                shows_level(pane, Level.OK)
                and not pane.snapshot.problems
                and rerun_shown_complete()
            ),
            timeout=20,
            what="the Backups pane healthy, the rerun Complete",
        )
        snap = pane.snapshot
        assert snap.newest.key == key
        assert cell_texts(jobs, snap.last_job.uid)[1] == "Complete"
