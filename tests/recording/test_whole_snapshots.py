"""Snapshots whose rows mostly changed (every pod's usage, each metrics poll) are stored
whole, encoded straight from the snapshot; they read back, feed and diff as before."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from cockpit.model import Level, PodUsage, TopSnapshot
from cockpit.recording import codec
from cockpit.recording.feed import FeedState
from cockpit.recording.store import RecordingReader, RecordingWriter
from tests.recording.live import record_and_watch

T0 = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
PODS = 200


def usage(i: int, cpu: float) -> PodUsage:
    level = Level.WARN if i % 7 == 0 else Level.OK
    return PodUsage(
        f"uid-{i}", f"rails-{i}", "rails", cpu, 300_000_000 + i, cpu / 5, cpu / 10, 61.25,
        30.625, level,
    )  # fmt: skip


def top(poll: int, moved: int = PODS) -> TopSnapshot:
    """The usage at `poll`; only the first `moved` pods' since the poll before."""
    rows = tuple(usage(i, 100.0 + i + (poll if i < moved else poll - 1) / 3) for i in range(PODS))
    at = T0 + timedelta(seconds=15 * poll)
    return TopSnapshot(True, "", rows, (), at, 15.0, at)


def kinds(path: Path) -> list[int]:
    with sqlite3.connect(path) as db:
        return [kind for (kind,) in db.execute("SELECT kind FROM frames ORDER BY id")]


def test_a_poll_that_changed_every_row_is_a_keyframe_and_a_few_changes_a_delta(
    tmp_path: Path,
) -> None:
    path = tmp_path / "r.db"
    writer = RecordingWriter(path)
    polls = [top(0), top(1), top(2), top(3, moved=5), top(4)]
    written = [writer.snapshot("top", snap, snap.taken_at) for snap in polls]
    writer.close()
    assert kinds(path) == [0, 0, 0, 1, 0]
    assert [w.kind for w in written] == ["key", "key", "key", "delta", "key"]
    # The delta after a whole snapshot diffs against its (decoded) rows: 5 of 200.
    assert len(written[3].body["pods"]["~rows"]["set"]) == 5
    reader = RecordingReader(path)
    for snap in polls:
        assert reader.state_at(snap.taken_at)["top"].snapshot == snap
    assert [frame.snapshot for frame in reader.frames()] == polls
    reader.close()


def test_the_whole_snapshot_is_the_json_of_its_plain_value() -> None:
    snap = top(1)
    assert orjson.dumps(snap) == codec.dumps(codec.to_plain(snap, "top"))


def test_a_viewer_gets_the_whole_snapshot_as_plain_values(tmp_path: Path) -> None:
    polls = [top(poll) for poll in range(3)]
    seen, present = record_and_watch(
        tmp_path / "r.db", [("top", snap, snap.taken_at) for snap in polls], events=3
    )
    assert [event.kind for event in seen] == ["key", "key", "key"]
    state = FeedState()
    item = state.take(orjson.loads(orjson.dumps({
        "k": seen[-1].kind, "s": "top", "at": 0.0, "t": seen[-1].type, "b": seen[-1].body,
    })))  # fmt: skip
    assert item is not None and item.snapshot == top(2)
    assert isinstance(present["top"].body, dict)
    assert codec.from_plain("TopSnapshot", present["top"].body) == top(2)
