"""The first screen measured from outside, as a person sees it: a terminal in tmux.

    python -m bench.bench_launch_tmux [--sizes 1000,5000] [--rounds 3] [--against PATH]

For each size a `large` simulated cluster runs in its own process.  Each round starts,
in a fresh tmux window of 200x50, a shell that writes the time and then execs
`python -m cockpit run`; the pane is read (`capture-pane`) every 20 ms.  Two times are
taken, from the shell's stamp (the process start) to the read that first shows them:
the first screen, pod rows (`Running`) under a title that counts the cluster's N
(`Pods (N` or, while the Table's other pages come, `Pods (500 of N, loading`); and the
whole list, `Pods (N`.  `kubectl get pods -n excel-unified` is timed the same
way, to the end of its output, and so is the floor: bench/bare_textual.py, an App with
one line of text (an interpreter and Textual starting).  The issue's target for each
size follows: kubectl's time, or kubectl's + 0.25 s where kubectl's whole run is
shorter than that floor.  With `--against PATH` (another checkout, say main), its
cockpit runs in the same rounds, interleaved, so the two compare under the same load.
With `--marks`, each cockpit run also writes its marks (cockpit/marks.py), printed after
the round as seconds from the process start: where the time before the screen went.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402

SOCKET = f"cockpit-bench-{os.getpid()}"  # a tmux server of our own
SIZE = (200, 50)
POLL_S = 0.02
TIMEOUT_S = 30.0
DONE = "__kubectl_done__"
WHAT = ("first rows", "whole list")


def tmux(*args: str, check: bool = False) -> str:
    done = subprocess.run(
        ["tmux", "-L", SOCKET, *args], capture_output=True, text=True, check=False
    )
    if check and done.returncode != 0:
        raise RuntimeError(f"tmux {args[0]}: {done.stderr.strip()}")
    return done.stdout


def kill_server() -> None:
    """Stop our tmux server and wait until it is gone (a new session right after a
    kill could reach the server on its way out)."""
    tmux("kill-server")
    for _ in range(100):
        if subprocess.run(["tmux", "-L", SOCKET, "has-session"], capture_output=True).returncode:
            return
        time.sleep(0.02)


def timed_in_tmux(
    command: str, env: dict[str, str], stamp: Path, ready: re.Pattern[str], cwd: Path = ROOT
) -> float:
    """Seconds from the shell's stamp until the pane matches `ready`.  `python -m` puts
    the working directory first on sys.path: `cwd` is the checkout that runs."""
    return timed_in_tmux_each(command, env, stamp, (ready,), cwd)[0]


def timed_in_tmux_each(
    command: str,
    env: dict[str, str],
    stamp: Path,
    patterns: tuple[re.Pattern[str], ...],
    cwd: Path = ROOT,
) -> list[float]:
    """Seconds from the shell's stamp until the pane first matches each pattern (read
    until the last has matched)."""
    stamp.unlink(missing_ok=True)
    assignments = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    shell = f"date +%s.%N > {shlex.quote(str(stamp))}; exec {command}"
    window = f"env -i {assignments} sh -c {shlex.quote(shell)}"
    width, height = SIZE
    size = ("-x", str(width), "-y", str(height))
    for attempt in range(3):  # a server on its way out can refuse the first try
        try:
            tmux("new-session", "-d", "-s", "bench", "-c", str(cwd), *size, window, check=True)
            break
        except RuntimeError:
            if attempt == 2:
                raise
            kill_server()
            time.sleep(0.2)
    try:
        deadline = time.monotonic() + TIMEOUT_S
        found: dict[int, float] = {}
        while time.monotonic() < deadline:
            screen = tmux("capture-pane", "-p", "-t", "bench")
            seen = time.time()
            if stamp.exists():
                for i, pattern in enumerate(patterns):
                    if i not in found and pattern.search(screen):
                        found[i] = seen - float(stamp.read_text())
                if len(found) == len(patterns):
                    return [found[i] for i in range(len(patterns))]
            time.sleep(POLL_S)
        missing = [p.pattern for i, p in enumerate(patterns) if i not in found]
        raise TimeoutError(f"nothing like {missing!r} on screen in {TIMEOUT_S:g} s")
    finally:
        kill_server()


def cockpit_ready(size: int) -> re.Pattern[str]:
    """The whole list on screen."""
    return re.compile(rf"Pods \({size}\b[^\n]*\n(?:.*\n)*?.*Running", re.MULTILINE)


def cockpit_first_rows(size: int) -> re.Pattern[str]:
    """Pod rows on screen: the whole list, or the Table's first page of `size` pods."""
    title = rf"Pods \((?:{size}\b|\d+ of {size}, loading)"
    return re.compile(rf"{title}[^\n]*\n(?:.*\n)*?.*Running", re.MULTILINE)


