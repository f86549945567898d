"""Where the vulnerability figures come from when the operator's reports do not answer:
`trivy image --format json`, or nothing (and the report says why)."""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client as k8s

from cockpit.reports import vulns
from cockpit.reports.render_weekly import vulnerabilities
from cockpit.sim.pace import Pace
from cockpit.sim.runner import SimCluster

# The shape of `trivy image --format json` (schema 2), cut down to two results.
TRIVY_DOCUMENT = {
    "SchemaVersion": 2,
    "CreatedAt": "2026-12-06T09:00:00Z",
    "ArtifactName": "excel-unified/rails:latest",
    "Results": [
        {
            "Target": "excel-unified/rails:latest (debian 12.5)",
            "Class": "os-pkgs",
            "Vulnerabilities": [
                {"VulnerabilityID": "CVE-2024-45490", "PkgName": "libexpat1",
                 "InstalledVersion": "2.5.0-1", "FixedVersion": "2.5.0-1+deb12u1",
                 "Severity": "CRITICAL", "Title": "libexpat: negative length",
                 "PrimaryURL": "https://avd.aquasec.com/nvd/cve-2024-45490"},
                {"VulnerabilityID": "CVE-2011-3374", "PkgName": "apt",
                 "InstalledVersion": "2.6.1", "Severity": "LOW", "Title": "apt-key"},
            ],
        },
        {"Target": "Ruby", "Class": "lang-pkgs", "Vulnerabilities": [
            {"VulnerabilityID": "CVE-2024-47220", "PkgName": "webrick",
             "InstalledVersion": "1.8.1", "FixedVersion": "1.8.2", "Severity": "HIGH",
             "Title": "webrick: request smuggling",
             "PrimaryURL": "javascript:alert(1)"},
        ]},
        {"Target": "Python", "Class": "lang-pkgs"},
    ],
}  # fmt: skip


def test_trivy_json_counts_by_severity() -> None:
    image = vulns.from_trivy_json("rails", "excel-unified/rails:latest", TRIVY_DOCUMENT)
    assert image.counts == {"CRITICAL": 1, "HIGH": 1, "MEDIUM": 0, "LOW": 1, "UNKNOWN": 0}
    assert [(f.id, f.fixed) for f in image.important] == [
        ("CVE-2024-45490", "2.5.0-1+deb12u1"),
        ("CVE-2024-47220", "1.8.2"),
    ]
    assert image.origin == "trivy image --format json excel-unified/rails:latest"


def fake_trivy(directory: Path, log: Path) -> None:
    """A stand-in `trivy` (the real one cannot be installed here: it is no Debian or
    PyPI package): records its arguments and prints a trivy JSON document."""
    script = directory / "trivy"
    document = json.dumps(TRIVY_DOCUMENT)
    script.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        f"open({str(log)!r}, 'a').write(' '.join(sys.argv[1:]) + '\\n')\n"
        f"print({document!r})\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)


def test_without_reports_trivy_on_path_is_run_for_both_images(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "argv"
    fake_trivy(bin_dir, log)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    report = vulns.scan(None, "excel-unified", "Kubernetes: not connected")
    assert report.source == vulns.TRIVY and str(bin_dir / "trivy") in report.source_words
    assert log.read_text().splitlines() == [
        "image --format json --quiet excel-unified/rails:latest",
        "image --format json --quiet excel-unified/fastapi:latest",
    ]
    assert [i.app for i in report.images] == ["rails", "fastapi"]
    assert report.problems == ("Kubernetes: not connected",)
    page = vulnerabilities(report)
    assert "CVE-2024-47220" in page and "javascript:" not in page
    assert 'href="https://avd.aquasec.com/nvd/cve-2024-45490"' in page


def test_refused_reports_and_no_trivy_say_so(
    refusing_sim: SimCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no trivy anywhere
    refusing_sim.deny("list", "vulnerabilityreports")
    api = k8s.ApiClient(refusing_sim.client_configuration())
    try:
        report = vulns.scan(api, "excel-unified")
    finally:
        api.close()
    assert report.source == vulns.NONE and report.images == ()
    assert "trivy" in report.source_words
    [problem] = report.problems
    assert problem.startswith("VulnerabilityReports: forbidden")


def test_reports_match_the_image_the_deployment_runs() -> None:
    report = {"report": {"artifact": {"repository": "excel-unified/rails", "tag": "v2"},
                         "registry": {"server": "index.docker.io"}}}  # fmt: skip
    assert vulns.match_reports({"rails": "docker.io/excel-unified/rails:v2"}, [report])
    assert vulns.match_reports({"rails": "excel-unified/rails:v1"}, [report]) == {}
    assert vulns.normalise("redis") == "redis:latest"
    assert vulns.normalise("docker.io/library/redis:7") == "redis:7"


@pytest.fixture
def refusing_sim() -> Iterator[SimCluster]:
    sim = SimCluster("healthy", pace=Pace.fast()).start()
    yield sim
    sim.stop()
