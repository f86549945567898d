"""Server-side printing: `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`.

The columns and cell logic follow kubernetes/pkg/printers/internalversion/printers.go
(v1.32).  The apiserver always generates the wide cells; kubectl hides columns whose
priority is above 0 unless `-o wide`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cockpit.sim.objects import parse_ts
from cockpit.sim.selectors import format_selector, selector_string

Row = list[Any]
Printer = Callable[[dict, float], Row]

_NAME = {
    "name": "Name",
    "type": "string",
    "format": "name",
    "description": "Name must be unique within a namespace.",
}
_AGE = {
    "name": "Age",
    "type": "string",
    "format": "",
    "description": "CreationTimestamp is a timestamp representing the server time when "
    "this object was created.",
}


def _col(name: str, typ: str = "string", priority: int = 0, description: str = "") -> dict:
    col = {"name": name, "type": typ, "format": "", "description": description or name}
    if priority:
        col["priority"] = priority
    return col


def human_duration(seconds: float) -> str:
    """k8s.io/apimachinery/pkg/util/duration.HumanDuration."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        rest = s % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h" if rest == 0 else f"{hours}h{rest}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d" if rest == 0 else f"{hours // 24}d{rest}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if days == 0 else f"{hours // 24 // 365}y{days}d"
    return f"{hours // 24 // 365}y"


def since(stamp: str | None, now: float) -> str:
    t = parse_ts(stamp)
    return "<unknown>" if t is None else human_duration(now - t)


def _age(obj: dict, now: float) -> str:
    return since(obj["metadata"].get("creationTimestamp"), now)


def _containers(template_spec: dict) -> tuple[str, str]:
    cs = template_spec.get("containers") or []
    return ",".join(c.get("name", "") for c in cs), ",".join(c.get("image", "") for c in cs)


def _format_labels(m: dict | None) -> str:
    if not m:
        return "<none>"
    return ",".join(f"{k}={v}" for k, v in sorted(m.items()))


# ---- pods ---------------------------------------------------------------------------


def pod_status_reason(pod: dict) -> tuple[str, int, int, int, float | None]:
    """(STATUS, ready containers, total containers, restarts, last restart time): the
    logic of printPod, which is what `kubectl get pods` shows."""
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    phase = status.get("phase") or ""
    reason = status.get("reason") or phase
    for cond in status.get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"
    total = len(spec.get("containers") or [])
    restarts, ready = 0, 0
    last_restart: float | None = None
    initializing = False
    n_init = len(spec.get("initContainers") or [])
    for i, ics in enumerate(status.get("initContainerStatuses") or []):
        restarts += int(ics.get("restartCount") or 0)
        state = ics.get("state") or {}
        term, wait = state.get("terminated"), state.get("waiting")
        if term and term.get("exitCode") == 0:
            continue
        if term:
            if term.get("reason"):
                reason = "Init:" + term["reason"]
            elif term.get("signal"):
                reason = f"Init:Signal:{term['signal']}"
            else:
                reason = f"Init:ExitCode:{term.get('exitCode')}"
        elif wait and wait.get("reason") and wait["reason"] != "PodInitializing":
            reason = "Init:" + wait["reason"]
        else:
            reason = f"Init:{i}/{n_init}"
        initializing = True
        break
    if not initializing:
        restarts = 0
        has_running = False
        for cs in reversed(status.get("containerStatuses") or []):
            restarts += int(cs.get("restartCount") or 0)
            last_term = (cs.get("lastState") or {}).get("terminated")
            if last_term:
                t = parse_ts(last_term.get("finishedAt"))
                if t is not None and (last_restart is None or t > last_restart):
                    last_restart = t
            state = cs.get("state") or {}
            wait, term = state.get("waiting"), state.get("terminated")
            if wait and wait.get("reason"):
                reason = wait["reason"]
            elif term and term.get("reason"):
                reason = term["reason"]
            elif term:
                reason = (
                    f"Signal:{term['signal']}"
                    if term.get("signal")
                    else f"ExitCode:{term.get('exitCode', 0)}"
                )
            elif cs.get("ready") and "running" in state:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            conds = status.get("conditions") or []
            is_ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conds)
            reason = "Running" if is_ready else "NotReady"
    if pod["metadata"].get("deletionTimestamp"):
        if status.get("reason") == "NodeLost":
            reason = "Unknown"
        elif phase not in ("Succeeded", "Failed"):
            reason = "Terminating"
    return reason, ready, total, restarts, last_restart


