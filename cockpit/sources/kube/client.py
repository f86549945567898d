"""Connecting the official `kubernetes` client: kubeconfig, context, or an injected config.

Also turns the client's exceptions into SourceErrors a person can act on.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from cockpit.config import KubeSettings, redact
from cockpit.errors import SourceError, certificate_problem
from cockpit.sources.kube.kubeconfig import kubeconfig_path

# Watches and log streams each hold a connection; urllib3's default pool (cpu*5) would
# discard connections and log a warning per request at our concurrency.
POOL_SIZE = 96


@dataclass(frozen=True)
class KubeTarget:
    """A configured client and the names the header and the journal show."""

    api: client.ApiClient
    context: str
    user: str
    namespace: str
    server: str

    def close(self) -> None:
        try:
            self.api.close()
        except Exception:
            pass


def connect(
    settings: KubeSettings,
    configuration: client.Configuration | None = None,
    *,
    context: str | None = None,
    namespace: str | None = None,
    user: str = "",
) -> KubeTarget:
    """Build a client for the chosen context (or the injected configuration).

    Raises SourceError naming the kubeconfig and what is wrong with it.
    """
    ns = namespace or settings.namespace
    if configuration is not None:
        cfg = configuration
        ctx_name = context or settings.context or "injected"
        user_name = user
    else:
        path = kubeconfig_path(settings)
        wanted = context or settings.context
        cfg = client.Configuration()
        try:
            contexts, active = config.list_kube_config_contexts(config_file=path)
            chosen = active
            if wanted:
                matches = [c for c in contexts if c.get("name") == wanted]
                if not matches:
                    names = ", ".join(sorted(c.get("name", "?") for c in contexts)) or "none"
                    raise SourceError(
                        f"kubeconfig {path}: no context named {wanted!r}",
                        f"contexts in that file: {names}",
                    )
                chosen = matches[0]
            config.load_kube_config(
                config_file=path, context=wanted, client_configuration=cfg, persist_config=False
            )
        except SourceError:
            raise
        except (ConfigException, FileNotFoundError, OSError, ValueError, TypeError) as exc:
            if os.environ.get("KUBERNETES_SERVICE_HOST"):
                return _in_cluster(ns)
            raise SourceError(
                f"kubeconfig {path}: {_first_line(exc)}",
                "fix the file, set KUBECONFIG or --context, or try `cockpit demo`",
            ) from None
        except Exception as exc:
            raise SourceError(
                f"kubeconfig {path}: cannot be read ({type(exc).__name__}: {_first_line(exc)})",
                "fix the file, set KUBECONFIG or --context, or try `cockpit demo`",
            ) from None
        ctx_name = (chosen or {}).get("name", "") if isinstance(chosen, dict) else ""
        details = (chosen or {}).get("context") or {} if isinstance(chosen, dict) else {}
        user_name = details.get("user", "")
        if namespace is None and settings.namespace == KubeSettings().namespace:
            ns = details.get("namespace") or ns
    cfg.connection_pool_maxsize = max(cfg.connection_pool_maxsize or 0, POOL_SIZE)
    cfg.retries = False  # fail fast; the poll loop has its own backoff
    api = client.ApiClient(configuration=cfg)
    api.user_agent = "cockpit/0.1"
    return KubeTarget(api=api, context=ctx_name, user=user_name, namespace=ns, server=cfg.host)


def _in_cluster(namespace: str) -> KubeTarget:
    cfg = client.Configuration()
    config.load_incluster_config(client_configuration=cfg)
    cfg.connection_pool_maxsize = POOL_SIZE
    api = client.ApiClient(configuration=cfg)
    return KubeTarget(
        api=api, context="in-cluster", user="serviceaccount", namespace=namespace, server=cfg.host
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return redact(text.splitlines()[0])[:300]


def status_message(exc: ApiException) -> str:
    """The API server's own words from a Status body, else the HTTP reason."""
    body = getattr(exc, "body", None)
    if body:
        try:
            data = json.loads(body)
            if isinstance(data, dict) and data.get("message"):
                return str(data["message"])
        except (ValueError, TypeError):
            pass
    return f"{exc.status} {exc.reason or ''}".strip()


def kube_error(exc: BaseException, server: str = "") -> SourceError:
    """A client exception as a SourceError with a hint."""
    where = f"API server {server}" if server else "API server"
    if isinstance(exc, SourceError):
        return exc
    if (problem := certificate_problem(exc, kube=True)) is not None:
        return SourceError(f"{where}: {problem[0]}", problem[1])  # not "is it reachable?"
    if isinstance(exc, ApiException):
        message = redact(status_message(exc))
        if exc.status == 401:
            return SourceError(
                f"{where}: unauthorised ({message})",
                "your credentials were rejected: log in again or check the token",
            )
        if exc.status == 403:
            return SourceError(
                f"forbidden: {message}", "ask for the RBAC permission, or use a context that has it"
            )
        if exc.status == 404:
            return SourceError(f"not found: {message}", "")
        if exc.status == 0 or exc.status is None:
            return SourceError(f"{where}: {message}", "is the cluster reachable?")
        return SourceError(
            f"{where}: HTTP {exc.status}: {message}",
            "the API server is failing; it is retried with backoff",
        )
    if isinstance(exc, urllib3.exceptions.MaxRetryError):
        exc = exc.reason or exc
    if isinstance(exc, urllib3.exceptions.NewConnectionError):
        return SourceError(
            f"{where}: connection refused or unreachable",
            "is the cluster reachable? check the context and your VPN",
        )
    if isinstance(
        exc,
        (urllib3.exceptions.ReadTimeoutError, urllib3.exceptions.ConnectTimeoutError, TimeoutError),
    ):
        return SourceError(
            f"{where}: not answering (timed out)", "the API server is slow or unreachable; retrying"
        )
    if isinstance(exc, (urllib3.exceptions.ProtocolError, ConnectionError)):
        return SourceError(f"{where}: connection lost", "retrying")
    return SourceError(f"{where}: {type(exc).__name__}: {_first_line(exc)}", "")
