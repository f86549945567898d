"""CPU of the cockpit process over 60 s in steady state, against the large sim.

    python -m bench.bench_cpu [--runs 3] [--window 60] [--settle 15] [--profile DIR]

The `large` simulated cluster (5,000 pods, demo pace: 2 log lines/s per container,
metrics every 15 s) runs in its own process.  The cockpit runs as bench/run_cockpit.py
(cockpit run's app, plus a watcher thread that only marks when the log history has
been read and then ends) on a 160x45 pseudo-terminal with Textual's real driver; its
pollers run at their defaults (pods 2 s, metrics 15 s, events 5 s, logs 1 s, local
PostgreSQL and Redis 2 s, host 2 s, backups 60 s with S3 refused on a closed local
port).

Steady state: after the `pods_populated` mark, the `backlog_read` mark (every followed
container's history is in) and --settle more seconds.  Then psutil's cpu_times() of
the cockpit process (user + system, all threads) over --window seconds, as % of one
core.  The main (UI) thread's share, the sim process's CPU and the machine's load in
the same window are printed too, and the busiest threads by name (each thread's own
CPU clock over the same settle and window, read in the cockpit: run_cockpit
--thread-cpu).  Median over --runs; issue 12's target: <= 2 % of one core at 5,000 pods.

`--profile DIR`: a diagnosis run instead (its CPU figure includes yappi's overhead):
each run profiles every thread of the cockpit over the window (bench/run_cockpit.py
--profile) and leaves the functions by own and total time in DIR/profile-<n>.txt.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402
from bench.common import Figure  # noqa: E402

TARGET_PCT = 2.0  # issue 12, at 5,000 pods
THREADS_SHOWN = 8  # the busiest threads printed per run


def cpu_seconds(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return times.user + times.system


def main_thread_seconds(proc: psutil.Process) -> float:
    """The UI thread is the process's first thread (its id is the pid)."""
    for thread in proc.threads():
        if thread.id == proc.pid:
            return thread.user_time + thread.system_time
    return 0.0


def one_run(
    sim: common.SimProcess,
    home: Path,
    window: float,
    settle: float,
    timeout: float,
    profile: Path | None = None,
    extra_env: dict[str, str] | None = None,
) -> dict[str, float | str]:
    marks = home / "marks"
    env = common.cockpit_env(home, sim.kubeconfig, marks)
    env.update(extra_env or {})
    # yappi's dump of 20-odd threads takes minutes on a loaded machine: leave it time.
    spare = 60 if profile is None else 300
    argv = common.runner_argv("--quit-after", str(timeout + settle + window + spare))
    threads = home / "threads.txt"
    argv += ["--profile-settle", str(settle), "--profile-window", str(window)]
    argv += ["--thread-cpu", str(threads)]
    if profile is not None:
        argv += ["--profile", str(profile)]
    with common.cockpit_on_pty(argv, env) as proc:
        cockpit = psutil.Process(proc.pid)
        simproc = psutil.Process(sim.pid)
        populated = "yes"
        try:
            common.wait_mark(marks, "pods_populated", timeout, proc.alive)
        except TimeoutError:
            populated = "NO (timed out)"
        backlog = "yes"
        try:
            common.wait_mark(marks, "backlog_read", timeout, proc.alive)
        except TimeoutError:
            backlog = "NO (timed out)"
        time.sleep(settle)
        psutil.cpu_percent()  # starts the machine-wide measurement
        c0, m0, s0, b0 = (
            cpu_seconds(cockpit),
            main_thread_seconds(cockpit),
            cpu_seconds(simproc),
            proc.output_bytes,
        )
        t0 = time.monotonic()
        time.sleep(window)
        elapsed = time.monotonic() - t0
        c1, m1, s1, b1 = (
            cpu_seconds(cockpit),
            main_thread_seconds(cockpit),
            cpu_seconds(simproc),
            proc.output_bytes,
        )
        machine_pct = psutil.cpu_percent()
        if profile is not None:
            common.wait_mark(marks, "profiled", 240, proc.alive)
        try:
            common.wait_mark(marks, "thread_cpu", 15, proc.alive)
            by_thread = threads.read_text().splitlines()[:THREADS_SHOWN]
        except (TimeoutError, RuntimeError, OSError):
            by_thread = ["(no per-thread figures)"]
        return {
            "cpu_pct": 100 * (c1 - c0) / elapsed,
            "main_pct": 100 * (m1 - m0) / elapsed,
            "sim_pct": 100 * (s1 - s0) / elapsed,
            "machine_pct": machine_pct,
            "out_kbs": (b1 - b0) / elapsed / 1024,
            "threads": cockpit.num_threads(),
            "populated": populated,
            "backlog": backlog,
            "load": common.load_text(),
            "by_thread": "; ".join(line.strip() for line in by_thread),
        }


def run(argv: list[str] | None = None) -> list[Figure]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--window", type=float, default=60.0)
    parser.add_argument("--settle", type=float, default=15.0)
    parser.add_argument("--timeout", type=float, default=90.0, help="for each mark")
    parser.add_argument("--size", type=int, default=5000)
    parser.add_argument("--profile", type=Path, default=None, metavar="DIR")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for the cockpit (e.g. COCKPIT_RECORDER__ENABLED=false)",
    )
    args = parser.parse_args(argv)
    extra_env = dict(item.split("=", 1) for item in args.env)

    print(
        f"== cockpit CPU in steady state, {args.size:,} pods, {args.window:g} s windows "
        f"({common.now_text()})"
    )
    print(f"   {common.machine()}")
    print(f"   {common.wait_quiet()}")
    if args.env:
        print(f"   cockpit environment: {' '.join(args.env)}")
    results = []
    with (
        common.scratch_dir("cpu") as tmp,
        common.large_sim(Path(tmp) / "sim", size=args.size) as sim,
    ):
        for n in range(1, args.runs + 1):
            profile = None
            if args.profile is not None:
                args.profile.mkdir(parents=True, exist_ok=True)
                profile = args.profile.resolve() / f"profile-{n}.txt"
            home = Path(tmp) / f"run{n}"
            r = one_run(sim, home, args.window, args.settle, args.timeout, profile, extra_env)
            results.append(r)
            print(
                f"   run {n}: cockpit {r['cpu_pct']:5.1f} % of a core "
                f"(UI thread {r['main_pct']:5.1f} %), sim {r['sim_pct']:5.1f} %, "
                f"machine {r['machine_pct']:5.1f} % of all CPUs; terminal output "
                f"{r['out_kbs']:.1f} KiB/s; {r['threads']} threads; populated {r['populated']}, "
                f"history read {r['backlog']}   [{r['load']}]"
            )
            print(f"          by thread: {r['by_thread']}")
    pct = common.median([float(r["cpu_pct"]) for r in results])
    ui = common.median([float(r["main_pct"]) for r in results])
    met = pct <= TARGET_PCT
    verdict = "met" if met else f"MISSED by {pct - TARGET_PCT:.1f} points ({pct / TARGET_PCT:.1f}x)"
    print(
        f"   median: {pct:.1f} % of one core (UI thread {ui:.1f} %); "
        f"target <= {TARGET_PCT:g} %: {verdict}"
    )
    return [
        Figure(
            f"CPU, steady state at {args.size:,} pods ({args.window:g} s)",
            f"{pct:.1f} % of a core",
            f"<= {TARGET_PCT:g} %",
            f"{pct / TARGET_PCT:.2f}x",
            met,
        )
    ]


if __name__ == "__main__":
    sys.exit(common.bench_main(run))