def _pod(pod: dict, now: float) -> Row:
    reason, ready, total, restarts, last = pod_status_reason(pod)
    restarts_s = str(restarts)
    if restarts and last is not None:
        restarts_s = f"{restarts} ({human_duration(now - last)} ago)"
    status = pod.get("status") or {}
    ips = status.get("podIPs") or []
    ip = ips[0].get("ip") if ips else status.get("podIP")
    gates = (pod.get("spec") or {}).get("readinessGates") or []
    if gates:
        conds = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
        true = sum(1 for g in gates if conds.get(g.get("conditionType")) == "True")
        gates_s = f"{true}/{len(gates)}"
    else:
        gates_s = "<none>"
    return [
        pod["metadata"]["name"],
        f"{ready}/{total}",
        reason,
        restarts_s,
        _age(pod, now),
        ip or "<none>",
        (pod.get("spec") or {}).get("nodeName") or "<none>",
        status.get("nominatedNodeName") or "<none>",
        gates_s,
    ]


_POD_COLS = [
    _NAME,
    _col("Ready", description="The aggregate readiness state of this pod for accepting traffic."),
    _col("Status", description="The aggregate status of the containers in this pod."),
    _col(
        "Restarts",
        description="The number of times the containers in this pod have been "
        "restarted and when the last container in this pod has restarted.",
    ),
    _AGE,
    _col("IP", priority=1, description="podIP address allocated to the pod."),
    _col(
        "Node",
        priority=1,
        description="NodeName is a request to schedule this pod onto a specific node.",
    ),
    _col(
        "Nominated Node",
        priority=1,
        description="nominatedNodeName is set only when this pod preempts other pods on the node.",
    ),
    _col(
        "Readiness Gates",
        priority=1,
        description="If specified, all readiness gates will be evaluated for pod readiness.",
    ),
]


def pod_row_conditions(pod: dict) -> list[dict] | None:
    phase = (pod.get("status") or {}).get("phase")
    if phase == "Succeeded":
        return [
            {
                "type": "Completed",
                "status": "True",
                "reason": "Succeeded",
                "message": "The pod has completed successfully.",
            }
        ]
    if phase == "Failed":
        return [
            {
                "type": "Completed",
                "status": "True",
                "reason": "Failed",
                "message": "The pod failed.",
            }
        ]
    return None


# ---- workloads ----------------------------------------------------------------------


def _deployment(d: dict, now: float) -> Row:
    spec, st = d.get("spec") or {}, d.get("status") or {}
    names, images = _containers(spec.get("template", {}).get("spec") or {})
    return [
        d["metadata"]["name"],
        f"{st.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
        st.get("updatedReplicas", 0),
        st.get("availableReplicas", 0),
        _age(d, now),
        names,
        images,
        selector_string(spec.get("selector")),
    ]


def _replicaset(rs: dict, now: float) -> Row:
    spec, st = rs.get("spec") or {}, rs.get("status") or {}
    names, images = _containers(spec.get("template", {}).get("spec") or {})
    return [
        rs["metadata"]["name"],
        spec.get("replicas", 1),
        st.get("replicas", 0),
        st.get("readyReplicas", 0),
        _age(rs, now),
        names,
        images,
        format_selector(spec.get("selector")),
    ]


def _statefulset(s: dict, now: float) -> Row:
    spec, st = s.get("spec") or {}, s.get("status") or {}
    names, images = _containers(spec.get("template", {}).get("spec") or {})
    return [
        s["metadata"]["name"],
        f"{st.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
        _age(s, now),
        names,
        images,
    ]


