"""Issue 13: ten war-room screens must not mean ten times the load on the backends.

`cockpit serve` gives every browser session its own app process; the sessions watch one
set of shared pollers (`cockpit record --feed`, the live feed) instead of polling
themselves.  This measures what the backends see per minute with 1 and with N viewers of
the shared pollers, and, as the baseline measured in the same run, with 1 and 2
independent cockpits (what every session polling for itself would cost):

- the API server: requests by kind, counted by the simulated cluster (incident scenario);
- PostgreSQL: transactions on the cockpit's database (pg_stat_database), a throwaway
  server of our own;
- Redis: commands (INFO commandstats calls, the bench's own reads excluded), a throwaway
  redis-server of our own.

Each viewer is `python -m cockpit view --feed SOCKET --read-only` on its own
pseudo-terminal, rendering as over SSH.

    python -m bench.bench_viewers [--viewers 10] [--window 60] [--warmup 15]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


from bench import common  # noqa: E402
from bench.backends import Backends, interrupt  # noqa: E402

NOISE = 0.15  # "the same within noise": 10 viewers within 15 % of one


def per_minute(
    before: dict[str, float], after: dict[str, float], seconds: float
) -> dict[str, float]:
    rates = {k: (after[k] - before[k]) * 60.0 / seconds for k in before}
    rates["redis"] -= 60.0 / seconds  # the bench's own INFO commandstats read
    return rates


@contextlib.contextmanager
def shared(backends: Backends, work: Path, viewers: int) -> Iterator[list[common.PtyProcess]]:
    """The shared pollers and `viewers` feed viewers on their own terminals."""
    socket = work / f"feed-{viewers}" / "sock"
    home = work / f"home-shared-{viewers}"
    env = backends.env(home)
    recorder = common.PtyProcess(
        [common.PYTHON, "-m", "cockpit", "record", "--context", common.CONTEXT,
         "-o", str(work / f"rec-{viewers}.db"), "--feed", str(socket)],
        env,
    )  # fmt: skip
    procs = [recorder]
    try:
        deadline = time.time() + 30
        while not socket.exists():
            if time.time() > deadline or not recorder.alive():
                raise RuntimeError(f"the shared pollers did not start: {recorder.tail_text()}")
            time.sleep(0.1)
        for _ in range(viewers):
            procs.append(
                common.PtyProcess(
                    [common.PYTHON, "-m", "cockpit", "view", "--read-only", "--feed", str(socket)],
                    env,
                )
            )
        yield procs
    finally:
        for proc in reversed(procs):
            proc.stop() if proc is not recorder else interrupt(proc)


@contextlib.contextmanager
def independent(backends: Backends, work: Path, count: int) -> Iterator[list[common.PtyProcess]]:
    """`count` cockpits that each poll for themselves (no sharing)."""
    procs = []
    try:
        for n in range(count):
            env = backends.env(work / f"home-alone-{count}-{n}")
            env["COCKPIT_RECORDER__ENABLED"] = "false"
            procs.append(common.PtyProcess([*common.cockpit_cli_argv(), "--read-only"], env))
        yield procs
    finally:
        for proc in procs:
            proc.stop()


def measure(
    backends: Backends, procs: list[common.PtyProcess], warmup: float, window: float
) -> dict[str, float]:
    time.sleep(warmup)
    for proc in procs:
        if not proc.alive():
            raise RuntimeError(f"a cockpit process ended early: {proc.tail_text()}")
    before = backends.counts()
    started = time.monotonic()
    time.sleep(window)
    return per_minute(before, backends.counts(), time.monotonic() - started)


def run(argv: list[str]) -> list[common.Figure]:
    parser = argparse.ArgumentParser(prog="bench_viewers")
    parser.add_argument("--viewers", type=int, default=10)
    parser.add_argument("--window", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=15.0)
    args = parser.parse_args(argv)
    print(f"# {common.machine()} · {common.now_text()} · load {common.load_text()}")
    rows: list[tuple[str, dict[str, float]]] = []
    with tempfile.TemporaryDirectory(prefix="bench-viewers-") as tmp:
        work = Path(tmp)
        backends = Backends(work)
        try:
            for label, make in (
                ("1 independent cockpit", lambda: independent(backends, work, 1)),
                ("2 independent cockpits", lambda: independent(backends, work, 2)),
                ("shared pollers, 1 viewer", lambda: shared(backends, work, 1)),
                (
                    f"shared pollers, {args.viewers} viewers",
                    lambda: shared(backends, work, args.viewers),
                ),
            ):
                with make() as procs:
                    rates = measure(backends, procs, args.warmup, args.window)
                rows.append((label, rates))
                print(f"{label:32} " + "  ".join(f"{k} {v:8.1f}/min" for k, v in rates.items()))
        finally:
            backends.close()
    return figures(rows, args.viewers)


def figures(rows: list[tuple[str, dict[str, float]]], viewers: int) -> list[common.Figure]:
    alone1, alone2, one, many = (rates for _, rates in rows)
    out = []
    for key, name in (
        ("api", "API requests"),
        ("pg", "PostgreSQL xacts"),
        ("redis", "Redis commands"),
    ):
        ratio = many[key] / one[key] if one[key] else float("nan")
        baseline = alone2[key] / alone1[key] if alone1[key] else float("nan")
        out.append(
            common.Figure(
                f"{name}/min, {viewers} viewers vs 1",
                f"{many[key]:.0f} vs {one[key]:.0f}",
                f"≤ {1 + NOISE:.2f}×",
                f"{ratio:.2f}× (independent: 2 vs 1 cockpit {baseline:.2f}×)",
                ratio <= 1 + NOISE,
            )
        )
    out.append(
        common.Figure(
            "watches opened in the window (shared, 10 viewers)",
            f"{many['watch']:.1f}/min",
            "-",
            "-",
            None,
        )
    )
    for figure in out:
        print(
            f"{figure.name:44} {figure.value:>16}  target {figure.target:8}"
            f" {figure.ratio}  {figure.verdict}"
        )
    return out


def main(argv: list[str] | None = None) -> int:
    return common.bench_main(run)


if __name__ == "__main__":
    raise SystemExit(main())
