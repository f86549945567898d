"""Trivy Operator's VulnerabilityReports for the simulated cluster.

The operator scans each container of each active ReplicaSet and writes one report,
named `replicaset-<rs>-<container>`, owned by the ReplicaSet and labelled with what it
describes.  The simulated cluster has them from the start for the rails and fastapi
deployments (see vuln_catalog for the findings).
"""

from __future__ import annotations

import hashlib
from typing import Any

from cockpit.sim.objects import owner_ref, parse_ts, ts
from cockpit.sim.vuln_catalog import CATALOG, Finding

SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN")
SCANNER = {"name": "Trivy", "vendor": "Aqua Security", "version": "0.57.1"}
SCANNED_APPS = ("rails", "fastapi")
SCAN_DELAY_S = 75.0  # from a ReplicaSet's creation to its report


def split_image(image: str) -> tuple[str, str, str]:
    """(registry server, repository, tag), as Trivy names an image from Docker Hub."""
    name, _, tag = image.rpartition(":") if ":" in image.split("/")[-1] else (image, "", "")
    first = name.split("/")[0]
    if "/" in name and ("." in first or ":" in first or first == "localhost"):
        return first, name[len(first) + 1 :], tag or "latest"
    return "index.docker.io", name, tag or "latest"


def summary(findings: list[Finding]) -> dict[str, int]:
    counts = {f"{s.lower()}Count": 0 for s in SEVERITIES}
    for f in findings:
        counts[f"{f.severity.lower()}Count"] += 1
    return counts


def _vulnerability(f: Finding, target: str) -> dict[str, Any]:
    link = f"https://avd.aquasec.com/nvd/{f.id.lower()}"
    item: dict[str, Any] = {
        "vulnerabilityID": f.id,
        "resource": f.resource,
        "installedVersion": f.installed,
        "fixedVersion": f.fixed,
        "publishedDate": f"{f.published}T00:00:00Z",
        "lastModifiedDate": f"{f.published}T12:00:00Z",
        "severity": f.severity,
        "title": f.title,
        "primaryLink": link if f.id.startswith("CVE-") else f"https://github.com/advisories/{f.id}",
        "links": [],
        "target": target if f.klass == "os-pkgs" else "",
        "class": f.klass,
    }
    if f.score:
        item["score"] = f.score
    return item


def report_for(rs: dict, container: dict, scanned_at: float) -> dict | None:
    """The report of one container of a ReplicaSet, or None for an image not in the
    catalog (the operator would have one too, but the sim has nothing to say in it)."""
    server, repository, tag = split_image(container["image"])
    known = CATALOG.get(repository)
    if known is None:
        return None
    os_name, findings = known
    m = rs["metadata"]
    target = f"{repository}:{tag} (debian {os_name})"
    digest = hashlib.sha256(container["image"].encode()).hexdigest()
    return {
        "apiVersion": "aquasecurity.github.io/v1alpha1",
        "kind": "VulnerabilityReport",
        "metadata": {
            "name": f"replicaset-{m['name']}-{container['name']}",
            "namespace": m["namespace"],
            "labels": {
                "app.kubernetes.io/managed-by": "trivy-operator",
                "trivy-operator.container.name": container["name"],
                "trivy-operator.resource.kind": "ReplicaSet",
                "trivy-operator.resource.name": m["name"],
                "trivy-operator.resource.namespace": m["namespace"],
            },
            "ownerReferences": [{**owner_ref(rs, block=False), "blockOwnerDeletion": False}],
        },
        "report": {
            "artifact": {"repository": repository, "tag": tag, "digest": f"sha256:{digest}"},
            "os": {"family": "debian", "name": os_name},
            "registry": {"server": server},
            "scanner": dict(SCANNER),
            "summary": dict(summary(findings), noneCount=0),
            "updateTimestamp": ts(scanned_at),
            "vulnerabilities": [_vulnerability(f, target) for f in findings],
        },
    }


def reports(replicasets: list[dict], now: float) -> list[tuple[dict, float]]:
    """(report, when it was written) for the containers of the active ReplicaSets of the
    scanned apps: a little after each ReplicaSet was created."""
    out = []
    for rs in replicasets:
        app = (rs["metadata"].get("labels") or {}).get("app")
        if app not in SCANNED_APPS or not (rs.get("spec") or {}).get("replicas"):
            continue
        created = parse_ts(rs["metadata"].get("creationTimestamp")) or now
        at = min(created + SCAN_DELAY_S, now)
        for container in rs["spec"]["template"]["spec"]["containers"]:
            report = report_for(rs, container, at)
            if report is not None:
                out.append((report, at))
    return out
