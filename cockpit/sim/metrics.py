"""metrics.k8s.io/v1beta1: per-container usage of running pods and per-node totals,
the way metrics-server reports them (`kubectl top`).  Values are a function of the pod,
the container and the current metrics window, so they move once per window and two
requests inside one window agree."""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable

from cockpit.sim.objects import cpu_milli, cpu_nanos, labels, mem_ki, mem_mi, parse_quantity, ts
from cockpit.sim.pace import Pace
from cockpit.sim.store import Store

# (share of the cpu request, share of the memory limit) a container typically uses.
_PROFILES = {
    "rails": (0.45, 0.55),
    "fastapi": (0.5, 0.6),
    "sidekiq": (0.6, 0.5),
    "nginx": (0.15, 0.3),
    "postgres": (0.35, 0.6),
    "redis": (0.2, 0.62),
    "backup": (0.02, 0.1),
}
_DEFAULT = (0.3, 0.4)
_INCIDENT = {"redis": (0.45, 0.95)}  # Redis close to maxmemory


def go_duration(seconds: float) -> str:
    """time.Duration.String() for the windows we use."""
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    whole = int(seconds)
    minutes, secs = divmod(whole, 60)
    frac = seconds - whole
    s = f"{secs + frac:g}s"
    return f"{minutes}m{s}" if minutes else s


def _noise(*parts: object) -> float:
    """A stable pseudo-random number in [-1, 1)."""
    h = zlib.crc32("|".join(map(str, parts)).encode())
    return (h / 2**31) - 1.0


class Metrics:
    def __init__(
        self, store: Store, scenario: str, pace: Callable[[], Pace], clock: Callable[[], float]
    ) -> None:
        self.store = store
        self.scenario = scenario
        self.pace = pace
        self.clock = clock

    def _window(self) -> tuple[int, float, float]:
        period = max(self.pace().metrics_period_s, 0.001)
        k = int(self.clock() // period)
        return k, k * period, period

    def container_usage(self, pod: dict, container: dict, k: int) -> tuple[float, float]:
        """(cpu cores, memory bytes) for one container in window k."""
        app = labels(pod).get("app", container.get("name", ""))
        share_cpu, share_mem = _PROFILES.get(app, _DEFAULT)
        if self.scenario == "incident" and app in _INCIDENT:
            share_cpu, share_mem = _INCIDENT[app]
        res = container.get("resources") or {}
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        cpu_base = parse_quantity(req.get("cpu") or lim.get("cpu") or "100m")
        mem_base = parse_quantity(lim.get("memory") or req.get("memory") or "256Mi")
        uid = pod["metadata"]["uid"]
        name = container.get("name", "")
        phase = _noise(uid, name, "phase") * math.pi
        wave = math.sin(k / 7.0 + phase)
        cpu = cpu_base * share_cpu * (1 + 0.25 * wave + 0.15 * _noise(uid, name, k, "cpu"))
        if self.scenario == "incident" and app in _INCIDENT:
            mem = mem_base * (share_mem + 0.01 * _noise(uid, name, k, "mem"))
        else:
            mem = mem_base * share_mem * (1 + 0.05 * wave + 0.03 * _noise(uid, name, k, "mem"))
        return max(cpu, 0.001), max(mem, 1 << 20)

    def pod_metrics(self, namespace: str | None) -> list[dict]:
        k, start, period = self._window()
        out = []
        key = "pods"
        for pod in self.store.list(key, namespace):
            item = self._pod_item(pod, k, start, period)
            if item is not None:
                out.append(item)
        return out

    def pod_item(self, pod: dict) -> dict | None:
        k, start, period = self._window()
        return self._pod_item(pod, k, start, period)

    def _pod_item(self, pod: dict, k: int, start: float, period: float) -> dict | None:
        st = pod.get("status") or {}
        if st.get("phase") != "Running" or pod["metadata"].get("deletionTimestamp"):
            return None
        running = {
            cs["name"]
            for cs in st.get("containerStatuses") or []
            if "running" in (cs.get("state") or {})
        }
        containers = []
        for c in (pod.get("spec") or {}).get("containers") or []:
            if c["name"] not in running:
                continue
            cpu, mem = self.container_usage(pod, c, k)
            # metrics-server mixes units; so do we, so clients must parse both.
            cpu_s = cpu_nanos(cpu) if (k + len(c["name"])) % 2 else cpu_milli(cpu)
            mem_s = mem_ki(mem) if k % 2 else mem_mi(mem)
            containers.append({"name": c["name"], "usage": {"cpu": cpu_s, "memory": mem_s}})
        if not containers:
            return None
        m = pod["metadata"]
        return {
            "kind": "PodMetrics",
            "apiVersion": "metrics.k8s.io/v1beta1",
            "metadata": {
                "name": m["name"],
                "namespace": m["namespace"],
                "creationTimestamp": ts(self.clock()),
                "labels": dict(m.get("labels") or {}),
            },
            "timestamp": ts(start),
            "window": go_duration(period),
            "containers": containers,
        }

    def node_metrics(self) -> list[dict]:
        k, start, period = self._window()
        totals: dict[str, list[float]] = {}
        for pod in self.store.list("pods"):
            node = (pod.get("spec") or {}).get("nodeName")
            if not node or (pod.get("status") or {}).get("phase") != "Running":
                continue
            acc = totals.setdefault(node, [0.0, 0.0])
            for c in (pod.get("spec") or {}).get("containers") or []:
                cpu, mem = self.container_usage(pod, c, k)
                acc[0] += cpu
                acc[1] += mem
        out = []
        for node in self.store.list("nodes"):
            name = node["metadata"]["name"]
            cpu, mem = totals.get(name, [0.0, 0.0])
            cpu += 0.18 + 0.04 * _noise(name, k, "cpu")  # kubelet, containerd, system
            mem += 1.1 * 2**30 * (1 + 0.02 * _noise(name, k, "mem"))
            out.append(
                {
                    "kind": "NodeMetrics",
                    "apiVersion": "metrics.k8s.io/v1beta1",
                    "metadata": {
                        "name": name,
                        "creationTimestamp": ts(self.clock()),
                        "labels": dict(node["metadata"].get("labels") or {}),
                    },
                    "timestamp": ts(start),
                    "window": go_duration(period),
                    "usage": {"cpu": cpu_nanos(cpu), "memory": mem_ki(mem)},
                }
            )
        return out
