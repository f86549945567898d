"""Pod logs and exec of the simulated cluster, through the real python client and kubectl.

These tests run LogBook and ExecServer behind a minimal API server of their own (just the
routes kubectl needs for `logs` and `exec`), on a background thread, with hand-made pods
whose statuses a test can change (a restart, a deletion) while a stream is open.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import web
from kubernetes import client as k8s
from kubernetes.stream import stream

from cockpit.sim.exec import EXEC_START_S, ExecServer
from cockpit.sim.logs import LogBook
from cockpit.sim.pace import Pace

NS = "excel-unified"
HOSTILE = [
    "[bold]not bold[/]",
    "[@click=app.quit]x[/]",
    "\x1b[31mred\x1b[0m \x1b]0;pwned\x07 \x1b]8;;http://evil/\x1b\\link\x1b]8;;\x1b\\",
    "[/] unbalanced [link=http://x]",
    "x" * 200_000,
]


def rfc3339(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_pod(
    name: str,
    app: str,
    started_ago: float,
    *,
    now: float,
    restarts: int = 0,
    last: dict | None = None,
    behaviour: str | None = None,
    containers: tuple[str, ...] | None = None,
    owner_job: bool = False,
    memory: str = "2Gi",
) -> dict:
    names = containers or (app,)
    started = rfc3339(now - started_ago)
    statuses = []
    for c in names:
        st: dict = {
            "name": c,
            "ready": True,
            "restartCount": restarts,
            "image": f"excel-unified/{app}:1.4.2",
            "state": {"running": {"startedAt": started}},
            "lastState": {"terminated": last} if last else {},
        }
        statuses.append(st)
    meta: dict = {
        "name": name,
        "namespace": NS,
        "uid": f"uid-{name}",
        "creationTimestamp": rfc3339(now - started_ago - 30),
        "labels": {"app": app},
        "annotations": {"sim.cockpit.dev/behaviour": behaviour} if behaviour else {},
    }
    if owner_job:
        meta["ownerReferences"] = [
            {"kind": "Job", "name": "postgres-backup-1", "uid": "j", "apiVersion": "batch/v1"}
        ]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": {
            "containers": [
                {
                    "name": c,
                    "image": f"excel-unified/{app}:1.4.2",
                    "resources": {"limits": {"memory": memory}},
                }
                for c in names
            ]
        },
        "status": {"phase": "Running", "containerStatuses": statuses},
    }


class MiniCluster:
    """The smallest API server kubectl accepts for `get pod`, `logs` and `exec`."""

    def __init__(self, scenario: str, pace: Pace) -> None:
        self.logbook = LogBook(scenario, pace, seed=7)
        self.execs = ExecServer(scenario, seed=7)
        self.pods: dict[str, dict] = {}
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self.thread = threading.Thread(target=self._main, daemon=True)

    # -- server ------------------------------------------------------------------------

    def _app(self) -> web.Application:
        app = web.Application()
        r = app.router

        def fixed(doc: dict):
            async def handler(_req: web.Request) -> web.Response:
                return web.json_response(doc)

            return handler

        r.add_get(
            "/version",
            fixed(
                {"major": "1", "minor": "32", "gitVersion": "v1.32.0", "platform": "linux/amd64"}
            ),
        )
        r.add_get("/api", fixed({"kind": "APIVersions", "versions": ["v1"]}))
        r.add_get("/apis", fixed({"kind": "APIGroupList", "apiVersion": "v1", "groups": []}))
        r.add_get(
            "/api/v1",
            fixed(
                {
                    "kind": "APIResourceList",
                    "groupVersion": "v1",
                    "resources": [
                        {
                            "name": "pods",
                            "singularName": "pod",
                            "namespaced": True,
                            "kind": "Pod",
                            "verbs": ["get", "list", "delete"],
                            "shortNames": ["po"],
                        },
                        {
                            "name": "pods/log",
                            "singularName": "",
                            "namespaced": True,
                            "kind": "Pod",
                            "verbs": ["get"],
                        },
                        {
                            "name": "pods/exec",
                            "singularName": "",
                            "namespaced": True,
                            "kind": "PodExecOptions",
                            "verbs": ["create", "get"],
                        },
                    ],
                }
            ),
        )
        r.add_get("/api/v1/namespaces/{ns}/pods", self._list)
        r.add_get("/api/v1/namespaces/{ns}/pods/{name}", self._get)
        r.add_get("/api/v1/namespaces/{ns}/pods/{name}/log", self._log)
        r.add_route("*", "/api/v1/namespaces/{ns}/pods/{name}/exec", self._exec)
        app.on_shutdown.append(lambda _app: self._on_shutdown())
        return app

    async def _on_shutdown(self) -> None:
        self.logbook.close()

    def _getter(self, name: str):
        return lambda: self.pods.get(name)

    async def _list(self, req: web.Request) -> web.Response:
        sel = req.query.get("labelSelector", "")
        want = dict(kv.split("=", 1) for kv in sel.split(",") if "=" in kv)
        items = [
            p
            for p in self.pods.values()
            if all(p["metadata"]["labels"].get(k) == v for k, v in want.items())
        ]
        return web.json_response(
            {
                "kind": "PodList",
                "apiVersion": "v1",
                "metadata": {"resourceVersion": "1"},
                "items": items,
            }
        )

    async def _get(self, req: web.Request) -> web.Response:
        pod = self.pods.get(req.match_info["name"])
        if pod is None:
            name = req.match_info["name"]
            return web.json_response(
                {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "metadata": {},
                    "status": "Failure",
                    "message": f'pods "{name}" not found',
                    "reason": "NotFound",
                    "details": {"name": name, "kind": "pods"},
                    "code": 404,
                },
                status=404,
            )
        return web.json_response(pod)

    async def _log(self, req: web.Request) -> web.StreamResponse:
        name = req.match_info["name"]
        return await self.logbook.serve(req, req.match_info["ns"], name, self._getter(name))

    async def _exec(self, req: web.Request) -> web.StreamResponse:
        name = req.match_info["name"]
        return await self.execs.serve(req, req.match_info["ns"], name, self._getter(name))

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        runner = web.AppRunner(self._app(), shutdown_timeout=5.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.port = runner.addresses[0][1]
        self._ready.set()
        await self._stop.wait()
        await runner.cleanup()

    def start(self) -> MiniCluster:
        self.thread.start()
        assert self._ready.wait(10)
        return self

    def stop(self) -> float:
        """Stop the server; returns how long the shutdown took."""
        t0 = time.monotonic()
        assert self._stop is not None
        self.loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(30)
        return time.monotonic() - t0

    # -- clients -----------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def api(self) -> k8s.CoreV1Api:
        cfg = k8s.Configuration(host=self.url)
        return k8s.CoreV1Api(k8s.ApiClient(cfg))

    def kubeconfig(self, directory: Path) -> Path:
        path = directory / "kubeconfig"
        path.write_text(
            json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "current-context": "sim",
                    "clusters": [{"name": "sim", "cluster": {"server": self.url}}],
                    "users": [{"name": "sim", "user": {}}],
                    "contexts": [
                        {
                            "name": "sim",
                            "context": {"cluster": "sim", "user": "sim", "namespace": NS},
                        }
                    ],
                }
            )
        )
        return path


def seed_pods(mc: MiniCluster, scenario: str) -> None:
    now = time.time()
    p = Pace.fast()
    add = mc.pods.__setitem__
    for i in range(3):
        name = f"rails-7d9f8b6c5-{'abc'[i]}x{i}q"
        if scenario == "incident" and i == 0:
            last = {
                "reason": "Error",
                "exitCode": 1,
                "startedAt": rfc3339(now - 5),
                "finishedAt": rfc3339(now - 2),
            }
            add(
                name,
                make_pod(
                    name, "rails", 0.2, now=now, restarts=14, behaviour="crashloop", last=last
                ),
            )
        else:
            add(name, make_pod(name, "rails", 4 * 3600 + i * 60, now=now))
    add(
        "fastapi-5c6d7e8f9-k2m4n",
        make_pod(
            "fastapi-5c6d7e8f9-k2m4n",
            "fastapi",
            1800,
            now=now,
            restarts=1,
            behaviour="oomkill",
            last={
                "reason": "OOMKilled",
                "exitCode": 137,
                "startedAt": rfc3339(now - 9000),
                "finishedAt": rfc3339(now - 1801),
            },
        ),
    )
    add("sidekiq-6f7a8b9c0-p3q5r", make_pod("sidekiq-6f7a8b9c0-p3q5r", "sidekiq", 7200, now=now))
    add("nginx-8b9c0d1e2-s6t8u", make_pod("nginx-8b9c0d1e2-s6t8u", "nginx", 7200, now=now))
    add("postgres-0", make_pod("postgres-0", "postgres", 3 * 86400, now=now))
    redis = make_pod("redis-0", "redis", 3 * 86400, now=now, memory="1Gi")
    redis["spec"]["containers"][0]["args"] = [
        "redis-server",
        "--maxmemory",
        "768mb",
        "--maxmemory-policy",
        "noeviction",
    ]
    add("redis-0", redis)
    add("backup-pod", make_pod("backup-pod", "backup", 86400, now=now))
    add("multi", make_pod("multi", "nginx", 600, now=now, containers=("nginx", "exporter")))
    job = make_pod("postgres-backup-29012345-x7k2p", "backup", 100, now=now, owner_job=True)
    job["status"]["phase"] = "Failed"
    job["status"]["containerStatuses"][0]["state"] = {
        "terminated": {
            "reason": "Error",
            "exitCode": 1,
            "startedAt": rfc3339(now - 100),
            "finishedAt": rfc3339(now - 100 + p.job_duration_s),
        }
    }
    add(job["metadata"]["name"], job)


@pytest.fixture
def mini() -> Iterator[MiniCluster]:
    mc = MiniCluster("incident", Pace.fast()).start()
    seed_pods(mc, "incident")
    yield mc
    mc.stop()


@pytest.fixture
def kubectl(mini: MiniCluster, tmp_path: Path):
    exe = shutil.which("kubectl")
    if exe is None:
        pytest.fail("kubectl is not on PATH")
    cfg = mini.kubeconfig(tmp_path)
    env = {**os.environ, "KUBECONFIG": str(cfg)}

    def run(
        *args: str, timeout: float = 30, check: bool = True, stdin: bytes | None = None
    ) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            [exe, *args], env=env, capture_output=True, timeout=timeout, input=stdin
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"kubectl {' '.join(args)} -> {proc.returncode}\n"
                f"{proc.stderr.decode(errors='replace')}"
            )
        return proc

    return run


RAILS = "rails-7d9f8b6c5-bx1q"
CRASHING = "rails-7d9f8b6c5-ax0q"
OOM = "fastapi-5c6d7e8f9-k2m4n"
TS = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z"


def http_get(mini: MiniCluster, path: str) -> tuple[int, str, bytes]:
    import urllib.request

    try:
        with urllib.request.urlopen(mini.url + path, timeout=10) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read()


def run_exec(
    mini: MiniCluster, pod: str, *argv: str, stdin: str | None = None, container: str | None = None
) -> tuple[int, str, str]:
    """(returncode, stdout, stderr) through the python client's WebSocket exec."""
    kwargs = {"container": container} if container else {}
    ws = stream(
        mini.api().connect_get_namespaced_pod_exec,
        pod,
        NS,
        command=list(argv),
        stderr=True,
        stdin=stdin is not None,
        stdout=True,
        tty=False,
        _preload_content=False,
        **kwargs,
    )
    if stdin is not None:
        ws.write_stdin(stdin)
        ws.close_channel(0)
    ws.run_forever(timeout=10)
    code = ws.returncode  # before read_all(), which would clear the status channel
    return code, ws.read_stdout() or "", ws.read_stderr() or ""