def _daemonset(ds: dict, now: float) -> Row:
    spec, st = ds.get("spec") or {}, ds.get("status") or {}
    tspec = spec.get("template", {}).get("spec") or {}
    names, images = _containers(tspec)
    return [
        ds["metadata"]["name"],
        st.get("desiredNumberScheduled", 0),
        st.get("currentNumberScheduled", 0),
        st.get("numberReady", 0),
        st.get("updatedNumberScheduled", 0),
        st.get("numberAvailable", 0),
        _format_labels(tspec.get("nodeSelector")),
        _age(ds, now),
        names,
        images,
        format_selector(spec.get("selector")),
    ]


def _has_condition(obj: dict, typ: str) -> bool:
    return any(
        c.get("type") == typ and c.get("status") == "True"
        for c in (obj.get("status") or {}).get("conditions") or []
    )


def _job(job: dict, now: float) -> Row:
    spec, st = job.get("spec") or {}, job.get("status") or {}
    succeeded = st.get("succeeded", 0)
    if spec.get("completions") is not None:
        completions = f"{succeeded}/{spec['completions']}"
    elif (spec.get("parallelism") or 0) > 1:
        completions = f"{succeeded}/1 of {spec['parallelism']}"
    else:
        completions = f"{succeeded}/1"
    start, end = parse_ts(st.get("startTime")), parse_ts(st.get("completionTime"))
    duration = ""
    if start is not None:
        duration = human_duration((end if end is not None else now) - start)
    if _has_condition(job, "Complete"):
        status = "Complete"
    elif _has_condition(job, "Failed"):
        status = "Failed"
    elif job["metadata"].get("deletionTimestamp"):
        status = "Terminating"
    elif _has_condition(job, "Suspended"):
        status = "Suspended"
    elif _has_condition(job, "FailureTarget"):
        status = "FailureTarget"
    elif _has_condition(job, "SuccessCriteriaMet"):
        status = "SuccessCriteriaMet"
    else:
        status = "Running"
    names, images = _containers(spec.get("template", {}).get("spec") or {})
    return [
        job["metadata"]["name"],
        status,
        completions,
        duration,
        _age(job, now),
        names,
        images,
        format_selector(spec.get("selector")),
    ]


def _cronjob(cj: dict, now: float) -> Row:
    spec, st = cj.get("spec") or {}, cj.get("status") or {}
    last = st.get("lastScheduleTime")
    suspend = spec.get("suspend")
    names, images = _containers(
        spec.get("jobTemplate", {}).get("spec", {}).get("template", {}).get("spec") or {}
    )
    return [
        cj["metadata"]["name"],
        spec.get("schedule", ""),
        spec.get("timeZone") or "<none>",
        "<unset>" if suspend is None else ("True" if suspend else "False"),
        len(st.get("active") or []),
        since(last, now) if last else "<none>",
        _age(cj, now),
        names,
        images,
        format_selector(spec.get("jobTemplate", {}).get("spec", {}).get("selector")),
    ]


def _controllerrevision(cr: dict, now: float) -> Row:
    ref = next(
        (r for r in cr["metadata"].get("ownerReferences") or [] if r.get("controller")), None
    )
    controller = "<none>"
    if ref:
        group = ref.get("apiVersion", "").rpartition("/")[0]
        controller = f"{ref.get('kind', '').lower()}.{group}/{ref.get('name')}"
    return [cr["metadata"]["name"], controller, cr.get("revision", 0), _age(cr, now)]


# ---- networking ---------------------------------------------------------------------


def _service(svc: dict, now: float) -> Row:
    spec = svc.get("spec") or {}
    typ = spec.get("type", "ClusterIP")
    cluster_ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
    internal = cluster_ips[0] if cluster_ips else "<none>"
    external_ips = spec.get("externalIPs") or []
    if typ == "LoadBalancer":
        ingress = ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        lb = [i.get("ip") or i.get("hostname") for i in ingress if i.get("ip") or i.get("hostname")]
        ext = ",".join(lb + external_ips) if (lb or external_ips) else "<pending>"
    elif typ == "ExternalName":
        ext = spec.get("externalName", "")
    else:
        ext = ",".join(external_ips) if external_ips else "<none>"
    pieces = []
    for p in spec.get("ports") or []:
        proto = p.get("protocol", "TCP")
        if p.get("nodePort"):
            pieces.append(f"{p['port']}:{p['nodePort']}/{proto}")
        else:
            pieces.append(f"{p['port']}/{proto}")
    return [
        svc["metadata"]["name"],
        typ,
        internal,
        ext,
        ",".join(pieces) or "<none>",
        _age(svc, now),
        _format_labels(spec.get("selector")),
    ]


