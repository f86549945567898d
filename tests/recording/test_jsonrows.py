"""Rows nothing scrubs are kept by the writer as each row's JSON (jsonrows.py): the same
changes in the file as diffing them as dicts, a third of the memory."""

from __future__ import annotations

import random
import tracemalloc
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from cockpit.model import ContainerRow, KubeSnapshot, Level, PodRow
from cockpit.recording import codec, jsonrows
from cockpit.recording.delta import diff
from cockpit.recording.jsonrows import JsonRows
from cockpit.recording.store import RecordingReader, RecordingWriter
from tests.recording.live import record_and_watch

T0 = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)


def pod(i: int, restarts: int = 0, status: str = "Running") -> PodRow:
    container = ContainerRow(
        "app", f"excel-unified/rails:{i % 3}", status == "Running", restarts, "running", "",
        None, "", None, None, T0,
    )  # fmt: skip
    level = Level.OK if status == "Running" else Level.CRIT
    return PodRow(
        f"uid-{i}", f"rails-{i}", "excel-unified", "rails", "ReplicaSet", "rails-rs", "rails",
        "Running", status, int(status == "Running"), 1, restarts, None, T0, f"node-{i % 4}",
        f"10.0.{i // 250}.{i % 250}", False, level, (container,),
    )  # fmt: skip


def kube(pods: list[PodRow], at: datetime) -> KubeSnapshot:
    return KubeSnapshot("ctx", "excel-unified", tuple(pods), (), at, 1)


def next_pods(rng: random.Random, pods: list[PodRow], fresh: int) -> tuple[list[PodRow], int]:
    """A random next state: some pods change, some go, some come, some swap places, some
    are new objects equal to the old; the same objects otherwise (as the sources do)."""
    pods = list(pods)
    move = rng.random()
    if move < 0.15 and len(pods) > 40:  # below RowCache.MIN_ROWS: plain dicts again
        pods = pods[: rng.randint(1, 31)]
    for _ in range(rng.randint(0, 4)):
        if pods:
            k = rng.randrange(len(pods))
            pods[k] = replace(pods[k], restarts=pods[k].restarts + 1, status="CrashLoopBackOff")
    if pods and rng.random() < 0.3:
        k = rng.randrange(len(pods))
        pods[k] = replace(pods[k])  # equal, not the same object
    for _ in range(rng.randint(0, 3)):
        if len(pods) > 1:
            pods.pop(rng.randrange(len(pods)))
    for _ in range(rng.randint(0, 30 if len(pods) < 32 else 3)):
        pods.insert(rng.randint(0, len(pods)), pod(fresh))
        fresh += 1
    if len(pods) > 2 and rng.random() < 0.3:
        a, b = rng.sample(range(len(pods)), 2)
        pods[a], pods[b] = pods[b], pods[a]
    return pods, fresh


def test_changes_are_those_of_the_rows_as_dicts_and_read_back(tmp_path: Path) -> None:
    rng = random.Random(12)
    path = tmp_path / "r.db"
    writer = RecordingWriter(path)
    pods, fresh = [pod(i) for i in range(60)], 60
    snapshots = []
    previous = None
    deltas = 0
    for step in range(120):
        at = T0 + timedelta(seconds=step)
        snap = kube(pods, at)
        written = writer.snapshot("pods", snap, at)
        if written.kind == "delta":
            deltas += 1
            # What diffing the rows as dicts (as before JsonRows) would have stored.
            assert written.body == diff(codec.to_plain(previous), codec.to_plain(snap))
        if written.kind != "same":
            previous = snap
        snapshots.append(snap)
        pods, fresh = next_pods(rng, pods, fresh)
    writer.close()
    assert deltas > 80  # the case under test, not keyframes
    reader = RecordingReader(path)
    for snap in snapshots:
        assert reader.state_at(snap.taken_at)["pods"].snapshot == snap
    reader.close()


def plain_rows_held(source: str, pods: list[PodRow]) -> int:
    """Bytes the writer still holds after writing these pods as `source`."""
    tracemalloc.start()
    try:
        cache = codec.RowCache(source, ())
        held = cache.to_plain(kube(pods, T0))
        size = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert held is not None
    return size


