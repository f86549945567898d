"""Issue 12: the flight recorder's cost per metrics poll at 5,000 pods.

Builds the large simulated cluster in this process, takes `--polls` usage snapshots
(TopSnapshot, the "top" source) one metrics window (15 s) apart the way the kube source
builds them, and times RecordingWriter.snapshot and the commit after it for each, the
way the recorder thread calls them.  Prints the milliseconds per poll (and the share of
a core that is at one poll per 15 s), the bytes each poll adds to the file and what the
writer keeps in memory afterwards.

    python -m bench.bench_recorder [--size 5000] [--polls 24] [--rounds 3]
                                   [--against /work/main]

--against DIR times DIR's cockpit package too, in child processes interleaved with
this tree's (round by round), so that both see the same machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WINDOW_S = 15.0  # metrics.k8s.io's window and the cockpit's metrics poll
T0 = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)


def usage_snapshots(size: int, polls: int) -> list[object]:
    """`polls` TopSnapshots of the large scenario, one metrics window apart."""
    from cockpit.config import Settings
    from cockpit.sim.controller import Controller
    from cockpit.sim.metrics import Metrics
    from cockpit.sim.pace import Pace
    from cockpit.sim.scenarios import seed
    from cockpit.sim.store import Store
    from cockpit.sources.kube.convert import pod_row
    from cockpit.sources.kube.source import top_from_metrics

    now = [T0.timestamp()]
    store = Store()
    store.clock = lambda: now[0]
    controller = Controller(store, Pace.demo(), "large", store.clock, 0)
    seed(controller, "large", size)
    metrics = Metrics(store, "large", lambda: controller.pace, store.clock)
    pods = {row.name: row for row in (pod_row(p) for p in store.list("pods"))}
    snapshots = []
    for poll in range(polls):
        now[0] += WINDOW_S
        top = top_from_metrics({"items": metrics.pod_metrics(None)}, pods, Settings())
        snapshots.append(replace(top, taken_at=T0 + timedelta(seconds=WINDOW_S * poll)))
    return snapshots


def measure(size: int, polls: int) -> dict[str, float]:
    """Write the polls to a fresh recording; the first (a keyframe either way) is left
    out of the figures.  Memory is measured in a second, traced run (tracing slows
    allocations down, so not while timing)."""
    from cockpit.recording.store import RecordingWriter

    snapshots = usage_snapshots(size, polls)
    with tempfile.TemporaryDirectory(prefix="bench-recorder-") as tmp:
        writer = RecordingWriter(Path(tmp) / "timed.db")
        times, commits = [], []
        for snapshot in snapshots:
            started = time.perf_counter()
            writer.snapshot("top", snapshot, snapshot.taken_at)  # type: ignore[attr-defined]
            written = time.perf_counter()
            writer.commit()
            times.append(written - started)
            commits.append(time.perf_counter() - written)
        bodies = [size for (size,) in writer.db.execute("SELECT length(body) FROM frames")]
        kinds = [kind for (kind,) in writer.db.execute("SELECT kind FROM frames")]
        writer.close()
        tracemalloc.start()
        held_before = tracemalloc.get_traced_memory()[0]
        writer = RecordingWriter(Path(tmp) / "traced.db")
        for snapshot in snapshots[:3]:
            writer.snapshot("top", snapshot, snapshot.taken_at)  # type: ignore[attr-defined]
        held = tracemalloc.get_traced_memory()[0] - held_before
        tracemalloc.stop()
        writer.close()
    return {
        "snapshot_ms": 1000 * statistics.median(times[1:]),
        "commit_ms": 1000 * statistics.median(commits[1:]),
        "body_bytes": statistics.mean(bodies[1:]),
        "held_mb": held / 2**20,
        "keyframes": kinds.count(0),
        "rows": len(kinds),
    }


def child(code: Path, size: int, polls: int) -> dict[str, float]:
    """measure() with `code`'s cockpit package, in a process of its own."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    argv = [sys.executable, str(Path(__file__).resolve()), "--child", str(code),
            "--size", str(size), "--polls", str(polls)]  # fmt: skip
    out = subprocess.run(argv, env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def report(name: str, runs: list[dict[str, float]]) -> None:
    ms = statistics.median(r["snapshot_ms"] + r["commit_ms"] for r in runs)
    first = runs[0]
    print(
        f"{name:>8}: {ms:6.1f} ms/poll ({ms / WINDOW_S / 10:.2f} % of a core at one poll"
        f" per {WINDOW_S:.0f} s; snapshot {statistics.median(r['snapshot_ms'] for r in runs):.1f}"
        f" + commit {statistics.median(r['commit_ms'] for r in runs):.1f})"
        f" · {first['body_bytes'] / 1024:.0f} KiB/poll on disk"
        f" · writer holds {first['held_mb']:.1f} MB"
        f" · {first['keyframes']:.0f} keyframes of {first['rows']:.0f} rows"
    )


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench_recorder")
    parser.add_argument("--size", type=int, default=5000)
    parser.add_argument("--polls", type=int, default=24)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--against", type=Path, help="another tree's cockpit, for comparison")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        sys.path.insert(0, str(args.child))
        print(json.dumps(measure(args.size, args.polls)))
        return 0
    trees = {"this": ROOT}
    if args.against is not None:
        trees = {"against": args.against.resolve(), **trees}
    results: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    for _ in range(args.rounds):
        for name, code in trees.items():
            results[name].append(child(code, args.size, args.polls))
    print(f"# {args.size} pods, {args.polls} usage polls {WINDOW_S:.0f} s apart,"
          f" median of {args.rounds} rounds")  # fmt: skip
    for name, runs in results.items():
        report(name, runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
