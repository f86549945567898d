"""The weekly report without Prometheus: figures from a recording's SLO snapshots; the
backups of the week from S3 (moto) and the simulated cluster's backup Jobs; the image
vulnerabilities from the simulated cluster's VulnerabilityReports."""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cockpit.cli import main
from cockpit.config import BackupSettings, PrometheusSettings
from cockpit.reports import vulns
from cockpit.reports.render_weekly import render_weekly
from cockpit.reports.weekly import NONE, RECORDING, WeeklyReport, build_weekly
from cockpit.sim.runner import CONTEXT, SimCluster
from cockpit.sources.kube.convert import parse_time
from tests.fixtures.s3 import REGION, MotoServer
from tests.reports.conftest import settings_for
from tests.reports.scene import t0_now, write_scene

NS = "excel-unified"


def dump_key(day: datetime) -> str:
    return f"backup_{day:%Y%m%d}_020000.sql.gz"


def test_weekly_from_a_recording_with_backups_and_vulnerabilities(
    incident_sim: SimCluster,
    tmp_path: Path,
    moto_server: MotoServer,
    s3_bucket: str,
    put_backups: Callable[[str, dict[str, int]], None],
) -> None:
    scene = write_scene(tmp_path / "rec.db", t0_now(minutes_ago=90))
    end = datetime.now(UTC)
    today = end.replace(hour=0, minute=0, second=0, microsecond=0)
    # Nightly dumps for ten days, but none three nights ago; last night's is a tenth.
    sizes = {dump_key(today - timedelta(days=d)): 50_000 + d for d in range(10) if d != 3}
    sizes[dump_key(today - timedelta(days=1))] = 5_000
    put_backups(s3_bucket, sizes)
    backups = BackupSettings(bucket=s3_bucket, endpoint_url=moto_server.url, region=REGION)
    settings = settings_for(incident_sim, tmp_path, backups=backups)

    report = asyncio.run(build_weekly(settings, end=end, recording=scene.path))

    figures_are_the_recorded_ones(report, scene.slos)
    backups_are_the_weeks(report, incident_sim, sizes, end)
    vulnerabilities_are_the_clusters(report, incident_sim)

    page = render_weekly(report, settings.backups.min_size_ratio)
    assert "rec.db" in page and "Trivy Operator" in page and "CVE-2024-45490" in page
    assert dump_key(today - timedelta(days=1)) in page and "under 50%" in page
    assert "<script" not in page


def figures_are_the_recorded_ones(report: WeeklyReport, slos: list) -> None:
    assert report.figures_source == RECORDING, report.problems
    assert str(len(slos)) in report.figures_words
    by_up = {t.upstream: t for t in report.traffic}
    assert list(by_up) == ["all", "rails", "fastapi"]
    for name in by_up:
        recorded = [
            (at.timestamp(), next(u for u in snap.upstreams if u.name == name).five_minutes)
            for at, snap in slos
        ]
        assert by_up[name].series["error_pct"] == [(t, w.error_pct) for t, w in recorded]
        assert by_up[name].series["p99_ms"] == [(t, w.p99_ms) for t, w in recorded]
        assert by_up[name].series["rps"] == [(t, w.rps) for t, w in recorded]
    summary = {(s.upstream, s.limit.figure): s for s in report.summaries}
    fastapi = [next(u for u in s.upstreams if u.name == "fastapi").five_minutes for _, s in slos]
    weighted = [(w.rps, w.error_pct) for w in fastapi if w.error_pct is not None]
    expected = sum(r * e for r, e in weighted) / sum(r for r, _ in weighted)
    assert abs(summary[("fastapi", "error_pct")].overall - expected) < 1e-9
    p99s = [u.five_minutes.p99_ms for _, s in slos for u in s.upstreams if u.name == "all"]
    assert summary[("all", "p99_ms")].overall == statistics.median(p for p in p99s if p is not None)
    assert summary[("fastapi", "error_pct")].met is False
    assert summary[("rails", "rps")].met is None  # the floor is the service's