def format_endpoints(ep: dict) -> str:
    subsets = ep.get("subsets") or []
    if not subsets:
        return "<none>"
    out: list[str] = []
    count, more, limit = 0, False, 3
    for ss in subsets:
        addrs = ss.get("addresses") or []
        ports = ss.get("ports") or []
        if not ports:
            count += len(addrs)
            for a in addrs:
                if len(out) == limit:
                    more = True
                    break
                out.append(a["ip"])
            continue
        for port in ports:
            count += len(addrs)
            for a in addrs:
                if len(out) == limit:
                    more = True
                    break
                out.append(f"{a['ip']}:{port['port']}")
    text = ",".join(out)
    return f"{text} + {count - limit} more..." if more else text


def _endpoints(ep: dict, now: float) -> Row:
    return [ep["metadata"]["name"], format_endpoints(ep), _age(ep, now)]


def _endpointslice(es: dict, now: float) -> Row:
    ports = es.get("ports")
    if ports is None or not ports:
        ports_s = "<unset>"
    else:
        ports_s = ",".join(str(p.get("port", "<unset>")) for p in ports)
    addrs = [a for e in es.get("endpoints") or [] for a in e.get("addresses") or []]
    if not addrs:
        eps = "<none>"
    elif len(addrs) > 3:
        eps = ",".join(addrs[:3]) + f" + {len(addrs) - 3} more..."
    else:
        eps = ",".join(addrs)
    return [es["metadata"]["name"], es.get("addressType", ""), ports_s, eps, _age(es, now)]


# ---- cluster ------------------------------------------------------------------------


def _node(node: dict, now: float) -> Row:
    st = node.get("status") or {}
    status = []
    for c in st.get("conditions") or []:
        if c.get("type") == "Ready":
            status.append("Ready" if c.get("status") == "True" else "NotReady")
    if not status:
        status = ["Unknown"]
    if (node.get("spec") or {}).get("unschedulable"):
        status.append("SchedulingDisabled")
    roles = sorted(
        k.split("/", 1)[1]
        for k in node["metadata"].get("labels") or {}
        if k.startswith("node-role.kubernetes.io/")
    )
    info = st.get("nodeInfo") or {}
    addrs = st.get("addresses") or []
    internal = next((a["address"] for a in addrs if a.get("type") == "InternalIP"), "<none>")
    external = next((a["address"] for a in addrs if a.get("type") == "ExternalIP"), "<none>")
    return [
        node["metadata"]["name"],
        ",".join(status),
        ",".join(roles) or "<none>",
        _age(node, now),
        info.get("kubeletVersion", ""),
        internal,
        external,
        info.get("osImage") or "<unknown>",
        info.get("kernelVersion") or "<unknown>",
        info.get("containerRuntimeVersion") or "<unknown>",
    ]


def _namespace(ns: dict, now: float) -> Row:
    return [ns["metadata"]["name"], (ns.get("status") or {}).get("phase", "Active"), _age(ns, now)]


def _event(ev: dict, now: float) -> Row:
    first = (
        since(ev.get("firstTimestamp"), now)
        if ev.get("firstTimestamp")
        else since(ev.get("eventTime"), now)
    )
    last = since(ev.get("lastTimestamp"), now) if ev.get("lastTimestamp") else first
    count = ev.get("count") or 0
    series = ev.get("series")
    if series:
        last = since(series.get("lastObservedTime"), now)
        count = series.get("count", count)
    elif count > 1:
        last += f" (x{count} over {first})"
    inv = ev.get("involvedObject") or {}
    target = inv.get("name", "")
    if inv.get("kind"):
        target = f"{inv['kind'].lower()}/{target}"
    src = ev.get("source") or {}
    component = src.get("component") or ev.get("reportingComponent") or ""
    host = src.get("host") or ev.get("reportingInstance") or ""
    source = f"{component}, {host}" if host else component
    return [
        last,
        ev.get("type", ""),
        ev.get("reason", ""),
        target,
        inv.get("fieldPath", ""),
        source,
        (ev.get("message") or "").strip(),
        first,
        count,
        ev["metadata"]["name"],
    ]


