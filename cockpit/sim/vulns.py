"""Trivy Operator's VulnerabilityReports for the simulated cluster.

The operator scans each container of each active ReplicaSet and writes one report,
named `replicaset-<rs>-<container>`, owned by the ReplicaSet and labelled with what it
describes.  The simulated cluster has them from the start for the rails and fastapi
deployments (see vuln_catalog for the findings).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from cockpit.sim.objects import owner_ref, parse_ts, ts
from cockpit.sim.vuln_catalog import CATALOG, Finding

if TYPE_CHECKING:
    from cockpit.sim.controller import Controller

SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN")
SCANNER = {"name": "Trivy", "vendor": "Aqua Security", "version": "0.57.1"}
SCANNED_APPS = ("rails", "fastapi")
SCAN_DELAY_S = 75.0  # from a ReplicaSet's creation to its report (seeded history)
REPORTS = "vulnerabilityreports.aquasecurity.github.io"  # the store's key


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


def _scanned(rs: dict) -> bool:
    app = (rs["metadata"].get("labels") or {}).get("app")
    return app in SCANNED_APPS and bool((rs.get("spec") or {}).get("replicas"))


def reports(replicasets: list[dict], now: float) -> list[tuple[dict, float]]:
    """(report, when it was written) for the containers of the active ReplicaSets of the
    scanned apps: a little after each ReplicaSet was created."""
    out = []
    for rs in replicasets:
        if not _scanned(rs):
            continue
        created = parse_ts(rs["metadata"].get("creationTimestamp")) or now
        at = min(created + SCAN_DELAY_S, now)
        for container in rs["spec"]["template"]["spec"]["containers"]:
            report = report_for(rs, container, at)
            if report is not None:
                out.append((report, at))
    return out


class Scanner:
    """The operator at work: a ReplicaSet of a scanned app that becomes active (a
    rollout, an undo) and has no report gets one, a scan job's time later."""

    def __init__(self, ctl: Controller) -> None:
        self.ctl = ctl
        self._pending: set[tuple[str, str]] = set()

    def saw(self, rs: dict) -> None:
        m = rs["metadata"]
        key = (m["namespace"], m["name"])
        if not _scanned(rs) or key in self._pending or self._has_reports(rs):
            return
        self._pending.add(key)
        self.ctl.later(self.ctl.pace.job_duration_s, self._scan, key)

    def _has_reports(self, rs: dict) -> bool:
        ns, name = rs["metadata"]["namespace"], rs["metadata"]["name"]
        containers = rs["spec"]["template"]["spec"]["containers"]
        store = self.ctl.store
        return all(
            store.get(REPORTS, ns, f"replicaset-{name}-{c['name']}") is not None for c in containers
        )

    def _scan(self, key: tuple[str, str]) -> None:
        self._pending.discard(key)
        rs = self.ctl.store.get("replicasets.apps", *key)
        if rs is None:
            return
        for report, _ in reports([rs], self.ctl.clock()):
            m = report["metadata"]
            if self.ctl.store.get(REPORTS, m["namespace"], m["name"]) is None:
                self.ctl.create(REPORTS, report)
