"""Pod logs and exec through the whole simulated cluster (`SimCluster`, via the fixtures
in conftest.py): the incident's broken pods as the scenario and the controller make them,
reached with the real python client the cockpit uses and with the real kubectl."""

from __future__ import annotations

import re
import subprocess
import threading
import time
from collections.abc import Callable

import pytest
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException
from kubernetes.stream import stream

from cockpit.sim.pace import Pace
from cockpit.sim.runner import SimCluster

NS = "excel-unified"


@pytest.fixture
def api(incident_sim: SimCluster) -> k8s.CoreV1Api:
    return k8s.CoreV1Api(k8s.ApiClient(incident_sim.client_configuration()))


def pods_of(api: k8s.CoreV1Api, app: str) -> list[str]:
    return [p.metadata.name for p in api.list_namespaced_pod(NS, label_selector=f"app={app}").items]


def run_exec(api: k8s.CoreV1Api, pod: str, *argv: str) -> tuple[int, str, str]:
    ws = stream(
        api.connect_get_namespaced_pod_exec,
        pod,
        NS,
        command=list(argv),
        stderr=True,
        stdin=False,
        stdout=True,
        tty=False,
        _preload_content=False,
    )
    ws.run_forever(timeout=10)
    code = ws.returncode  # first: read_all() would clear the status channel
    return code, ws.read_stdout() or "", ws.read_stderr() or ""


def test_the_crashlooping_rails_pod_tells_why(incident_sim: SimCluster, api: k8s.CoreV1Api) -> None:
    crashing = incident_sim.broken["crashloop"]
    prev = api.read_namespaced_pod_log(crashing, NS, previous=True)
    first = api.read_namespaced_pod_log(crashing, NS, previous=True, timestamps=True)
    assert prev.startswith("=> Booting Puma")
    assert "could not connect to server: Connection refused" in prev
    assert "FATAL" in prev.splitlines()[-1]
    # In CrashLoopBackOff the current logs are those of the run that just died.
    assert "Connection refused" in api.read_namespaced_pod_log(crashing, NS)
    # It keeps crashing: a later run is another run that dies the same way.
    time.sleep(Pace.fast().crashloop_restart_s + 0.3)
    again = api.read_namespaced_pod_log(crashing, NS, previous=True, timestamps=True)
    assert again.split(" ", 1)[0] > first.split(" ", 1)[0] and "Connection refused" in again

    healthy = next(p for p in pods_of(api, "rails") if p != crashing)
    with pytest.raises(ApiException) as err:
        api.read_namespaced_pod_log(healthy, NS, previous=True)
    assert err.value.status == 400
    assert f'previous terminated container \\"rails\\" in pod \\"{healthy}\\" not found' in (
        err.value.body.decode() if isinstance(err.value.body, bytes) else err.value.body
    )
    day = api.read_namespaced_pod_log(healthy, NS, since_seconds=86400)
    assert "Completed 200 OK" in day and re.search(r"ERROR -- : \[", day)


def test_the_oomkilled_fastapi_pod_grows_then_stops(
    incident_sim: SimCluster, api: k8s.CoreV1Api
) -> None:
    prev = api.read_namespaced_pod_log(incident_sim.broken["oomkill"], NS, previous=True)
    shares = [int(x) for x in re.findall(r"GiB limit \((\d+)%\)", prev)]
    assert len(shares) >= 10 and shares == sorted(shares) and shares[-1] >= 95
    assert "2.00 GiB limit" in prev  # the container's 2Gi memory limit
    assert "Shutting down" not in prev


def test_follow_gets_injected_lines_and_ends_when_the_pod_is_deleted(
    incident_sim: SimCluster, api: k8s.CoreV1Api
) -> None:
    pod = pods_of(api, "sidekiq")[0]
    resp = api.read_namespaced_pod_log(pod, NS, follow=True, tail_lines=1, _preload_content=False)
    hostile = "[bold]x[/] \x1b]52;c;aGk=\x07 [@click=app.quit]q[/]"
    threading.Timer(0.3, incident_sim.inject_log_line, (pod, "sidekiq", hostile)).start()
    got = b""
    t0 = time.monotonic()
    for chunk in resp.stream(4096):
        got += chunk
        if hostile.encode() in got:
            break
    assert time.monotonic() - t0 < 1.5
    assert (hostile + "\n").encode() in got
    api.delete_namespaced_pod(pod, NS)
    t1 = time.monotonic()
    for _ in resp.stream(4096):
        pass
    assert time.monotonic() - t1 < 3.0  # grace period (terminate_s), then the stream ends


def test_follow_ends_when_the_cluster_stops(make_sim: Callable[..., SimCluster]) -> None:
    sim = make_sim("healthy")
    api = k8s.CoreV1Api(k8s.ApiClient(sim.client_configuration()))
    resp = api.read_namespaced_pod_log("redis-0", NS, follow=True, _preload_content=False)
    assert resp.read(10)
    t0 = time.monotonic()
    sim.stop()
    assert time.monotonic() - t0 < 2.0
    with pytest.raises(Exception):  # noqa: B017 - the connection ends, however it likes
        for _ in resp.stream(4096):
            pass
        raise EOFError


