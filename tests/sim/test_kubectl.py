"""The runbook's kubectl commands, run with the real kubectl against the simulated cluster."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from conftest import Kubectl
from waiting import wait_for

from cockpit.sim.pace import Pace
from cockpit.sim.runner import SimCluster


def table(text: str) -> list[dict[str, str]]:
    """kubectl's column output as dicts (columns are separated by 2+ spaces)."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return []  # "No resources found" goes to stderr
    header = re.split(r"\s{2,}", lines[0].strip())
    return [
        dict(zip(header, re.split(r"\s{2,}", line.strip()), strict=False)) for line in lines[1:]
    ]


def rows(k: Kubectl, *args: str) -> list[dict[str, str]]:
    return table(k(*args).stdout)


def pod_names(k: Kubectl, selector: str) -> set[str]:
    return {r["NAME"] for r in rows(k, "get", "pods", "-l", selector)}


def test_get_pods(kubectl: Kubectl) -> None:
    out = kubectl("get", "pods").stdout
    assert out.splitlines()[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    got = table(out)
    assert len(got) == 15
    by_name = {r["NAME"]: r for r in got}
    assert by_name["postgres-0"]["READY"] == "1/1"
    assert by_name["postgres-0"]["STATUS"] == "Running"
    assert by_name["postgres-0"]["AGE"] == "12d"
    assert {r["STATUS"] for r in got} == {"Running", "Completed"}
    wide = table(kubectl("get", "pods", "-o", "wide").stdout)
    assert {"IP", "NODE", "NOMINATED NODE", "READINESS GATES"} <= set(wide[0])
    assert wide[0]["IP"].startswith("10.244.")


def test_get_pod_by_label(kubectl: Kubectl) -> None:
    got = rows(kubectl, "get", "pod", "-l", "app=postgres")
    assert [(r["NAME"], r["STATUS"]) for r in got] == [("postgres-0", "Running")]


def test_get_and_describe_services(kubectl: Kubectl) -> None:
    got = {r["NAME"]: r for r in rows(kubectl, "get", "svc")}
    assert set(got) == {
        "rails-service",
        "fastapi-service",
        "nginx-service",
        "postgres-service",
        "redis-service",
    }
    nginx = got["nginx-service"]
    assert nginx["TYPE"] == "LoadBalancer" and nginx["EXTERNAL-IP"] == "203.0.113.24"
    assert nginx["PORT(S)"] == "80:31080/TCP,443:31443/TCP"
    assert got["postgres-service"]["PORT(S)"] == "5432/TCP"
    assert got["postgres-service"]["CLUSTER-IP"].startswith("10.100.")
    out = kubectl("describe", "svc", "nginx-service").stdout
    assert "Type:                     LoadBalancer" in out
    endpoints = re.findall(r"^Endpoints:\s+(\S+)", out, re.M)
    assert endpoints and all(len(e.split(",")) == 2 for e in endpoints)
    assert "LoadBalancer Ingress:     203.0.113.24" in out


def test_get_all(kubectl: Kubectl) -> None:
    out = kubectl("get", "all").stdout
    for prefix in (
        "pod/rails-",
        "service/nginx-service",
        "deployment.apps/rails",
        "replicaset.apps/rails-",
        "statefulset.apps/postgres",
        "cronjob.batch/postgres-backup",
        "job.batch/postgres-backup-",
    ):
        assert prefix in out
    assert re.search(r"deployment\.apps/rails\s+3/3\s+3\s+3\s", out)
    assert re.search(r"statefulset\.apps/postgres\s+1/1\s", out)


def test_events_sorted(
    make_sim: Callable[..., SimCluster], make_kubectl: Callable[[SimCluster], Kubectl]
) -> None:
    k = make_kubectl(make_sim("incident"))
    out = k("get", "events", "--sort-by=.lastTimestamp").stdout
    header = re.split(r"\s{2,}", out.splitlines()[0].strip())
    assert header == ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    got = table(out)
    reasons = [r["REASON"] for r in got]
    assert {"BackOff", "Unhealthy", "BackoffLimitExceeded"} <= set(reasons)
    assert any(r["OBJECT"].startswith("pod/rails-") and r["TYPE"] == "Warning" for r in got)
    backoff = next(r for r in got if r["REASON"] == "BackOff")
    assert re.search(r"\(x\d+ over \d+m\)", backoff["LAST SEEN"])
    # sorted: the job's events from last night come before this hour's BackOffs
    assert reasons.index("BackoffLimitExceeded") < reasons.index("BackOff")


def test_top(kubectl: Kubectl) -> None:
    out = kubectl("top", "pods").stdout
    assert out.split("\n")[0].split() == ["NAME", "CPU(cores)", "MEMORY(bytes)"]
    got = {r["NAME"]: r for r in table(out)}
    assert "postgres-0" in got and got["postgres-0"]["CPU(cores)"].endswith("m")
    assert got["postgres-0"]["MEMORY(bytes)"].endswith("Mi")
    nodes = table(kubectl("top", "nodes", namespace=None).stdout)
    assert len(nodes) == 3 and nodes[0]["CPU(%)"].endswith("%")


def test_delete_pod_is_replaced(kubectl: Kubectl) -> None:
    before = pod_names(kubectl, "app=rails")
    victim = sorted(before)[0]
    out = kubectl("delete", "pod", victim).stdout
    assert f'pod "{victim}" deleted' in out
    after = wait_for(
        lambda: (
            len(pod_names(kubectl, "app=rails")) == 3
            and victim not in pod_names(kubectl, "app=rails")
        ),
        what="replacement",
    )
    assert after
    assert len(pod_names(kubectl, "app=rails") - before) == 1


def test_rollout_restart_status_and_undo(kubectl: Kubectl) -> None:
    before = pod_names(kubectl, "app=rails")
    assert (
        "deployment.apps/rails restarted"
        in kubectl("rollout", "restart", "deployment/rails").stdout
    )
    out = kubectl("rollout", "status", "deployment/rails", "--timeout=60s").stdout
    assert 'deployment "rails" successfully rolled out' in out
    wait_for(lambda: len(pod_names(kubectl, "app=rails")) == 3, what="old pods gone")
    assert not pod_names(kubectl, "app=rails") & before
    history = kubectl("rollout", "history", "deployment/rails").stdout
    assert re.findall(r"^(\d+)\s", history, re.M) == ["1", "2", "3", "4"]
    image = "{.spec.template.spec.containers[0].image}"
    assert (
        kubectl("get", "deploy", "rails", "-o", f"jsonpath={image}").stdout
        == "excel-unified/rails:v2.14.1"
    )
    # The restart only changed an annotation: undo goes back to the same image.
    assert (
        "deployment.apps/rails rolled back" in kubectl("rollout", "undo", "deployment/rails").stdout
    )
    kubectl("rollout", "status", "deployment/rails", "--timeout=60s")
    history = kubectl("rollout", "history", "deployment/rails").stdout
    assert re.findall(r"^(\d+)\s", history, re.M) == ["1", "2", "4", "5"]
    # Undo again: back to the restarted template (revision 4 becomes 6).
    kubectl("rollout", "undo", "deployment/rails")
    kubectl("rollout", "status", "deployment/rails", "--timeout=60s")
    annotations = kubectl(
        "get", "deploy", "rails", "-o", "jsonpath={.spec.template.metadata.annotations}"
    ).stdout
    assert "kubectl.kubernetes.io/restartedAt" in annotations
    # And to an older image explicitly.
    kubectl("rollout", "undo", "deployment/rails", "--to-revision=2")
    kubectl("rollout", "status", "deployment/rails", "--timeout=60s")
    assert (
        kubectl("get", "deploy", "rails", "-o", f"jsonpath={image}").stdout
        == "excel-unified/rails:v2.14.0"
    )


def test_rollout_restart_all_deployments(kubectl: Kubectl) -> None:
    out = kubectl("rollout", "restart", "deployment").stdout
    for name in ("rails", "fastapi", "sidekiq", "nginx"):
        assert f"deployment.apps/{name} restarted" in out
    for name in ("rails", "fastapi", "sidekiq", "nginx"):
        done = kubectl("rollout", "status", f"deployment/{name}", "--timeout=60s").stdout
        assert "successfully rolled out" in done
    got = {r["NAME"]: r for r in rows(kubectl, "get", "deploy")}
    assert got["rails"]["READY"] == "3/3" and got["rails"]["UP-TO-DATE"] == "3"


def test_scale_to_zero_and_back(kubectl: Kubectl) -> None:
    assert (
        "deployment.apps/rails scaled"
        in kubectl("scale", "deployment", "rails", "--replicas=0").stdout
    )
    wait_for(lambda: not pod_names(kubectl, "app=rails"), what="no rails pods")
    out = kubectl("scale", "deployment", "rails", "sidekiq", "--replicas=0").stdout
    assert "deployment.apps/sidekiq scaled" in out
    wait_for(lambda: not pod_names(kubectl, "app=sidekiq"), what="no sidekiq pods")
    got = {r["NAME"]: r for r in rows(kubectl, "get", "deploy")}
    assert got["rails"]["READY"] == "0/0" and got["sidekiq"]["READY"] == "0/0"
    kubectl("scale", "deployment", "rails", "--replicas=3")
    kubectl("scale", "deployment", "sidekiq", "--replicas=2")
    kubectl("rollout", "status", "deployment/rails", "--timeout=60s")
    wait_for(lambda: len(pod_names(kubectl, "app=rails")) == 3, what="3 rails pods")


def test_cronjobs_and_jobs(kubectl: Kubectl) -> None:
    out = kubectl("get", "cronjobs").stdout
    assert re.split(r"\s{2,}", out.splitlines()[0].strip()) == [
        "NAME",
        "SCHEDULE",
        "TIMEZONE",
        "SUSPEND",
        "ACTIVE",
        "LAST SCHEDULE",
        "AGE",
    ]
    cj = table(out)[0]
    assert cj["NAME"] == "postgres-backup" and cj["SCHEDULE"] == "0 2 * * *"
    assert cj["SUSPEND"] == "False" and cj["ACTIVE"] == "0"
    out = kubectl("get", "jobs").stdout
    assert re.split(r"\s{2,}", out.splitlines()[0].strip()) == [
        "NAME",
        "STATUS",
        "COMPLETIONS",
        "DURATION",
        "AGE",
    ]
    jobs = table(out)
    assert len(jobs) == 3 and all(j["NAME"].startswith("postgres-backup-") for j in jobs)
    assert {j["STATUS"] for j in jobs} == {"Complete"}
    assert {j["COMPLETIONS"] for j in jobs} == {"1/1"}


def test_create_job_from_cronjob(
    make_sim: Callable[..., SimCluster], make_kubectl: Callable[[SimCluster], Kubectl]
) -> None:
    for scenario, status in (("healthy", "Complete"), ("incident", "Failed")):
        k = make_kubectl(make_sim(scenario))
        out = k("create", "job", "--from=cronjob/postgres-backup", "backup-now").stdout
        assert "job.batch/backup-now created" in out
        got = wait_for(
            lambda k=k: next(
                (
                    j
                    for j in rows(k, "get", "jobs")
                    if j["NAME"] == "backup-now" and j["STATUS"] in ("Complete", "Failed")
                ),
                None,
            ),
            what=f"backup-now {status}",
        )
        assert got["STATUS"] == status
        job = json.loads(k("get", "job", "backup-now", "-o", "json").stdout)
        assert job["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"] == "manual"
        assert job["metadata"]["ownerReferences"][0]["name"] == "postgres-backup"
        container = job["spec"]["template"]["spec"]["containers"][0]
        assert container["image"] == "postgres:15"
        assert container["env"][0]["valueFrom"]["secretKeyRef"]["key"] == "db-password"
        pods = rows(k, "get", "pods", "-l", "job-name=backup-now")
        assert pods and {p["STATUS"] for p in pods} == (
            {"Completed"} if status == "Complete" else {"Error"}
        )


def test_auth_can_i(sim: SimCluster, kubectl: Kubectl) -> None:
    assert kubectl("auth", "can-i", "delete", "pods").stdout.strip() == "yes"
    sim.deny("delete", "pods")
    result = kubectl("auth", "can-i", "delete", "pods", check=False)
    assert result.stdout.strip() == "no" and result.returncode == 1
    assert kubectl("auth", "can-i", "get", "pods").stdout.strip() == "yes"
    result = kubectl("delete", "pod", "redis-0", check=False)
    assert result.returncode != 0
    assert (
        'pods "redis-0" is forbidden: User "cockpit-sim-admin" cannot delete resource '
        '"pods" in API group "" in the namespace "excel-unified"'
    ) in result.stderr
    sim.allow_all()
    assert kubectl("auth", "can-i", "delete", "pods").stdout.strip() == "yes"


def test_incident_pod_statuses(
    make_sim: Callable[..., SimCluster], make_kubectl: Callable[[SimCluster], Kubectl]
) -> None:
    sim = make_sim("incident")
    k = make_kubectl(sim)
    got = {r["NAME"]: r for r in rows(k, "get", "pods")}
    crash = got[sim.broken["crashloop"]]
    assert crash["STATUS"] == "CrashLoopBackOff" and crash["READY"] == "0/1"
    assert re.fullmatch(r"\d+ \(\d+s ago\)|\d+ \(\d+m\d*s? ago\)", crash["RESTARTS"])
    oom = got[sim.broken["oomkill"]]
    assert oom["STATUS"] == "OOMKilled"
    assert {r["STATUS"] for r in got.values() if r["NAME"].startswith("postgres-backup-")} >= {
        "Error",
        "Completed",
    }
    top = {r["NAME"]: r for r in rows(k, "top", "pods")}
    assert int(top["redis-0"]["MEMORY(bytes)"].rstrip("Mi")) > 900


def test_logs_and_exec_routes(kubectl: Kubectl) -> None:
    """`logs` and `exec` belong to cockpit.sim.logs / exec; this checks the wiring."""
    logs = kubectl("logs", "-l", "app=rails", "--since=24h", timeout=120)
    assert logs.stdout.count("\n") > 10
    df = kubectl("exec", "postgres-0", "--", "df", "-h").stdout
    assert "Filesystem" in df and "/var/lib/postgresql/data" in df
    missing = kubectl("logs", "no-such-pod", check=False)
    assert missing.returncode != 0 and 'pods "no-such-pod" not found' in missing.stderr


def test_stuck_rollout_times_out_and_undo_recovers(sim: SimCluster, kubectl: Kubectl) -> None:
    """A template whose pods crash: `rollout status` fails on the progress deadline,
    and `rollout undo` brings the deployment back."""
    sim.set_pace(Pace.fast().with_(progress_deadline_s=1.0))
    kubectl(
        "patch",
        "deployment",
        "fastapi",
        "-p",
        json.dumps(
            {
                "spec": {
                    "template": {
                        "metadata": {"annotations": {"sim.cockpit.dev/behaviour": "crashloop"}}
                    }
                }
            }
        ),
    )
    result = kubectl("rollout", "status", "deployment/fastapi", "--timeout=30s", check=False)
    assert result.returncode != 0
    assert 'deployment "fastapi" exceeded its progress deadline' in result.stderr
    assert any(
        r["STATUS"] == "CrashLoopBackOff" for r in rows(kubectl, "get", "pods", "-l", "app=fastapi")
    )
    kubectl("rollout", "undo", "deployment/fastapi")
    kubectl("rollout", "status", "deployment/fastapi", "--timeout=30s")
    wait_for(
        lambda: (
            {r["STATUS"] for r in rows(kubectl, "get", "pods", "-l", "app=fastapi")} == {"Running"}
        ),
        what="healthy fastapi pods",
    )


def test_injected_log_line(sim: SimCluster, kubectl: Kubectl) -> None:
    sim.inject_log_line("postgres-0", "postgres", "[bold]hostile[/] \x1b[31mline")
    out = kubectl("logs", "postgres-0", "--tail=20").stdout
    assert "[bold]hostile[/]" in out
