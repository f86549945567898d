"""Resident memory after 5,000 pods and 200,000 ingested log lines, and while ingest
continues.

    python -m bench.bench_memory [--lines 200000] [--observe 420] [--rate 200]
    python -m bench.bench_memory --sizes 1000,5000,20000 --observe 60   # the curve

The `large` simulated cluster runs in its own process from bench/sim_launcher.py: the
demo pace except for the logs, `--rate` lines/s per container (100x the demo's 2) and
`--history-hours` of generated history (so the error feed's backlog is hundreds of
thousands of lines, not millions).  The cockpit runs as bench/run_cockpit.py on a
160x45 pseudo-terminal, its watcher thread writing `ingest <t> <lines> <rss>` every
--every seconds: lines = ErrorLogFollower.ingested, every log line read from the
followed containers (matching the error pattern or not), rss from /proc/self/statm.

Figures: RSS at the first sample with >= --lines ingested (issue 12's target: <= 200
MB with the 5,000 pods in the table); then --observe more seconds of ingest, long
enough to take in the informers' first 5-minute resync (re-listing 5,000 pods): peak
RSS (<= 200 MB) and the least-squares slope of RSS over the second half of that
window, once the history is read and the caches are warm (flat: <= 1 MB/min, half a
percent of the budget a minute; a wall screen runs for days).

`--sizes` runs the same at each cluster size, one sim and one cockpit after the other,
and prints the curve (the target applies at 5,000 pods).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402
from bench.common import Figure  # noqa: E402

TARGET_MB = 200.0  # issue 12, at 5,000 pods
TARGET_PODS = 5000
FLAT_MB_PER_MIN = 1.0
MB = 1024 * 1024


def samples(marks: Path) -> list[tuple[float, int, float]]:
    """(unix time, lines ingested, RSS MB) from the runner's `ingest` marks."""
    out = []
    for name, when, detail in common.read_marks(marks):
        if name == "ingest":
            lines, rss = detail.split()
            out.append((when, int(lines), int(rss) / MB))
    return out


def run(argv: list[str] | None = None) -> list[Figure]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument(
        "--observe", type=float, default=420.0, help="seconds after --lines (a resync is at 300 s)"
    )
    parser.add_argument("--rate", type=float, default=200.0, help="log lines/s per container")
    parser.add_argument("--history-hours", type=float, default=0.1)
    parser.add_argument("--every", type=float, default=2.0, help="sampling period, s")
    parser.add_argument("--timeout", type=float, default=300.0, help="to reach --lines")
    parser.add_argument("--size", type=int, default=5000)
    parser.add_argument("--sizes", default="", help="comma-separated pod counts: the curve")
    parser.add_argument("--series", action="store_true", help="print every sample")
    parser.add_argument(
        "--arena-max",
        type=int,
        default=None,
        metavar="N",
        help="diagnosis: the cockpit calls glibc mallopt(M_ARENA_MAX, N) at start",
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for the cockpit (diagnosis, e.g. MALLOC_ARENA_MAX=2)",
    )
    args = parser.parse_args(argv)
    if not args.sizes:
        return measure(args, args.size)[0]
    sizes = [int(n) for n in args.sizes.split(",")]
    figures: list[Figure] = []
    curve = []
    for size in sizes:
        found, point = measure(args, size)
        figures += found
        curve.append((size, point))
    print(f"== RSS curve, {args.lines:,} lines ingested, peak over {args.observe:g} s more")
    for size, point in curve:
        if point is None:
            print(f"   {size:7,} pods: {args.lines:,} lines not reached")
            continue
        rss0, peak = point
        print(
            f"   {size:7,} pods: {rss0:6.1f} MB at {args.lines // 1000}k lines, peak {peak:6.1f} MB"
        )
    return figures