def df_use(df_out: str, mount: str) -> tuple[int, int]:
    """(used 1K-blocks, use %) of a mount in `df` output."""
    for line in df_out.splitlines()[1:]:
        cells = line.split()
        if cells[-1] == mount:
            return int(cells[2]), int(cells[4].rstrip("%"))
    raise AssertionError(f"{mount} not in df output:\n{df_out}")


# -- logs through the python client ------------------------------------------------------


def test_logs_are_text_plain_and_generated_per_app(mini: MiniCluster) -> None:
    status, ctype, body = http_get(mini, f"/api/v1/namespaces/{NS}/pods/{RAILS}/log?tailLines=40")
    assert status == 200 and ctype == "text/plain"
    text = body.decode()
    assert "INFO -- : [" in text and 'Started GET "' in text and "Completed " in text
    api = mini.api()
    assert 'HTTP/1.1" ' in api.read_namespaced_pod_log(OOM, NS, tail_lines=30)
    assert "pid=1 tid=" in api.read_namespaced_pod_log("sidekiq-6f7a8b9c0-p3q5r", NS, tail_lines=10)
    assert " UTC [" in api.read_namespaced_pod_log("postgres-0", NS, tail_lines=5)
    assert ":M " in api.read_namespaced_pod_log("redis-0", NS, tail_lines=5)
    assert '"GET ' in api.read_namespaced_pod_log("nginx-8b9c0d1e2-s6t8u", NS, tail_lines=20)


