"""Issue 13: what the flight recorder costs on disk, per scenario, extrapolated to a day.

Runs `cockpit record` (the headless shared pollers) against the simulated cluster at the
demo's real-time pace, with throwaway PostgreSQL and Redis, for `--window` seconds per
scenario, and prints the recording's growth: bytes per hour and per day, rows by source,
and the quiet share (polls that only moved a row's `until`).  The bound (recorder.max_mb,
256 MB by default) holds whatever the rate; the target is that a day of the incident
scenario fits under it without dropping anything.

    python -m bench.bench_recording [--window 120] [--scenarios incident,healthy]
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402
from bench.backends import Backends, interrupt  # noqa: E402

DAY_TARGET_MB = 256.0  # the default bound: a day of the incident must fit


def record(scenario: str, window: float, work: Path) -> tuple[float, dict[str, tuple[int, int]]]:
    backends = Backends(work / scenario, scenario=scenario)
    path = work / f"{scenario}.db"
    try:
        env = backends.env(work / f"home-{scenario}")
        argv = [common.PYTHON, "-m", "cockpit", "record", "--context", common.CONTEXT,
                "-o", str(path)]  # fmt: skip
        proc = common.PtyProcess(argv, env)
        try:
            time.sleep(15)  # connect, first lists, the logs' history
            start_bytes = size_of(path)
            started = time.monotonic()
            time.sleep(window)
            grown = size_of(path) - start_bytes
            elapsed = time.monotonic() - started
        finally:
            interrupt(proc)
    finally:
        backends.close()
    return grown * 3600.0 / elapsed, rows_by_source(path)


def size_of(path: Path) -> int:
    """Bytes in use (pages less free pages), read without disturbing the writer."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        page, pages, free = (db.execute(f"PRAGMA {p}").fetchone()[0]
                             for p in ("page_size", "page_count", "freelist_count"))  # fmt: skip
        return page * (pages - free)
    finally:
        db.close()


def rows_by_source(path: Path) -> dict[str, tuple[int, int]]:
    db = sqlite3.connect(path)
    try:
        return {
            name: (rows, size)
            for name, rows, size in db.execute(
                "SELECT name, count(*), sum(length(body)) FROM frames"
                " JOIN sources ON sources.id = frames.source GROUP BY name ORDER BY 3 DESC"
            )
        }
    finally:
        db.close()


def run(argv: list[str]) -> list[common.Figure]:
    parser = argparse.ArgumentParser(prog="bench_recording")
    parser.add_argument("--window", type=float, default=120.0)
    parser.add_argument("--scenarios", default="incident,healthy")
    args = parser.parse_args(argv)
    print(f"# {common.machine()} · {common.now_text()} · load {common.load_text()}")
    figures = []
    with tempfile.TemporaryDirectory(prefix="bench-recording-") as tmp:
        for scenario in args.scenarios.split(","):
            per_hour, rows = record(scenario, args.window, Path(tmp))
            day_mb = per_hour * 24 / 2**20
            print(f"{scenario}: {per_hour / 2**20:.2f} MB/hour → {day_mb:.0f} MB/day")
            for name, (count, size) in rows.items():
                print(f"    {name:12} {count:6} rows {size / 1024:9.1f} KiB compressed")
            figures.append(
                common.Figure(
                    f"recording, a day of the {scenario} scenario",
                    f"{day_mb:.0f} MB",
                    f"≤ {DAY_TARGET_MB:.0f} MB" if scenario == "incident" else "-",
                    f"{day_mb / DAY_TARGET_MB:.2f}×",
                    day_mb <= DAY_TARGET_MB if scenario == "incident" else None,
                )
            )
    return figures


def main() -> int:
    return common.bench_main(run)


if __name__ == "__main__":
    raise SystemExit(main())
