"""The recording file: round trips, changes only, bounded size, moments."""

from __future__ import annotations

import random
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cockpit.model import (
    ContainerRow,
    KubeSnapshot,
    Level,
    LogBatch,
    LogLine,
    PodRow,
    SourceFailure,
)
from cockpit.recording.delta import apply, diff
from cockpit.recording.recorder import Recorder
from cockpit.recording.store import (
    STALE,
    RecordingError,
    RecordingReader,
    RecordingWriter,
)

T0 = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)


def pod(i: int, status: str = "Running", restarts: int = 0) -> PodRow:
    container = ContainerRow(
        "app", "excel-unified/rails:1", status == "Running", restarts, "running", "", None,
        "", None, None, T0,
    )  # fmt: skip
    level = Level.OK if status == "Running" else Level.CRIT
    return PodRow(
        f"uid-{i}", f"rails-{i}", "excel-unified", "rails", "ReplicaSet", "rails-rs", "rails",
        "Running", status, int(status == "Running"), 1, restarts, None, T0, "node-1",
        f"10.0.0.{i}", False, level, (container,),
    )  # fmt: skip


def kube(pods: list[PodRow], at: datetime, version: int = 1) -> KubeSnapshot:
    return KubeSnapshot("ctx", "excel-unified", tuple(pods), (), at, version)


def rows(path: Path) -> list[tuple[int, str]]:
    db = sqlite3.connect(path)
    try:
        return list(db.execute("SELECT kind, type FROM frames ORDER BY id"))
    finally:
        db.close()