def test_tail_since_and_timestamps(mini: MiniCluster) -> None:
    import re

    api = mini.api()
    out = api.read_namespaced_pod_log(RAILS, NS, tail_lines=7, timestamps=True)
    lines = out.splitlines()
    assert len(lines) == 7
    stamps = [re.match(TS, x) for x in lines]
    assert all(stamps), lines
    times = [datetime.fromisoformat(m.group(0).replace("Z", "+00:00")) for m in stamps]
    assert times == sorted(times)
    assert api.read_namespaced_pod_log(RAILS, NS, tail_lines=0) == ""

    now = time.time()
    recent = api.read_namespaced_pod_log(RAILS, NS, since_seconds=20, timestamps=True)
    first = datetime.fromisoformat(recent.split(" ", 1)[0].replace("Z", "+00:00"))
    assert first.timestamp() >= now - 21
    assert 0 < len(recent.splitlines()) < 5 * 25  # about log_lines_per_s * 20, not a day

    since = rfc3339(now - 60)
    status, _, body = http_get(
        mini, f"/api/v1/namespaces/{NS}/pods/{RAILS}/log?sinceTime={since}&timestamps=true"
    )
    assert status == 200
    assert body.split(b" ", 1)[0].decode() >= since[:-1]


def test_logs_are_deterministic(mini: MiniCluster) -> None:
    api = mini.api()
    t = time.time() - 30
    path = f"/api/v1/namespaces/{NS}/pods/{RAILS}/log?sinceTime={rfc3339(t - 300)}&timestamps=true"
    one = http_get(mini, path)[2].decode().splitlines()
    two = http_get(mini, path)[2].decode().splitlines()
    cut = rfc3339(t)[:-1]
    assert [x for x in one if x < cut] == [x for x in two if x < cut] != []
    # A second simulator with the same seed writes the same history.
    other = MiniCluster("incident", Pace.fast())
    other.logbook.boot = mini.logbook.boot
    other.pods = mini.pods
    other.start()
    try:
        three = http_get(other, path)[2].decode().splitlines()
    finally:
        other.stop()
    assert [x for x in three if x < cut] == [x for x in one if x < cut]
    assert api.read_namespaced_pod_log(RAILS, NS, limit_bytes=100).encode().__len__() == 100


