"""End to end: `cockpit record` (headless, every source) on the incident scenario, then
`cockpit report --weekly --recording` and `cockpit report` on what it wrote.  The weekly
figures are those of the recorded SLO snapshots, read back independently."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cockpit.cli import main
from cockpit.model import SloSnapshot
from cockpit.recording.store import RecordingError, RecordingReader
from cockpit.sim.runner import CONTEXT, SimCluster

ROOT = Path(__file__).resolve().parents[2]


def config_for(sim: SimCluster, directory: Path) -> Path:
    kubeconfig = sim.write_kubeconfig(directory / "kubeconfig")
    config = directory / "config.toml"
    # PostgreSQL, Redis and S3 point where nothing listens: their panes go stale.
    config.write_text(
        f'journal_path = "{directory / "journal.jsonl"}"\n'
        f'[kube]\nkubeconfig = "{kubeconfig}"\ncontext = "{CONTEXT}"\n'
        '[postgres]\ndsn = "host=127.0.0.1 port=9 user=x dbname=x connect_timeout=1"\n'
        '[redis]\nurl = "redis://127.0.0.1:9/0"\n'
        '[backups]\nendpoint_url = "http://127.0.0.1:9"\n'
    )
    return config


def recorded_slos(path: Path) -> list[tuple[float, SloSnapshot]]:
    try:
        reader = RecordingReader(path)
    except RecordingError:
        return []
    try:
        return [
            (f.at.timestamp(), f.snapshot)
            for f in reader.frames(sources=["slo"])
            if isinstance(f.snapshot, SloSnapshot)
        ]
    finally:
        reader.close()


def test_cockpit_record_then_the_reports(
    incident_sim: SimCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = config_for(incident_sim, tmp_path)
    recording = tmp_path / "incident.db"
    env = dict(os.environ, COCKPIT_CONFIG=str(config), PYTHONPATH=str(ROOT))
    record = subprocess.Popen(
        [sys.executable, "-m", "cockpit", "record", "--output", str(recording)],
        env=env,
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # until traffic has been measured a few times
            with_traffic = [
                s for _, s in recorded_slos(recording) if s.upstreams[0].five_minutes.requests
            ]
            if len(with_traffic) >= 4:
                break
            assert record.poll() is None, record.communicate()[1]
            time.sleep(0.5)
        else:
            raise AssertionError("no SLO snapshots with traffic recorded within 60 s")
    finally:
        record.send_signal(signal.SIGINT)
        _, err = record.communicate(timeout=30)
    assert record.returncode == 0, err

    monkeypatch.setenv("COCKPIT_CONFIG", str(config))
    weekly = tmp_path / "weekly.html"
    assert main(["report", "--weekly", "--recording", str(recording), "-o", str(weekly)]) == 0
    page = weekly.read_text()
    slos = recorded_slos(recording)
    assert f"{len(slos)} SLO snapshots" in page
    # The service's error rate over the period, from the recorded five-minute windows.
    windows = [s.upstreams[0].five_minutes for _, s in slos]
    pairs = [(w.rps, w.error_pct) for w in windows if w.error_pct is not None]
    expected = sum(r * e for r, e in pairs) / sum(r for r, _ in pairs)
    assert f"{expected:.3f} %" in page
    assert "CVE-2024-45490" in page  # the cluster's VulnerabilityReports

    postmortem = tmp_path / "postmortem.html"
    assert main(["report", str(recording), "-o", str(postmortem)]) == 0
    text = postmortem.read_text()
    assert "CrashLoopBackOff" in text and "OOMKilled" in text  # what the pods pane showed
    assert "connection refused" in text  # PostgreSQL and Redis went stale