def test_snapshots_come_back_equal_and_quiet_polls_add_no_rows(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    writer = RecordingWriter(path)
    pods = [pod(i) for i in range(50)]
    for second in range(30):  # a quiet cluster: the same pods every second
        writer.snapshot(
            "pods", kube(pods, T0 + timedelta(seconds=second)), T0 + timedelta(seconds=second)
        )
    changed = [*pods[:10], pod(10, "CrashLoopBackOff", 4), *pods[11:], pod(99)]
    writer.snapshot(
        "pods", kube(changed, T0 + timedelta(seconds=31), 2), T0 + timedelta(seconds=31)
    )
    writer.close()
    assert [kind for kind, _ in rows(path)] == [0, 1]  # one keyframe, one change
    assert path.stat().st_mode & 0o077 == 0  # its owner's only, like the journal
    reader = RecordingReader(path)
    at_20 = reader.state_at(T0 + timedelta(seconds=20))["pods"]
    assert at_20.snapshot.pods == tuple(pods)
    assert at_20.snapshot.taken_at == T0 + timedelta(seconds=20)  # seen again then
    after = reader.state_at(T0 + timedelta(minutes=5))["pods"].snapshot
    assert after == kube(changed, T0 + timedelta(seconds=31), 2)
    assert reader.state_at(T0 - timedelta(seconds=1)) == {}


def test_a_failure_after_the_last_snapshot_is_the_state(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    writer = RecordingWriter(path)
    writer.snapshot("pods", kube([pod(1)], T0), T0)
    failure = SourceFailure("pods", "cannot reach the API server", "check the VPN", T0, 4.0)
    writer.failure(failure, T0 + timedelta(seconds=10))
    writer.snapshot(
        "pods", kube([pod(1), pod(2)], T0 + timedelta(seconds=20)), T0 + timedelta(seconds=20)
    )
    writer.close()
    reader = RecordingReader(path)
    during = reader.state_at(T0 + timedelta(seconds=15))["pods"]
    assert during.failure == failure and len(during.snapshot.pods) == 1
    assert reader.state_at(T0 + timedelta(seconds=25))["pods"].failure is None
    changes = [(c.source, c.old, c.new) for c in reader.level_changes()]
    assert changes == [("pods", -2, Level.OK), ("pods", Level.OK, STALE), ("pods", STALE, Level.OK)]


def test_the_same_snapshot_after_a_failure_is_a_recovery(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    writer = RecordingWriter(path)
    snapshot = kube([pod(1)], T0)
    writer.snapshot("pods", snapshot, T0)
    writer.failure(SourceFailure("pods", "timed out"), T0 + timedelta(seconds=10))
    writer.snapshot("pods", kube([pod(1)], T0 + timedelta(seconds=20)), T0 + timedelta(seconds=20))
    writer.close()
    reader = RecordingReader(path)
    assert reader.state_at(T0 + timedelta(seconds=15))["pods"].failure is not None
    assert reader.state_at(T0 + timedelta(seconds=25))["pods"].failure is None
    assert [c.new for c in reader.level_changes()] == [Level.OK, STALE, Level.OK]


def test_log_batches_are_news_and_the_last_lines_are_found(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    writer = RecordingWriter(path)
    seq = 0
    for second in range(20):
        lines = []
        for _ in range(3):
            seq += 1
            lines.append(LogLine(seq, T0, "rails-1", "app", "rails", f"ERROR {seq}"))
        at = T0 + timedelta(seconds=second)
        writer.snapshot(
            "logs", LogBatch(tuple(lines), (1, 2), ("rails-1",), 0, (), at, True, Level.OK), at
        )
    writer.close()
    reader = RecordingReader(path)
    lines = reader.log_lines(T0 + timedelta(seconds=9, milliseconds=500), limit=7)
    assert [line["text"] for line in lines] == [f"ERROR {n}" for n in range(24, 31)]
    assert [len(f.snapshot.lines) for f in reader.frames()] == [3] * 20


def test_the_file_stays_under_its_bound_and_every_kept_moment_reads(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    writer = RecordingWriter(path, max_bytes=400_000)
    rng = random.Random(7)
    pods = [pod(i) for i in range(40)]
    for second in range(3000):
        i = rng.randrange(40)
        pods[i] = pod(i, rng.choice(["Running", "Error"]), rng.randrange(100))
        writer.snapshot(
            "pods",
            kube(pods, T0 + timedelta(seconds=second), second),
            T0 + timedelta(seconds=second),
        )
        if second % 50 == 0:
            writer.commit()
    writer.commit()
    assert writer.size() <= 400_000
    writer.close()
    reader = RecordingReader(path)
    start, end = reader.span()
    assert start > T0 and end == T0 + timedelta(seconds=2999)  # the oldest went first
    assert reader.state_at(end)["pods"].snapshot.pods == tuple(pods)
    assert reader.state_at(start)["pods"].snapshot is not None


def test_not_a_recording_is_said_in_words(tmp_path: Path) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("hello")
    with pytest.raises(RecordingError, match="not a cockpit recording"):
        RecordingReader(bad)
    with pytest.raises(RecordingError, match="no such recording"):
        RecordingReader(tmp_path / "missing.db")
    (tmp_path / "new.db").touch()  # a recorder has just created it
    with pytest.raises(RecordingError, match="holds nothing yet"):
        RecordingReader(tmp_path / "new.db")


def test_diff_and_apply_agree_on_random_row_lists() -> None:
    rng = random.Random(3)
    for _ in range(2000):
        old = [
            {"uid": f"u{i}", "v": rng.randrange(3)}
            for i in rng.sample(range(20), rng.randrange(10))
        ]
        new = [
            {"uid": f"u{i}", "v": rng.randrange(3)}
            for i in rng.sample(range(20), rng.randrange(10))
        ]
        before, after = {"rows": old, "n": 1}, {"rows": new, "n": rng.randrange(2)}
        assert apply(before, diff(before, after)) == after


def test_a_second_recorder_on_the_same_file_says_why_it_does_not_record(tmp_path: Path) -> None:
    first, second = Recorder(tmp_path / "r.db"), Recorder(tmp_path / "r.db")
    first.start()
    deadline = time.monotonic() + 15
    while not (tmp_path / "r.db").exists() and time.monotonic() < deadline:
        time.sleep(0.02)  # the first holds the lock once its file is there
    second.start()
    try:
        deadline = time.monotonic() + 15  # threads start late on a loaded machine
        while not second.problem and time.monotonic() < deadline:
            time.sleep(0.02)
        assert second.problem and "another cockpit is recording" in second.problem
        assert first.problem is None
    finally:
        second.stop()
        first.stop()


def test_level_changes_of_a_growing_file_read_only_the_new_rows(tmp_path: Path) -> None:
    """Replay asks on every `<`/`>`: a second call sees what was written since, and a
    bound that deleted the oldest rows makes it read all again."""
    path = tmp_path / "r.db"
    writer = RecordingWriter(path)
    writer.snapshot("pods", kube([pod(1)], T0), T0)
    writer.commit()
    reader = RecordingReader(path)
    assert [c.new for c in reader.level_changes()] == [Level.OK]
    writer.failure(SourceFailure("pods", "timed out"), T0 + timedelta(seconds=10))
    writer.snapshot("pods", kube([pod(1)], T0 + timedelta(seconds=20)), T0 + timedelta(seconds=20))
    writer.commit()
    assert [c.new for c in reader.level_changes()] == [Level.OK, STALE, Level.OK]
    later = reader.level_changes(start=T0 + timedelta(seconds=5))
    assert [c.new for c in later] == [STALE, Level.OK]
    with sqlite3.connect(path) as db:  # what the bound does: the oldest rows go
        db.execute("DELETE FROM frames WHERE at < ?", ((T0 + timedelta(seconds=5)).timestamp(),))
    assert [(c.old, c.new) for c in reader.level_changes()] == [(-2, STALE), (STALE, Level.OK)]
    writer.close()
    reader.close()
