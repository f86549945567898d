"""Image vulnerabilities of the rails and fastapi images, by severity.

Where from, in order (the report says which):
  1. Trivy Operator's VulnerabilityReports in the namespace (aquasecurity.github.io/
     v1alpha1), matched to the images the deployments run now;
  2. `trivy image --format json IMAGE` (the runbook's weekly command) when `trivy` is on
     PATH and no report covers the images;
  3. neither: the report says so and how to get one.
Blocking (the kubernetes client and a subprocess): call it in a thread.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from cockpit.sources.kube.client import kube_error

GROUP, VERSION, PLURAL = "aquasecurity.github.io", "v1alpha1", "vulnerabilityreports"
SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN")
IMPORTANT = ("CRITICAL", "HIGH")
APPS = ("rails", "fastapi")  # the runbook scans these two images
# What the runbook runs when the deployments cannot be read.
RUNBOOK_IMAGES = {"rails": "excel-unified/rails:latest", "fastapi": "excel-unified/fastapi:latest"}
TRIVY_TIMEOUT_S = 900.0  # a first scan downloads the vulnerability database

OPERATOR = "operator"
TRIVY = "trivy"
NONE = "none"


@dataclass(frozen=True, slots=True)
class Finding:
    id: str
    package: str
    installed: str
    fixed: str  # "" when no fixed version exists
    severity: str
    title: str
    link: str


@dataclass(frozen=True, slots=True)
class ImageVulns:
    app: str
    image: str
    counts: dict[str, int]  # severity -> number
    findings: tuple[Finding, ...]  # every one, worst first
    origin: str  # the report's name, or the trivy command
    scanned_at: str = ""

    @property
    def important(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity in IMPORTANT)


@dataclass(frozen=True, slots=True)
class VulnReport:
    source: str  # OPERATOR, TRIVY or NONE
    source_words: str  # what a person reads: where the figures come from
    images: tuple[ImageVulns, ...] = ()
    problems: tuple[str, ...] = field(default=())


def normalise(image: str) -> str:
    """`docker.io/library/x:1`, `index.docker.io/x:1` and `x:1` name one image; no tag
    is `latest`."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" not in last:
        name += ":latest"
    for prefix in ("docker.io/", "index.docker.io/", "registry-1.docker.io/"):
        if name.startswith(prefix):
            name = name[len(prefix) :]
    return name.removeprefix("library/")


def _counts(findings: list[Finding]) -> dict[str, int]:
    counts = dict.fromkeys(SEVERITIES, 0)
    for f in findings:
        counts[f.severity if f.severity in counts else "UNKNOWN"] += 1
    return counts


def _sorted(findings: list[Finding]) -> tuple[Finding, ...]:
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    return tuple(sorted(findings, key=lambda f: (rank.get(f.severity, 9), f.package, f.id)))


# Finding's fields as each source names them: the operator's CRD, trivy's JSON.
OPERATOR_FIELDS = (
    "vulnerabilityID", "resource", "installedVersion", "fixedVersion", "severity", "title",
    "primaryLink",
)  # fmt: skip
TRIVY_FIELDS = (
    "VulnerabilityID", "PkgName", "InstalledVersion", "FixedVersion", "Severity", "Title",
    "PrimaryURL",
)  # fmt: skip


def _finding(v: dict[str, Any], fields: tuple[str, ...]) -> Finding:
    id_, package, installed, fixed, severity, title, link = (str(v.get(f) or "") for f in fields)
    return Finding(id_, package, installed, fixed, severity.upper() or "UNKNOWN", title, link)


def from_operator_report(app: str, obj: dict[str, Any]) -> ImageVulns:
    """One VulnerabilityReport; the counts are the report's own summary (the operator
    may leave findings out of the list, never out of the summary)."""
    report = obj.get("report") or {}
    art = report.get("artifact") or {}
    findings = [
        _finding(v, OPERATOR_FIELDS)
        for v in report.get("vulnerabilities") or []
        if isinstance(v, dict)
    ]
    summary = report.get("summary") or {}
    counts = _counts(findings)
    for sev in SEVERITIES:
        value = summary.get(f"{sev.lower()}Count")
        if isinstance(value, int):
            counts[sev] = value
    tag = art.get("tag") or "latest"
    return ImageVulns(
        app=app,
        image=f"{art.get('repository', '?')}:{tag}",
        counts=counts,
        findings=_sorted(findings),
        origin=f"VulnerabilityReport {obj.get('metadata', {}).get('name', '?')}",
        scanned_at=str(report.get("updateTimestamp", "")),
    )


