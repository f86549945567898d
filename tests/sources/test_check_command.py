"""`cockpit check` end to end: every source once, against the simulated cluster and a
local S3 holding real dumps (the demo's bucket)."""

from __future__ import annotations

from pathlib import Path

from cockpit.check import check
from cockpit.config import KubeSettings, Settings
from cockpit.sim.pace import Pace
from cockpit.sim.runner import SimCluster
from cockpit.sim.s3 import REGION, demo_bucket


async def test_check_reports_every_layer_and_reads_the_newest_dump_back(tmp_path: Path) -> None:
    sim = SimCluster("incident", pace=Pace.fast()).start()
    try:
        kubeconfig = sim.write_kubeconfig(tmp_path / "kubeconfig")
        settings = Settings(
            journal_path=tmp_path / "journal.jsonl",
            kube=KubeSettings(kubeconfig=kubeconfig, context="cockpit-sim"),
        )
        backups = settings.backups
        with demo_bucket(backups.bucket, backups.prefix, "incident", REGION) as endpoint:
            assert endpoint is not None
            local = backups.model_copy(update={"endpoint_url": endpoint, "region": REGION})
            results = await check(
                settings.model_copy(update={"backups": local}), "cockpit-sim", None
            )
    finally:
        sim.stop()
    sources = {r["source"] for r in results}
    assert {"pods", "health", "slo", "alerts", "disk", "backups"} <= sources, sources
    backup_lines = [r for r in results if r["source"] == "backups"]
    # The CronJob's failed Job (CRIT), then the newest dump, read back and verified.
    assert backup_lines[0]["level"] == "CRIT" and "Failed" in backup_lines[0]["text"]
    dump = backup_lines[1]
    assert dump["text"].startswith("newest dump ") and dump["level"] == "OK", dump
    disk = [r for r in results if r["source"] == "disk"]
    assert any("postgres-0" in r["text"] and r["level"] == "WARN" for r in disk), disk
