"""Event-loop stalls at start-up: every callback that held the loop over 50 ms.

    python -m bench.bench_stalls [--size 5000] [--seconds 10] [--rounds 2]

The cockpit runs on a pseudo-terminal against a `large` simulated cluster with
bench/trace.py's wrappers (`run_cockpit --trace`): each loop callback slower than 50 ms
is marked with what it was, and a slow message handler with its widget and message.
Printed per round: the stalls of the first --seconds, in order, from process start,
and their count and longest; each with the loop thread's own CPU time in it, and per
round the time they spent off the loop's CPU (waiting for the GIL or for a core).
Issue 12's target: none over 50 ms.  The wrappers add a little to each callback, so
this overstates stalls slightly, never hides one.
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


def one_run(sim: common.SimProcess, work: Path, seconds: float) -> list[tuple[float, str]]:
    marks = work / "marks"
    marks.unlink(missing_ok=True)
    env = common.cockpit_env(work / "home", sim.kubeconfig, marks)
    argv = common.runner_argv("--trace", "--quit-after", f"{seconds:g}")
    started = time.time()
    with common.cockpit_on_pty(argv, env) as proc:
        common.wait_mark(
            marks, "quit_after", timeout=seconds + 60, alive=lambda: proc.proc.poll() is None
        )
    stalls = []
    for name, when, detail in common.read_marks(marks):
        if name in ("slow", "slow_message") and when - started <= seconds:
            stalls.append((when - started, f"{name} {detail}"))
    return stalls


def slow_times(what: str) -> tuple[float, float]:
    """(wall ms, the loop thread's CPU ms) of a `slow <ms> (cpu <ms>) ...` mark."""
    parts = what.split()
    return float(parts[1]), float(parts[3].rstrip(")"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--size", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    print(f"== start-up stalls over 50 ms, first {args.seconds:g} s ({common.now_text()})")
    print(f"   {common.machine()}")
    with common.scratch_dir("stalls") as scratch:
        work = Path(scratch)
        with common.large_sim(work / "sim", size=args.size) as sim:
            one_run(sim, work, 3.0)  # warm-up: the page cache, the sim's first lists
            for n in range(args.rounds):
                stalls = one_run(sim, work, args.seconds)
                slow = [slow_times(what) for _, what in stalls if what.startswith("slow ")]
                longest = max((wall for wall, _ in slow), default=0.0)
                waited = sum(wall - cpu for wall, cpu in slow)
                print(
                    f"   round {n + 1}, {args.size:,} pods: {len(slow)} loop callbacks over 50 ms"
                    f", longest {longest:.0f} ms; of their {sum(w for w, _ in slow):.0f} ms,"
                    f" {waited:.0f} ms not on the loop's CPU   [{common.load_text()}]"
                )
                for at, what in stalls:
                    print(f"      {at:6.2f} s  {what[:140]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
