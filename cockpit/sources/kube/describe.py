"""`kubectl describe svc`: a service, its endpoints and its events, as lines of text."""

from __future__ import annotations

from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from cockpit.sources.kube.client import kube_error
from cockpit.sources.kube.paths import namespaced_path
from cockpit.sources.kube.raw import raw_json


def _read(
    api: client.ApiClient, path: str, timeout: Any, query: list[tuple[str, Any]] | None = None
) -> dict[str, Any] | None:
    """The object at `path`, None when it is not there (raw: no generated API class)."""
    try:
        return raw_json(api, path, query, timeout=timeout, missing_ok=True)
    except ApiException as exc:
        raise kube_error(exc) from None


def describe_service(
    api: client.ApiClient, namespace: str, name: str, timeout: float = 10.0
) -> list[str]:
    """Blocking: run it in a thread.  Raises SourceError on API failures."""
    limits = (timeout, timeout * 2)
    svc = _read(api, namespaced_path("/api/v1", namespace, "services", name), limits)
    if svc is None:
        return [f"service {name} not found in namespace {namespace}"]
    meta, spec = svc.get("metadata") or {}, svc.get("spec") or {}
    selector = ",".join(f"{k}={v}" for k, v in (spec.get("selector") or {}).items())
    lines = [
        f"Name:              {meta.get('name', '')}",
        f"Namespace:         {meta.get('namespace', '')}",
        f"Labels:            {_pairs(meta.get('labels'))}",
        f"Selector:          {selector or '<none>'}",
        f"Type:              {spec.get('type', 'ClusterIP')}",
        f"IP:                {spec.get('clusterIP', '')}",
    ]
    ingress = ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    if ingress:
        lines.append(
            "LoadBalancer Ingress: "
            + ", ".join(i.get("ip") or i.get("hostname", "") for i in ingress)
        )
    for port in spec.get("ports") or []:
        lines.append(
            f"Port:              {port.get('name', '<unset>')}  {port.get('port')}/"
            f"{port.get('protocol', 'TCP')}"
        )
        lines.append(
            f"TargetPort:        {port.get('targetPort', port.get('port'))}/"
            f"{port.get('protocol', 'TCP')}"
        )
        if port.get("nodePort"):
            lines.append(f"NodePort:          {port['nodePort']}")
    endpoints = _read(api, namespaced_path("/api/v1", namespace, "endpoints", name), limits)
    ready, not_ready = [], []
    for subset in (endpoints or {}).get("subsets") or []:
        ports = [str(p.get("port")) for p in subset.get("ports") or []]
        for address in subset.get("addresses") or []:
            ready.append(_address(address, ports))
        for address in subset.get("notReadyAddresses") or []:
            not_ready.append(_address(address, ports))
    lines.append(f"Endpoints:         {', '.join(ready) if ready else '<none>'}")
    if not_ready:
        lines.append(f"Not ready:         {', '.join(not_ready)}")
    if not ready:
        lines.append("")
        lines.append(
            "⚠ no ready endpoints: the service sends traffic nowhere "
            "(check the pods behind its selector)"
        )
    events = (
        _read(
            api,
            namespaced_path("/api/v1", namespace, "events"),
            limits,
            [("fieldSelector", f"involvedObject.kind=Service,involvedObject.name={name}")],
        )
        or {}
    )
    items = events.get("items") or []
    lines.append("")
    lines.append("Events:            " + ("<none>" if not items else ""))
    for event in items[-20:]:
        lines.append(
            f"  {event.get('type', ''):8} {event.get('reason', ''):20} "
            f"{(event.get('message') or '').strip()}"
        )
    return lines


def _pairs(mapping: dict[str, str] | None) -> str:
    return ",".join(f"{k}={v}" for k, v in (mapping or {}).items()) or "<none>"


def _address(address: dict[str, Any], ports: list[str]) -> str:
    target = (address.get("targetRef") or {}).get("name", "")
    ip = address.get("ip", "")
    where = ",".join(f"{ip}:{p}" for p in ports) or ip
    return f"{where} ({target})" if target else where