def test_crashloop_previous_shows_the_fatal_error(mini: MiniCluster) -> None:
    api = mini.api()
    prev = api.read_namespaced_pod_log(CRASHING, NS, previous=True)
    assert prev.startswith("=> Booting Puma")
    assert "could not connect to server: Connection refused" in prev
    assert prev.rstrip().splitlines()[-1].startswith("F, [")  # the run ends in the fatal error
    assert "ERROR -- :" in prev
    # The current run boots, then dies the same way a third of a restart period in.
    time.sleep(0.4)
    cur = api.read_namespaced_pod_log(CRASHING, NS)
    assert "=> Booting Puma" in cur and "Connection refused" in cur


def test_oomkilled_previous_shows_memory_growing_then_nothing(mini: MiniCluster) -> None:
    import re

    prev = mini.api().read_namespaced_pod_log(OOM, NS, previous=True)
    shares = [int(m.group(1)) for m in re.finditer(r"GiB limit \((\d+)%\)", prev)]
    assert len(shares) >= 10 and shares == sorted(shares) and shares[-1] >= 95
    last = prev.rstrip().splitlines()[-1]
    assert "shutdown" not in last.lower() and "Finished server process" not in prev
    cur = mini.api().read_namespaced_pod_log(OOM, NS)
    assert "Started server process" in cur and "GiB limit" not in cur


def test_log_errors_are_kubernetes_status_bodies(mini: MiniCluster) -> None:
    cases = {
        f"/api/v1/namespaces/{NS}/pods/nope/log": (404, 'pods "nope" not found'),
        f"/api/v1/namespaces/{NS}/pods/postgres-0/log?previous=true": (
            400,
            'previous terminated container "postgres" in pod "postgres-0" not found',
        ),
        f"/api/v1/namespaces/{NS}/pods/multi/log": (
            400,
            "a container name must be specified for pod multi, choose one of: [nginx exporter]",
        ),
        f"/api/v1/namespaces/{NS}/pods/multi/log?container=sidecar": (
            400,
            "container sidecar is not valid for pod multi",
        ),
    }
    for path, (code, message) in cases.items():
        status, ctype, body = http_get(mini, path)
        doc = json.loads(body)
        assert status == code and ctype.startswith("application/json"), path
        assert doc["kind"] == "Status" and doc["apiVersion"] == "v1"
        assert doc["status"] == "Failure" and doc["code"] == code
        assert doc["message"] == message
        assert doc["reason"] == ("NotFound" if code == 404 else "BadRequest")
    assert mini.api().read_namespaced_pod_log("multi", NS, container="exporter", tail_lines=1)


def test_injected_hostile_text_arrives_byte_exact(mini: MiniCluster) -> None:
    # backup-pod writes nothing after its boot line, so the tail is exactly what we sent.
    for text in HOSTILE:
        mini.logbook.inject(NS, "backup-pod", "backup", text)
    api = mini.api()
    resp = api.read_namespaced_pod_log(
        "backup-pod", NS, tail_lines=len(HOSTILE), _preload_content=False
    )
    assert resp.data == "".join(t + "\n" for t in HOSTILE).encode()
    ts = api.read_namespaced_pod_log("backup-pod", NS, tail_lines=1, timestamps=True)
    assert ts.endswith(" " + HOSTILE[-1] + "\n")
    everything = api.read_namespaced_pod_log("backup-pod", NS)
    assert everything.splitlines()[1:] == HOSTILE


