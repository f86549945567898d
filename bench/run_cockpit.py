"""The cockpit as `cockpit run` builds it, plus a watcher thread that writes marks.

    python -m bench.run_cockpit --context cockpit-sim [--report-every 2] [--quit-after 600]

Same settings, same `CockpitApp(Launch(...))` and `app.run()` as cockpit/cli.py's
cmd_run; the only addition is a thread that reads the error-log follower's counters
(in-process, no API of its own) and appends to $COCKPIT_BENCH_MARKS:

    backlog_read <t> <ingested>         every followed container has delivered lines
                                        up to within BACKLOG_LAG_S of now
    ingest <t> <ingested> <rss bytes>   every --report-every seconds (memory benchmark)

Without --report-every the watcher ends once the backlog is read, so that it costs
nothing in a CPU measurement afterwards.

`--profile PATH` (a bench-only diagnosis, yappi): --profile-settle seconds after the
backlog is read, every thread is profiled on its CPU clock for --profile-window
seconds, and the functions by own time and by total time go to PATH, marked
`profiled`.

`--thread-cpu PATH`: over the same settle and window, each thread's CPU time (its own
clock, no profiler) by thread name to PATH, marked `thread_cpu`: which threads the
steady-state figure is made of.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/run_cockpit.py` from anywhere
    sys.path.insert(0, str(ROOT))

from cockpit.marks import mark  # noqa: E402

if TYPE_CHECKING:
    # Imported in main(), after the early request, as `cockpit run` does.
    from cockpit.app import CockpitApp

BACKLOG_LAG_S = 15.0  # live lines arrive every ~0.5 s per container at the demo pace


def backlog_read(app: CockpitApp) -> bool:
    """True when every followed container's last line is recent (the history is in)."""
    if not app.ready:  # the settings, read after the first paint: no sources yet
        return False
    kube = app.sources.kube
    if kube is None:
        return False
    logs = kube.logs
    try:
        # Private state, read-only, from another thread: retried if a dict changes size.
        current = [(uid, c) for uid, c, previous in list(logs._streams) if not previous]
        last = dict(logs._last_ts)
    except RuntimeError:
        return False
    if not current:
        return False
    now = datetime.now(UTC)
    for key in current:
        ts = last.get(key)
        if ts is None or (now - ts).total_seconds() > BACKLOG_LAG_S:
            return False
    return True


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def alloc_diff(before: Any, label: str, top: int = 12) -> None:
    """Mark the allocation sites that grew most since `before` (tracemalloc snapshots)."""
    import tracemalloc

    after = tracemalloc.take_snapshot()
    for stat in after.compare_to(before, "lineno")[:top]:
        frame = stat.traceback[0]
        where = f"{frame.filename.split('site-packages/')[-1]}:{frame.lineno}"
        mark("alloc", f"{label} {stat.size_diff / 1024:+.0f}KiB {stat.count_diff:+d} {where}")


def profile_steady(app: CockpitApp, path: Path, settle: float, window: float) -> None:
    """yappi over every thread once the backlog is in and `settle` seconds passed."""
    import yappi

    while not backlog_read(app):
        time.sleep(0.5)
    time.sleep(settle)
    yappi.set_clock_type("cpu")
    yappi.start(builtins=False, profile_threads=True)
    time.sleep(window)
    yappi.stop()
    columns = {0: ("name", 100), 1: ("ncall", 10), 2: ("tsub", 9), 3: ("ttot", 9)}
    with path.open("w") as out:
        threads = sorted(yappi.get_thread_stats(), key=lambda t: -t.ttot)
        out.write(f"== threads, {window:g} s of CPU clock\n")
        for thread in threads:
            out.write(f"{thread.id:4d} {thread.name:<16} {thread.ttot:8.3f} s\n")
        for n, thread in enumerate(threads[:4]):  # the busiest: by total, then by own time
            stats = yappi.get_func_stats(filter={"ctx_id": thread.id})
            if n == 0:  # for pstats' print_callers (who asked for that layout?)
                stats.save(str(path.with_suffix(".busiest.pstat")), type="pstat")
            for key, top in (("ttot", 150 if n == 0 else 60), ("tsub", 40)):
                out.write(f"== thread {thread.id} ({thread.name}) by {key}\n")
                stats.sort(key, "desc")
                stats.print_all(out=out, columns=columns, limit=top)
    mark("profiled", str(path))


def thread_cpu(app: CockpitApp, path: Path, settle: float, window: float) -> None:
    """CPU seconds of every thread over the window, by name (pool threads' numbers
    dropped), busiest first."""
    import re

    def clocks() -> dict[int, tuple[str, float]]:
        seen = {}
        for thread in threading.enumerate():
            with contextlib.suppress(OSError, TypeError):  # ended, or not started yet
                clock = time.pthread_getcpuclockid(thread.ident)  # type: ignore[arg-type]
                seen[thread.ident] = (thread.name, time.clock_gettime(clock))
        return seen

    while not backlog_read(app):
        time.sleep(0.5)
    time.sleep(settle)
    before = clocks()
    time.sleep(window)
    after = clocks()
    by_name: dict[str, float] = {}
    for ident, (name, end) in after.items():
        start = before.get(ident, (name, 0.0))[1]  # a thread started meanwhile: all of it
        group = re.sub(r"[_-]\d+$", "", re.sub(r" \(.*\)$", "", name))
        by_name[group] = by_name.get(group, 0.0) + end - start
    with path.open("w") as out:
        for name, seconds in sorted(by_name.items(), key=lambda kv: -kv[1]):
            out.write(f"{100 * seconds / window:6.2f} % {name}\n")
    mark("thread_cpu", str(path))