def test_the_writer_holds_the_rows_as_json_a_third_of_the_dicts() -> None:
    pods = [pod(i) for i in range(2000)]
    plain_rows_held("pods", pods[:40]), plain_rows_held("other", pods[:40])  # first use
    as_json = plain_rows_held("pods", pods)  # pods: nothing to scrub
    as_dicts = plain_rows_held("pods-scrubbed", pods)  # any other source: dicts
    assert as_json < 0.45 * as_dicts  # 0.34 here, (as_json, as_dicts)


def test_a_viewer_gets_the_rows_as_dicts(tmp_path: Path) -> None:
    pods = [pod(i) for i in range(40)]
    changed = [pod(0, restarts=3, status="CrashLoopBackOff"), *pods[1:]]
    seen, present = record_and_watch(
        tmp_path / "r.db",
        [("pods", kube(pods, T0), T0), ("pods", kube(changed, T0 + timedelta(seconds=1)), T0)],
        events=2,
    )
    assert [event.kind for event in seen] == ["key", "delta"]
    assert isinstance(seen[0].body["pods"], list)  # decoded for the viewers
    assert codec.from_plain("KubeSnapshot", seen[0].body) == kube(pods, T0)
    body = present["pods"].body
    assert not isinstance(body["pods"], JsonRows)
    assert codec.from_plain("KubeSnapshot", body) == kube(changed, T0 + timedelta(seconds=1))


@dataclass(frozen=True)
class Sample:
    id: int
    name: str
    level: Level
    value: float


@dataclass(frozen=True)
class Named:
    """A row whose `name` is a property: not in its JSON, so not a key."""

    value: int

    @property
    def name(self) -> str:
        return f"n{self.value}"


def test_a_property_is_not_a_key() -> None:
    old, new = [Named(1), Named(2)], [Named(2), Named(3)]
    expected = diff(
        {"rows": orjson.loads(orjson.dumps(old))}, {"rows": orjson.loads(orjson.dumps(new))}
    )
    got = jsonrows.diff({"rows": as_json_rows(old)}, {"rows": as_json_rows(new)})
    assert got == expected == {"rows": [{"value": 2}, {"value": 3}]}


def as_json_rows(rows: list[Any]) -> JsonRows:
    return JsonRows([(row, orjson.dumps(row)) for row in rows])


def test_any_rows_diff_as_their_dicts_do_keyed_or_not() -> None:
    """Ids sometimes repeat (then the name is the key, or there is none): the change is
    delta.diff's of the same rows as dicts, field by field, whatever the rows."""
    rng = random.Random(7)
    for _ in range(400):
        size = rng.randint(0, 12)
        old = [
            Sample(rng.randint(0, 15), f"n{rng.randint(0, 15)}", rng.choice(list(Level)), 0.5)
            for _ in range(size)
        ]
        new = [replace(r, value=r.value + 1) if rng.random() < 0.2 else r for r in old]
        rng.shuffle(new) if rng.random() < 0.3 else None
        new = new[: rng.randint(0, len(new))] + [
            Sample(rng.randint(0, 15), f"n{rng.randint(0, 15)}", Level.OK, 1.0)
            for _ in range(rng.randint(0, 3))
        ]
        plain_old = {"rows": orjson.loads(orjson.dumps(old)), "at": 1}
        plain_new = {"rows": orjson.loads(orjson.dumps(new)), "at": 2}
        expected = diff(plain_old, plain_new)
        got = jsonrows.diff(
            {"rows": as_json_rows(old), "at": 1}, {"rows": as_json_rows(new), "at": 2}
        )
        assert got == expected
        # One side as dicts (fewer rows than RowCache keeps, or a whole keyframe).
        assert jsonrows.diff(plain_old, {"rows": as_json_rows(new), "at": 2}) == expected
        assert jsonrows.diff({"rows": as_json_rows(old), "at": 1}, plain_new) == expected
