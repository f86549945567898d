"""What the apiserver adds to and checks on an object before storing it: defaulting
(the fields `kubectl get -o yaml` shows that nobody wrote) and a little validation."""

from __future__ import annotations

import re
from typing import Any

from cockpit.sim.errors import invalid
from cockpit.sim.objects import parse_quantity
from cockpit.sim.selectors import selector_matches

_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")

JOB_LABELS = (
    "batch.kubernetes.io/controller-uid",
    "batch.kubernetes.io/job-name",
    "controller-uid",
    "job-name",
)


def prune(value: Any) -> Any:
    """Drop nulls and empty maps/lists: how two templates compare once a Go client has
    round-tripped one of them (kubectl rollout undo sends `creationTimestamp: null`)."""
    if isinstance(value, dict):
        out = {k: prune(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, {}, [])}
    if isinstance(value, list):
        return [prune(v) for v in value]
    return value


def strip_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [strip_nulls(v) for v in value]
    return value


def _pull_policy(image: str) -> str:
    tail = image.rsplit("/", 1)[-1]
    if "@" in tail:
        return "IfNotPresent"
    if ":" not in tail or tail.endswith(":latest"):
        return "Always"
    return "IfNotPresent"


def default_container(c: dict) -> dict:
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    c.setdefault("imagePullPolicy", _pull_policy(c.get("image", "")))
    c.setdefault("resources", {})
    for p in c.get("ports") or []:
        p.setdefault("protocol", "TCP")
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        pr = c.get(probe)
        if isinstance(pr, dict):
            pr.setdefault("timeoutSeconds", 1)
            pr.setdefault("periodSeconds", 10)
            pr.setdefault("successThreshold", 1)
            pr.setdefault("failureThreshold", 3)
            if isinstance(pr.get("httpGet"), dict):
                pr["httpGet"].setdefault("scheme", "HTTP")
    return c


def default_pod_spec(spec: dict, *, template: bool = False) -> dict:
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    for c in spec.get("containers") or []:
        default_container(c)
    for c in spec.get("initContainers") or []:
        default_container(c)
    if not template:
        spec.setdefault("serviceAccountName", "default")
        spec.setdefault("serviceAccount", spec["serviceAccountName"])
        spec.setdefault("enableServiceLinks", True)
        spec.setdefault("priority", 0)
        spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
        spec.setdefault(
            "tolerations",
            [
                {
                    "key": "node.kubernetes.io/not-ready",
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": 300,
                },
                {
                    "key": "node.kubernetes.io/unreachable",
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": 300,
                },
            ],
        )
    return spec


def qos_class(spec: dict) -> str:
    containers = spec.get("containers") or []
    any_set, guaranteed = False, True
    for c in containers:
        res = c.get("resources") or {}
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        if req or lim:
            any_set = True
        for r in ("cpu", "memory"):
            limit = lim.get(r)
            request = req.get(r, limit)
            if limit is None or parse_quantity(request) != parse_quantity(limit):
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def _template(obj: dict) -> dict:
    tpl = obj.setdefault("spec", {}).setdefault("template", {})
    tpl.setdefault("metadata", {})
    tpl["metadata"].pop("creationTimestamp", None)
    default_pod_spec(tpl.setdefault("spec", {}), template=True)
    return tpl


def _check_name(kind: str, group: str, obj: dict) -> None:
    name = obj["metadata"].get("name", "")
    if not name:
        raise invalid(
            kind,
            group,
            "",
            "metadata.name",
            "Required value: name or generateName is required",
            "FieldValueRequired",
        )
    if len(name) > 253 or not _NAME.match(name):
        raise invalid(
            kind,
            group,
            name,
            "metadata.name",
            f'Invalid value: "{name}": a '
            "lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
            "characters, '-' or '.', and must start and end with an alphanumeric "
            "character",
        )


def _check_selector(kind: str, group: str, obj: dict) -> None:
    name = obj["metadata"]["name"]
    spec = obj.get("spec") or {}
    sel = spec.get("selector")
    if not sel:
        raise invalid(kind, group, name, "spec.selector", "Required value", "FieldValueRequired")
    tlabels = (spec.get("template", {}).get("metadata") or {}).get("labels") or {}
    if not selector_matches(sel, tlabels):
        shown = ", ".join(f'"{k}":"{v}"' for k, v in tlabels.items())
        raise invalid(
            kind,
            group,
            name,
            "spec.template.metadata.labels",
            f"Invalid value: map[string]string{{{shown}}}: `selector` does not "
            "match template `labels`",
        )


def _check_containers(kind: str, group: str, name: str, spec: dict, path: str) -> None:
    containers = spec.get("containers") or []
    if not containers:
        raise invalid(
            kind, group, name, f"{path}.containers", "Required value", "FieldValueRequired"
        )
    for i, c in enumerate(containers):
        if not c.get("name"):
            raise invalid(
                kind,
                group,
                name,
                f"{path}.containers[{i}].name",
                "Required value",
                "FieldValueRequired",
            )
        if not c.get("image"):
            raise invalid(
                kind,
                group,
                name,
                f"{path}.containers[{i}].image",
                "Required value",
                "FieldValueRequired",
            )