def backups_are_the_weeks(
    report: WeeklyReport, sim: SimCluster, sizes: dict[str, int], end: datetime
) -> None:
    b = report.backups
    assert b.s3_read and b.jobs_read and not b.problems, b.problems
    start = end - timedelta(days=7)
    in_week = {
        k: v
        for k, v in sizes.items()
        if start <= datetime.strptime(k[7:22], "%Y%m%d_%H%M%S").replace(tzinfo=UTC) <= end
    }
    assert {d.key: d.size for d in b.dumps} == in_week
    assert b.total_bytes == sum(in_week.values())
    three_nights_ago = (end - timedelta(days=3)).date()
    assert three_nights_ago in b.days_without_dump
    [(small, _)] = b.shrunk(0.5)
    assert small.size == 5_000
    jobs = {
        j["metadata"]["name"]: j
        for j in sim.list_objects("jobs.batch", NS)
        if j["metadata"]["name"].startswith("postgres-backup-")
        and start <= parse_time(j["status"]["startTime"]) <= end
    }
    assert {j.name for j in b.jobs} == set(jobs) and jobs
    failed = {
        name
        for name, j in jobs.items()
        if any(c["type"] == "Failed" and c["status"] == "True" for c in j["status"]["conditions"])
    }
    assert {j.name for j in b.failed_jobs} == failed and failed  # the incident's last night


def vulnerabilities_are_the_clusters(report: WeeklyReport, sim: SimCluster) -> None:
    v = report.vulns
    assert v.source == vulns.OPERATOR and not v.problems
    objects = sim.list_objects("vulnerabilityreports.aquasecurity.github.io", NS)
    expected = {
        f"{o['report']['artifact']['repository']}:{o['report']['artifact']['tag']}": o
        for o in objects
    }
    assert {i.image for i in v.images} == set(expected)
    for image in v.images:
        obj = expected[image.image]
        summary = obj["report"]["summary"]
        assert image.counts == {s: summary[f"{s.lower()}Count"] for s in vulns.SEVERITIES}
        important = [
            x["vulnerabilityID"]
            for x in obj["report"]["vulnerabilities"]
            if x["severity"] in ("CRITICAL", "HIGH")
        ]
        assert sorted(f.id for f in image.important) == sorted(important)
        assert all(f.fixed or f.id == "CVE-2023-45853" for f in image.important)


def test_cockpit_report_weekly_writes_its_page_in_the_current_directory(
    incident_sim: SimCluster,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    scene = write_scene(tmp_path / "rec.db", t0_now(minutes_ago=10))
    kubeconfig = incident_sim.write_kubeconfig(tmp_path / "kubeconfig")
    config = tmp_path / "config.toml"
    config.write_text(
        f'journal_path = "{tmp_path / "journal.jsonl"}"\n'
        f'[kube]\nkubeconfig = "{kubeconfig}"\ncontext = "{CONTEXT}"\n'
        '[backups]\nendpoint_url = "http://127.0.0.1:9"\n'  # nothing listens: S3 fails
    )
    monkeypatch.chdir(tmp_path)
    argv = ["report", "--weekly", "--recording", str(scene.path), "--config", str(config)]
    assert main(argv) == 0
    [page] = tmp_path.glob("weekly-report-*.html")
    assert page.name == f"weekly-report-{datetime.now(UTC):%Y-%m-%d}.html"
    text = page.read_text()
    assert "rec.db" in text and "CVE-2024-47874" in text  # recorded figures, fastapi's CVEs
    assert "S3" in capsys.readouterr().err or "S3" in text  # the failing half is said
    assert main(["report", "--weekly", str(scene.path)]) == 2  # the recording is --recording


def test_a_failing_prometheus_is_said_and_the_recording_stands_in(
    incident_sim: SimCluster, tmp_path: Path
) -> None:
    scene = write_scene(tmp_path / "rec.db", t0_now(minutes_ago=10))
    # The API server is no Prometheus: its 404 must be said, not hidden.
    not_prometheus = PrometheusSettings(url=incident_sim.url, timeout=3)
    settings = settings_for(incident_sim, tmp_path, prometheus=not_prometheus)
    end = datetime.now(UTC)
    report = asyncio.run(build_weekly(settings, end=end, recording=scene.path))
    assert report.figures_source == RECORDING
    assert "Prometheus failed" in report.figures_words
    assert any(p.startswith("Prometheus: ") and "404" in p for p in report.problems)
    junk = tmp_path / "junk.db"
    junk.write_text("not a recording")
    report = asyncio.run(build_weekly(settings, end=end, recording=junk))
    assert report.figures_source == NONE and report.traffic == []
    assert any(p.startswith(f"recording {junk}") for p in report.problems)