def test_follow_streams_new_and_injected_lines_then_ends_with_the_pod(mini: MiniCluster) -> None:
    resp = mini.api().read_namespaced_pod_log(
        "postgres-0", NS, follow=True, tail_lines=1, _preload_content=False
    )
    marker = "[bold]followed[/] \x1b[2J"
    got = b""
    t0 = time.monotonic()
    threading.Timer(0.3, mini.logbook.inject, (NS, "postgres-0", "postgres", marker)).start()
    for chunk in resp.stream(4096):
        got += chunk
        if marker.encode() in got:
            break
    assert time.monotonic() - t0 < 1.5
    assert (marker + "\n").encode() in got
    threading.Timer(0.2, mini.pods.pop, ("postgres-0",)).start()
    t1 = time.monotonic()
    for chunk in resp.stream(4096):  # drains, then the server ends the response
        got += chunk
    assert time.monotonic() - t1 < 1.5
    resp.release_conn()


def test_follow_ends_when_the_container_restarts(mini: MiniCluster) -> None:
    resp = mini.api().read_namespaced_pod_log(
        RAILS, NS, follow=True, tail_lines=0, _preload_content=False
    )
    pod = mini.pods[RAILS]
    st = pod["status"]["containerStatuses"][0]

    def restart() -> None:
        started = st["state"]["running"]["startedAt"]
        st["lastState"] = {
            "terminated": {
                "reason": "Error",
                "exitCode": 1,
                "startedAt": started,
                "finishedAt": rfc3339(time.time()),
            }
        }
        st["state"] = {"running": {"startedAt": rfc3339(time.time() + 1)}}
        st["restartCount"] += 1

    threading.Timer(0.3, restart).start()
    t0 = time.monotonic()
    for _ in resp.stream(4096):
        pass
    assert time.monotonic() - t0 < 1.5


def test_follow_ends_promptly_when_the_server_shuts_down() -> None:
    mc = MiniCluster("healthy", Pace.fast()).start()
    seed_pods(mc, "healthy")
    resp = mc.api().read_namespaced_pod_log("redis-0", NS, follow=True, _preload_content=False)
    assert resp.read(10)
    took = mc.stop()
    assert took < 1.0
    rest = b""
    with pytest.raises(Exception):  # noqa: B017 - the connection just ends, any way it likes
        for chunk in resp.stream(4096):
            rest += chunk
        raise EOFError


def test_a_day_of_history_is_tapered_and_fast() -> None:
    pace = Pace.demo()
    mc = MiniCluster("incident", pace).start()
    try:
        now = time.time()
        mc.pods["old"] = make_pod("old", "rails", 30 * 3600, now=now)
        t0 = time.monotonic()
        status, _, body = http_get(mc, f"/api/v1/namespaces/{NS}/pods/old/log?sinceSeconds=86400")
        took = time.monotonic() - t0
    finally:
        mc.stop()
    lines = body.count(b"\n")
    # Full rate over the last full_rate hours, tapered before: far below 24 h * rate.
    assert status == 200
    assert 10_000 < lines < pace.log_lines_per_s * 86400 / 3
    assert took < 3.0, took


# -- logs through kubectl ----------------------------------------------------------------


def test_kubectl_logs(mini: MiniCluster, kubectl) -> None:
    out = kubectl("logs", "-n", NS, RAILS, "--tail=5").stdout.decode()
    assert len(out.splitlines()) == 5
    prev = kubectl("logs", "-n", NS, CRASHING, "--previous").stdout.decode()
    assert "could not connect to server: Connection refused" in prev
    day = kubectl("logs", "-n", NS, RAILS, "--since=24h").stdout.decode()
    assert "=> Booting Puma" in day and day.count("\n") > 1000
    stamped = kubectl("logs", "-n", NS, "postgres-0", "--timestamps", "--tail=2").stdout
    assert all(__import__("re").match(TS + " ", x) for x in stamped.decode().splitlines())
    c = kubectl("logs", "-n", NS, "multi", "-c", "exporter", "--tail=1").stdout.decode()
    assert len(c.splitlines()) == 1
    bad = kubectl("logs", "-n", NS, "postgres-0", "--previous", check=False)
    assert bad.returncode == 1
    assert b'previous terminated container "postgres" in pod "postgres-0" not found' in bad.stderr