def prepare_create(key: str, obj: dict, uid: str) -> dict:
    """Default and validate an object about to be created; `uid` is the one it will get
    (jobs label their pods with it)."""
    kind = obj.get("kind", "")
    group = obj.get("apiVersion", "").rpartition("/")[0]
    _check_name(kind, group, obj)
    spec = obj.setdefault("spec", {}) if key not in _NO_SPEC else None
    name = obj["metadata"]["name"]
    if key == "pods":
        _check_containers(kind, group, name, spec, "spec")
        default_pod_spec(spec)
        obj["status"] = {"phase": "Pending", "qosClass": qos_class(spec)}
    elif key == "deployments.apps":
        spec.setdefault("replicas", 1)
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("progressDeadlineSeconds", 600)
        strategy = spec.setdefault("strategy", {})
        strategy.setdefault("type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            ru = strategy.setdefault("rollingUpdate", {})
            ru.setdefault("maxSurge", "25%")
            ru.setdefault("maxUnavailable", "25%")
        _template(obj)
        _check_selector(kind, group, obj)
        _check_containers(kind, group, name, spec["template"]["spec"], "spec.template.spec")
        obj["status"] = {}
    elif key == "replicasets.apps":
        spec.setdefault("replicas", 1)
        _template(obj)
        _check_selector(kind, group, obj)
        obj["status"] = {"replicas": 0}
    elif key == "statefulsets.apps":
        spec.setdefault("replicas", 1)
        spec.setdefault("podManagementPolicy", "OrderedReady")
        spec.setdefault("revisionHistoryLimit", 10)
        us = spec.setdefault("updateStrategy", {"type": "RollingUpdate"})
        if us.get("type") == "RollingUpdate":
            us.setdefault("rollingUpdate", {"partition": 0})
        spec.setdefault(
            "persistentVolumeClaimRetentionPolicy",
            {"whenDeleted": "Retain", "whenScaled": "Retain"},
        )
        _template(obj)
        _check_selector(kind, group, obj)
        obj["status"] = {"replicas": 0, "availableReplicas": 0}
    elif key == "jobs.batch":
        default_job_spec(spec, name, uid)
        _check_containers(kind, group, name, spec["template"]["spec"], "spec.template.spec")
        if spec["template"]["spec"].get("restartPolicy") not in ("OnFailure", "Never"):
            raise invalid(
                kind,
                group,
                name,
                "spec.template.spec.restartPolicy",
                'Required value: valid values: "OnFailure", "Never"',
                "FieldValueRequired",
            )
        obj["status"] = {}
    elif key == "cronjobs.batch":
        spec.setdefault("concurrencyPolicy", "Allow")
        spec.setdefault("suspend", False)
        spec.setdefault("successfulJobsHistoryLimit", 3)
        spec.setdefault("failedJobsHistoryLimit", 1)
        if not spec.get("schedule"):
            raise invalid(
                kind, group, name, "spec.schedule", "Required value", "FieldValueRequired"
            )
        jt = spec.setdefault("jobTemplate", {}).setdefault("spec", {})
        jt.setdefault("template", {}).setdefault("metadata", {})
        jt["template"]["metadata"].pop("creationTimestamp", None)
        default_pod_spec(jt["template"].setdefault("spec", {}), template=True)
        obj["status"] = {}
    elif key == "services":
        default_service(spec)
        obj["status"] = {"loadBalancer": {}}
    elif key == "namespaces":
        spec.setdefault("finalizers", ["kubernetes"])
        obj["status"] = {"phase": "Active"}
    return obj


_NO_SPEC = {
    "configmaps",
    "secrets",
    "events",
    "endpoints",
    "serviceaccounts",
    "endpointslices.discovery.k8s.io",
    "controllerrevisions.apps",
}


def default_job_spec(spec: dict, name: str, uid: str) -> dict:
    spec.setdefault("parallelism", 1)
    spec.setdefault("completions", 1)
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    spec.setdefault("podReplacementPolicy", "TerminatingOrFailed")
    tpl = spec.setdefault("template", {})
    tmeta = tpl.setdefault("metadata", {})
    tmeta.pop("creationTimestamp", None)
    lbls = tmeta.setdefault("labels", {})
    if not spec.get("manualSelector"):
        lbls.update(
            {
                "batch.kubernetes.io/controller-uid": uid,
                "batch.kubernetes.io/job-name": name,
                "controller-uid": uid,
                "job-name": name,
            }
        )
        spec["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    default_pod_spec(tpl.setdefault("spec", {}), template=True)
    return spec


def default_service(spec: dict) -> dict:
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    spec.setdefault("ipFamilies", ["IPv4"])
    spec.setdefault("ipFamilyPolicy", "SingleStack")
    spec.setdefault("internalTrafficPolicy", "Cluster")
    for p in spec.get("ports") or []:
        p.setdefault("protocol", "TCP")
        p.setdefault("targetPort", p.get("port"))
    if spec["type"] in ("LoadBalancer", "NodePort"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    if spec["type"] == "LoadBalancer":
        spec.setdefault("allocateLoadBalancerNodePorts", True)
    return spec
