"""`backup.trigger`: the Job the confirmation names is the Job that is created."""

from __future__ import annotations

import asyncio
import json

from kubernetes import client as k8s

from actions.catalog import build
from actions.kube.context import KubeContext
from actions.runner import ActionRunner, Who
from cockpit.audit import Journal

NS = "excel-unified"


async def test_the_planned_job_name_is_the_created_one(make_sim, tmp_path) -> None:
    sim = make_sim("healthy")
    api = k8s.ApiClient(sim.client_configuration())
    action = build("backup.trigger", cronjob="postgres-backup", namespace=NS)  # as the key does
    plan = action.plan()  # what the confirmation modal shows
    await asyncio.sleep(1.1)  # the person reads it: the clock moves on
    runner = ActionRunner(
        Journal(tmp_path / "journal.jsonl"),
        Who("cockpit-sim", "t", NS),
        read_only=False,
        dry_run=False,
    )
    result = await runner.run(action, KubeContext(api, NS, 5.0))
    assert result.ok, result.message
    batch = k8s.BatchV1Api(api)
    jobs = json.loads(batch.list_namespaced_job(NS, _preload_content=False).data)["items"]
    created = [j["metadata"]["name"] for j in jobs if "-manual-" in j["metadata"]["name"]]
    api.close()
    assert len(created) == 1
    assert plan.command.endswith(f" {created[0]} -n {NS}") and created[0] in plan.title
    assert created[0] in result.message  # "backup Job <name> completed"
