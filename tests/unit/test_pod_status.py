"""STATUS, READY and RESTARTS computed as `kubectl get pods` prints them."""

from __future__ import annotations

from cockpit.model import Level
from cockpit.sources.kube.convert import parse_quantity, pod_row, pod_status


def pod(
    phase="Running",
    statuses=(),
    init=(),
    init_specs=(),
    deleting=False,
    conditions=(),
    containers=("app",),
    reason=None,
):
    meta = {
        "name": "p",
        "uid": "u1",
        "namespace": "ns",
        "creationTimestamp": "2026-11-28T00:00:00Z",
        "labels": {"app": "rails", "pod-template-hash": "abc"},
        "ownerReferences": [{"kind": "ReplicaSet", "name": "rails-abc", "controller": True}],
    }
    if deleting:
        meta["deletionTimestamp"] = "2026-11-28T01:00:00Z"
    status = {
        "phase": phase,
        "containerStatuses": list(statuses),
        "initContainerStatuses": list(init),
        "conditions": list(conditions),
    }
    if reason:
        status["reason"] = reason
    spec = {
        "containers": [
            {
                "name": c,
                "resources": {
                    "requests": {"cpu": "250m", "memory": "256Mi"},
                    "limits": {"cpu": "1", "memory": "1Gi"},
                },
            }
            for c in containers
        ],
        "initContainers": [{"name": n} for n in init_specs],
        "nodeName": "node-1",
    }
    return {"metadata": meta, "spec": spec, "status": status}


def running(ready=True, restarts=0, last=None):
    cs = {
        "name": "app",
        "ready": ready,
        "restartCount": restarts,
        "state": {"running": {"startedAt": "2026-11-28T00:00:05Z"}},
    }
    if last:
        cs["lastState"] = {"terminated": last}
    return cs


def test_running_ready() -> None:
    assert pod_status(pod(statuses=[running()]))[:4] == ("Running", 1, 1, 0)
    assert pod_row(pod(statuses=[running()])).level is Level.OK


def test_crash_loop_back_off_with_last_restart() -> None:
    cs = {
        "name": "app",
        "ready": False,
        "restartCount": 7,
        "state": {"waiting": {"reason": "CrashLoopBackOff"}},
        "lastState": {
            "terminated": {"reason": "Error", "exitCode": 1, "finishedAt": "2026-11-28T02:00:00Z"}
        },
    }
    status, ready, total, restarts, last = pod_status(pod(statuses=[cs]))
    assert (status, ready, total, restarts) == ("CrashLoopBackOff", 0, 1, 7)
    assert last is not None and last.hour == 2
    row = pod_row(pod(statuses=[cs]))
    assert row.level is Level.CRIT and row.workload == "rails"


def test_oom_killed_terminated() -> None:
    cs = {
        "name": "app",
        "ready": False,
        "restartCount": 3,
        "state": {"terminated": {"reason": "OOMKilled", "exitCode": 137}},
    }
    assert pod_status(pod(statuses=[cs]))[0] == "OOMKilled"


def test_terminated_without_reason_shows_exit_code_or_signal() -> None:
    cs = {"name": "app", "state": {"terminated": {"exitCode": 2}}}
    assert pod_status(pod(statuses=[cs]))[0] == "ExitCode:2"
    cs = {"name": "app", "state": {"terminated": {"exitCode": 0, "signal": 9}}}
    assert pod_status(pod(statuses=[cs]))[0] == "Signal:9"


def test_container_creating_and_pending_reason() -> None:
    cs = {"name": "app", "state": {"waiting": {"reason": "ContainerCreating"}}}
    assert pod_status(pod(phase="Pending", statuses=[cs]))[0] == "ContainerCreating"
    unsched = pod(
        phase="Pending",
        conditions=[{"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}],
    )
    assert pod_row(unsched).status == "Pending (Unschedulable)"
    assert pod_row(unsched).level is Level.WARN


def test_terminating_wins_unless_terminal() -> None:
    assert pod_status(pod(statuses=[running()], deleting=True))[0] == "Terminating"
    done = {"name": "app", "state": {"terminated": {"reason": "Completed", "exitCode": 0}}}
    assert pod_status(pod(phase="Succeeded", statuses=[done], deleting=True))[0] == "Completed"


def test_init_containers() -> None:
    waiting = {"name": "init", "state": {"waiting": {"reason": "PodInitializing"}}}
    assert pod_status(pod(phase="Pending", init=[waiting], init_specs=["init"]))[0] == "Init:0/1"
    failed = {
        "name": "init",
        "restartCount": 2,
        "state": {"terminated": {"reason": "Error", "exitCode": 1}},
    }
    st = pod_status(pod(phase="Pending", init=[failed], init_specs=["init"]))
    assert st[0] == "Init:Error" and st[3] == 2


def test_not_ready_running_and_completed_with_running_sidecar() -> None:
    assert pod_status(pod(statuses=[running(ready=False)]))[:2] == ("Running", 0)
    assert pod_row(pod(statuses=[running(ready=False)])).level is Level.WARN


def test_evicted_reason() -> None:
    assert pod_status(pod(phase="Failed", reason="Evicted"))[0] == "Evicted"


def test_requests_and_limits_are_summed() -> None:
    row = pod_row(pod(statuses=[running()], containers=("a", "b")))
    assert row.cpu_request_m == 500 and row.cpu_limit_m == 2000
    assert row.mem_limit == 2 * 1024**3


def test_quantities() -> None:
    assert parse_quantity("250m") == 0.25
    assert parse_quantity("1.5Gi") == 1.5 * 1024**3
    assert abs(parse_quantity("123456789n") - 0.123456789) < 1e-12
    assert parse_quantity("2k") == 2000
    assert parse_quantity("bogus") is None