def test_kubectl_logs_by_label_for_a_day_with_grep(mini: MiniCluster, kubectl) -> None:
    t0 = time.monotonic()
    out = kubectl("logs", "-n", NS, "-l", "app=rails", "--since=24h", "--tail=-1").stdout
    took = time.monotonic() - t0
    text = out.decode()
    errors = [x for x in text.splitlines() if "error" in x.lower()]
    assert len(errors) > 10 and any("ERROR -- :" in x for x in errors)
    assert took < 5.0
    # Without --tail kubectl asks for the last 10 lines of each pod, as with a real cluster.
    short = kubectl("logs", "-n", NS, "-l", "app=rails", "--since=24h").stdout.decode()
    assert len(short.splitlines()) <= 30


# -- exec through the python client ------------------------------------------------------


def test_exec_df_and_cleaning_old_postgres_logs(mini: MiniCluster) -> None:
    code, out, _ = run_exec(mini, "postgres-0", "df", "-h")
    assert code == 0 and out.startswith("Filesystem      Size  Used Avail Use% Mounted on")
    assert " 90% /var/lib/postgresql/data" in out
    _, before, _ = run_exec(mini, "postgres-0", "df", "/var/lib/postgresql/data")
    used0, pct0 = df_use(before, "/var/lib/postgresql/data")
    code, old, _ = run_exec(
        mini, "postgres-0", "find", "/var/lib/postgresql/data/log", "-name", "*.log", "-mtime", "+7"
    )
    assert code == 0 and len(old.splitlines()) > 20
    code, out, err = run_exec(
        mini,
        "postgres-0",
        "find",
        "/var/lib/postgresql/data/log",
        "-name",
        "*.log",
        "-mtime",
        "+7",
        "-delete",
    )
    assert (code, out, err) == (0, "", "")
    _, after, _ = run_exec(mini, "postgres-0", "df", "/var/lib/postgresql/data")
    used1, pct1 = df_use(after, "/var/lib/postgresql/data")
    assert used1 < used0 - 2 * 1024 * 1024 and pct1 < 85 <= pct0
    assert (
        run_exec(mini, "postgres-0", "find", "/var/lib/postgresql/data/log", "-mtime", "+7")[1]
        == ""
    )
    assert run_exec(mini, "postgres-0", "ls", "/var/lib/postgresql/data/log")[1].count(".log") >= 7


def test_exec_runbook_disk_chores_on_an_app_pod(mini: MiniCluster) -> None:
    code, big, _ = run_exec(mini, RAILS, "find", "/app", "-type", "f", "-size", "+100M")
    assert code == 0 and big
    for path in big.splitlines():
        _, listing, _ = run_exec(mini, RAILS, "ls", "-la", path)
        assert int(listing.split()[4]) > 100 * 1024 * 1024
    _, old_logs, _ = run_exec(mini, RAILS, "find", "/app/logs", "-name", "*.log", "-mtime", "+7")
    assert old_logs
    _, before, _ = run_exec(mini, RAILS, "df", "/")
    assert (
        run_exec(mini, RAILS, "find", "/app/logs", "-name", "*.log", "-mtime", "+7", "-delete")[0]
        == 0
    )
    assert run_exec(mini, RAILS, "find", "/app/uploads", "-mtime", "+30", "-delete") == (0, "", "")
    _, after, _ = run_exec(mini, RAILS, "df", "/")
    assert df_use(after, "/")[0] < df_use(before, "/")[0]
    assert run_exec(mini, RAILS, "find", "/app/uploads", "-type", "f", "-mtime", "+30")[1] == ""
    assert "production.log" in run_exec(mini, RAILS, "ls", "/app/logs")[1]
    code, du, _ = run_exec(mini, RAILS, "du", "-sh", "/app/logs")
    assert code == 0 and du.endswith("\t/app/logs\n")