def _event_v1(ev: dict, now: float) -> Row:
    """events.k8s.io/v1 Events print like the core ones they are."""
    return _event(
        {
            "metadata": ev["metadata"],
            "involvedObject": ev.get("regarding") or {},
            "message": ev.get("note", ""),
            "reason": ev.get("reason", ""),
            "type": ev.get("type", ""),
            "source": ev.get("deprecatedSource") or {},
            "firstTimestamp": ev.get("deprecatedFirstTimestamp"),
            "lastTimestamp": ev.get("deprecatedLastTimestamp"),
            "count": ev.get("deprecatedCount"),
            "eventTime": ev.get("eventTime"),
            "series": ev.get("series"),
            "reportingComponent": ev.get("reportingController"),
            "reportingInstance": ev.get("reportingInstance"),
        },
        now,
    )


def _configmap(cm: dict, now: float) -> Row:
    return [
        cm["metadata"]["name"],
        len(cm.get("data") or {}) + len(cm.get("binaryData") or {}),
        _age(cm, now),
    ]


def _secret(s: dict, now: float) -> Row:
    return [
        s["metadata"]["name"],
        s.get("type", "Opaque"),
        len(s.get("data") or {}) + len(s.get("stringData") or {}),
        _age(s, now),
    ]


def _serviceaccount(sa: dict, now: float) -> Row:
    return [sa["metadata"]["name"], len(sa.get("secrets") or []), _age(sa, now)]


def _vulnerabilityreport(vr: dict, now: float) -> Row:
    """The CRD's additionalPrinterColumns; a `date` column prints as an age."""
    report = vr.get("report") or {}
    artifact = report.get("artifact") or {}
    counts = report.get("summary") or {}
    return [
        vr["metadata"]["name"],
        artifact.get("repository"),
        artifact.get("tag"),
        (report.get("scanner") or {}).get("name"),
        _age(vr, now),
        *(counts.get(f"{s}Count") for s in ("critical", "high", "medium", "low", "unknown")),
    ]


def _default(obj: dict, now: float) -> Row:
    return [obj["metadata"]["name"], obj["metadata"].get("creationTimestamp", "")]


_TEMPLATE_COLS = [
    _col("Containers", priority=1, description="Names of each container in the template."),
    _col("Images", priority=1, description="Images referenced by each container in the template."),
]
_SELECTOR = _col("Selector", priority=1, description="A label query over pods.")

# Both event APIs print the same columns (kubectl's event printer).
_EVENT_COLUMNS = [
    _col("Last Seen"),
    _col("Type"),
    _col("Reason"),
    _col("Object"),
    _col("Subobject", priority=1),
    _col("Source", priority=1),
    _col("Message"),
    _col("First Seen", priority=1),
    _col("Count", priority=1),
    dict(_NAME, priority=1),
]

