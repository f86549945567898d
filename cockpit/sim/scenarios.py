"""The Excel Unified topology the simulator starts with, per scenario.

`healthy`: everything up, some history.  `incident`: a crash-looping rails pod, an
OOMKilled fastapi pod, Redis near maxmemory (see metrics.py), last night's backup job
failed (and new ones fail too), the warning events that go with it.  `large`: the same
plus enough extra deployments for `large_size` pods in the namespace, all Running.

Objects are written straight into the store with past timestamps, already in the
state the controllers would have brought them to, so that the cluster looks like it
has been running for months.
"""

from __future__ import annotations

import base64
import json
import math
from typing import TYPE_CHECKING, Any

from cockpit.sim import cron
from cockpit.sim import events as ev
from cockpit.sim.defaults import default_job_spec, default_pod_spec, default_service, qos_class
from cockpit.sim.deployments import DESIRED, HASH, MAX_REPLICAS, REVISION, template_key
from cockpit.sim.kubelet import BEHAVIOUR
from cockpit.sim.objects import clone, new_uid, owner_ref, suffix, template_hash, ts
from cockpit.sim.statefulsets import REVISION_LABEL, revision_name
from cockpit.sim.vulns import REPORTS
from cockpit.sim.vulns import reports as vulnerability_reports

if TYPE_CHECKING:
    from cockpit.sim.controller import Controller

NAMESPACE = "excel-unified"
SCENARIOS = ("healthy", "incident", "large")
HOUR = 3600.0
DAY = 24 * HOUR

SECRET = "excel-unified-secrets"
BACKUP_SCRIPT = """DATE=$(date +%Y%m%d_%H%M%S)
pg_dump -h postgres-service -U excel_user excel_unified > /backup/backup_$DATE.sql
# S3 업로드 (AWS CLI 필요)
aws s3 cp /backup/backup_$DATE.sql s3://excel-unified-backups/
# 30일 이상 된 백업 삭제
find /backup -name "backup_*.sql" -mtime +30 -delete
"""


def _res(cpu_req: str, mem_req: str, cpu_lim: str, mem_lim: str) -> dict:
    return {
        "requests": {"cpu": cpu_req, "memory": mem_req},
        "limits": {"cpu": cpu_lim, "memory": mem_lim},
    }


def _secret_env(name: str, key: str) -> dict:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": SECRET, "key": key}}}


def _http_probe(path: str, port: int, delay: int = 10) -> dict:
    return {
        "httpGet": {"path": path, "port": port},
        "initialDelaySeconds": delay,
        "periodSeconds": 10,
    }


def _template(
    app: str, containers: list[dict], annotations: dict | None = None, extra: dict | None = None
) -> dict:
    meta: dict[str, Any] = {"labels": {"app": app}}
    if annotations:
        meta["annotations"] = annotations
    spec: dict[str, Any] = {"containers": containers}
    spec.update(extra or {})
    default_pod_spec(spec, template=True)
    return {"metadata": meta, "spec": spec}


def rails_containers(tag: str, threads: str) -> list[dict]:
    return [
        {
            "name": "rails",
            "image": f"excel-unified/rails:{tag}",
            "ports": [{"name": "http", "containerPort": 3000}],
            "env": [
                {"name": "RAILS_ENV", "value": "production"},
                {"name": "RAILS_MAX_THREADS", "value": threads},
                {"name": "WEB_CONCURRENCY", "value": "4"},
                {"name": "DATABASE_HOST", "value": "postgres-service"},
                {"name": "REDIS_URL", "value": "redis://redis-service:6379/0"},
                _secret_env("DATABASE_PASSWORD", "db-password"),
                _secret_env("SECRET_KEY_BASE", "secret-key-base"),
            ],
            "resources": _res("500m", "1Gi", "1", "2Gi"),
            "readinessProbe": _http_probe("/health", 3000),
            "livenessProbe": _http_probe("/health", 3000, 30),
            "volumeMounts": [
                {"name": "uploads", "mountPath": "/app/uploads"},
                {"name": "logs", "mountPath": "/app/logs"},
            ],
        }
    ]


def fastapi_containers(tag: str, batch: str) -> list[dict]:
    return [
        {
            "name": "fastapi",
            "image": f"excel-unified/fastapi:{tag}",
            "ports": [{"name": "http", "containerPort": 8000}],
            "env": [
                {"name": "WORKERS", "value": "4"},
                {"name": "MODEL_BATCH_SIZE", "value": batch},
                {"name": "REDIS_URL", "value": "redis://redis-service:6379/1"},
                _secret_env("OPENAI_API_KEY", "openai-api-key"),
            ],
            "resources": _res("500m", "1Gi", "2", "2Gi"),
            "readinessProbe": _http_probe("/health", 8000),
            "livenessProbe": _http_probe("/health", 8000, 30),
        }
    ]


_VOLUMES = [{"name": "uploads", "emptyDir": {}}, {"name": "logs", "emptyDir": {}}]


