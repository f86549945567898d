"""`python -m bench`: every benchmark in turn, then one summary table.

    python -m bench [--only launch,cpu,keys,memory,postgres,redis,ingest] [--quick]

Each benchmark runs in its own process (`python -m bench.bench_<name> --json FILE`),
bounded by a timeout, with its output shown as it comes; the summary gives each
figure, its target, the ratio and the verdict.  bench_postgres.py and bench_redis.py
print their figures rather than saving them: they are read from their output.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402
from bench.common import Figure  # noqa: E402

# name -> (module, arguments, arguments with --quick, timeout in seconds)
BENCHES: dict[str, tuple[str, list[str], list[str], float]] = {
    "launch": ("bench.bench_launch", [], ["--rounds", "3"], 1200),
    "cpu": ("bench.bench_cpu", [], ["--runs", "1"], 1200),
    "keys": ("bench.bench_keys", [], ["--presses", "200", "--sorts", "60"], 1200),
    "memory": ("bench.bench_memory", [], ["--observe", "120"], 1200),
    "postgres": ("bench.bench_postgres", [], ["--rounds", "3"], 1800),
    "redis": ("bench.bench_redis", [], ["--seconds", "30", "--rounds", "1"], 1800),
    "ingest": ("bench.ingest", [], ["--seconds", "4"], 600),
}


def run_one(module: str, args: list[str], timeout: float, json_path: Path | None) -> list[str]:
    """Run one benchmark process, echo its output, return its lines."""
    argv = [common.PYTHON, "-m", module, *args]
    if json_path is not None:
        argv += ["--json", str(json_path)]
    proc = subprocess.Popen(
        argv,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            print(line, end="", flush=True)
            lines.append(line.rstrip("\n"))

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        print(f"!! {module}: no result after {timeout:.0f} s, stopping it", flush=True)
        # SIGTERM first: the benchmarks turn it into SystemExit and stop their sims.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    reader.join(5)
    return lines


def postgres_figures(lines: list[str]) -> list[Figure]:
    """bench_postgres.py's printed figures: ms of server time per poll cycle."""

    def ms(prefix: str) -> float | None:
        for line in lines:
            if line.strip().startswith(prefix):
                found = re.search(r"([\d.]+) ms server/poll", line)
                if found:
                    return float(found.group(1))
        return None

    ours = ms("cockpit (db size every 15th poll")
    old = ms("cockpit's previous statement")
    one = ms("pg_activity 3.6.2, one view")
    three = ms("pg_activity 3.6.2, all three views")
    clients = next((m.group(1) for ln in lines if (m := re.search(r"(\d+) connections", ln))), "?")
    target = "<= 0.5x pg_activity"
    if ours is None:
        return [Figure("PostgreSQL server time/poll", "no result", target, "-", False)]
    figures = []
    if one is not None:
        figures.append(
            Figure(
                f"PostgreSQL server time/poll ({clients} conns)",
                f"{ours:.3f} ms (pg_activity {one:.3f})",
                target,
                f"{ours / one:.2f}x",
                ours <= 0.5 * one,
            )
        )
    if three is not None:
        figures.append(
            Figure(
                "  vs pg_activity's three views",
                f"{ours:.3f} ms (pg_activity {three:.3f})",
                "-",
                f"{ours / three:.2f}x",
                None,
            )
        )
    if old is not None:
        figures.append(
            Figure(
                "  vs the previous poll statement",
                f"{ours:.3f} ms (previous {old:.3f})",
                "-",
                f"{ours / old:.2f}x",
                None,
            )
        )
    return figures


def redis_figures(lines: list[str]) -> list[Figure]:
    """bench_redis.py's printed figures: microseconds of server time per poll."""

    def us(prefix: str) -> float | None:
        for line in lines:
            if line.strip().startswith(prefix):
                found = re.search(r"([\d.]+) us server/poll", line)
                if found:
                    return float(found.group(1))
        return None

    ours = us("cockpit ")
    old = us("cockpit's previous poll")
    stat = us("redis-cli --stat")
    target = "<= 20 us"
    if ours is None:
        return [Figure("Redis server time/poll", "no result", target, "-", False)]
    base = f"previous {old:.1f} us" if old is not None else "no baseline"
    figures = [
        Figure(
            "Redis server time/poll",
            f"{ours:.1f} us ({base})",
            target,
            f"{ours / old:.2f}x" if old else "-",
            ours <= 20.0,
        )
    ]
    if stat is not None:
        figures.append(
            Figure(
                "  vs redis-cli --stat",
                f"{ours:.1f} us (redis-cli {stat:.1f} us)",
                "-",
                f"{ours / stat:.2f}x",
                None,
            )
        )
    return figures


def table(figures: list[Figure]) -> str:
    rows = [("figure", "value", "target", "ratio", "verdict")]
    rows += [(f.name, f.value, f.target, f.ratio, f.verdict) for f in figures]
    return common.text_table(rows)


def main() -> int:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    common.exit_on_sigterm()
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--only", default=",".join(BENCHES), help="comma-separated names")
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a smoke run)")
    args = parser.parse_args()
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")

    print(f"cockpit benchmarks, {common.now_text()}\n{common.machine()}\n{common.load_text()}\n")
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="cockpit-bench-") as tmp:
        for name in names:
            module, full, quick, timeout = BENCHES[name]
            printed = name in ("postgres", "redis")  # figures read from the output
            json_path = None if printed else Path(tmp) / f"{name}.json"
            lines = run_one(module, quick if args.quick else full, timeout, json_path)
            print()
            if name == "postgres":
                figures += postgres_figures(lines)
            elif name == "redis":
                figures += redis_figures(lines)
            elif json_path is not None and json_path.exists():
                figures += common.load_figures(json_path)
            else:
                figures.append(Figure(name, "no result (failed or timed out)", "-", "-", False))
    print(f"summary ({common.now_text()}, {common.load_text()})")
    print(table(figures))
    return 0 if all(f.met is not False for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
