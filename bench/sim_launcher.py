"""`cockpit sim --scenario large` with a custom log pace, for the memory benchmark.

    python -m bench.sim_launcher --port 0 --kubeconfig PATH [--size N]
        [--log-lines-per-s R] [--history-hours H]

The same SimCluster and foreground loop as `cockpit sim` (cockpit/sim/runner.py), with
`Pace.demo()` changed only in its log rate and how far back generated history reaches.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from cockpit.sim.pace import Pace  # noqa: E402
from cockpit.sim.runner import run_foreground  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--kubeconfig", type=Path, required=True)
    parser.add_argument("--size", type=int, default=5000)
    parser.add_argument("--log-lines-per-s", type=float, default=None)
    parser.add_argument("--history-hours", type=float, default=None)
    args = parser.parse_args(argv)
    changes: dict[str, float] = {}
    if args.log_lines_per_s is not None:
        changes["log_lines_per_s"] = args.log_lines_per_s
    if args.history_hours is not None:
        changes["history_hours"] = args.history_hours
    pace = Pace.demo().with_(**changes)
    return run_foreground("large", args.port, args.kubeconfig, pace, large_size=args.size)


if __name__ == "__main__":
    sys.exit(main())