def cockpit_time(
    tree: Path, size: int, sim: common.SimProcess, work: Path, marks: Path | None = None
) -> tuple[float, float]:
    """Seconds to the first rows on screen, and to the whole list."""
    env = common.cockpit_env(work / "home", sim.kubeconfig, marks)
    env["PYTHONPATH"] = str(tree)  # this checkout's cockpit, the same interpreter
    command = f"{shlex.quote(common.PYTHON)} -m cockpit run --context {common.CONTEXT}"
    patterns = (cockpit_first_rows(size), cockpit_ready(size))
    first, whole = timed_in_tmux_each(command, env, work / "stamp", patterns, cwd=tree)
    return first, whole


def marks_text(marks: Path, started: float, until: float) -> str:
    """Each mark's first time, in seconds from the process start, up to `until`."""
    firsts: dict[str, float] = {}
    for line in marks.read_text().splitlines():
        event, stamp, *_ = line.split()
        firsts.setdefault(event, float(stamp) - started)
    shown = sorted((t, e) for e, t in firsts.items() if t <= until)
    return " ".join(f"{event} {t:.3f}" for t, event in shown)


def kubectl_time(sim: common.SimProcess, work: Path) -> float:
    env = common.kubectl_env(sim.kubeconfig, work / "kubectl-home")
    command = (
        f"sh -c '{common.KUBECTL} get pods -n {common.NAMESPACE} >/dev/null; echo {DONE}; sleep 60'"
    )
    return timed_in_tmux(command, env, work / "stamp", re.compile(DONE))


def floor_time(work: Path) -> float:
    """The bare Textual app: from the process start until its one line is on screen."""
    from bench.bare_textual import READY

    env = {"PATH": "/usr/bin:/bin", "HOME": str(work / "bare-home"), "TERM": "xterm-256color"}
    command = f"{shlex.quote(common.PYTHON)} -m bench.bare_textual"
    return timed_in_tmux(command, env, work / "stamp", re.compile(re.escape(READY)))


def target_for(kubectl: float, floor: float) -> float:
    """Issue 12: at most kubectl's time, or kubectl's + 0.25 s where kubectl's whole run
    is shorter than an interpreter and Textual can start (the floor)."""
    return kubectl + 0.25 if kubectl < floor else kubectl


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--sizes", default="1000,5000")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--against", type=Path, default=None, help="another checkout")
    parser.add_argument("--marks", action="store_true", help="print each run's marks")
    args = parser.parse_args(argv)
    trees = [("this", ROOT)] + ([("against", args.against.resolve())] if args.against else [])
    print(f"== first screen from outside, tmux {SIZE[0]}x{SIZE[1]} ({common.now_text()})")
    print(f"   {common.machine()}")
    for tree_name, tree in trees:
        print(f"   {tree_name}: {tree}")
    rows = [["pods", "kubectl", "target", *(f"{name}: {w}" for name, _ in trees for w in WHAT)]]
    with common.scratch_dir("tmux") as scratch:
        work = Path(scratch)
        floor_time(work)  # warm-up
        floor = common.median([floor_time(work) for _ in range(max(3, args.rounds))])
        print(f"   floor (bench/bare_textual.py, an App with one line): {floor:.2f} s")
        for size in (int(s) for s in args.sizes.split(",")):
            times: dict[str, list[float]] = {"kubectl": []}
            for name, _ in trees:
                times[f"{name}: first rows"], times[f"{name}: whole list"] = [], []
            with common.large_sim(work / f"sim-{size}", size=size) as sim:
                cockpit_time(ROOT, size, sim, work)  # warm-up: caches, the sim's first lists
                kubectl_time(sim, work)
                for n in range(args.rounds):
                    times["kubectl"].append(kubectl_time(sim, work))
                    for name, tree in trees if n % 2 == 0 else trees[::-1]:
                        marks = work / f"marks-{name}" if args.marks else None
                        if marks is not None:
                            marks.unlink(missing_ok=True)
                        first, whole = cockpit_time(tree, size, sim, work, marks)
                        times[f"{name}: first rows"].append(first)
                        times[f"{name}: whole list"].append(whole)
                        if marks is not None and marks.exists():
                            started = float((work / "stamp").read_text())
                            text = marks_text(marks, started, whole + 0.5)
                            print(f"      {name} marks: {text}")
                    print(
                        f"   {size:,} pods, round {n + 1}: "
                        + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items())
                        + f"   [{common.load_text()}]"
                    )
            medians = {k: common.median(v) for k, v in times.items()}
            target = target_for(medians["kubectl"], floor)
            kubectl = medians["kubectl"]
            rows.append(
                [
                    f"{size:,}",
                    f"{kubectl:.2f} s",
                    f"{target:.2f} s",
                    *(
                        f"{medians[key]:.2f} s ({medians[key] / kubectl:.2f}x, "
                        + ("met" if medians[key] <= target + 0.005 else "missed")
                        + ")"
                        for key in (f"{name}: {w}" for name, _ in trees for w in WHAT)
                    ),
                ]
            )
    print("   medians (ratio to kubectl; the target as the issue words it):")
    print(common.text_table(rows, indent="   "))
    return 0


if __name__ == "__main__":
    sys.exit(main())
