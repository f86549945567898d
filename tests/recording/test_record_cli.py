"""`cockpit record` headless: it records failures too, and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from cockpit.recording.store import RecordingEmpty, RecordingError, RecordingReader


def test_record_keeps_failures_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    recording = tmp_path / "rec.db"
    env = {
        **os.environ,
        "COCKPIT_KUBE__KUBECONFIG": str(tmp_path / "missing-kubeconfig"),
        "COCKPIT_JOURNAL_PATH": str(tmp_path / "journal.jsonl"),
        "COCKPIT_POSTGRES__DSN": "postgresql://nobody@127.0.0.1:1/none?connect_timeout=1",
        "COCKPIT_REDIS__URL": "redis://127.0.0.1:1/0",
    }
    record = subprocess.Popen(
        [sys.executable, "-m", "cockpit", "record", "-o", str(recording)],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                reader = RecordingReader(recording)
            except RecordingEmpty:  # created, its tables not yet
                pass
            except RecordingError:  # not there yet
                assert not recording.exists() or recording.stat().st_size == 0
            else:
                sources = set(reader.sources())
                reader.close()
                if {"pods", "postgres", "redis"} <= sources:
                    break
            assert record.poll() is None, record.communicate()[1]
            time.sleep(0.3)
        else:
            raise AssertionError("no failures recorded within 30 s")
    finally:
        record.send_signal(signal.SIGTERM)
        _, err = record.communicate(timeout=30)
    assert record.returncode == 0, err
    assert "recording stopped" in err
    reader = RecordingReader(recording)
    states = reader.state_at(reader.span()[1])
    assert "kubeconfig" in states["pods"].failure.message.lower()
    assert states["redis"].failure is not None and states["redis"].snapshot is None


def test_a_moment_before_the_end_is_typed_as_people_type_it() -> None:
    from cockpit.recording_cli import glue_moments

    assert glue_moments(["replay", "f.db", "--at", "-90s"]) == ["replay", "f.db", "--at=-90s"]
    assert glue_moments(["replay", "--at", "03:12", "f.db"]) == ["replay", "--at=03:12", "f.db"]
