"""The first screen's Table request, begun before anything heavy is imported.

`cockpit run` calls `begin()` first thing, before pydantic-settings, the `kubernetes`
client and Textual (half a second of imports on two cores).  Only a plain kubeconfig
qualifies: a server, a CA (file or data) or insecure-skip-tls-verify, and a token,
token file or client certificate.  Anything else (exec plugins, auth providers, basic
auth, proxies, several KUBECONFIG files) returns None and startup takes its usual path.

A thread reads the pods' Table and the workloads with the standard library's
http.client and keeps the bodies.  The Table comes in pages, as kubectl reads it: the
first FIRST_PAGE rows and the workloads are enough for the first screen (`first` is set
then), and the rest follow in one more request (more if pods keep coming), so that the
first paint waits for a page, not for a 5,000-pod body and its parsing.

prefetch.py uses the bodies only when the client it builds from the settings names the
same kubeconfig, context, namespace and server; otherwise the bodies are dropped and it
asks again.  Imports: stdlib, PyYAML, and orjson for a page that says more follow.
"""

from __future__ import annotations

import base64
import http.client
import os
import ssl
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from cockpit.sources.kube.paths import namespaced_path

TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
DEFAULT_NAMESPACE = "excel-unified"  # KubeSettings' default (not imported: pydantic)
FIRST_PAGE = 500  # kubectl's chunk size; a screenful many times over
REST_PAGE = 5000  # the following pages, when the server does not say how many remain


@dataclass(frozen=True)
class Plan:
    """Where and how to ask, read from the kubeconfig."""

    kubeconfig: str
    context: str
    namespace: str
    server: str  # as the kubeconfig writes it (the client's Configuration.host)
    headers: dict[str, str]
    tls: ssl.SSLContext | None  # None: plain http


@dataclass
class Early:
    """The requests under way.  Once `first` is set: the Table's first page and the two
    workload lists (None where one failed).  Once `done` is set: the Table's other
    pages too (None when one failed: ask again)."""

    plan: Plan
    first: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    pods: bytes | None = None  # the Table's first page
    # Pods the first page left out: the server's remainingItemCount, 0 when it did not
    # say; None when the first page is the whole Table.
    pods_remaining: int | None = None
    more_pods: list[bytes] | None = None  # the Table's other pages, in order
    # The first page parsed, when reading its continue token took that (a paged Table):
    # prefetch.py makes the rows from it rather than parse the page a second time.
    pods_table: dict[str, Any] | None = None
    deployments: bytes | None = None
    statefulsets: bytes | None = None


_pending: Early | None = None


def kubeconfig_file(environ: dict[str, str] | os._Environ[str]) -> str | None:
    """The one kubeconfig file, or None when KUBECONFIG merges several."""
    value = environ.get("KUBECONFIG", "")
    paths = [p for p in value.split(os.pathsep) if p]
    if len(paths) > 1:
        return None
    return paths[0] if paths else str(Path("~/.kube/config").expanduser())


def plan(path: str, context: str | None, namespace: str | None) -> Plan | None:
    """A Plan when the kubeconfig is plain enough for http.client; else None."""
    import yaml

    try:
        with open(path, encoding="utf-8") as handle:
            doc = yaml.safe_load(handle)
        if not isinstance(doc, dict):
            return None
        name = context or doc.get("current-context")
        ctx = _named(doc.get("contexts"), name)
        cluster = _named(doc.get("clusters"), ctx.get("cluster")) if ctx else None
        user = _named(doc.get("users"), ctx.get("user")) if ctx else None
        if not (ctx and cluster is not None and user is not None and cluster.get("server")):
            return None
        base = Path(path).parent
        tls = _tls(cluster, user, base)
        headers = _auth(user, base)
    except (OSError, ValueError, TypeError, AttributeError, ssl.SSLError, yaml.YAMLError):
        return None
    if headers is None or (tls is None and str(cluster["server"]).startswith("https")):
        return None
    if cluster.get("proxy-url") or cluster.get("tls-server-name"):
        return None
    return Plan(
        kubeconfig=path,
        context=str(name),
        namespace=namespace or ctx.get("namespace") or DEFAULT_NAMESPACE,
        server=str(cluster["server"]),
        headers=headers,
        tls=tls,
    )


def _named(items: Any, name: Any) -> dict[str, Any] | None:
    for item in items or []:
        if isinstance(item, dict) and item.get("name") == name:
            found = next((v for k, v in item.items() if k != "name"), None)
            return found if isinstance(found, dict) else {}
    return None


def _auth(user: dict[str, Any], base: Path) -> dict[str, str] | None:
    """The Authorization header; {} for a client certificate; None: not handled here."""
    if set(user) - {"token", "tokenFile", "client-certificate", "client-certificate-data",
                    "client-key", "client-key-data"}:  # fmt: skip
        return None  # exec, auth-provider, username/password, impersonation, ...
    token = user.get("token")
    if not token and user.get("tokenFile"):
        token = (base / user["tokenFile"]).read_text(encoding="utf-8").strip()
    if token:
        return {"Authorization": f"Bearer {token}"}
    has_cert = user.get("client-certificate") or user.get("client-certificate-data")
    return {} if has_cert else None