def from_trivy_json(app: str, image: str, document: dict[str, Any]) -> ImageVulns:
    """`trivy image --format json` output (schema 2: Results[].Vulnerabilities[])."""
    findings = [
        _finding(v, TRIVY_FIELDS)
        for result in document.get("Results") or []
        if isinstance(result, dict)
        for v in result.get("Vulnerabilities") or []
        if isinstance(v, dict)
    ]
    return ImageVulns(
        app=app,
        image=image,
        counts=_counts(findings),
        findings=_sorted(findings),
        origin=f"trivy image --format json {image}",
        scanned_at=str(document.get("CreatedAt", "")),
    )


def deployed_images(api: client.ApiClient, namespace: str) -> tuple[dict[str, str], list[str]]:
    """app -> image the deployment runs now (its first container); problems in words."""
    apps = client.AppsV1Api(api)
    images: dict[str, str] = {}
    problems: list[str] = []
    for app in APPS:
        try:
            dep = apps.read_namespaced_deployment(app, namespace, _request_timeout=10)
            images[app] = dep.spec.template.spec.containers[0].image
        except Exception as exc:
            problems.append(f"deployment {app}: {kube_error(exc).message}")
    return images, problems


def operator_reports(api: client.ApiClient, namespace: str) -> tuple[list[dict], str]:
    """The namespace's VulnerabilityReports, and a problem in words ("" when none).
    No such resource (the operator is not installed) is no reports, not a problem."""
    try:
        got = client.CustomObjectsApi(api).list_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURAL, _request_timeout=20
        )
    except ApiException as exc:
        if exc.status == 404:
            return [], ""
        return [], f"VulnerabilityReports: {kube_error(exc).message}"
    except Exception as exc:
        return [], f"VulnerabilityReports: {kube_error(exc).message}"
    return [i for i in got.get("items") or [] if isinstance(i, dict)], ""


def match_reports(images: dict[str, str], reports: list[dict]) -> dict[str, dict]:
    """app -> the report on exactly the image it runs (repository and tag)."""
    by_image: dict[str, dict] = {}
    for obj in reports:
        art = (obj.get("report") or {}).get("artifact") or {}
        server = ((obj.get("report") or {}).get("registry") or {}).get("server", "")
        name = f"{art.get('repository', '')}:{art.get('tag') or 'latest'}"
        by_image.setdefault(normalise(name), obj)
        if server:
            by_image.setdefault(normalise(f"{server}/{name}"), obj)
    return {
        app: by_image[normalise(img)] for app, img in images.items() if normalise(img) in by_image
    }


def run_trivy(binary: str, image: str, timeout: float = TRIVY_TIMEOUT_S) -> dict[str, Any]:
    """`trivy image --format json --quiet IMAGE`; raises RuntimeError in words."""
    try:
        done = subprocess.run(
            [binary, "image", "--format", "json", "--quiet", image],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"trivy image {image}: no result within {timeout:g} s") from None
    except OSError as exc:
        raise RuntimeError(f"trivy image {image}: {exc.strerror or exc}") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1][:300]
        raise RuntimeError(f"trivy image {image} exited {done.returncode}: {last}")
    try:
        document = json.loads(done.stdout)
    except ValueError:
        raise RuntimeError(f"trivy image {image}: its output is not JSON") from None
    if not isinstance(document, dict):
        raise RuntimeError(f"trivy image {image}: unexpected JSON")
    return document


def scan(api: client.ApiClient | None, namespace: str, kube_problem: str = "") -> VulnReport:
    """The images' vulnerabilities from the best source there is (module docstring)."""
    problems: list[str] = [kube_problem] if kube_problem else []
    images: dict[str, str] = {}
    reports: list[dict] = []
    if api is not None:
        images, found = deployed_images(api, namespace)
        problems += found
        reports, problem = operator_reports(api, namespace)
        if problem:
            problems.append(problem)
    for app in APPS:
        images.setdefault(app, RUNBOOK_IMAGES[app])
    matched = match_reports(images, reports)
    if matched:
        for app in APPS:
            if app not in matched:
                problems.append(f"no VulnerabilityReport for {app}'s image {images[app]}")
        return VulnReport(
            OPERATOR,
            f"Trivy Operator's VulnerabilityReports in namespace {namespace}",
            tuple(from_operator_report(app, matched[app]) for app in APPS if app in matched),
            tuple(problems),
        )
    binary = shutil.which("trivy")
    if binary is None:
        why = "no VulnerabilityReport in the namespace covers the images and `trivy` is not on PATH"
        return VulnReport(NONE, why, (), tuple(problems))
    scanned = []
    for app in APPS:
        try:
            document = run_trivy(binary, images[app])
        except RuntimeError as exc:
            problems.append(str(exc))
            continue
        scanned.append(from_trivy_json(app, images[app], document))
    return VulnReport(TRIVY, f"`trivy image` run here ({binary})", tuple(scanned), tuple(problems))