def test_exec_backups_redis_and_exit_codes(mini: MiniCluster) -> None:
    import re

    code, listing, _ = run_exec(mini, "backup-pod", "ls", "-la", "/backups/")
    dumps = re.findall(r"backup_(\d{8})_020000\.sql\.gz", listing)
    assert code == 0 and listing.startswith("total ") and 33 <= len(dumps) <= 37
    assert (
        run_exec(
            mini,
            "backup-pod",
            "find",
            "/backups",
            "-name",
            "backup_*.sql.gz",
            "-mtime",
            "+30",
            "-delete",
        )[0]
        == 0
    )
    left = re.findall(r"backup_\d{8}", run_exec(mini, "backup-pod", "ls", "/backups")[1])
    assert 28 <= len(left) <= 31

    _, info, _ = run_exec(mini, "redis-0", "redis-cli", "info", "memory")
    fields = dict(x.split(":", 1) for x in info.split("\r\n") if ":" in x)
    assert int(fields["maxmemory"]) == 768 * 1024 * 1024  # from the pod's --maxmemory
    assert int(fields["used_memory"]) / int(fields["maxmemory"]) > 0.93
    assert run_exec(mini, "redis-0", "redis-cli", "CONFIG", "GET", "maxmemory-policy") == (
        0,
        "maxmemory-policy\nnoeviction\n",
        "",
    )
    assert (
        run_exec(mini, "redis-0", "redis-cli", "CONFIG", "SET", "maxmemory-policy", "allkeys-lru")[
            1
        ]
        == "OK\n"
    )
    assert run_exec(mini, "redis-0", "redis-cli", "CONFIG", "GET", "maxmemory-policy")[1].endswith(
        "allkeys-lru\n"
    )
    assert int(run_exec(mini, "redis-0", "redis-cli", "DBSIZE")[1]) > 0

    assert run_exec(mini, RAILS, "true")[0] == 0
    assert run_exec(mini, RAILS, "false")[0] == 1
    assert run_exec(mini, RAILS, "sh", "-c", "echo out; echo err >&2; exit 3; echo no") == (
        3,
        "out\n",
        "err\n",
    )
    assert run_exec(mini, RAILS, "sh", "-c", "echo hi && false || echo there") == (
        0,
        "hi\nthere\n",
        "",
    )
    code, _, err = run_exec(mini, RAILS, "frobnicate", "--now")
    assert code == 127 and err == "sh: 1: frobnicate: not found\n"
    code, _, err = run_exec(mini, "postgres-0", "psql", "-U", "excel_user", "-c", "SELECT 1")
    assert code == 127 and "not available in the simulated cluster" in err
    assert run_exec(mini, "postgres-0", "cat", stdin="piped\n") == (0, "piped\n", "")
    t0 = time.monotonic()
    assert run_exec(mini, "postgres-0", "sh", "-c", "sleep 0.3; echo woke") == (0, "woke\n", "")
    assert time.monotonic() - t0 >= 0.3
    assert run_exec(mini, "postgres-0", "cat", "/var/lib/postgresql/data/PG_VERSION")[1] == "15\n"


def test_exec_errors_and_other_framings(mini: MiniCluster) -> None:
    from kubernetes.client.exceptions import ApiException

    with pytest.raises(ApiException) as err:
        run_exec(mini, "nope", "ls")
    assert 'pods \\"nope\\" not found' in str(err.value) or 'pods "nope" not found' in str(
        err.value
    )
    status, _, body = http_get(mini, f"/api/v1/namespaces/{NS}/pods/multi/exec?command=ls")
    assert status == 400 and "choose one of: [nginx exporter]" in json.loads(body)["message"]
    assert run_exec(mini, "multi", "hostname", container="exporter") == (0, "multi\n", "")

    async def raw(protocol: str) -> list:
        import aiohttp

        url = (
            f"{mini.url}/api/v1/namespaces/{NS}/pods/redis-0/exec?command=sh&command=-c"
            "&command=echo%20hi%3B%20exit%205&stdout=true&stderr=true"
        )
        async with aiohttp.ClientSession() as s, s.ws_connect(url, protocols=(protocol,)) as ws:
            assert ws.protocol == protocol
            return [m.data async for m in ws]

    v4 = asyncio.run(raw("v4.channel.k8s.io"))
    assert v4[0] == b"\x01hi\n"
    status = json.loads(v4[-1][1:])
    assert status["reason"] == "NonZeroExitCode"
    assert status["details"]["causes"] == [{"reason": "ExitCode", "message": "5"}]
    b64 = asyncio.run(raw("base64.channel.k8s.io"))
    assert b64[0] == "1aGkK"  # channel "1", base64("hi\n")


def test_exec_output_comes_after_the_process_would_have_started(mini: MiniCluster) -> None:
    """kubectl drops a frame that arrives before it has registered its streams."""
    import aiohttp

    async def first_frame_after() -> tuple[float, bytes]:
        url = (
            f"{mini.url}/api/v1/namespaces/{NS}/pods/redis-0/exec?command=echo"
            "&command=hi&stdout=true&stderr=true"
        )
        async with (
            aiohttp.ClientSession() as s,
            s.ws_connect(url, protocols=("v5.channel.k8s.io",)) as ws,
        ):
            upgraded = time.monotonic()
            msg = await ws.receive()
            return time.monotonic() - upgraded, msg.data

    waited, data = asyncio.run(first_frame_after())
    assert data == b"\x01hi\n"
    assert waited >= EXEC_START_S * 0.9, waited


# -- exec through kubectl ----------------------------------------------------------------


