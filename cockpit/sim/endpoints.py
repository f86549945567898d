"""Endpoints and EndpointSlices follow the pods each Service selects: ready pods are
addresses, unready ones notReadyAddresses, terminating ones drop out."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cockpit.sim.kubelet import is_ready
from cockpit.sim.objects import clone, owner_ref, suffix

if TYPE_CHECKING:
    from cockpit.sim.controller import Controller

SERVICE_NAME = "kubernetes.io/service-name"
MANAGED_BY = "endpointslice.kubernetes.io/managed-by"


def _target_port(port: dict, pod: dict) -> int | None:
    target = port.get("targetPort", port.get("port"))
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    for c in (pod.get("spec") or {}).get("containers") or []:
        for p in c.get("ports") or []:
            if p.get("name") == target:
                return p.get("containerPort")
    return None


class EndpointsController:
    def __init__(self, ctl: Controller) -> None:
        self.ctl = ctl
        self._slice_names: dict[tuple[str, str], str] = {}

    def service_deleted(self, ns: str, name: str) -> None:
        if self.ctl.store.get("endpoints", ns, name) is not None:
            self.ctl.store.delete("endpoints", ns, name)
        self._slice_names.pop((ns, name), None)

    def sync(self, ns: str, name: str) -> None:
        svc = self.ctl.store.get("services", ns, name)
        if svc is None or not (svc.get("spec") or {}).get("selector"):
            return
        pods = self.ctl.store.list("pods", ns)
        selector = svc["spec"]["selector"]
        chosen = [
            p
            for p in pods
            if all((p["metadata"].get("labels") or {}).get(k) == v for k, v in selector.items())
            and (p.get("status") or {}).get("podIP")
        ]
        self._write_endpoints(svc, chosen)
        self._write_slice(svc, chosen)

    def _write_endpoints(self, svc: dict, pods: list[dict]) -> None:
        store = self.ctl.store
        m = svc["metadata"]
        ready, unready = [], []
        ports_out: list[dict] | None = None
        for pod in sorted(pods, key=lambda p: p["status"]["podIP"]):
            if pod["metadata"].get("deletionTimestamp"):
                continue
            addr = {
                "ip": pod["status"]["podIP"],
                "nodeName": pod["spec"].get("nodeName"),
                "targetRef": {
                    "kind": "Pod",
                    "namespace": pod["metadata"]["namespace"],
                    "name": pod["metadata"]["name"],
                    "uid": pod["metadata"]["uid"],
                },
            }
            (ready if is_ready(pod) else unready).append(addr)
            if ports_out is None:
                ports_out = []
                for sp in svc["spec"].get("ports") or []:
                    port = {"port": _target_port(sp, pod), "protocol": sp.get("protocol", "TCP")}
                    if sp.get("name"):
                        port["name"] = sp["name"]
                    ports_out.append(port)
        # Created along with the service (matters for seeded, months-old services).
        body: dict = {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {
                "name": m["name"],
                "namespace": m["namespace"],
                "labels": clone(m.get("labels") or {}),
                "creationTimestamp": m.get("creationTimestamp"),
            },
        }
        if ready or unready:
            subset: dict = {}
            if ready:
                subset["addresses"] = ready
            if unready:
                subset["notReadyAddresses"] = unready
            subset["ports"] = ports_out or []
            body["subsets"] = [subset]
        if not body["metadata"]["labels"]:
            body["metadata"].pop("labels")
        old = store.get("endpoints", m["namespace"], m["name"])
        if old is None:
            self.ctl.create("endpoints", body)
        elif old.get("subsets") != body.get("subsets"):
            new = clone(old)
            if "subsets" in body:
                new["subsets"] = body["subsets"]
            else:
                new.pop("subsets", None)
            store.update("endpoints", new)

    def _write_slice(self, svc: dict, pods: list[dict]) -> None:
        store = self.ctl.store
        m = svc["metadata"]
        key = (m["namespace"], m["name"])
        endpoints, ports = [], []
        for pod in sorted(pods, key=lambda p: p["status"]["podIP"]):
            terminating = bool(pod["metadata"].get("deletionTimestamp"))
            ready = is_ready(pod)
            endpoints.append(
                {
                    "addresses": [pod["status"]["podIP"]],
                    "conditions": {
                        "ready": ready and not terminating,
                        "serving": ready,
                        "terminating": terminating,
                    },
                    "nodeName": pod["spec"].get("nodeName"),
                    "targetRef": {
                        "kind": "Pod",
                        "namespace": pod["metadata"]["namespace"],
                        "name": pod["metadata"]["name"],
                        "uid": pod["metadata"]["uid"],
                    },
                }
            )
            if not ports:
                for sp in svc["spec"].get("ports") or []:
                    port = {
                        "name": sp.get("name", ""),
                        "port": _target_port(sp, pod),
                        "protocol": sp.get("protocol", "TCP"),
                    }
                    ports.append(port)
        name = self._slice_names.get(key)
        old = store.get("endpointslices.discovery.k8s.io", m["namespace"], name) if name else None
        if old is None:
            existing = [
                s
                for s in store.list("endpointslices.discovery.k8s.io", m["namespace"])
                if (s["metadata"].get("labels") or {}).get(SERVICE_NAME) == m["name"]
            ]
            old = existing[0] if existing else None
        if old is None:
            name = f"{m['name']}-{suffix(5, self.ctl.rng)}"
            labels = dict(m.get("labels") or {})
            labels.update({SERVICE_NAME: m["name"], MANAGED_BY: "endpointslice-controller.k8s.io"})
            self.ctl.create(
                "endpointslices.discovery.k8s.io",
                {
                    "apiVersion": "discovery.k8s.io/v1",
                    "kind": "EndpointSlice",
                    "metadata": {
                        "name": name,
                        "generateName": f"{m['name']}-",
                        "namespace": m["namespace"],
                        "labels": labels,
                        "creationTimestamp": m.get("creationTimestamp"),
                        "ownerReferences": [owner_ref(svc)],
                    },
                    "addressType": "IPv4",
                    "endpoints": endpoints,
                    "ports": ports or None,
                },
            )
            self._slice_names[key] = name
            return
        self._slice_names[key] = old["metadata"]["name"]
        if old.get("endpoints") != endpoints or (old.get("ports") or []) != ports:
            new = clone(old)
            new["endpoints"] = endpoints
            new["ports"] = ports or None
            store.update("endpointslices.discovery.k8s.io", new)