def measure(args: argparse.Namespace, size: int) -> tuple[list[Figure], tuple[float, float] | None]:
    """One sim of `size` pods, one cockpit: the figures, and (RSS at --lines, peak)."""
    print(f"== resident memory, {size:,} pods + {args.lines:,} log lines ({common.now_text()})")
    print(f"   {common.machine()}")
    print(f"   {common.wait_quiet()}")
    with (
        common.scratch_dir("memory") as tmp,
        common.large_sim(
            Path(tmp) / "sim",
            size=size,
            log_lines_per_s=args.rate,
            history_hours=args.history_hours,
        ) as sim,
    ):
        home = Path(tmp) / "home"
        marks = home / "marks"
        env = common.cockpit_env(home, sim.kubeconfig, marks)
        env.update(item.split("=", 1) for item in args.env)
        if args.env:
            print(f"   cockpit environment: {' '.join(args.env)}")
        budget = args.timeout + args.observe + 30
        argv_ = common.runner_argv("--report-every", str(args.every), "--quit-after", str(budget))
        if args.arena_max is not None:
            argv_ += ["--arena-max", str(args.arena_max)]
            print(f"   cockpit with mallopt(M_ARENA_MAX, {args.arena_max})")
        with common.cockpit_on_pty(argv_, env) as proc:
            start = proc.started_at
            populated: float | None = None
            reached: tuple[float, int, float] | None = None
            deadline = time.monotonic() + args.timeout
            while reached is None and time.monotonic() < deadline and proc.alive():
                time.sleep(args.every)
                if populated is None:
                    populated = next(
                        (w for n, w, d in common.read_marks(marks) if n == "pods_populated"),
                        None,
                    )
                reached = next((s for s in samples(marks) if s[1] >= args.lines), None)
            if reached is None:
                got = samples(marks)
                print(
                    f"   {args.lines:,} lines not reached in {args.timeout:g} s "
                    f"(last sample: {got[-1] if got else 'none'})"
                )
                figure = Figure("RSS after 200k lines", "not reached", "<= 200 MB", "-", False)
                return [figure], None
            time.sleep(args.observe)
            window = [s for s in samples(marks) if s[0] >= reached[0]]
            populated = populated or next(
                (w for n, w, d in common.read_marks(marks) if n == "pods_populated"), None
            )
    if args.series:
        for t, lines, rss in window:
            print(f"     {t - start:6.0f} s {lines:9,} lines {rss:7.1f} MB")
    t0, lines0, rss0 = reached
    peak = max(s[2] for s in window)
    end = window[-1]
    whole = common.slope([((t - t0) / 60, rss) for t, _, rss in window])
    # The first minutes still read the history at full speed and warm caches up: the
    # verdict on flatness is the slope over the second half of the window.
    half = [s for s in window if s[0] >= t0 + (end[0] - t0) / 2]
    steady = common.slope([((t - t0) / 60, rss) for t, _, rss in half])
    rate = (end[1] - lines0) / max(1e-9, end[0] - t0)
    shown = f"{populated - start:.1f} s" if populated else "NOT populated (froze?)"
    print(f"   pods pane populated after {shown}")
    print(
        f"   {lines0:,} lines ingested at {t0 - start:.0f} s: RSS {rss0:.1f} MB; "
        f"then {end[1] - lines0:,} more lines in {end[0] - t0:.0f} s ({rate:,.0f} lines/s): "
        f"RSS peak {peak:.1f} MB, end {end[2]:.1f} MB"
    )
    print(
        f"   RSS slope {whole:+.2f} MB/min over the window, {steady:+.2f} MB/min over its "
        f"second half ({half[-1][2] - half[0][2]:+.1f} MB in {half[-1][0] - half[0][0]:.0f} s)"
    )
    ok_size = rss0 <= TARGET_MB and peak <= TARGET_MB
    target = f"<= {TARGET_MB:g} MB" if size == TARGET_PODS else "(reported)"
    ok_flat = steady <= FLAT_MB_PER_MIN
    size_verdict = (
        f"target <= {TARGET_MB:g} MB at {TARGET_PODS:,} pods: {'met' if ok_size else 'MISSED'} "
        f"(peak {peak / TARGET_MB:.2f}x)"
        if size == TARGET_PODS
        else f"(the {TARGET_MB:g} MB target is for {TARGET_PODS:,} pods)"
    )
    print(
        f"   {size_verdict}; flat (second-half slope <= {FLAT_MB_PER_MIN:g} "
        f"MB/min): {'met' if ok_flat else f'MISSED ({steady:+.1f} MB/min)'}"
    )
    figures = [
        Figure(
            f"RSS at {lines0 // 1000}k lines, {size:,} pods (peak over {end[0] - t0:.0f} s)",
            f"{rss0:.0f} MB ({peak:.0f} peak)",
            target,
            f"{peak / TARGET_MB:.2f}x",
            ok_size or size != TARGET_PODS,
        ),
        Figure(
            f"RSS slope, ingesting {rate:,.0f} lines/s",
            f"{steady:+.1f} MB/min",
            f"<= {FLAT_MB_PER_MIN:g} MB/min",
            "-",
            ok_flat,
        ),
    ]
    return figures, (rss0, peak)


if __name__ == "__main__":
    sys.exit(common.bench_main(run))