def alloc_top(label: str, top: int = 30) -> None:
    """Mark the allocation sites that hold most now (tracemalloc), grouped by file:line."""
    import tracemalloc

    snapshot = tracemalloc.take_snapshot()
    total = sum(stat.size for stat in snapshot.statistics("filename"))
    mark("alloc_total", f"{label} {total / 1024 / 1024:.1f}MiB")
    for stat in snapshot.statistics("lineno")[:top]:
        frame = stat.traceback[0]
        where = f"{frame.filename.split('site-packages/')[-1]}:{frame.lineno}"
        mark("alloc", f"{label} {stat.size / 1024:.0f}KiB {stat.count} {where}")


def watch(
    app: CockpitApp,
    report_every: float | None,
    quit_after: float | None,
    alloc_after: int | None = None,
) -> None:
    started = time.monotonic()
    backlog_marked = False
    next_report = started
    snapshot: Any = None
    while True:
        now = time.monotonic()
        if not app.ready:  # the settings, read after the first paint: no sources yet
            time.sleep(0.05)
            continue
        if alloc_after is not None:
            import tracemalloc

            ingested = app.sources.kube.logs.ingested if app.sources.kube is not None else 0
            if snapshot is None and ingested >= alloc_after:
                snapshot = tracemalloc.take_snapshot()
                mark("alloc_start", ingested)
                alloc_top("held_at_start")
        if quit_after is not None and now - started > quit_after:
            if snapshot is not None:
                alloc_diff(snapshot, "since_start")
                alloc_top("held_at_end")
            mark("quit_after", f"{quit_after:g}")
            with contextlib.suppress(Exception):
                app.call_from_thread(app.action_quit)
            return
        kube = app.sources.kube
        ingested = kube.logs.ingested if kube is not None else 0
        if not backlog_marked and backlog_read(app):
            backlog_marked = True
            mark("backlog_read", ingested)
            if report_every is None and quit_after is None:
                return
        if report_every is not None and now >= next_report:
            mark("ingest", f"{ingested} {rss_bytes()}")
            next_report += report_every
        time.sleep(0.25 if not backlog_marked else min(report_every or 1.0, 1.0))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--context", default="cockpit-sim")
    parser.add_argument("--namespace", default=None)
    parser.add_argument("--report-every", type=float, default=None, metavar="S")
    parser.add_argument("--quit-after", type=float, default=None, metavar="S")
    parser.add_argument("--headless", action="store_true", help="no terminal (160x45)")
    parser.add_argument("--trace", action="store_true", help="timing marks (bench/trace.py)")
    parser.add_argument(
        "--alloc-after",
        type=int,
        default=None,
        metavar="LINES",
        help="tracemalloc: mark what is held at LINES ingested and at --quit-after, and "
        "what grew in between",
    )
    parser.add_argument(
        "--arena-max",
        type=int,
        default=None,
        metavar="N",
        help="diagnosis: glibc mallopt(M_ARENA_MAX, N) before the app starts its threads "
        "(default: cockpit/gctuning.py's cap, as `cockpit run`)",
    )
    parser.add_argument("--profile", type=Path, default=None, metavar="PATH")
    parser.add_argument("--profile-settle", type=float, default=15.0, metavar="S")
    parser.add_argument("--profile-window", type=float, default=30.0, metavar="S")
    parser.add_argument("--thread-cpu", type=Path, default=None, metavar="PATH")
    args = parser.parse_args(argv)
    # As `cockpit run` (cockpit/cli.py): the pods' Table asked before the heavy imports,
    # the client built while the UI is imported.
    from cockpit import gctuning
    from cockpit.sources.kube import early

    # As main() does: no collection until the first screen, and the arena cap (or the
    # one asked for) before the first thread.
    gctuning.hold_for_startup()
    if args.arena_max is not None:
        import ctypes

        M_ARENA_MAX = -8  # glibc malloc.h
        ctypes.CDLL("libc.so.6").mallopt(M_ARENA_MAX, args.arena_max)
    else:
        gctuning.cap_malloc_arenas()
    early.begin(args.context, args.namespace)
    from cockpit.first_screen import settings_keep_target
    from cockpit.sources.kube import prefetch

    gctuning.start_trimming()
    if args.alloc_after is not None:
        import tracemalloc

        tracemalloc.start(1)
    kube = {"context": args.context}
    if args.namespace:
        kube["namespace"] = args.namespace

    def load() -> Any:
        from cockpit.config import load_settings

        return load_settings(None, kube=kube)

    # As cockpit/cli.py: the settings after the first paint when they cannot change
    # what the early request asked (cockpit/first_screen.py).
    settings = None
    if early.pending_plan() is None or not settings_keep_target(None):
        settings = load()
    prefetch.start(settings.kube if settings else None, args.context, args.namespace)
    if args.trace:
        from bench import trace

        trace.install()
        mark("imported", "")
    from cockpit.app import CockpitApp, Launch

    app = CockpitApp(
        Launch(settings=settings, context=args.context, namespace=args.namespace),
        load_settings=load,
    )
    watcher = threading.Thread(
        target=watch,
        args=(app, args.report_every, args.quit_after, args.alloc_after),
        daemon=True,
    )
    watcher.start()
    if args.profile is not None:
        profiler = threading.Thread(
            target=profile_steady,
            args=(app, args.profile, args.profile_settle, args.profile_window),
            daemon=True,
        )
        profiler.start()
    if args.thread_cpu is not None:
        threading.Thread(
            target=thread_cpu,
            args=(app, args.thread_cpu, args.profile_settle, args.profile_window),
            daemon=True,
        ).start()
    if args.headless:
        app.run(headless=True, size=(160, 45))
    else:
        app.run()
    from cockpit.cli import exit_status

    return exit_status(app)  # a crash is not a measurement: non-zero, as `cockpit run`


if __name__ == "__main__":
    sys.exit(main())