def _tls(cluster: dict[str, Any], user: dict[str, Any], base: Path) -> ssl.SSLContext | None:
    if not str(cluster.get("server", "")).startswith("https"):
        return None
    tls = ssl.create_default_context()
    if cluster.get("insecure-skip-tls-verify"):
        tls.check_hostname = False
        tls.verify_mode = ssl.CERT_NONE
    elif data := cluster.get("certificate-authority-data"):
        tls.load_verify_locations(cadata=base64.b64decode(data).decode("ascii"))
    elif path := cluster.get("certificate-authority"):
        tls.load_verify_locations(cafile=str(base / path))
    cert = _pem(user, "client-certificate", base)
    key = _pem(user, "client-key", base)
    if cert and key:
        # load_cert_chain reads files only: a private temporary file, removed at once.
        with tempfile.NamedTemporaryFile("wb", suffix=".pem") as chain:
            chain.write(cert + b"\n" + key)
            chain.flush()
            tls.load_cert_chain(chain.name)
    elif cert or key:
        raise ValueError("a client certificate without its key")
    return tls


def _pem(user: dict[str, Any], name: str, base: Path) -> bytes | None:
    if data := user.get(f"{name}-data"):
        return base64.b64decode(data)
    if path := user.get(name):
        return (base / path).read_bytes()
    return None


def fetch(plan: Plan, timeout: float = 10.0) -> Early:
    """The Table's pages and the two workload lists, one connection (blocking)."""
    early = Early(plan)
    _fill(early, timeout)
    return early


def _fill(early: Early, timeout: float = 10.0) -> None:
    """Ask for the bodies of `early`; `first`, then `done`, are set when they are in
    (or failed)."""
    plan = early.plan
    try:
        url = urlsplit(plan.server)
        if plan.tls is not None:
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                url.hostname or "", url.port, timeout=timeout, context=plan.tls
            )
        else:
            conn = http.client.HTTPConnection(url.hostname or "", url.port, timeout=timeout)
        prefix, ns = url.path.rstrip("/"), plan.namespace
        try:
            pods = namespaced_path(f"{prefix}/api/v1", ns, "pods")
            table = f"{pods}?includeObject=Metadata&limit="
            early.pods = _get(conn, plan, f"{table}{FIRST_PAGE}", TABLE)
            apps = f"{prefix}/apis/apps/v1"
            early.deployments = _get(conn, plan, namespaced_path(apps, ns, "deployments"))
            early.statefulsets = _get(conn, plan, namespaced_path(apps, ns, "statefulsets"))
            token, early.pods_remaining, early.pods_table = _next_page(early.pods)
            early.first.set()
            more: list[bytes] = []
            while token:
                # All that remains in one answer when the server said how much.
                limit = early.pods_remaining + FIRST_PAGE if early.pods_remaining else REST_PAGE
                after = quote(token, safe="")
                body = _get(conn, plan, f"{table}{limit}&continue={after}", TABLE)
                if body is None:
                    return  # the token expired (410), or the server went: ask again
                more.append(body)
                token, _, _ = _next_page(body)
            early.more_pods = more
        finally:
            conn.close()
    except (OSError, http.client.HTTPException, ValueError):
        pass  # a shortcut only: the usual path says what is wrong
    finally:
        early.first.set()
        early.done.set()


def _next_page(
    body: bytes | None,
) -> tuple[str | None, int | None, dict[str, Any] | None]:
    """A Table page's continue token and remainingItemCount (0: not said), and the page
    parsed; (None, None, None) when the body says no page follows.  Only a body holding
    a "continue" key is parsed: the rest pages' 3 MB are parsed later, after the first
    paint, not beside it."""
    if body is None or b'"continue"' not in body:
        return None, None, None
    import orjson

    page = orjson.loads(body)
    meta = page.get("metadata") or {}
    token = meta.get("continue") or None
    return token, (int(meta.get("remainingItemCount") or 0) if token else None), page


def _get(
    conn: http.client.HTTPConnection, plan: Plan, path: str, accept: str = "application/json"
) -> bytes | None:
    headers = {"Accept": accept, "User-Agent": "cockpit/0.1", **plan.headers}
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = response.read()
    return body if response.status == 200 else None


def begin(context: str | None, namespace: str | None) -> None:
    """Start the request in a thread, when the kubeconfig allows (never raises)."""
    global _pending
    path = kubeconfig_file(os.environ)
    found = plan(path, context, namespace) if path else None
    if found is None:
        return
    early = Early(found)
    _pending = early

    from cockpit.marks import mark

    def run() -> None:
        _fill(early)
        mark("early_fetched", "ok" if early.pods is not None else "failed")

    threading.Thread(target=run, name="kube-early", daemon=True).start()


def pending_plan() -> Plan | None:
    """What the request under way asked, without taking it."""
    early = _pending
    return early.plan if early is not None else None


def take(kubeconfig: str, context: str, namespace: str, server: str) -> Early | None:
    """The request if it asked the same server the same things, once its first page
    and workloads are in (blocking; `done` says when the other pages are)."""
    global _pending
    early, _pending = _pending, None
    if early is None:
        return None
    p = early.plan
    asked = (p.kubeconfig, p.context, p.namespace, p.server.rstrip("/"))
    if asked != (kubeconfig, context, namespace, server.rstrip("/")):
        return None
    early.first.wait()
    return early
