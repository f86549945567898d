"""An API server whose certificate the client does not trust: the hint is about the
certificate (the kubeconfig's CA), not "is the cluster reachable?".

A real TLS server on 127.0.0.1 with a self-signed certificate made here, and the real
kubernetes client pointed at it through a kubeconfig.
"""

from __future__ import annotations

import base64
import datetime
import http.server
import ipaddress
import json
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from cockpit.config import KubeSettings, Settings
from cockpit.errors import SourceError, certificate_problem, describe
from cockpit.sources.kube.client import KubeTarget, connect
from cockpit.sources.kube.source import KubeSource
from tests.jsonhandler import JsonHandler


@dataclass
class TlsServer:
    url: str
    cert_pem: bytes


def self_signed(directory: Path) -> tuple[Path, Path, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    (directory / "cert.pem").write_bytes(cert_pem)
    (directory / "key.pem").write_bytes(key_pem)
    return directory / "cert.pem", directory / "key.pem", cert_pem


class Forbidden(JsonHandler):
    """Answers every request with a Kubernetes 403 Status: reaching it means TLS passed."""

    def do_GET(self) -> None:
        status = {
            "kind": "Status",
            "status": "Failure",
            "code": 403,
            "message": "forbidden by the test server",
        }
        self.send_json(status, 403)


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[TlsServer]:
    cert, key, cert_pem = self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Forbidden)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield TlsServer(f"https://127.0.0.1:{server.server_address[1]}", cert_pem)
    server.shutdown()
    server.server_close()


def kubeconfig(tmp_path: Path, url: str, ca_pem: bytes | None = None) -> Path:
    cluster: dict[str, str] = {"server": url}
    if ca_pem is not None:
        cluster["certificate-authority-data"] = base64.b64encode(ca_pem).decode()
    path = tmp_path / "kubeconfig"
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "tls", "cluster": cluster}],
                "users": [{"name": "me", "user": {"token": "t"}}],
                "contexts": [{"name": "tls", "context": {"cluster": "tls", "user": "me"}}],
                "current-context": "tls",
            }
        )
    )
    return path


def target_for(path: Path) -> KubeTarget:
    return connect(KubeSettings(kubeconfig=path))


def assert_certificate_hint(message: str, hint: str) -> None:
    assert "self-signed certificate" in message
    assert "certificate-authority" in hint and "kubeconfig" in hint
    assert "insecure-skip-tls-verify" in hint and "reachable" not in hint


async def test_the_pods_pane_says_to_trust_the_cluster_ca(
    tls_server: TlsServer, tmp_path: Path
) -> None:
    kube = KubeSource(target_for(kubeconfig(tmp_path, tls_server.url)), Settings())
    kube.start()
    try:
        with pytest.raises(SourceError) as caught:
            await kube.kube_snapshot()
    finally:
        kube.stop()
    assert_certificate_hint(caught.value.message, caught.value.hint)


def test_an_action_or_check_failing_on_the_certificate_says_so(
    tls_server: TlsServer, tmp_path: Path
) -> None:
    """The actions' runner and `cockpit check` word the client's own exception."""
    target = target_for(kubeconfig(tmp_path, tls_server.url))
    with pytest.raises(ApiException) as caught:
        k8s.CoreV1Api(target.api).list_namespaced_pod("excel-unified")
    target.close()
    assert_certificate_hint(*describe(caught.value))


def test_with_the_ca_in_the_kubeconfig_the_certificate_is_accepted(
    tls_server: TlsServer, tmp_path: Path
) -> None:
    """The hint's advice works: the same server, its CA given, answers (403 here)."""
    target = target_for(kubeconfig(tmp_path, tls_server.url, ca_pem=tls_server.cert_pem))
    with pytest.raises(ApiException) as caught:
        k8s.CoreV1Api(target.api).list_namespaced_pod("excel-unified")
    target.close()
    assert caught.value.status == 403 and certificate_problem(caught.value) is None


def test_a_certificate_for_another_name_gets_the_name_hint(
    tls_server: TlsServer, tmp_path: Path
) -> None:
    """Trusted, but issued for 127.0.0.1 and reached as localhost."""
    url = tls_server.url.replace("127.0.0.1", "localhost")
    target = target_for(kubeconfig(tmp_path, url, ca_pem=tls_server.cert_pem))
    with pytest.raises(ApiException) as caught:
        k8s.CoreV1Api(target.api).list_namespaced_pod("excel-unified")
    target.close()
    message, hint = describe(caught.value)
    assert "certificate" in message and "tls-server-name" in hint
