"""The resource types the simulated API server knows, as discovery describes them."""

from __future__ import annotations

from dataclasses import dataclass

_RW = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
_RO = ("get", "list")


@dataclass(frozen=True, slots=True)
class Sub:
    name: str
    kind: str
    verbs: tuple[str, ...]
    group: str | None = None  # set when the subresource speaks another group's kind
    version: str | None = None


@dataclass(frozen=True, slots=True)
class Kind:
    group: str
    version: str
    plural: str
    singular: str
    kind: str
    namespaced: bool = True
    verbs: tuple[str, ...] = _RW
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[Sub, ...] = ()
    stored: bool = True  # False: computed on request (metrics, reviews)
    workload: bool = False  # spec changes bump metadata.generation

    @property
    def key(self) -> str:
        """The store's key: the plural, qualified by group (metrics has its own pods)."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_version(self) -> str:
        return self.api_version

    def sub(self, name: str) -> Sub | None:
        return next((s for s in self.subresources if s.name == name), None)


_STATUS = lambda kind: Sub("status", kind, ("get", "patch", "update"))  # noqa: E731
_SCALE = Sub("scale", "Scale", ("get", "patch", "update"), "autoscaling", "v1")

KINDS: tuple[Kind, ...] = (
    Kind(
        "",
        "v1",
        "namespaces",
        "namespace",
        "Namespace",
        namespaced=False,
        verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
        short_names=("ns",),
        subresources=(_STATUS("Namespace"),),
    ),
    Kind(
        "",
        "v1",
        "nodes",
        "node",
        "Node",
        namespaced=False,
        short_names=("no",),
        subresources=(_STATUS("Node"),),
    ),
    Kind(
        "",
        "v1",
        "pods",
        "pod",
        "Pod",
        short_names=("po",),
        categories=("all",),
        subresources=(
            _STATUS("Pod"),
            Sub("log", "Pod", ("get",)),
            Sub("exec", "PodExecOptions", ("create", "get")),
            Sub("eviction", "Eviction", ("create",), "policy", "v1"),
        ),
    ),
    Kind(
        "",
        "v1",
        "services",
        "service",
        "Service",
        short_names=("svc",),
        categories=("all",),
        verbs=("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"),
        subresources=(_STATUS("Service"),),
    ),
    Kind("", "v1", "endpoints", "endpoints", "Endpoints", short_names=("ep",)),
    Kind("", "v1", "events", "event", "Event", short_names=("ev",)),
    Kind("", "v1", "configmaps", "configmap", "ConfigMap", short_names=("cm",)),
    Kind("", "v1", "secrets", "secret", "Secret"),
    Kind("", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", short_names=("sa",)),
    Kind(
        "apps",
        "v1",
        "deployments",
        "deployment",
        "Deployment",
        short_names=("deploy",),
        categories=("all",),
        workload=True,
        subresources=(_STATUS("Deployment"), _SCALE),
    ),
    Kind(
        "apps",
        "v1",
        "replicasets",
        "replicaset",
        "ReplicaSet",
        short_names=("rs",),
        categories=("all",),
        workload=True,
        subresources=(_STATUS("ReplicaSet"), _SCALE),
    ),
    Kind(
        "apps",
        "v1",
        "statefulsets",
        "statefulset",
        "StatefulSet",
        short_names=("sts",),
        categories=("all",),
        workload=True,
        subresources=(_STATUS("StatefulSet"), _SCALE),
    ),
    Kind(
        "apps",
        "v1",
        "daemonsets",
        "daemonset",
        "DaemonSet",
        short_names=("ds",),
        categories=("all",),
        workload=True,
        subresources=(_STATUS("DaemonSet"),),
    ),
    Kind("apps", "v1", "controllerrevisions", "controllerrevision", "ControllerRevision"),
    Kind(
        "batch",
        "v1",
        "jobs",
        "job",
        "Job",
        categories=("all",),
        workload=True,
        subresources=(_STATUS("Job"),),
    ),
    Kind(
        "batch",
        "v1",
        "cronjobs",
        "cronjob",
        "CronJob",
        short_names=("cj",),
        categories=("all",),
        workload=True,
        subresources=(_STATUS("CronJob"),),
    ),
    Kind("discovery.k8s.io", "v1", "endpointslices", "endpointslice", "EndpointSlice"),
    Kind(
        "events.k8s.io",
        "v1",
        "events",
        "event",
        "Event",
        short_names=("ev",),
        verbs=("get", "list", "watch"),
        stored=False,
    ),  # a view of the core events
    Kind("metrics.k8s.io", "v1beta1", "pods", "", "PodMetrics", verbs=_RO, stored=False),
    Kind(
        "metrics.k8s.io",
        "v1beta1",
        "nodes",
        "",
        "NodeMetrics",
        namespaced=False,
        verbs=_RO,
        stored=False,
    ),
    # Trivy Operator's CRD, installed in the simulated cluster with reports already made.
    Kind(
        "aquasecurity.github.io",
        "v1alpha1",
        "vulnerabilityreports",
        "vulnerabilityreport",
        "VulnerabilityReport",
        short_names=("vuln", "vulns"),
    ),
    Kind(
        "authorization.k8s.io",
        "v1",
        "selfsubjectaccessreviews",
        "",
        "SelfSubjectAccessReview",
        namespaced=False,
        verbs=("create",),
        stored=False,
    ),
    Kind(
        "authorization.k8s.io",
        "v1",
        "selfsubjectrulesreviews",
        "",
        "SelfSubjectRulesReview",
        namespaced=False,
        verbs=("create",),
        stored=False,
    ),
    Kind(
        "authentication.k8s.io",
        "v1",
        "selfsubjectreviews",
        "",
        "SelfSubjectReview",
        namespaced=False,
        verbs=("create",),
        stored=False,
    ),
)

BY_KEY: dict[str, Kind] = {k.key: k for k in KINDS}
BY_GV_PLURAL: dict[tuple[str, str, str], Kind] = {(k.group, k.version, k.plural): k for k in KINDS}
BY_KIND: dict[str, Kind] = {k.kind: k for k in KINDS if k.stored}


def group_versions() -> dict[str, list[str]]:
    """group -> versions, in the order they first appear (core group is "")."""
    out: dict[str, list[str]] = {}
    for k in KINDS:
        versions = out.setdefault(k.group, [])
        if k.version not in versions:
            versions.append(k.version)
    return out
