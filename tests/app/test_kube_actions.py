"""Kubernetes actions through the app: confirm, execute, verify, journal (issue 4).

Effects are checked through the cluster (the real kubernetes client, and kubectl for
restart, undo and scale), never through the app's own state.
"""

from __future__ import annotations

import json

from kubernetes import client as k8s
from textual.widgets import Button, Input

from cockpit.model import PodRow, WorkloadRow
from tests.pilot import cockpit_running, confirm_modal
from widgets.confirm import ConfirmScreen
from widgets.pods import PodsPane
from widgets.textview import TextScreen
from widgets.workloads import WorkloadsPane

from .conftest import read_journal, wait_for

NS = "excel-unified"


def core(sim) -> k8s.CoreV1Api:
    return k8s.CoreV1Api(k8s.ApiClient(sim.client_configuration()))


def apps(sim) -> k8s.AppsV1Api:
    return k8s.AppsV1Api(k8s.ApiClient(sim.client_configuration()))


def pod_uids(sim, selector: str = "app=rails") -> dict[str, str]:
    pods = core(sim).list_namespaced_pod(NS, label_selector=selector).items
    return {p.metadata.uid: p.metadata.name for p in pods if not p.metadata.deletion_timestamp}


async def ready_app(pilot, app) -> tuple[PodsPane, WorkloadsPane]:
    pods = app.main.query_one(PodsPane)
    workloads = app.main.query_one(WorkloadsPane)
    await wait_for(
        pilot,
        lambda: pods.snapshot is not None and workloads.snapshot is not None,
        what="the first snapshot",
    )
    await wait_for(pilot, lambda: app.flow.access is not None, what="the kube connection")
    return pods, workloads


async def select_pod(pilot, pods: PodsPane, predicate) -> PodRow:
    pod = await wait_for(
        pilot,
        lambda: next((p for p in pods.snapshot.pods if predicate(p)), None),
        what="a matching pod",
    )
    pods.table.focus()
    assert pods.table.select_key(pod.uid)
    await pilot.pause()
    return pod


async def select_workload(pilot, workloads: WorkloadsPane, name: str) -> WorkloadRow:
    workload = next(w for w in workloads.snapshot.workloads if w.name == name)
    workloads.table.focus()
    assert workloads.table.select_key(workload.uid)
    await pilot.pause()
    return workload


modal = confirm_modal


def healthy_rails(p: PodRow) -> bool:
    return p.app == "rails" and p.status == "Running" and p.ready == p.total


async def test_restart_pod_confirmed_replaced_and_journaled(
    make_sim, make_app, journal_path, kubectl_for
) -> None:
    sim = make_sim("incident")
    app = make_app(sim)
    async with cockpit_running(app, size=(160, 45)) as pilot:
        pods, _ = await ready_app(pilot, app)
        pod = await select_pod(pilot, pods, healthy_rails)
        await pilot.press("ctrl+d")
        screen = await modal(pilot, app)
        assert screen.focused.id == "cancel"  # a stray Enter cancels
        assert f"kubectl delete pod -n {NS} {pod.name}" in screen.plan.command
        assert "of 3 pods stay ready" in screen.plan.blast_radius
        await pilot.click("#execute")
        await wait_for(pilot, lambda: pod.uid not in pod_uids(sim), what="the pod deleted")
        await wait_for(
            pilot,
            lambda: any(e.get("outcome") == "succeeded" for e in read_journal(journal_path)),
            timeout=20,
            what="the verified outcome",
        )
    entry = next(e for e in read_journal(journal_path) if e["outcome"] == "succeeded")
    assert entry["action"] == "pod.restart" and entry["targets"] == [f"pod/{pod.name}"]
    assert entry["context"] == "cockpit-sim" and entry["namespace"] == NS
    assert entry["kube_user"] == "cockpit-sim-admin" and entry["os_user"]
    assert "is Ready" in entry["message"]
    assert entry["plan"]["command"].startswith("kubectl delete pod")
    assert sim.token not in json.dumps(read_journal(journal_path))
    listing = kubectl_for(sim)("get", "pods", "-l", "app=rails", "-o", "name").stdout
    assert f"pod/{pod.name}" not in listing
    assert listing.count("pod/rails-") == 3  # replaced, not just deleted


async def test_cancel_changes_nothing_and_is_journaled(make_sim, make_app, journal_path) -> None:
    sim = make_sim("healthy")
    app = make_app(sim)
    async with cockpit_running(app, size=(160, 45)) as pilot:
        pods, _ = await ready_app(pilot, app)
        pod = await select_pod(pilot, pods, healthy_rails)
        await pilot.press("ctrl+d")
        await modal(pilot, app)
        await pilot.press("enter")  # Cancel has the focus
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmScreen), what="closed")
        await pilot.pause(0.5)
    assert pod.uid in pod_uids(sim)
    assert [e["outcome"] for e in read_journal(journal_path)] == ["cancelled"]


