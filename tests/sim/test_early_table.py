"""The Table request `cockpit run` begins before its imports (cockpit/sources/kube/early.py):
against the sim with a token kubeconfig, against a TLS server with a CA and a client
certificate, and no shortcut at all for kubeconfigs it does not handle."""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer
from pathlib import Path

import orjson
import pytest

from cockpit.config import KubeSettings
from cockpit.sim.runner import SimCluster
from cockpit.sources.kube import early, prefetch
from cockpit.sources.kube.first_pods import table_rows
from tests.jsonhandler import JsonHandler

NS = "excel-unified"


def kubeconfig(path: Path, server: str, user: dict, cluster: dict | None = None) -> Path:
    path.write_text(
        json.dumps(
            {
                "clusters": [{"name": "c", "cluster": {"server": server, **(cluster or {})}}],
                "users": [{"name": "u", "user": user}],
                "contexts": [{"name": "ctx", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "ctx",
            }
        )
    )
    return path


def test_token_kubeconfig_reads_the_sims_table(
    make_sim: Callable[..., SimCluster], tmp_path: Path
) -> None:
    sim = make_sim("incident")
    path = sim.write_kubeconfig(tmp_path / "kubeconfig")
    plan = early.plan(str(path), None, None)
    assert plan is not None and plan.tls is None
    assert (plan.context, plan.namespace, plan.server) == ("cockpit-sim", NS, sim.url)
    got = early.fetch(plan)
    assert got.pods is not None and got.deployments is not None and got.statefulsets is not None
    rows = table_rows(orjson.loads(got.pods), datetime.now(UTC))
    assert {r.uid for r in rows} == {o["metadata"]["uid"] for o in sim.list_objects("pods", NS)}
    assert orjson.loads(got.deployments)["items"]


def test_a_wrong_token_gives_no_rows(make_sim: Callable[..., SimCluster], tmp_path: Path) -> None:
    sim = make_sim("healthy")
    path = kubeconfig(tmp_path / "kc", sim.url, {"token": "not-the-token"})
    got = early.fetch(early.plan(str(path), None, NS))  # type: ignore[arg-type]
    assert got.done.is_set() and got.pods is None


def test_prefetch_takes_the_early_rows_only_for_the_same_connection(
    make_sim: Callable[..., SimCluster], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = make_sim("incident")
    path = sim.write_kubeconfig(tmp_path / "kubeconfig")
    monkeypatch.setenv("KUBECONFIG", str(path))
    settings = KubeSettings()
    early.begin(None, None)
    assert early._pending is not None
    prefetch.start(settings, None, None)
    pre = prefetch.take(settings, None, None)
    assert pre is not None and pre.error is None and pre.rows and pre.workloads
    assert early._pending is None  # consumed: the rows came from it
    assert len(pre.rows) == len(sim.list_objects("pods", NS))
    pre.target.close()
    # Another namespace than the one asked early: dropped, not shown.
    early.begin(None, "kube-system")
    assert early.take(str(path), "cockpit-sim", NS, sim.url) is None


def test_early_rows_come_before_the_client_connects(
    make_sim: Callable[..., SimCluster], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The early Table's rows are a provisional snapshot while the prefetch thread waits
    to build the client; released, it connects and hands over the same rows."""
    sim = make_sim("incident")
    path = sim.write_kubeconfig(tmp_path / "kubeconfig")
    monkeypatch.setenv("KUBECONFIG", str(path))
    settings = KubeSettings()
    early.begin(None, None)
    prefetch.start(settings, None, None)
    snapshot = prefetch.early_snapshot(10.0)
    assert snapshot is not None and snapshot.provisional
    assert (snapshot.context, snapshot.namespace) == ("cockpit-sim", NS)
    assert {p.uid for p in snapshot.pods} == {
        o["metadata"]["uid"] for o in sim.list_objects("pods", NS)
    }
    assert snapshot.workloads
    assert not prefetch.ready()  # not connected until released (or CONNECT_AT_LATEST_S)
    prefetch.release()
    pre = prefetch.take(settings, None, None)
    assert pre is not None and pre.error is None and pre.target is not None
    assert pre.rows == list(snapshot.pods) and pre.workloads == snapshot.workloads
    pre.target.close()


@pytest.mark.parametrize(
    ("context", "namespace", "settings"),
    [
        ("other", None, {}),  # another context than the file's current one
        (None, "kube-system", {}),
        (None, None, {"namespace": "kube-system"}),
        (None, None, {"context": "other"}),
    ],
    ids=["cli-context", "cli-namespace", "settings-namespace", "settings-context"],
)
def test_no_early_rows_when_the_settings_ask_something_else(
    tmp_path: Path, context: str | None, namespace: str | None, settings: dict
) -> None:
    path = kubeconfig(tmp_path / "kc", "http://127.0.0.1:1", {"token": "t"})
    plan = early.plan(str(path), None, None)
    assert plan is not None
    kube = KubeSettings(kubeconfig=path, **settings)
    assert prefetch._settings_ask(plan, KubeSettings(kubeconfig=path), None, None)
    assert not prefetch._settings_ask(plan, kube, context, namespace)
    assert not prefetch._settings_ask(plan, KubeSettings(kubeconfig=tmp_path / "x"), None, None)


@pytest.mark.parametrize(
    "user",
    [
        {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "aws"}},
        {"auth-provider": {"name": "oidc", "config": {}}},
        {"username": "admin", "password": "secret"},
        {},
    ],
    ids=["exec", "auth-provider", "basic", "nothing"],
)
def test_unusual_users_take_the_usual_path(tmp_path: Path, user: dict) -> None:
    path = kubeconfig(
        tmp_path / "kc", "https://127.0.0.1:6443", user, {"insecure-skip-tls-verify": True}
    )
    assert early.plan(str(path), None, None) is None


def test_several_kubeconfig_files_take_the_usual_path() -> None:
    assert early.kubeconfig_file({"KUBECONFIG": "/a:/b"}) is None
    assert early.kubeconfig_file({"KUBECONFIG": "/a"}) == "/a"


def test_missing_or_unknown_context_takes_the_usual_path(tmp_path: Path) -> None:
    path = kubeconfig(tmp_path / "kc", "http://127.0.0.1:1", {"token": "t"})
    assert early.plan(str(tmp_path / "absent"), None, None) is None
    assert early.plan(str(path), "other", None) is None


# -- TLS: a CA and a client certificate -------------------------------------------------


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("needs openssl")
    out = {name: tmp_path / f"{name}.pem" for name in ("ca", "ca_key", "client", "client_key")}

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    # One self-signed certificate serves as the server's and as the CA (IP SAN).
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
        "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(out["ca_key"]),
        "-out", str(out["ca"]))  # fmt: skip
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=tester",
        "-keyout", str(out["client_key"]), "-out", str(out["client"]))  # fmt: skip
    return out


@pytest.fixture
def tls_server(pki: dict[str, Path]) -> Iterator[tuple[str, list[str]]]:
    """HTTPS on 127.0.0.1 that requires the client certificate; records who called."""
    seen: list[str] = []
    meta = {"metadata": {"name": "web-1", "uid": "u1"}}
    table = {"kind": "Table", "columnDefinitions": [{"name": "Name"}],
             "rows": [{"cells": ["web-1"], "object": meta}]}  # fmt: skip

    class Handler(JsonHandler):
        def do_GET(self) -> None:
            peer = self.connection.getpeercert()  # type: ignore[attr-defined]
            seen.append(dict(x[0] for x in peer["subject"])["commonName"])
            self.send_json(table if "/pods" in self.path else {"items": []})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki["ca"], pki["ca_key"])
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(pki["client"])
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def _b64(path: Path) -> str:
    import base64

    return base64.b64encode(path.read_bytes()).decode()


def test_ca_data_and_client_certificate_data(
    tmp_path: Path, pki: dict[str, Path], tls_server: tuple[str, list[str]]
) -> None:
    url, seen = tls_server
    user = {
        "client-certificate-data": _b64(pki["client"]),
        "client-key-data": _b64(pki["client_key"]),
    }
    path = kubeconfig(tmp_path / "kc", url, user, {"certificate-authority-data": _b64(pki["ca"])})
    plan = early.plan(str(path), None, None)
    assert plan is not None and plan.tls is not None and plan.headers == {}
    got = early.fetch(plan)
    assert got.pods is not None and seen == ["tester"] * 3
    assert [r.name for r in table_rows(orjson.loads(got.pods), datetime.now(UTC))] == ["web-1"]


def test_ca_file_is_verified(
    tmp_path: Path, pki: dict[str, Path], tls_server: tuple[str, list[str]]
) -> None:
    url, _ = tls_server
    user = {"client-certificate": str(pki["client"]), "client-key": str(pki["client_key"])}
    # The client's own certificate is not the server's CA: the handshake must fail.
    wrong = kubeconfig(tmp_path / "wrong", url, user, {"certificate-authority": str(pki["client"])})
    assert early.fetch(early.plan(str(wrong), None, None)).pods is None  # type: ignore[arg-type]
    right = kubeconfig(tmp_path / "right", url, user, {"certificate-authority": str(pki["ca"])})
    assert early.fetch(early.plan(str(right), None, None)).pods is not None  # type: ignore[arg-type]


def test_a_certificate_without_its_key_takes_the_usual_path(
    tmp_path: Path, pki: dict[str, Path]
) -> None:
    user = {"client-certificate": str(pki["client"])}
    path = kubeconfig(
        tmp_path / "kc", "https://127.0.0.1:1", user, {"certificate-authority": str(pki["ca"])}
    )
    assert early.plan(str(path), None, None) is None
