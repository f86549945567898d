"""The pods for the first screen, the way kubectl gets them: one server-side printed
`Table` (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`) with each row's
metadata, a quarter of the bytes of the full objects and a fraction of the parsing.

The workloads (Deployments and StatefulSets, small lists) come along, so the first
snapshot need not wait for their informers.

The rows it makes are provisional: what `kubectl get pods` shows (name, ready, status,
restarts, age, IP, node) plus uid, labels and owner, but no containers nor resources.
The pods informer's full list replaces them a moment later, row by row under the same
keys (the uids), so the pane neither flickers nor loses its selection.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import orjson

from cockpit.model import PodRow, WorkloadRow
from cockpit.sources.kube.convert import (
    controller_owner,
    deployment_row,
    parse_time,
    sorted_workloads,
    statefulset_row,
    workload_of,
)
from cockpit.thresholds import pod_level

if TYPE_CHECKING:  # table_rows and workloads_from make the early rows: no kubernetes
    from kubernetes import client

TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
_DURATION = re.compile(r"(\d+)([smhdy])")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "y": 365 * 86400}
_RESTARTS = re.compile(r"^(\d+)(?: \((\S+) ago\))?$")


def fetch_pod_table(api: client.ApiClient, namespace: str, timeout: float) -> list[PodRow]:
    """GET the namespace's pods as one Table; the provisional rows (blocking: a thread)."""
    from cockpit.sources.kube.raw import raw_get

    response = raw_get(
        api,
        f"/api/v1/namespaces/{namespace}/pods",
        [("includeObject", "Metadata")],
        accept=TABLE,
        timeout=timeout,
    )
    body = response.read()  # read whole: the connection goes back to the pool
    return table_rows(orjson.loads(body), datetime.now(UTC))


def fetch_workloads(
    api: client.ApiClient, namespace: str, timeout: float
) -> tuple[WorkloadRow, ...]:
    """GET the namespace's Deployments and StatefulSets as the informers would convert
    them (blocking: a thread)."""
    from cockpit.sources.kube.raw import raw_get

    lists = [
        orjson.loads(raw_get(api, f"/apis/apps/v1/namespaces/{namespace}/{kind}", [],
                             timeout=timeout).read())
        for kind in ("deployments", "statefulsets")
    ]  # fmt: skip
    return workloads_from(*lists)


def workloads_from(
    deployments: dict[str, Any], statefulsets: dict[str, Any]
) -> tuple[WorkloadRow, ...]:
    """WorkloadRows from the two lists' JSON, as the informers would convert them."""
    rows = [deployment_row(item) for item in deployments.get("items") or []]
    rows += [statefulset_row(item) for item in statefulsets.get("items") or []]
    return sorted_workloads(rows)


def ago(text: str, now: datetime) -> datetime | None:
    """kubectl's short durations ("95s", "5m", "2d3h") back to a moment."""
    parts = _DURATION.findall(text)
    if not parts:
        return None
    return now - timedelta(seconds=sum(int(n) * _UNIT_S[u] for n, u in parts))


def table_rows(
    table: dict[str, Any], now: datetime, columns: list[dict[str, Any]] | None = None
) -> list[PodRow]:
    """PodRows from a pods Table; [] when it is not one (an old server answers JSON).
    `columns`: the first page's columnDefinitions, for a later page without them."""
    if table.get("kind") != "Table":
        return []
    defined = table.get("columnDefinitions") or columns or []
    names = [str(c.get("name", "")).lower() for c in defined]
    index = {name: i for i, name in enumerate(names)}
    # Each column's place, found once per page (5,000 rows: a third of the time went
    # to looking them up by name in every row).
    at = {
        name: index.get(name, -1) for name in ("name", "status", "ready", "restarts", "ip", "node")
    }
    i_name, i_status, i_ready = at["name"], at["status"], at["ready"]
    i_restarts, i_ip, i_node = at["restarts"], at["ip"], at["node"]
    rows = []
    append = rows.append
    for row in table.get("rows") or []:
        cells = row.get("cells") or []
        n = len(cells)
        meta = (row.get("object") or {}).get("metadata") or {}
        status = str(cells[i_status]) if 0 <= i_status < n else "Unknown"
        ready_text = str(cells[i_ready]) if 0 <= i_ready < n else "0/0"
        ready, _, total = ready_text.partition("/")
        restarts_text = str(cells[i_restarts]) if 0 <= i_restarts < n else "0"
        m = _RESTARTS.match(restarts_text)
        restarts = int(m.group(1)) if m else 0
        last_restart = ago(m.group(2), now) if m and m.group(2) else None
        owner_kind, owner_name = controller_owner(meta)
        phase = "Succeeded" if status == "Completed" else "Running"
        ready_n, total_n = _int(ready), _int(total)
        ip = str(cells[i_ip]) if 0 <= i_ip < n else ""
        node = str(cells[i_node]) if 0 <= i_node < n else ""
        name = meta.get("name", "") or (str(cells[i_name]) if 0 <= i_name < n else "")
        append(
            PodRow(
                uid=meta.get("uid", "") or name,
                name=name,
                namespace=meta.get("namespace", ""),
                app=(meta.get("labels") or {}).get("app", ""),
                owner_kind=owner_kind,
                owner_name=owner_name,
                workload=workload_of(meta, owner_kind, owner_name),
                phase=phase,
                status=status,
                ready=ready_n,
                total=total_n,
                restarts=restarts,
                last_restart=last_restart,
                created=parse_time(meta.get("creationTimestamp")),
                node="" if node == "<none>" else node,
                ip="" if ip == "<none>" else ip,
                deleting=bool(meta.get("deletionTimestamp")),
                level=pod_level(status.split(" ")[0], ready_n, total_n, restarts, phase),
                resource_version=meta.get("resourceVersion", ""),
            )
        )
    return rows


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 0