async def test_scale_to_zero_needs_the_name_typed(make_sim, make_app, kubectl_for) -> None:
    sim = make_sim("healthy")
    app = make_app(sim)
    async with cockpit_running(app, size=(160, 45)) as pilot:
        _, workloads = await ready_app(pilot, app)
        await select_workload(pilot, workloads, "sidekiq")
        await pilot.press("s")
        screen = await modal(pilot, app)
        replicas = screen.query_one("#param-replicas", Input)
        assert replicas.value == "2"  # prefilled with the current count
        replicas.value = "0"
        await pilot.pause()
        assert screen.plan.confirm_phrase == "sidekiq"
        execute = screen.query_one("#execute", Button)
        assert execute.disabled
        phrase = screen.query_one("#confirm-phrase", Input)
        assert phrase.display  # shown once the plan became high-risk
        phrase.value = "sidekiq-typo"
        await pilot.pause()
        assert execute.disabled
        phrase.value = "sidekiq"
        await pilot.pause()
        assert not execute.disabled
        await pilot.click("#execute")
        await wait_for(
            pilot, lambda: not pod_uids(sim, "app=sidekiq"), timeout=15, what="sidekiq pods gone"
        )
    out = kubectl_for(sim)("get", "deployment", "sidekiq", "-o", "jsonpath={.spec.replicas}")
    assert out.stdout.strip() == "0"


async def test_scale_up_through_the_modal(make_sim, make_app, kubectl_for) -> None:
    sim = make_sim("healthy")
    app = make_app(sim)
    async with cockpit_running(app, size=(160, 45)) as pilot:
        _, workloads = await ready_app(pilot, app)
        await select_workload(pilot, workloads, "nginx")
        await pilot.press("s")
        screen = await modal(pilot, app)
        screen.query_one("#param-replicas", Input).value = "4"
        await pilot.pause()
        assert "kubectl scale deployment nginx --replicas=4" in screen.plan.command
        assert screen.plan.confirm_phrase is None
        await pilot.click("#execute")
        await wait_for(
            pilot, lambda: len(pod_uids(sim, "app=nginx")) == 4, timeout=15, what="4 nginx pods"
        )
    kubectl = kubectl_for(sim)
    assert (
        kubectl("get", "deployment", "nginx", "-o", "jsonpath={.spec.replicas}").stdout.strip()
        == "4"
    )


async def test_dry_run_from_the_modal_changes_nothing(make_sim, make_app, journal_path) -> None:
    sim = make_sim("healthy")
    app = make_app(sim)
    before = apps(sim).read_namespaced_deployment("rails", NS)
    async with cockpit_running(app, size=(160, 45)) as pilot:
        _, workloads = await ready_app(pilot, app)
        await select_workload(pilot, workloads, "rails")
        await pilot.press("R")
        await modal(pilot, app)
        await pilot.click("#dry-run")
        await wait_for(
            pilot,
            lambda: any(e["outcome"] == "dry-run ok" for e in read_journal(journal_path)),
            what="the dry run's journal entry",
        )
    after = apps(sim).read_namespaced_deployment("rails", NS)
    assert after.metadata.generation == before.metadata.generation
    assert after.metadata.resource_version == before.metadata.resource_version
    entry = read_journal(journal_path)[-1]
    assert entry["mode"] == "dry-run" and entry["action"] == "deployment.rollout-restart"


async def test_dry_run_session_executes_nothing(make_sim, make_app, journal_path) -> None:
    sim = make_sim("healthy")
    app = make_app(sim, dry_run=True)
    async with cockpit_running(app, size=(160, 45)) as pilot:
        pods, _ = await ready_app(pilot, app)
        pod = await select_pod(pilot, pods, healthy_rails)
        await pilot.press("ctrl+d")
        screen = await modal(pilot, app)
        assert not screen.query("#dry-run")  # the whole session is a dry run
        assert str(screen.query_one("#execute", Button).label) == "Execute (dry run)"
        await pilot.click("#execute")
        await wait_for(pilot, lambda: read_journal(journal_path), what="a journal entry")
    assert pod.uid in pod_uids(sim)
    assert read_journal(journal_path)[-1]["outcome"] == "dry-run ok"