def test_kubectl_exec_runbook_commands(mini: MiniCluster, kubectl) -> None:
    out = kubectl("exec", "-n", NS, "postgres-0", "--", "df", "-h").stdout.decode()
    assert "/var/lib/postgresql/data" in out and " 90% " in out
    big = kubectl(
        "exec", "-n", NS, RAILS, "--", "find", "/app", "-type", "f", "-size", "+100M"
    ).stdout.decode()
    assert big and all(p.startswith("/app/") for p in big.splitlines())
    before = kubectl("exec", "-n", NS, RAILS, "--", "df", "/").stdout.decode()
    kubectl(
        "exec",
        "-n",
        NS,
        RAILS,
        "--",
        "find",
        "/app/logs",
        "-name",
        "*.log",
        "-mtime",
        "+7",
        "-delete",
    )
    after = kubectl("exec", "-n", NS, RAILS, "--", "df", "/").stdout.decode()
    assert df_use(after, "/")[0] < df_use(before, "/")[0]
    ls = kubectl("exec", "-n", NS, "backup-pod", "--", "ls", "-la", "/backups/").stdout.decode()
    assert ls.count(".sql.gz") >= 33
    info = kubectl("exec", "-n", NS, "redis-0", "--", "redis-cli", "info", "memory").stdout
    assert b"maxmemory_policy:noeviction" in info
    assert kubectl("exec", "-n", NS, RAILS, "--", "false", check=False).returncode == 1
    failed = kubectl("exec", "-n", NS, RAILS, "--", "sh", "-c", "exit 42", check=False)
    assert failed.returncode == 42
    assert b"command terminated with exit code 42" in failed.stderr
    piped = kubectl("exec", "-i", "-n", NS, "postgres-0", "--", "cat", stdin=b"from stdin\n")
    assert piped.stdout == b"from stdin\n"
    done = kubectl("exec", "-n", NS, "postgres-backup-29012345-x7k2p", "--", "ls", check=False)
    assert b"cannot exec into a container in a completed pod" in done.stderr


def test_exec_with_a_tty_merges_stderr_and_uses_crlf(mini: MiniCluster) -> None:
    ws = stream(
        mini.api().connect_get_namespaced_pod_exec,
        "redis-0",
        NS,
        command=["sh", "-c", "redis-cli DBSIZE; echo oops >&2"],
        stderr=True,
        stdin=False,
        stdout=True,
        tty=True,
        _preload_content=False,
    )
    ws.run_forever(timeout=10)
    assert ws.returncode == 0
    out = ws.read_stdout()
    assert out.startswith("(integer) ") and out.endswith("\r\noops\r\n")


def test_exec_without_websocket_gets_a_status(mini: MiniCluster) -> None:
    import urllib.request

    req = urllib.request.Request(
        f"{mini.url}/api/v1/namespaces/{NS}/pods/postgres-0/exec?command=ls&stdout=true",
        method="POST",
        headers={"Upgrade": "SPDY/3.1", "Connection": "Upgrade"},
    )
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=5)
    doc = json.loads(err.value.read())
    assert err.value.code == 400 and doc["kind"] == "Status"
    assert "WebSocket" in doc["message"]


def test_exec_sends_only_the_streams_asked_for(mini: MiniCluster) -> None:
    async def raw(query: str) -> list:
        import aiohttp

        url = (
            f"{mini.url}/api/v1/namespaces/{NS}/pods/redis-0/exec?command=sh&command=-c"
            f"&command=echo%20out%3B%20echo%20err%20%3E%262&{query}"
        )
        async with (
            aiohttp.ClientSession() as s,
            s.ws_connect(url, protocols=("v4.channel.k8s.io",)) as ws,
        ):
            return [m.data[:1] async for m in ws]

    assert asyncio.run(raw("stdout=true&stderr=false")) == [b"\x01", b"\x03"]
    assert asyncio.run(raw("stdout=false&stderr=true")) == [b"\x02", b"\x03"]


def test_follow_stops_when_the_client_leaves(mini: MiniCluster) -> None:
    import socket

    sock = socket.create_connection(("127.0.0.1", mini.port))
    sock.sendall(
        f"GET /api/v1/namespaces/{NS}/pods/postgres-0/log?follow=true&tailLines=1 "
        "HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    )
    assert b"200 OK" in sock.recv(4096)
    deadline = time.monotonic() + 2
    while mini.logbook.followers != 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert mini.logbook.followers == 1
    sock.close()
    deadline = time.monotonic() + 2
    while mini.logbook.followers and time.monotonic() < deadline:
        time.sleep(0.02)
    assert mini.logbook.followers == 0


def test_injected_lines_are_bounded(mini: MiniCluster) -> None:
    line = "y" * 1023
    for _ in range(6000):  # 6 MiB into one container
        mini.logbook.inject(NS, "backup-pod", "backup", line)
    kept = mini.api().read_namespaced_pod_log("backup-pod", NS).count(line)
    assert 2000 < kept < 6000