def _deployments() -> list[dict]:
    """name, replicas, history of (template, age of the revision in seconds)."""
    sidekiq = [
        {
            "name": "sidekiq",
            "image": "excel-unified/rails:v2.14.1",
            "command": ["bundle", "exec", "sidekiq", "-C", "config/sidekiq.yml"],
            "env": [
                {"name": "RAILS_ENV", "value": "production"},
                {"name": "REDIS_URL", "value": "redis://redis-service:6379/0"},
                _secret_env("DATABASE_PASSWORD", "db-password"),
            ],
            "resources": _res("250m", "512Mi", "1", "1Gi"),
        }
    ]
    nginx = [
        {
            "name": "nginx",
            "image": "nginx:1.25.4-alpine",
            "ports": [
                {"name": "http", "containerPort": 80},
                {"name": "https", "containerPort": 443},
            ],
            "resources": _res("100m", "128Mi", "500m", "256Mi"),
            "readinessProbe": _http_probe("/healthz", 80, 5),
        }
    ]
    vols = {"volumes": _VOLUMES}
    return [
        {
            "name": "rails",
            "replicas": 3,
            "history": [
                (_template("rails", rails_containers("v2.13.0", "5"), extra=vols), 30 * DAY),
                (_template("rails", rails_containers("v2.14.0", "5"), extra=vols), 9 * DAY),
                (_template("rails", rails_containers("v2.14.1", "8"), extra=vols), 5 * HOUR + 700),
            ],
        },
        {
            "name": "fastapi",
            "replicas": 2,
            "history": [
                (_template("fastapi", fastapi_containers("v1.8.2", "16")), 21 * DAY),
                (_template("fastapi", fastapi_containers("v1.9.0", "32")), 2 * DAY + 3 * HOUR),
            ],
        },
        {
            "name": "sidekiq",
            "replicas": 2,
            "history": [
                (_template("sidekiq", sidekiq), 5 * HOUR + 650),
            ],
        },
        {
            "name": "nginx",
            "replicas": 2,
            "history": [
                (_template("nginx", nginx), 44 * DAY),
            ],
        },
    ]