async def test_read_only_offers_no_mutating_key(make_sim, make_app, journal_path) -> None:
    sim = make_sim("healthy")
    app = make_app(sim, read_only=True)
    async with cockpit_running(app, size=(160, 45)) as pilot:
        pods, _workloads = await ready_app(pilot, app)
        pod = await select_pod(pilot, pods, healthy_rails)
        shown = {b.binding.action for b in app.screen.active_bindings.values()}
        assert "restart_pod" not in shown and "previous_logs" in shown
        await pilot.press("ctrl+d")
        await pilot.pause(0.3)
        assert not isinstance(app.screen, ConfirmScreen)
        commands = [command.title for command in app.palette_commands()]
        assert not any(
            c.startswith(("Restart pod", "Scale", "Rollout", "Emergency")) for c in commands
        )
        assert any(c.startswith("Logs of pod") for c in commands)
        # Even a direct request (a palette or key that forgot to check) is refused.
        from actions.catalog import build

        app.request_action(build("pod.restart", pod=pod, workload=None, namespace=NS))
        await pilot.pause(0.3)
        assert not isinstance(app.screen, ConfirmScreen)
    assert pod.uid in pod_uids(sim)
    assert read_journal(journal_path)[-1]["outcome"] == "refused"


async def test_forbidden_action_is_refused_with_the_missing_verb(
    make_sim, make_app, journal_path
) -> None:
    sim = make_sim("healthy")
    sim.deny("delete", "pods")
    app = make_app(sim)
    async with cockpit_running(app, size=(160, 45)) as pilot:
        pods, _ = await ready_app(pilot, app)
        pod = await select_pod(pilot, pods, healthy_rails)
        # Offered as forbidden before anyone presses anything (SelfSubjectAccessReview).
        await wait_for(pilot, lambda: app.forbidden("pod.restart"), what="the RBAC check")
        names = {command.title: command.help for command in app.palette_commands()}
        assert names[f"Restart pod {pod.name} (forbidden)"].startswith(
            "forbidden: you may not delete pods"
        )
        assert "Rollout restart ALL deployments" in names  # patching deployments is allowed
        pods_keys = dict(dict(app.key_groups())["Pods pane"])
        assert "FORBIDDEN" in pods_keys["ctrl+d"]
        pods.table.focus()
        await pilot.press("ctrl+d")
        await wait_for(pilot, lambda: read_journal(journal_path), what="the refusal")
        assert not isinstance(app.screen, ConfirmScreen)
    entry = read_journal(journal_path)[-1]
    assert entry["outcome"] == "refused"
    assert "delete pods" in entry["error"] and NS in entry["error"]
    assert pod.uid in pod_uids(sim)


async def test_a_second_keypress_does_not_open_a_second_modal(make_sim, make_app) -> None:
    sim = make_sim("healthy")
    app = make_app(sim)
    async with cockpit_running(app, size=(160, 45)) as pilot:
        pods, _ = await ready_app(pilot, app)
        await select_pod(pilot, pods, healthy_rails)
        pods.table.focus()
        await pilot.press("ctrl+d", "ctrl+d")
        await modal(pilot, app)
        await pilot.pause(0.3)
        modals = [s for s in app.screen_stack if isinstance(s, ConfirmScreen)]
        assert len(modals) == 1
        assert len(app.flow._requested) == 1


async def test_rollout_undo_shows_the_diff_and_rolls_back(make_sim, make_app, kubectl_for) -> None:
    sim = make_sim("healthy")
    kubectl = kubectl_for(sim)
    image = "jsonpath={.spec.template.spec.containers[0].image}"
    before = kubectl("get", "deployment", "rails", "-o", image).stdout.strip()
    app = make_app(sim)
    async with cockpit_running(app, size=(160, 45)) as pilot:
        _, workloads = await ready_app(pilot, app)
        await select_workload(pilot, workloads, "rails")
        await pilot.press("u")
        screen = await modal(pilot, app)
        assert screen.plan.command == f"kubectl rollout undo deployment/rails -n {NS}"
        assert any("image" in line and "→" in line for line in screen.plan.details), (
            screen.plan.details
        )
        await pilot.click("#execute")
        await wait_for(
            pilot,
            lambda: kubectl("get", "deployment", "rails", "-o", image).stdout.strip() != before,
            timeout=15,
            what="the template rolled back",
        )
    status = kubectl("rollout", "status", "deployment/rails", "--timeout=30s")
    assert "successfully rolled out" in status.stdout


async def test_describe_service_shows_endpoints(make_sim, make_app) -> None:
    sim = make_sim("healthy")
    app = make_app(sim)
    async with cockpit_running(app, size=(160, 45)) as pilot:
        _, workloads = await ready_app(pilot, app)
        await select_workload(pilot, workloads, "nginx")
        await pilot.press("d")
        screen = await wait_for(
            pilot,
            lambda: app.screen if isinstance(app.screen, TextScreen) else None,
            what="the describe view",
        )
        text = "\n".join(screen.lines)
        assert "Name:              nginx-service" in text
        assert "Endpoints:" in text and "(nginx-" in text
