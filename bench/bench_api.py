"""Issue 12, item 4: what one cockpit asks of the API server in steady state, by kind.

The simulated cluster (incident scenario, the demo's real-time pace) counts every
request it answers (`server.requests`); one `cockpit run --read-only` on a pseudo-
terminal, with throwaway PostgreSQL and Redis, is measured over `--window` seconds after
`--warmup`.  The goal: watches only, no periodic list (beyond the informers' resync),
metrics at most 4 a minute.  `proxy` is the Health pane's checks through the service
proxy (the app's own endpoints, not API work).

    python -m bench.bench_api [--window 120] [--warmup 25]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402
from bench.backends import Backends  # noqa: E402

METRICS_PER_MINUTE = 4.0


def run(argv: list[str]) -> list[common.Figure]:
    parser = argparse.ArgumentParser(prog="bench_api")
    parser.add_argument("--window", type=float, default=120.0)
    parser.add_argument("--warmup", type=float, default=25.0)
    args = parser.parse_args(argv)
    print(f"# {common.machine()} · {common.now_text()} · load {common.load_text()}")
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        work = Path(tmp)
        backends = Backends(work / "backends")
        try:
            proc = common.PtyProcess(
                [*common.cockpit_cli_argv(), "--read-only"], backends.env(work / "home")
            )
            try:
                time.sleep(args.warmup)
                before = dict(backends.sim.server.requests)
                started = time.monotonic()
                time.sleep(args.window)
                after = dict(backends.sim.server.requests)
                minutes = (time.monotonic() - started) / 60.0
            finally:
                proc.stop()
        finally:
            backends.close()
    rates = {k: (after[k] - before.get(k, 0)) / minutes for k in sorted(after)}
    for kind, rate in rates.items():
        print(f"{kind:10} {rate:7.1f}/min")
    metrics = rates.get("metrics", 0.0)
    return [
        common.Figure(
            "metrics requests/min", f"{metrics:.1f}", f"≤ {METRICS_PER_MINUTE:g}",
            f"{metrics / METRICS_PER_MINUTE:.2f}×", metrics <= METRICS_PER_MINUTE,
        ),
        common.Figure(
            "lists/gets/min (no periodic list)", f"{rates.get('get', 0.0):.1f}", "-", "-", None
        ),
        common.Figure("log requests/min", f"{rates.get('log', 0.0):.1f}", "-", "-", None),
    ]  # fmt: skip


def main() -> int:
    return common.bench_main(run)


if __name__ == "__main__":
    raise SystemExit(main())