PRINTERS: dict[str, tuple[list[dict], Printer]] = {
    "pods": (_POD_COLS, _pod),
    "deployments.apps": (
        [
            _NAME,
            _col("Ready"),
            _col("Up-to-date", "integer"),
            _col("Available", "integer"),
            _AGE,
            *_TEMPLATE_COLS,
            _SELECTOR,
        ],
        _deployment,
    ),
    "replicasets.apps": (
        [
            _NAME,
            _col("Desired", "integer"),
            _col("Current", "integer"),
            _col("Ready", "integer"),
            _AGE,
            *_TEMPLATE_COLS,
            _SELECTOR,
        ],
        _replicaset,
    ),
    "statefulsets.apps": ([_NAME, _col("Ready"), _AGE, *_TEMPLATE_COLS], _statefulset),
    "daemonsets.apps": (
        [
            _NAME,
            _col("Desired", "integer"),
            _col("Current", "integer"),
            _col("Ready", "integer"),
            _col("Up-to-date", "integer"),
            _col("Available", "integer"),
            _col("Node Selector"),
            _AGE,
            *_TEMPLATE_COLS,
            _SELECTOR,
        ],
        _daemonset,
    ),
    "controllerrevisions.apps": (
        [_NAME, _col("Controller"), _col("Revision", "integer"), _AGE],
        _controllerrevision,
    ),
    "jobs.batch": (
        [
            _NAME,
            _col("Status"),
            _col("Completions"),
            _col("Duration"),
            _AGE,
            *_TEMPLATE_COLS,
            _SELECTOR,
        ],
        _job,
    ),
    "cronjobs.batch": (
        [
            _NAME,
            _col("Schedule"),
            _col("Timezone"),
            _col("Suspend", "boolean"),
            _col("Active", "integer"),
            _col("Last Schedule"),
            _AGE,
            *_TEMPLATE_COLS,
            _SELECTOR,
        ],
        _cronjob,
    ),
    "services": (
        [
            _NAME,
            _col("Type"),
            _col("Cluster-IP"),
            _col("External-IP"),
            _col("Port(s)"),
            _AGE,
            _SELECTOR,
        ],
        _service,
    ),
    "endpoints": ([_NAME, _col("Endpoints"), _AGE], _endpoints),
    "endpointslices.discovery.k8s.io": (
        [_NAME, _col("AddressType"), _col("Ports"), _col("Endpoints"), _AGE],
        _endpointslice,
    ),
    "nodes": (
        [
            _NAME,
            _col("Status"),
            _col("Roles"),
            _AGE,
            _col("Version"),
            _col("Internal-IP", priority=1),
            _col("External-IP", priority=1),
            _col("OS-Image", priority=1),
            _col("Kernel-Version", priority=1),
            _col("Container-Runtime", priority=1),
        ],
        _node,
    ),
    "namespaces": ([_NAME, _col("Status"), _AGE], _namespace),
    "events": (_EVENT_COLUMNS, _event),
    "events.events.k8s.io": (_EVENT_COLUMNS, _event_v1),
    "configmaps": ([_NAME, _col("Data", "integer"), _AGE], _configmap),
    "secrets": ([_NAME, _col("Type"), _col("Data", "integer"), _AGE], _secret),
    "serviceaccounts": ([_NAME, _col("Secrets", "integer"), _AGE], _serviceaccount),
    "vulnerabilityreports.aquasecurity.github.io": (
        [
            _NAME,
            _col("Repository", description="The name of image repository"),
            _col("Tag", description="The name of image tag"),
            _col("Scanner", description="The name of the vulnerability scanner"),
            _col("Age", "date", description="The age of the report"),
            *(
                _col(s, "integer", 1, f"The number of {s.lower()} vulnerabilities")
                for s in ("Critical", "High", "Medium", "Low", "Unknown")
            ),
        ],
        _vulnerabilityreport,
    ),
}
_DEFAULT = (
    [
        _NAME,
        {"name": "Created At", "type": "date", "format": "", "description": "CreationTimestamp"},
    ],
    _default,
)


def partial_metadata(obj: dict) -> dict:
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj["metadata"],
    }


def table(
    key: str,
    objs: list[dict],
    now: float,
    include_object: str = "Metadata",
    list_meta: dict | None = None,
    with_columns: bool = True,
) -> dict:
    """A meta.k8s.io/v1 Table of `objs` (full objects with kind/apiVersion)."""
    cols, printer = PRINTERS.get(key, _DEFAULT)
    rows = []
    for obj in objs:
        row: dict[str, Any] = {"cells": printer(obj, now)}
        if key == "pods":
            conds = pod_row_conditions(obj)
            if conds:
                row["conditions"] = conds
        if include_object == "Object":
            row["object"] = obj
        elif include_object != "None":
            row["object"] = partial_metadata(obj)
        rows.append(row)
    out: dict[str, Any] = {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta or {},
    }
    if with_columns:
        out["columnDefinitions"] = cols
    out["rows"] = rows
    return out