class Seeder:
    def __init__(self, ctl: Controller, scenario: str, large_size: int) -> None:
        if scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {scenario!r}; choose from {', '.join(SCENARIOS)}")
        self.ctl = ctl
        self.store = ctl.store
        self.scenario = scenario
        self.large_size = large_size
        self.now = ctl.clock()
        self.rng = ctl.rng
        self.nodes: list[dict] = []
        self.broken: dict[str, dict] = {}  # behaviour -> pod
        self._specs: dict[int, dict] = {}
        self._pods_made = 0

    # ---- plumbing -------------------------------------------------------------------

    def put(self, key: str, obj: dict, created: float, uid: str | None = None) -> dict:
        m = obj["metadata"]
        m["uid"] = uid or new_uid()
        m["creationTimestamp"] = ts(created)
        return self.store.create(key, obj)

    def record(
        self,
        obj: dict,
        type_: str,
        reason: str,
        message: str,
        component: str,
        ago: float,
        first_ago: float | None = None,
        count: int = 1,
        host: str | None = None,
        field_path: str | None = None,
    ) -> None:
        self.ctl.recorder.record(
            obj,
            type_,
            reason,
            message,
            component,
            host,
            field_path,
            at=self.now - ago,
            first=self.now - (first_ago if first_ago is not None else ago),
            count=count,
        )

    # ---- the cluster ----------------------------------------------------------------

    def run(self) -> None:
        for ns in ("default", "kube-system", "kube-public", "kube-node-lease", NAMESPACE):
            self.put(
                "namespaces",
                {
                    "apiVersion": "v1",
                    "kind": "Namespace",
                    "metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns}},
                    "spec": {"finalizers": ["kubernetes"]},
                    "status": {"phase": "Active"},
                },
                self.now - (400 * DAY if ns != NAMESPACE else 120 * DAY),
            )
            self.put(
                "serviceaccounts",
                {
                    "apiVersion": "v1",
                    "kind": "ServiceAccount",
                    "metadata": {"name": "default", "namespace": ns},
                },
                self.now - 120 * DAY,
            )
            self.put(
                "configmaps",
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": "kube-root-ca.crt", "namespace": ns},
                    "data": {
                        "ca.crt": "-----BEGIN CERTIFICATE-----\n(simulated)\n"
                        "-----END CERTIFICATE-----\n"
                    },
                },
                self.now - 120 * DAY,
            )
        n_nodes = 3
        if self.scenario == "large":
            n_nodes = max(3, math.ceil(self.large_size / 100))
        for i in range(n_nodes):
            self.nodes.append(self._node(i))
        self._service(
            "default",
            "kubernetes",
            None,
            [{"name": "https", "port": 443, "targetPort": 443}],
            "10.100.0.1",
            labels={"component": "apiserver", "provider": "kubernetes"},
        )
        self._config()
        for spec in _deployments():
            self._deployment(spec["name"], spec["replicas"], spec["history"])
        self._vulnerability_reports()
        self._statefulsets()
        self._backup_pod()
        self._services()
        self._cronjob()
        if self.scenario == "incident":
            self._break()
        else:
            self._calm_events()
        if self.scenario == "large":
            self._large()

    def _node(self, i: int) -> dict:
        zone = "abc"[i % 3]
        ip = f"10.0.{1 + i // 250}.{21 + i % 250}"
        name = f"ip-{ip.replace('.', '-')}.ap-northeast-2.compute.internal"
        created = self.now - 30 * DAY + i * 97
        cond = [
            (
                "MemoryPressure",
                "False",
                "KubeletHasSufficientMemory",
                "kubelet has sufficient memory available",
            ),
            ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            (
                "PIDPressure",
                "False",
                "KubeletHasSufficientPID",
                "kubelet has sufficient PID available",
            ),
            ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
        ]
        pods = "110" if self.scenario != "large" else "250"
        return self.put(
            "nodes",
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {
                    "name": name,
                    "labels": {
                        "beta.kubernetes.io/arch": "amd64",
                        "beta.kubernetes.io/os": "linux",
                        "kubernetes.io/arch": "amd64",
                        "kubernetes.io/os": "linux",
                        "kubernetes.io/hostname": name,
                        "node.kubernetes.io/instance-type": "m6i.2xlarge",
                        "topology.kubernetes.io/region": "ap-northeast-2",
                        "topology.kubernetes.io/zone": f"ap-northeast-2{zone}",
                        "eks.amazonaws.com/nodegroup": "excel-unified-ng",
                    },
                    "annotations": {"node.alpha.kubernetes.io/ttl": "0"},
                },
                "spec": {
                    "podCIDR": f"10.244.{i}.0/24",
                    "podCIDRs": [f"10.244.{i}.0/24"],
                    "providerID": f"aws:///ap-northeast-2{zone}/i-0{i:03x}5c3d9e7f1a2b4",
                },
                "status": {
                    "capacity": {
                        "cpu": "8",
                        "memory": "32386524Ki",
                        "pods": pods,
                        "ephemeral-storage": "104845292Ki",
                        "hugepages-1Gi": "0",
                        "hugepages-2Mi": "0",
                    },
                    "allocatable": {
                        "cpu": "7910m",
                        "memory": "31369692Ki",
                        "pods": pods,
                        "ephemeral-storage": "95551679496",
                        "hugepages-1Gi": "0",
                        "hugepages-2Mi": "0",
                    },
                    "conditions": [
                        {
                            "type": t,
                            "status": s,
                            "reason": r,
                            "message": msg,
                            "lastHeartbeatTime": ts(self.now - 20),
                            "lastTransitionTime": ts(created + 30),
                        }
                        for t, s, r, msg in cond
                    ],
                    "addresses": [
                        {"type": "InternalIP", "address": ip},
                        {"type": "InternalDNS", "address": name},
                        {"type": "Hostname", "address": name},
                    ],
                    "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                    "nodeInfo": {
                        "machineID": f"ec2{i:029x}",
                        "systemUUID": f"ec2{i:05x}-0000-0000-0000-000000000000",
                        "bootID": new_uid(),
                        "kernelVersion": "6.1.128-136.201.amzn2023.x86_64",
                        "osImage": "Amazon Linux 2023.6.20250218",
                        "containerRuntimeVersion": "containerd://1.7.25",
                        "kubeletVersion": "v1.32.1-eks-5d632ec",
                        "kubeProxyVersion": "v1.32.1-eks-5d632ec",
                        "operatingSystem": "linux",
                        "architecture": "amd64",
                    },
                },
            },
            created,
        )

    def _config(self) -> None:
        masked = base64.b64encode(b"sim-not-a-secret").decode()
        self.put(
            "secrets",
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "type": "Opaque",
                "metadata": {"name": SECRET, "namespace": NAMESPACE},
                "data": {
                    k: masked
                    for k in (
                        "db-password",
                        "redis-password",
                        "secret-key-base",
                        "openai-api-key",
                        "aws-access-key-id",
                        "aws-secret-access-key",
                    )
                },
            },
            self.now - 120 * DAY,
        )
        self.put(
            "configmaps",
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "excel-unified-config", "namespace": NAMESPACE},
                "data": {
                    "RAILS_ENV": "production",
                    "LOG_LEVEL": "info",
                    "S3_BACKUP_BUCKET": "excel-unified-backups",
                },
            },
            self.now - 120 * DAY,
        )

    # ---- pods -----------------------------------------------------------------------

    def pod(
        self,
        name: str,
        template: dict,
        owner: dict | None,
        created: float,
        extra_labels: dict | None = None,
        spec_extra: dict | None = None,
        share_spec: bool = False,
    ) -> dict:
        self._pods_made += 1
        node = self.nodes[(self._pods_made * 7 + 3) % len(self.nodes)]
        ip = self.ctl.kubelet.allocate_ip(node)
        host_ip = node["status"]["addresses"][0]["address"]
        if share_spec:
            # Thousands of identical pods: share one defaulted spec's innards (stored
            # objects are never mutated in place, so sharing is safe).
            base = self._specs.get(id(template))
            if base is None:
                base = default_pod_spec(clone(template["spec"]))
                self._specs[id(template)] = base
            spec = dict(base)
        else:
            spec = default_pod_spec(clone(template["spec"]))
            spec.update(spec_extra or {})
        spec["nodeName"] = node["metadata"]["name"]
        meta: dict[str, Any] = {
            "name": name,
            "namespace": NAMESPACE,
            "labels": dict(template["metadata"].get("labels") or {}),
        }
        meta["labels"].update(extra_labels or {})
        if template["metadata"].get("annotations"):
            meta["annotations"] = dict(template["metadata"]["annotations"])
        if owner is not None:
            meta["ownerReferences"] = [owner_ref(owner)]
        started = created + 4 + self.rng.random() * 6
        ready_at = started + 8
        cstatus = []
        for c in spec["containers"]:
            image = c["image"]
            cstatus.append(
                {
                    "name": c["name"],
                    "image": image,
                    "imageID": f"{image.split(':')[0]}@sha256:{self.rng.getrandbits(256):064x}",
                    "containerID": f"containerd://{self.rng.getrandbits(256):064x}",
                    "ready": True,
                    "started": True,
                    "restartCount": 0,
                    "lastState": {},
                    "state": {"running": {"startedAt": ts(started)}},
                }
            )
        conds = [
            ("PodReadyToStartContainers", started),
            ("Initialized", created + 1),
            ("Ready", ready_at),
            ("ContainersReady", ready_at),
            ("PodScheduled", created),
        ]
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": meta,
            "spec": spec,
            "status": {
                "phase": "Running",
                "conditions": [
                    {
                        "type": t,
                        "status": "True",
                        "lastProbeTime": None,
                        "lastTransitionTime": ts(at),
                    }
                    for t, at in conds
                ],
                "hostIP": host_ip,
                "hostIPs": [{"ip": host_ip}],
                "podIP": ip,
                "podIPs": [{"ip": ip}],
                "startTime": ts(created + 1),
                "containerStatuses": cstatus,
                "qosClass": qos_class(spec),
            },
        }
        return self.put("pods", pod, created)

    # ---- workloads ------------------------------------------------------------------

    def _deployment(
        self,
        name: str,
        replicas: int,
        history: list[tuple[dict, float]],
        created_ago: float = 120 * DAY,
        pod_ages: list[float] | None = None,
        share_spec: bool = False,
    ) -> dict:
        current = history[-1][0]
        dep = self.put(
            "deployments.apps",
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {
                    "name": name,
                    "namespace": NAMESPACE,
                    "labels": {"app": name},
                    "annotations": {REVISION: str(len(history))},
                },
                "spec": {
                    "replicas": replicas,
                    "selector": {"matchLabels": {"app": name}},
                    "template": clone(current),
                    "strategy": {
                        "type": "RollingUpdate",
                        "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
                    },
                    "revisionHistoryLimit": 10,
                    "progressDeadlineSeconds": 600,
                },
                "status": {},
            },
            self.now - created_ago,
        )
        surge = math.ceil(replicas * 0.25)
        self._settled_status(dep, replicas, history[-1][1])
        for rev, (template, age) in enumerate(history, start=1):
            is_current = rev == len(history)
            tpl = clone(template)
            h = template_hash(json.loads(template_key(tpl)))
            tpl["metadata"]["labels"][HASH] = h
            size = replicas if is_current else 0
            rs = self.put(
                "replicasets.apps",
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "metadata": {
                        "name": f"{name}-{h}",
                        "namespace": NAMESPACE,
                        "labels": dict(tpl["metadata"]["labels"]),
                        "annotations": {
                            DESIRED: str(replicas),
                            MAX_REPLICAS: str(replicas + surge),
                            REVISION: str(rev),
                        },
                        "ownerReferences": [owner_ref(dep)],
                    },
                    "spec": {
                        "replicas": size,
                        "selector": {"matchLabels": {"app": name, HASH: h}},
                        "template": tpl,
                    },
                    "status": {
                        "replicas": size,
                        "fullyLabeledReplicas": size,
                        "readyReplicas": size,
                        "availableReplicas": size,
                        "observedGeneration": 1,
                    }
                    if size
                    else {"replicas": 0, "observedGeneration": 1},
                },
                self.now - age,
            )
            if not is_current:
                continue
            ages = pod_ages or [age - 20 * i for i in range(replicas)]
            if name == "rails" and replicas >= 3 and pod_ages is None:
                ages[-1] = 47 * 60 + 13  # one pod was replaced later on
            for i in range(replicas):
                self.pod(
                    f"{name}-{h}-{suffix(5, self.rng)}",
                    tpl,
                    rs,
                    self.now - ages[i],
                    share_spec=share_spec,
                )
        return dep

    def _settled_status(self, dep: dict, replicas: int, rs_age: float) -> None:
        """The status a deployment has long after its last rollout finished."""
        tpl = clone(dep["spec"]["template"])
        h = template_hash(json.loads(template_key(tpl)))
        rs_name = f"{dep['metadata']['name']}-{h}"
        done = ts(self.now - rs_age + 40)
        new = clone(dep)
        new["status"] = {
            "observedGeneration": dep["metadata"]["generation"],
            "replicas": replicas,
            "updatedReplicas": replicas,
            "readyReplicas": replicas,
            "availableReplicas": replicas,
            "conditions": [
                {
                    "type": "Available",
                    "status": "True",
                    "lastUpdateTime": done,
                    "lastTransitionTime": done,
                    "reason": "MinimumReplicasAvailable",
                    "message": "Deployment has minimum availability.",
                },
                {
                    "type": "Progressing",
                    "status": "True",
                    "lastUpdateTime": done,
                    "lastTransitionTime": dep["metadata"]["creationTimestamp"],
                    "reason": "NewReplicaSetAvailable",
                    "message": f'ReplicaSet "{rs_name}" has successfully progressed.',
                },
            ],
        }
        self.store.update("deployments.apps", new)

    def _vulnerability_reports(self) -> None:
        for report, at in vulnerability_reports(self.store.list("replicasets.apps"), self.now):
            self.put(REPORTS, report, at)

    def _statefulsets(self) -> None:
        pg = [
            {
                "name": "postgres",
                "image": "postgres:15",
                "ports": [{"name": "postgres", "containerPort": 5432}],
                "env": [
                    {"name": "POSTGRES_USER", "value": "excel_user"},
                    {"name": "POSTGRES_DB", "value": "excel_unified"},
                    {"name": "PGDATA", "value": "/var/lib/postgresql/data/pgdata"},
                    _secret_env("POSTGRES_PASSWORD", "db-password"),
                ],
                "resources": _res("1", "2Gi", "2", "4Gi"),
                "readinessProbe": {
                    "exec": {"command": ["pg_isready", "-U", "excel_user"]},
                    "initialDelaySeconds": 5,
                    "periodSeconds": 10,
                },
                "volumeMounts": [{"name": "data", "mountPath": "/var/lib/postgresql/data"}],
            }
        ]
        redis = [
            {
                "name": "redis",
                "image": "redis:7",
                "args": [
                    "redis-server",
                    "--maxmemory",
                    "768mb",
                    "--maxmemory-policy",
                    "noeviction",
                    "--appendonly",
                    "yes",
                ],
                "ports": [{"name": "redis", "containerPort": 6379}],
                "resources": _res("250m", "512Mi", "500m", "1Gi"),
                "readinessProbe": {
                    "exec": {"command": ["redis-cli", "ping"]},
                    "initialDelaySeconds": 5,
                    "periodSeconds": 10,
                },
                "volumeMounts": [{"name": "data", "mountPath": "/data"}],
            }
        ]
        for name, containers, size, pod_age in (
            ("postgres", pg, "50Gi", 12 * DAY + 5 * HOUR),
            ("redis", redis, "10Gi", 3 * DAY + 7 * HOUR),
        ):
            tpl = _template(name, containers)
            sts = self.put(
                "statefulsets.apps",
                {
                    "apiVersion": "apps/v1",
                    "kind": "StatefulSet",
                    "metadata": {"name": name, "namespace": NAMESPACE, "labels": {"app": name}},
                    "spec": {
                        "replicas": 1,
                        "serviceName": f"{name}-service",
                        "selector": {"matchLabels": {"app": name}},
                        "template": tpl,
                        "podManagementPolicy": "OrderedReady",
                        "revisionHistoryLimit": 10,
                        "updateStrategy": {
                            "type": "RollingUpdate",
                            "rollingUpdate": {"partition": 0},
                        },
                        "persistentVolumeClaimRetentionPolicy": {
                            "whenDeleted": "Retain",
                            "whenScaled": "Retain",
                        },
                        "volumeClaimTemplates": [
                            {
                                "apiVersion": "v1",
                                "kind": "PersistentVolumeClaim",
                                "metadata": {"name": "data"},
                                "spec": {
                                    "accessModes": ["ReadWriteOnce"],
                                    "storageClassName": "gp3",
                                    "resources": {"requests": {"storage": size}},
                                    "volumeMode": "Filesystem",
                                },
                            }
                        ],
                    },
                    "status": {},
                },
                self.now - 120 * DAY,
            )
            rev = revision_name(sts)
            crtpl = clone(tpl)
            crtpl["$patch"] = "replace"
            self.put(
                "controllerrevisions.apps",
                {
                    "apiVersion": "apps/v1",
                    "kind": "ControllerRevision",
                    "metadata": {
                        "name": rev,
                        "namespace": NAMESPACE,
                        "labels": {
                            "app": name,
                            "controller.kubernetes.io/hash": rev.rsplit("-", 1)[1],
                        },
                        "ownerReferences": [owner_ref(sts)],
                    },
                    "data": {"spec": {"template": crtpl}},
                    "revision": 1,
                },
                self.now - 120 * DAY,
            )
            pod_name = f"{name}-0"
            extra = {
                "hostname": pod_name,
                "subdomain": f"{name}-service",
                "volumes": [
                    {"name": "data", "persistentVolumeClaim": {"claimName": f"data-{pod_name}"}}
                ],
            }
            self.pod(
                pod_name,
                tpl,
                sts,
                self.now - pod_age,
                extra_labels={
                    REVISION_LABEL: rev,
                    "statefulset.kubernetes.io/pod-name": pod_name,
                    "apps.kubernetes.io/pod-index": "0",
                },
                spec_extra=extra,
            )

    def _backup_pod(self) -> None:
        tpl = _template(
            "backup",
            [
                {
                    "name": "backup",
                    "image": "excel-unified/backup-tools:1.4.0",
                    "command": ["sleep", "infinity"],
                    "env": [
                        {"name": "S3_BUCKET", "value": "excel-unified-backups"},
                        _secret_env("PGPASSWORD", "db-password"),
                    ],
                    "resources": _res("100m", "128Mi", "500m", "512Mi"),
                    "volumeMounts": [{"name": "backups", "mountPath": "/backups"}],
                }
            ],
            extra={"volumes": [{"name": "backups", "emptyDir": {}}]},
        )
        self.pod("backup-pod", tpl, None, self.now - 20 * DAY - 3 * HOUR)

    def _service(
        self,
        ns: str,
        name: str,
        selector: dict | None,
        ports: list[dict],
        cluster_ip: str,
        typ: str = "ClusterIP",
        labels: dict | None = None,
        lb_ip: str | None = None,
    ) -> dict:
        spec: dict[str, Any] = {
            "type": typ,
            "clusterIP": cluster_ip,
            "clusterIPs": [cluster_ip],
            "ports": ports,
        }
        if selector:
            spec["selector"] = selector
        default_service(spec)
        status: dict = {"loadBalancer": {}}
        if lb_ip:
            status["loadBalancer"] = {"ingress": [{"ip": lb_ip, "ipMode": "VIP"}]}
        return self.put(
            "services",
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": name, "namespace": ns, "labels": labels or {}},
                "spec": spec,
                "status": status,
            },
            self.now - 120 * DAY,
        )

    def _services(self) -> None:
        for name, app, port, ip in (
            ("rails-service", "rails", 3000, "10.100.23.141"),
            ("fastapi-service", "fastapi", 8000, "10.100.87.12"),
            ("postgres-service", "postgres", 5432, "10.100.150.7"),
            ("redis-service", "redis", 6379, "10.100.201.33"),
        ):
            proto = {"postgres": "postgres", "redis": "redis"}.get(app, "http")
            self._service(
                NAMESPACE,
                name,
                {"app": app},
                [{"name": proto, "port": port, "targetPort": port}],
                ip,
                labels={"app": app},
            )
        self._service(
            NAMESPACE,
            "nginx-service",
            {"app": "nginx"},
            [
                {"name": "http", "port": 80, "targetPort": 80, "nodePort": 31080},
                {"name": "https", "port": 443, "targetPort": 443, "nodePort": 31443},
            ],
            "10.100.4.200",
            "LoadBalancer",
            {"app": "nginx"},
            lb_ip="203.0.113.24",
        )

    def _cronjob(self) -> None:
        job_tpl = {
            "metadata": {"labels": {"app": "postgres-backup"}},
            "spec": {
                "backoffLimit": 1,
                "template": {
                    "metadata": {"labels": {"app": "postgres-backup"}},
                    "spec": default_pod_spec(
                        {
                            "restartPolicy": "Never",
                            "containers": [
                                {
                                    "name": "postgres-backup",
                                    "image": "postgres:15",
                                    "env": [_secret_env("PGPASSWORD", "db-password")],
                                    "command": ["/bin/bash", "-c", BACKUP_SCRIPT],
                                    "resources": _res("100m", "256Mi", "500m", "1Gi"),
                                    "volumeMounts": [{"name": "backup", "mountPath": "/backup"}],
                                }
                            ],
                            "volumes": [{"name": "backup", "emptyDir": {}}],
                        },
                        template=True,
                    ),
                },
            },
        }
        fires = cron.fires_between("0 2 * * *", self.now - 3.2 * DAY, self.now)[-3:]
        failed_last = self.scenario == "incident"
        cj = self.put(
            "cronjobs.batch",
            {
                "apiVersion": "batch/v1",
                "kind": "CronJob",
                "metadata": {
                    "name": "postgres-backup",
                    "namespace": NAMESPACE,
                    "labels": {"app": "postgres-backup"},
                },
                "spec": {
                    "schedule": "0 2 * * *",
                    "concurrencyPolicy": "Allow",
                    "suspend": False,
                    "successfulJobsHistoryLimit": 3,
                    "failedJobsHistoryLimit": 1,
                    "jobTemplate": job_tpl,
                },
                "status": {},
            },
            self.now - 120 * DAY,
        )
        last_success = None
        for n, fire in enumerate(fires):
            fail = failed_last and n == len(fires) - 1
            duration = 150 + self.rng.random() * 90
            end = fire + duration
            self._past_job(cj, fire, duration, fail)
            if not fail:
                last_success = end
        status: dict = {"lastScheduleTime": ts(fires[-1])}
        if last_success is not None:
            status["lastSuccessfulTime"] = ts(last_success)
        new = dict(cj, status=status)
        new["metadata"] = dict(cj["metadata"])
        self.store.update("cronjobs.batch", new)

    def _past_job(self, cj: dict, fire: float, duration: float, fail: bool) -> None:
        name = f"postgres-backup-{int(fire // 60)}"
        uid = new_uid()
        spec = clone(cj["spec"]["jobTemplate"]["spec"])
        default_job_spec(spec, name, uid)
        start = fire + 1
        end = start + duration
        now = ts(end)
        status: dict[str, Any] = {
            "startTime": ts(start),
            "terminating": 0,
            "ready": 0,
            "uncountedTerminatedPods": {},
        }
        if fail:
            msg = "Job has reached the specified backoff limit"
            status["conditions"] = [
                {
                    "type": t,
                    "status": "True",
                    "lastProbeTime": now,
                    "lastTransitionTime": now,
                    "reason": "BackoffLimitExceeded",
                    "message": msg,
                }
                for t in ("FailureTarget", "Failed")
            ]
            status["failed"] = int(spec["backoffLimit"]) + 1
        else:
            msg = "Reached expected number of succeeded pods"
            status["conditions"] = [
                {
                    "type": t,
                    "status": "True",
                    "lastProbeTime": now,
                    "lastTransitionTime": now,
                    "reason": "CompletionsReached",
                    "message": msg,
                }
                for t in ("SuccessCriteriaMet", "Complete")
            ]
            status["succeeded"] = 1
            status["completionTime"] = now
        job = self.put(
            "jobs.batch",
            {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "metadata": {
                    "name": name,
                    "namespace": NAMESPACE,
                    "labels": dict(spec["template"]["metadata"]["labels"]),
                    "annotations": {"batch.kubernetes.io/cronjob-scheduled-timestamp": ts(fire)},
                    "ownerReferences": [owner_ref(cj)],
                },
                "spec": spec,
                "status": status,
            },
            fire,
            uid=uid,
        )
        attempts = status.get("failed", 1)
        span = duration / attempts
        for a in range(attempts):
            t0 = start + a * span
            pod = self.pod(f"{name}-{suffix(5, self.rng)}", spec["template"], job, t0)
            self._finish(pod, t0 + 3, t0 + span, ok=not fail)
            if fail:
                self.record(
                    job,
                    "Normal",
                    "SuccessfulCreate",
                    f"Created pod: {pod['metadata']['name']}",
                    ev.JOB,
                    self.now - t0,
                )
        if fail:
            self.record(
                job,
                "Warning",
                "BackoffLimitExceeded",
                "Job has reached the specified backoff limit",
                ev.JOB,
                self.now - end,
            )
            self.record(
                cj,
                "Normal",
                "SawCompletedJob",
                f"Saw completed job: {name}, condition: Failed",
                ev.CRONJOB,
                self.now - end,
            )

    def _finish(self, pod: dict, started: float, finished: float, ok: bool) -> None:
        new = clone(pod)
        st = new["status"]
        st["phase"] = "Succeeded" if ok else "Failed"
        reason = "PodCompleted" if ok else "PodFailed"
        for c in st["conditions"]:
            if c["type"] in ("Ready", "ContainersReady", "PodReadyToStartContainers"):
                c["status"] = "False"
                c["lastTransitionTime"] = ts(finished)
                if c["type"] != "PodReadyToStartContainers":
                    c["reason"] = reason
        for cs in st["containerStatuses"]:
            cs["ready"] = cs["started"] = False
            cs["state"] = {
                "terminated": {
                    "exitCode": 0 if ok else 1,
                    "reason": "Completed" if ok else "Error",
                    "startedAt": ts(started),
                    "finishedAt": ts(finished),
                    "containerID": cs["containerID"],
                }
            }
        self.store.update("pods", new)

    # ---- scenario twists ------------------------------------------------------------

    def _pods_of(self, app: str) -> list[dict]:
        return [
            p
            for p in self.store.list("pods", NAMESPACE)
            if (p["metadata"].get("labels") or {}).get("app") == app
        ]

    def _break(self) -> None:
        rails = self._pods_of("rails")[1]
        fastapi = self._pods_of("fastapi")[0]
        self.broken = {"crashloop": rails, "oomkill": fastapi}
        for behaviour, pod, restarts, code, reason in (
            ("crashloop", rails, 14, 1, "Error"),
            ("oomkill", fastapi, 6, 137, "OOMKilled"),
        ):
            new = clone(pod)
            new["metadata"].setdefault("annotations", {})[BEHAVIOUR] = behaviour
            st = new["status"]
            cs = st["containerStatuses"][0]
            m = new["metadata"]
            cs["restartCount"] = restarts
            cs["ready"] = cs["started"] = False
            last = {
                "exitCode": code,
                "reason": reason,
                "startedAt": ts(self.now - 200),
                "finishedAt": ts(self.now - 95),
                "containerID": f"containerd://{self.rng.getrandbits(256):064x}",
            }
            cs["lastState"] = {"terminated": last}
            if behaviour == "crashloop":
                cs["state"] = {
                    "waiting": {
                        "reason": "CrashLoopBackOff",
                        "message": f"back-off 5m0s restarting failed container={cs['name']} "
                        f"pod={m['name']}_{m['namespace']}({m['uid']})",
                    }
                }
            else:
                cs["state"] = {
                    "terminated": dict(
                        last, startedAt=ts(self.now - 80), finishedAt=ts(self.now - 12)
                    )
                }
            unready = f"containers with unready status: [{cs['name']}]"
            for c in st["conditions"]:
                if c["type"] in ("Ready", "ContainersReady"):
                    c.update(
                        status="False",
                        reason="ContainersNotReady",
                        message=unready,
                        lastTransitionTime=ts(self.now - 45 * 60),
                    )
            self.store.update("pods", new)
            node = new["spec"]["nodeName"]
            fp = f"spec.containers{{{cs['name']}}}"
            self.record(
                new,
                "Warning",
                "BackOff",
                f"Back-off restarting failed container {cs['name']} in pod "
                f"{m['name']}_{m['namespace']}({m['uid']})",
                ev.KUBELET,
                95,
                first_ago=45 * 60,
                count=restarts * 4,
                host=node,
                field_path=fp,
            )
            if behaviour == "crashloop":
                self.record(
                    new,
                    "Warning",
                    "Unhealthy",
                    'Liveness probe failed: Get "http://'
                    f'{st["podIP"]}:3000/health": dial tcp {st["podIP"]}:3000: '
                    "connect: connection refused",
                    ev.KUBELET,
                    100,
                    first_ago=46 * 60,
                    count=restarts * 3,
                    host=node,
                    field_path=fp,
                )
            else:
                self.record(
                    new,
                    "Warning",
                    "Unhealthy",
                    'Readiness probe failed: Get "http://'
                    f'{st["podIP"]}:8000/health": context deadline exceeded '
                    "(Client.Timeout exceeded while awaiting headers)",
                    ev.KUBELET,
                    30,
                    first_ago=38 * 60,
                    count=11,
                    host=node,
                    field_path=fp,
                )
                node_obj = self.store.get("nodes", "", node)
                self.record(
                    node_obj,
                    "Warning",
                    "OOMKilling",
                    "Memory cgroup out of memory: Killed process 28761 (uvicorn) "
                    "total-vm:2871236kB, anon-rss:2097152kB, file-rss:0kB, "
                    "shmem-rss:0kB, UID:1000 pgtables:4512kB oom_score_adj:983",
                    "kernel-monitor",
                    12,
                    first_ago=37 * 60,
                    count=restarts,
                    host=node,
                )

    def _calm_events(self) -> None:
        rails = self._pods_of("rails")
        if not rails:
            return
        pod = max(rails, key=lambda p: p["metadata"]["creationTimestamp"])
        m = pod["metadata"]
        node = pod["spec"]["nodeName"]
        rs = self.store.get("replicasets.apps", NAMESPACE, m["name"].rsplit("-", 1)[0])
        age = self.now - 47 * 60 - 13
        if rs is not None:
            self.record(
                rs,
                "Normal",
                "SuccessfulCreate",
                f"Created pod: {m['name']}",
                ev.REPLICASET,
                self.now - age,
            )
        self.record(
            pod,
            "Normal",
            "Scheduled",
            f"Successfully assigned {NAMESPACE}/{m['name']} to {node}",
            ev.SCHEDULER,
            self.now - age,
        )
        fp = "spec.containers{rails}"
        image = pod["spec"]["containers"][0]["image"]
        for reason, msg, dt in (
            ("Pulling", f'Pulling image "{image}"', 1),
            (
                "Pulled",
                f'Successfully pulled image "{image}" in 2.841s '
                "(2.841s including waiting). Image size: 312847112 bytes.",
                4,
            ),
            ("Created", "Created container: rails", 4),
            ("Started", "Started container rails", 5),
        ):
            self.record(
                pod,
                "Normal",
                reason,
                msg,
                ev.KUBELET,
                self.now - age - dt,
                host=node,
                field_path=fp,
            )

    def _large(self) -> None:
        have = self.store.count("pods", NAMESPACE)
        missing = max(0, self.large_size - have)
        per = 50
        image = "excel-unified/worker:v3.2.0"
        for i in range(math.ceil(missing / per)):
            n = min(per, missing - i * per)
            name = f"worker-{i:03d}"
            tpl = _template(
                name,
                [
                    {
                        "name": "worker",
                        "image": image,
                        "ports": [{"containerPort": 9000}],
                        "resources": _res("50m", "64Mi", "200m", "256Mi"),
                    }
                ],
            )
            age = 6 * HOUR + i * 31
            self._deployment(
                name,
                n,
                [(tpl, age)],
                created_ago=40 * DAY,
                pod_ages=[age - 5 - (j % 40) for j in range(n)],
                share_spec=True,
            )


def seed(ctl: Controller, scenario: str, large_size: int = 5000) -> Seeder:
    """Fill the store; returns the seeder (its `broken` map names the incident's pods)."""
    ctl.recorder.enabled = True
    seeder = Seeder(ctl, scenario, large_size)
    seeder.run()
    return seeder
