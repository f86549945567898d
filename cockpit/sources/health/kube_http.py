"""An httpx client that talks to the API server as the kubernetes client would.

Built from the client's own `Configuration` (host, CA or verify_ssl, client certificate,
bearer token with its refresh hook, proxy, tls_server_name), so the service proxy is
reached with the user's identity and RBAC applies; no generated API class is imported
(they cost most of a second; see cockpit/sources/kube/raw.py).
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any
from urllib.parse import quote

import httpx


def _context(cfg: Any) -> ssl.SSLContext | bool:
    if not getattr(cfg, "verify_ssl", True):
        return False
    context = ssl.create_default_context(cafile=getattr(cfg, "ssl_ca_cert", None) or None)
    if getattr(cfg, "cert_file", None):
        context.load_cert_chain(cfg.cert_file, getattr(cfg, "key_file", None) or None)
    return context


def api_client(cfg: Any, timeout: float, max_connections: int = 20) -> httpx.AsyncClient:
    """A client for the API server at `cfg.host` (see `server_url`)."""
    auth = None
    if getattr(cfg, "username", None) and getattr(cfg, "password", None):
        auth = httpx.BasicAuth(cfg.username, cfg.password)
    return httpx.AsyncClient(
        verify=_context(cfg),
        proxy=getattr(cfg, "proxy", None) or None,
        trust_env=False,  # like the kubernetes client: only the configured proxy
        timeout=httpx.Timeout(timeout),
        limits=httpx.Limits(max_connections=max_connections),
        auth=auth,
        headers={"User-Agent": "cockpit/0.1", "Accept": "application/json, */*"},
    )


async def auth_headers(cfg: Any) -> dict[str, str]:
    """The Authorization header, read through the refresh hook (which may run an exec
    credential plugin or read a projected token file: off the loop)."""
    token = await asyncio.to_thread(cfg.get_api_key_with_prefix, "BearerToken", "authorization")
    return {"Authorization": token} if token else {}


def extensions(cfg: Any) -> dict[str, Any]:
    """SNI override when the kubeconfig sets tls-server-name."""
    name = getattr(cfg, "tls_server_name", None)
    return {"sni_hostname": name} if name else {}


def server_url(cfg: Any, path: str) -> str:
    return str(cfg.host).rstrip("/") + path


def proxy_path(namespace: str, service: str, path: str) -> str:
    """`/api/v1/namespaces/NS/services/NAME:PORT/proxy/PATH`."""
    ns = quote(namespace, safe="")
    svc = quote(service, safe=":")
    return f"/api/v1/namespaces/{ns}/services/{svc}/proxy/{path.lstrip('/')}"
