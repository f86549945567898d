"""Kubernetes actions at their edges: stale targets, timeouts, read-only without the UI,
typed confirmations for wide actions, the backup job, and the journal command (issue 4)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import pytest
from kubernetes import client as k8s
from textual.widgets import Input

from actions.base import Refused
from actions.kube.backup import TriggerBackup
from actions.kube.context import KubeContext
from actions.kube.deployments import RolloutRestart, Scale
from actions.kube.pods import RestartPod
from actions.runner import ActionRunner, Who
from cockpit.audit import Journal
from cockpit.sources.kube.convert import deployment_row, pod_row
from tests.pilot import cockpit_running
from widgets.workloads import WorkloadsPane

from .conftest import read_journal, wait_for
from .test_kube_actions import modal, pod_uids, ready_app

NS = "excel-unified"


def context(sim) -> KubeContext:
    return KubeContext(k8s.ApiClient(sim.client_configuration()), NS, 5.0)


def runner(tmp_path, **kwargs) -> ActionRunner:
    return ActionRunner(
        Journal(tmp_path / "journal.jsonl"),
        Who("cockpit-sim", "t", NS),
        read_only=kwargs.pop("read_only", False),
        dry_run=kwargs.pop("dry_run", False),
        **kwargs,
    )


def raw(api_call, *args) -> dict:
    response = api_call(*args, _preload_content=False)
    return json.loads(response.data)


def rails_pod_row(sim) -> object:
    core = k8s.CoreV1Api(k8s.ApiClient(sim.client_configuration()))
    pods = raw(core.list_namespaced_pod, NS)["items"]
    pod = next(p for p in pods if p["metadata"]["labels"].get("app") == "rails")
    return pod_row(pod)


def rails_deployment_row(sim) -> object:
    apps = k8s.AppsV1Api(k8s.ApiClient(sim.client_configuration()))
    return deployment_row(raw(apps.read_namespaced_deployment, "rails", NS))


async def test_a_pod_already_replaced_is_not_touched(make_sim, tmp_path) -> None:
    sim = make_sim("healthy")
    shown = rails_pod_row(sim)
    ctx = context(sim)
    # Someone else restarts the pod between the screen and the keypress.
    ctx.core.delete_namespaced_pod(shown.name, NS)
    for _ in range(200):  # until it is gone, not merely terminating
        try:
            ctx.core.read_namespaced_pod(shown.name, NS)
        except k8s.ApiException:
            break
        await asyncio.sleep(0.05)
    before = set(pod_uids(sim))
    run = runner(tmp_path)
    with pytest.raises(Refused, match=r"no longer exists|not the pod that was shown"):
        await run.run(RestartPod(shown, None, NS), ctx)
    assert set(pod_uids(sim)) == before  # nothing else touched
    assert read_journal(tmp_path / "journal.jsonl")[-1]["outcome"] == "refused"


async def test_a_statefulset_pod_recreated_under_the_same_name_is_refused(
    make_sim, tmp_path
) -> None:
    sim = make_sim("healthy")
    core = k8s.CoreV1Api(k8s.ApiClient(sim.client_configuration()))
    shown = pod_row(raw(core.read_namespaced_pod, "redis-0", NS))
    core.delete_namespaced_pod("redis-0", NS)
    for _ in range(200):
        try:
            now = raw(core.read_namespaced_pod, "redis-0", NS)
        except k8s.ApiException:
            await asyncio.sleep(0.05)
            continue
        if now["metadata"]["uid"] != shown.uid:
            break
        await asyncio.sleep(0.05)
    with pytest.raises(Refused, match=r"uid changed|not the pod that was shown"):
        await runner(tmp_path).run(RestartPod(shown, None, NS), context(sim))
    assert raw(core.read_namespaced_pod, "redis-0", NS)["metadata"]["uid"] != shown.uid


async def test_a_deployment_that_moved_on_is_refused(make_sim, tmp_path) -> None:
    sim = make_sim("healthy")
    shown = rails_deployment_row(sim)
    apps = k8s.AppsV1Api(k8s.ApiClient(sim.client_configuration()))
    apps.patch_namespaced_deployment_scale("rails", NS, {"spec": {"replicas": 4}})
    for _ in range(100):
        if rails_deployment_row(sim).generation != shown.generation:
            break
        await asyncio.sleep(0.05)
    with pytest.raises(Refused, match="changed since it was shown"):
        await runner(tmp_path).run(RolloutRestart(shown, NS), context(sim))
    after = rails_deployment_row(sim)
    assert after.revision == shown.revision  # no new rollout was started


async def test_read_only_refuses_without_any_ui(make_sim, tmp_path) -> None:
    sim = make_sim("healthy")
    shown = rails_deployment_row(sim)
    run = runner(tmp_path, read_only=True)
    with pytest.raises(Refused, match="read-only"):
        await run.run(Scale(shown, NS, 0), context(sim))
    assert rails_deployment_row(sim).desired == shown.desired
    entry = read_journal(tmp_path / "journal.jsonl")[-1]
    assert entry["outcome"] == "refused" and entry["mode"] == "read-only"


async def test_an_action_that_times_out_is_reported_and_journaled(make_sim, tmp_path) -> None:
    sim = make_sim("healthy")
    shown = rails_deployment_row(sim)
    sim.hang_requests("/apis/apps")
    run = runner(tmp_path, timeout=1.0)
    result = await run.run(RolloutRestart(shown, NS), context(sim))
    sim.clear_faults()
    assert not result.ok and "timed out after 1 s" in result.message
    entry = read_journal(tmp_path / "journal.jsonl")[-1]
    assert entry["outcome"] == "failed" and "timed out" in entry["error"]


async def test_forbidden_during_execution_is_reported(make_sim, tmp_path) -> None:
    sim = make_sim("healthy")
    sim.deny("patch", "deployments", subresource="scale")
    shown = rails_deployment_row(sim)
    with pytest.raises(Refused, match="forbidden"):
        await runner(tmp_path).run(Scale(shown, NS, 2), context(sim))
    assert read_journal(tmp_path / "journal.jsonl")[-1]["outcome"] == "refused"


async def test_backup_job_follows_to_completion_and_to_failure(make_sim, tmp_path) -> None:
    healthy = make_sim("healthy")
    result = await runner(tmp_path).run(TriggerBackup("postgres-backup", NS), context(healthy))
    assert result.ok and "completed" in result.message
    incident = make_sim("incident")
    result = await runner(tmp_path).run(TriggerBackup("postgres-backup", NS), context(incident))
    assert not result.ok and "failed" in result.message
    batch = k8s.BatchV1Api(k8s.ApiClient(incident.client_configuration()))
    job = raw(batch.read_namespaced_job, _last_manual_job(incident), NS)
    assert job["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"] == "manual"


def _last_manual_job(sim) -> str:
    batch = k8s.BatchV1Api(k8s.ApiClient(sim.client_configuration()))
    jobs = raw(batch.list_namespaced_job, NS)["items"]
    manual = [
        j
        for j in jobs
        if (j["metadata"].get("annotations") or {}).get("cronjob.kubernetes.io/instantiate")
        == "manual"
    ]
    return manual[-1]["metadata"]["name"]


async def test_restart_all_needs_the_namespace_typed(make_sim, make_app, kubectl_for) -> None:
    sim = make_sim("healthy")
    app = make_app(sim)
    kubectl = kubectl_for(sim)
    revisions = {
        name: kubectl(
            "get",
            "deployment",
            name,
            "-o",
            "jsonpath={.metadata.annotations.deployment\\.kubernetes\\.io/revision}",
        ).stdout.strip()
        for name in ("rails", "fastapi", "sidekiq", "nginx")
    }
    async with cockpit_running(app, size=(160, 45)) as pilot:
        _, workloads = await ready_app(pilot, app)
        workloads.table.focus()
        await pilot.press("A")
        screen = await modal(pilot, app)
        assert screen.plan.confirm_phrase == NS
        assert screen.plan.command == f"kubectl rollout restart deployment -n {NS}"
        screen.query_one("#confirm-phrase", Input).value = NS
        await pilot.pause()
        await pilot.click("#execute")
        await wait_for(
            pilot,
            lambda: any(
                e["outcome"] in ("succeeded", "failed") for e in read_journal(app.journal.path)
            ),
            timeout=60,
            what="all rollouts",
        )
    assert read_journal(app.journal.path)[-1]["outcome"] == "succeeded"
    for name, before in revisions.items():
        after = kubectl(
            "get",
            "deployment",
            name,
            "-o",
            "jsonpath={.metadata.annotations.deployment\\.kubernetes\\.io/revision}",
        ).stdout.strip()
        assert int(after) > int(before), name


async def test_emergency_stop_then_restore_the_runbook_counts(
    make_sim, make_app, kubectl_for
) -> None:
    sim = make_sim("healthy")
    app = make_app(sim)
    kubectl = kubectl_for(sim)
    replicas = "jsonpath={.spec.replicas}"
    async with cockpit_running(app, size=(160, 45)) as pilot:
        _, workloads = await ready_app(pilot, app)
        workloads.table.focus()
        await pilot.press("E")
        screen = await modal(pilot, app)
        assert screen.plan.command == f"kubectl scale deployment rails --replicas=0 -n {NS}"
        screen.query_one("#confirm-phrase", Input).value = "rails"
        await pilot.pause()
        await pilot.click("#execute")
        await wait_for(
            pilot, lambda: not pod_uids(sim, "app=rails"), timeout=20, what="rails stopped"
        )
        assert kubectl("get", "deployment", "rails", "-o", replicas).stdout.strip() == "0"
        await wait_for(pilot, lambda: not isinstance(app.screen, type(screen)), what="closed")
        await wait_for(pilot, lambda: app.runner.in_flight == set(), what="idle")
        workloads.table.focus()
        await pilot.press("O")
        screen = await modal(pilot, app)
        assert "rails → 3" in screen.plan.title and "sidekiq → 2" in screen.plan.title
        await pilot.click("#execute")
        await wait_for(
            pilot, lambda: len(pod_uids(sim, "app=rails")) == 3, timeout=20, what="rails restored"
        )
    assert kubectl("get", "deployment", "rails", "-o", replicas).stdout.strip() == "3"
    assert kubectl("get", "deployment", "sidekiq", "-o", replicas).stdout.strip() == "2"


async def test_backup_key_runs_the_job_from_the_app(make_sim, make_app) -> None:
    sim = make_sim("healthy")
    app = make_app(sim)
    async with cockpit_running(app, size=(160, 45)) as pilot:
        await ready_app(pilot, app)
        await pilot.press("B")
        screen = await modal(pilot, app)
        assert screen.plan.command.startswith(
            "kubectl create job --from=cronjob/postgres-backup postgres-backup-manual-"
        )
        await pilot.click("#execute")
        await wait_for(
            pilot,
            lambda: any(e["outcome"] == "succeeded" for e in read_journal(app.journal.path)),
            timeout=30,
            what="the job to complete",
        )
        assert isinstance(app.main.query_one(WorkloadsPane), WorkloadsPane)


def test_journal_command_shows_entries(tmp_path) -> None:
    journal = Journal(tmp_path / "journal.jsonl", secrets=("hunter2",))
    journal.append(
        {
            "context": "prod",
            "action": "pod.restart",
            "targets": ["pod/x"],
            "mode": "armed",
            "outcome": "succeeded",
            "duration_s": 1.5,
            "message": "replacement \x1b[31mready",
            "error": "",
            "plan": {"command": "psql postgresql://u:hunter2@db/x"},
        }
    )
    env_config = tmp_path / "config.toml"
    env_config.write_text(f'journal_path = "{journal.path}"\n')
    done = subprocess.run(
        [sys.executable, "-m", "cockpit", "journal", "--config", str(env_config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "pod.restart" in done.stdout and "succeeded in 1.5s" in done.stdout
    assert "\x1b" not in done.stdout and "hunter2" not in done.stdout
    raw_lines = subprocess.run(
        [sys.executable, "-m", "cockpit", "journal", "--json", "--config", str(env_config)],
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.splitlines()
    assert json.loads(raw_lines[-1])["plan"]["command"] == "psql postgresql://u:****@db/x"