def test_runbook_disk_and_redis_commands(api: k8s.CoreV1Api) -> None:
    code, df, _ = run_exec(api, "postgres-0", "df", "-h")
    assert code == 0 and re.search(r" 90% /var/lib/postgresql/data$", df, re.M)
    code, _, _ = run_exec(
        api,
        "postgres-0",
        "find",
        "/var/lib/postgresql/data/log",
        "-name",
        "*.log",
        "-mtime",
        "+7",
        "-delete",
    )
    assert code == 0
    df2 = run_exec(api, "postgres-0", "df", "-h", "/var/lib/postgresql/data")[1]
    pct = int(df2.splitlines()[1].split()[4].rstrip("%"))
    assert pct < 85

    rails = pods_of(api, "rails")[0]
    assert run_exec(api, rails, "find", "/app", "-type", "f", "-size", "+100M")[1]
    info = run_exec(api, "redis-0", "redis-cli", "info", "memory")[1]
    fields = dict(x.split(":", 1) for x in info.split("\r\n") if ":" in x)
    assert fields["maxmemory_policy"] == "noeviction"
    assert int(fields["used_memory"]) / int(fields["maxmemory"]) > 0.93
    assert run_exec(
        api, "redis-0", "redis-cli", "CONFIG", "SET", "maxmemory-policy", "allkeys-lru"
    ) == (0, "OK\n", "")
    assert run_exec(api, "redis-0", "redis-cli", "CONFIG", "GET", "maxmemory-policy")[1] == (
        "maxmemory-policy\nallkeys-lru\n"
    )
    listing = run_exec(api, "backup-pod", "ls", "-la", "/backups/")[1]
    assert listing.count(".sql.gz") >= 30
    assert run_exec(api, "backup-pod", "false")[0] == 1


# -- the runbook's commands, with kubectl ----------------------------------------------


def test_kubectl_runbook_logs(incident_sim: SimCluster, make_kubectl) -> None:
    kubectl = make_kubectl(incident_sim)
    crashing = incident_sim.broken["crashloop"]
    prev = kubectl("logs", crashing, "--previous").stdout
    assert "could not connect to server: Connection refused" in prev
    # The runbook's daily check, literally (kubectl shows the last 10 lines of each pod).
    for app, symptom in (("rails", "ConnectionNotEstablished"), ("fastapi", "memory usage")):
        recent = kubectl("logs", "-l", f"app={app}", "--since=24h").stdout.splitlines()
        assert any(symptom in x for x in recent if "error" in x.lower()), app
    t0 = time.monotonic()
    day = kubectl("logs", "-l", "app=rails", "--since=24h", "--tail=-1").stdout
    took = time.monotonic() - t0
    errors = [x for x in day.splitlines() if "error" in x.lower()]
    assert day.count("\n") > 10_000 and errors and took < 5.0
    tail = kubectl("logs", "postgres-0", "--tail=3", "--timestamps").stdout.splitlines()
    assert len(tail) == 3 and all(re.match(r"\d{4}-\d\d-\d\dT[\d:.]+Z ", x) for x in tail)


def test_kubectl_logs_follow_ends_with_the_pod(
    incident_sim: SimCluster, make_kubectl, api: k8s.CoreV1Api
) -> None:
    kubectl = make_kubectl(incident_sim)
    pod = pods_of(api, "nginx")[0]
    binary = __import__("shutil").which("kubectl")
    assert binary, "kubectl is not on PATH"
    proc = subprocess.Popen(
        [binary, "-n", NS, "logs", "-f", pod, "--tail=1"],
        env=kubectl.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        time.sleep(1.0)
        incident_sim.inject_log_line(pod, "nginx", "\x1b[31m[red]\x1b[0m")
        time.sleep(0.5)
        api.delete_namespaced_pod(pod, NS)
        out, err = proc.communicate(timeout=10)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert b"\x1b[31m[red]\x1b[0m\n" in out


def test_kubectl_runbook_exec(incident_sim: SimCluster, make_kubectl) -> None:
    kubectl = make_kubectl(incident_sim)
    df = kubectl("exec", "postgres-0", "--", "df", "-h").stdout
    assert re.search(r" 90% /var/lib/postgresql/data$", df, re.M)
    kubectl(
        "exec",
        "postgres-0",
        "--",
        "find",
        "/var/lib/postgresql/data/log",
        "-name",
        "*.log",
        "-mtime",
        "+7",
        "-delete",
    )
    df = kubectl("exec", "postgres-0", "--", "df", "-h", "/var/lib/postgresql/data").stdout
    assert int(df.splitlines()[1].split()[4].rstrip("%")) < 85
    rails = incident_sim.broken["crashloop"]
    healthy = next(
        p["metadata"]["name"]
        for p in incident_sim.list_objects("pods")
        if p["metadata"]["labels"].get("app") == "rails" and p["metadata"]["name"] != rails
    )
    big = kubectl("exec", healthy, "--", "find", "/app", "-type", "f", "-size", "+100M").stdout
    assert big and all(x.startswith("/app/") for x in big.splitlines())
    kubectl("exec", healthy, "--", "find", "/app/logs", "-name", "*.log", "-mtime", "+7", "-delete")
    assert (
        kubectl("exec", healthy, "--", "find", "/app/logs", "-name", "*.log", "-mtime", "+7").stdout
        == ""
    )
    ls = kubectl("exec", "backup-pod", "--", "ls", "-la", "/backups/").stdout
    assert ls.startswith("total ") and ls.count("backup_") >= 30
    info = kubectl("exec", "redis-0", "--", "redis-cli", "info", "memory").stdout
    assert "maxmemory_policy:noeviction" in info
    failed = kubectl("exec", healthy, "--", "false", check=False)
    assert failed.returncode == 1 and "command terminated with exit code 1" in failed.stderr
    crashed = kubectl("exec", rails, "--", "ls", check=False)
    assert crashed.returncode != 0 and "container not found" in crashed.stderr
