"""Issue 12's cost curve: launch, steady CPU and RSS at several cluster sizes, kubectl beside.

    python -m bench.curve [--sizes 1000,5000,20000] [--rounds 2] [--window 45] [--observe 75]

Runs bench_launch (--sizes), bench_cpu (one --size at a time) and bench_memory (--sizes) in
turn, each in its own process as `python -m bench` does, then prints one table: per size,
kubectl's time, the cockpit's first screen, the launch target, CPU in steady state and RSS
with 200,000 log lines ingested.  Growth is shown against the smallest size, beside the pod
count's, since issue 12 asks that the cost grow no faster than the pods.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402
from bench.__main__ import run_one  # noqa: E402
from bench.common import Figure  # noqa: E402

TIMEOUT_S = 1800.0


def _number(text: str, pattern: str) -> float | None:
    found = re.search(pattern, text)
    return float(found.group(1)) if found else None


def _figures(module: str, args: list[str], out: Path) -> list[Figure]:
    run_one(module, args, TIMEOUT_S, out)
    return common.load_figures(out) if out.exists() else []


def _by_size(figures: list[Figure], pattern: str) -> dict[int, Figure]:
    found = {}
    for figure in figures:
        if match := re.search(pattern, figure.name):
            found[int(match.group(1).replace(",", ""))] = figure
    return found


def main() -> int:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    common.exit_on_sigterm()
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--sizes", default="1000,5000,20000")
    parser.add_argument("--rounds", type=int, default=2, help="launch rounds per size")
    parser.add_argument("--window", type=float, default=45.0, help="CPU window, s")
    parser.add_argument("--observe", type=float, default=75.0, help="RSS window after 200k lines")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    listed = ",".join(map(str, sizes))
    print(f"cockpit cost curve, {common.now_text()}\n{common.machine()}\n{common.load_text()}\n")
    with tempfile.TemporaryDirectory(prefix="cockpit-curve-") as tmp:
        out = Path(tmp)
        launch = _by_size(
            _figures(
                "bench.bench_launch",
                ["--sizes", listed, "--rounds", str(args.rounds)],
                out / "launch.json",
            ),
            r"launch at ([\d,]+) pods",
        )
        cpu: dict[int, Figure] = {}
        for size in sizes:
            found = _figures(
                "bench.bench_cpu",
                ["--size", str(size), "--runs", "1", "--window", str(args.window)],
                out / f"cpu-{size}.json",
            )
            if found:
                cpu[size] = found[0]
        memory = _by_size(
            _figures(
                "bench.bench_memory",
                ["--sizes", listed, "--observe", str(args.observe)],
                out / "memory.json",
            ),
            r"RSS at \d+k lines, ([\d,]+) pods",
        )
    print(f"\n== the curve ({common.now_text()}; {common.load_text()})")
    print(table(sizes, launch, cpu, memory))
    missed = [f for f in [*launch.values(), *cpu.values(), *memory.values()] if f.met is False]
    return 1 if missed else 0


def table(
    sizes: list[int],
    launch: dict[int, Figure],
    cpu: dict[int, Figure],
    memory: dict[int, Figure],
) -> str:
    header = ("pods", "kubectl", "first screen", "target", "CPU", "RSS (peak)", "growth vs pods")
    rows = [header]
    base: tuple[float, float | None, float | None] | None = None
    for size in sizes:
        first = launch.get(size)
        seconds = _number(first.value, r"([\d.]+) s") if first else None
        kubectl = _number(first.value, r"kubectl ([\d.]+)") if first else None
        pct = _number(cpu[size].value, r"([\d.]+) %") if size in cpu else None
        rss = _number(memory[size].value, r"([\d.]+) MB") if size in memory else None
        growth = "-"
        if base is None:
            base = (size, pct, rss)
        else:
            parts = [f"pods {size / base[0]:.1f}x"]
            if pct and base[1]:
                parts.append(f"CPU {pct / base[1]:.1f}x")
            if rss and base[2]:
                parts.append(f"RSS {rss / base[2]:.1f}x")
            growth = ", ".join(parts)
        rows.append(
            (
                f"{size:,}",
                f"{kubectl:.2f} s" if kubectl is not None else "?",
                f"{seconds:.2f} s {first.verdict}" if first and seconds is not None else "?",
                first.target if first else "?",
                f"{pct:.1f} % {cpu[size].verdict}" if pct is not None else "?",
                memory[size].value + f" {memory[size].verdict}" if size in memory else "?",
                growth,
            )
        )
    return common.text_table(rows, indent="   ")


if __name__ == "__main__":
    sys.exit(main())
