"""Shared helpers: the large simulated cluster in its own process, the cockpit in a
pseudo-terminal, benchmark marks, statistics and the state of the machine.

Everything here talks to 127.0.0.1 only: the cockpit's environment is built from
scratch (no inherited PG*/AWS_* variables), S3 points at a closed local port and the
AWS metadata service is disabled, PostgreSQL and Redis are the local servers.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import platform
import pty
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable  # the venv's interpreter when started as `.venv/bin/python -m bench`
NAMESPACE = "excel-unified"
CONTEXT = "cockpit-sim"
KUBECTL = "/usr/bin/kubectl"
LOCAL_PG_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
LOCAL_REDIS_URL = "redis://127.0.0.1:6379/0"
TERMINAL = (160, 45)  # the design's full layout size
RESULTS_PATH: Path | None = None  # --json: where bench_main saves the figures


# -- results ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One line of the summary table."""

    name: str
    value: str
    target: str
    ratio: str  # "value / target" or "subject / baseline", as text
    met: bool | None  # None: informational, no target

    @property
    def verdict(self) -> str:
        if self.met is None:
            return "-"
        return "met" if self.met else "MISSED"


def bench_main(run: Callable[[list[str]], list[Figure]]) -> int:
    """`python -m bench.bench_x [--json PATH] [options]`: run, print, save the figures."""
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    exit_on_sigterm()
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--json", type=Path, default=None)
    known, rest = parser.parse_known_args()
    global RESULTS_PATH
    RESULTS_PATH = known.json
    figures = run(rest)
    if known.json is not None:
        save_figures(known.json, figures)
    return 0 if all(f.met is not False for f in figures) else 1


def save_figures(path: Path, figures: Sequence[Figure]) -> None:
    path.write_text(json.dumps([asdict(f) for f in figures], indent=1))


def load_figures(path: Path) -> list[Figure]:
    return [Figure(**item) for item in json.loads(path.read_text())]


def exit_on_sigterm() -> None:
    """SIGTERM/SIGHUP raise SystemExit, so `finally` blocks stop the simulator."""

    def handler(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, handler)


def text_table(rows: Sequence[Sequence[str]], indent: str = "") -> str:
    """Rows of text in aligned columns, the first row a header underlined with dashes."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [indent + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
             for row in rows]  # fmt: skip
    lines.insert(1, indent + "  ".join("-" * w for w in widths))
    return "\n".join(lines)


# -- statistics ---------------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    if n == 0:
        return float("nan")
    mid = n // 2
    return ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def percentile(values: Sequence[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def slope(points: Sequence[tuple[float, float]]) -> float:
    """Least-squares slope of (x, y) points."""
    n = len(points)
    if n < 2:
        return 0.0
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    sxy = sum((x - mx) * (y - my) for x, y in points)
    return sxy / sxx if sxx else 0.0


# -- the machine --------------------------------------------------------------------------


def machine() -> str:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    return (
        f"{platform.node()}: {os.cpu_count()} CPU ({model or platform.machine()}), "
        f"{mem_gb:.0f} GB, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def load_text() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPU"


def wait_quiet(max_load: float | None = None, timeout: float = 120.0) -> str:
    """Wait (bounded) for the 1-minute load to drop below `max_load`; say how it went.

    Other sessions share this machine; a benchmark started in the middle of a test run
    measures the test run.  Never waits longer than `timeout`.
    """
    limit = max_load if max_load is not None else 0.75 * (os.cpu_count() or 1)
    deadline = time.monotonic() + timeout
    while os.getloadavg()[0] > limit and time.monotonic() < deadline:
        time.sleep(5)
    state = load_text()
    if os.getloadavg()[0] > limit:
        return f"{state} (busy: still above {limit:.1f} after waiting {timeout:.0f} s)"
    return state


def now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


# -- ports, marks -------------------------------------------------------------------------


def closed_port() -> int:
    """A local port nobody listens on (bound, then released): connections are refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_marks(path: Path) -> list[tuple[str, float, str]]:
    """The lines `cockpit.app.mark()` (and bench/run_cockpit.py) appended to `path`."""
    marks = []
    with contextlib.suppress(FileNotFoundError):
        for line in path.read_text().splitlines():
            parts = line.split(" ", 2)
            if len(parts) >= 2:
                marks.append((parts[0], float(parts[1]), parts[2] if len(parts) > 2 else ""))
    return marks


def wait_mark(
    path: Path,
    event: str,
    timeout: float,
    alive: Callable[[], bool] = lambda: True,
    accept: Callable[[str], bool] = lambda detail: True,
) -> tuple[float, str]:
    """(unix time, detail) of the first `event` mark accepted; TimeoutError otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, when, detail in read_marks(path):
            if name == event and accept(detail):
                return when, detail
        if not alive():
            raise RuntimeError(f"the process ended before the {event!r} mark")
        time.sleep(0.01)
    raise TimeoutError(f"no {event!r} mark within {timeout:g} s")


# -- the simulated cluster in its own process ---------------------------------------------


@dataclass
class SimProcess:
    proc: subprocess.Popen[bytes]
    url: str
    kubeconfig: Path
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGTERM the process group started for `proc`, then SIGKILL what is left."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # stray children of the group, if any
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(5)


@contextlib.contextmanager
def large_sim(
    workdir: Path,
    *,
    size: int = 5000,
    log_lines_per_s: float | None = None,
    history_hours: float | None = None,
    timeout: float = 120.0,
) -> Iterator[SimProcess]:
    """The `large` scenario served by a separate process on 127.0.0.1 (any free port).

    Default pace: `python -m cockpit sim --scenario large`.  With a log rate or a
    history length: bench/sim_launcher.py (the same server with a custom Pace).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    kubeconfig = workdir / "kubeconfig"
    log = workdir / "sim.log"
    if log_lines_per_s is None and history_hours is None:
        argv = [PYTHON, "-m", "cockpit", "sim", "--scenario", "large", "--port", "0"]
    else:
        argv = [PYTHON, "-m", "bench.sim_launcher", "--port", "0"]
        if log_lines_per_s is not None:
            argv += ["--log-lines-per-s", str(log_lines_per_s)]
        if history_hours is not None:
            argv += ["--history-hours", str(history_hours)]
    argv += ["--kubeconfig", str(kubeconfig), "--size", str(size)]
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: stopped as a whole
        )
    try:
        deadline = time.monotonic() + timeout
        url = ""
        while not url:
            if proc.poll() is not None:
                raise RuntimeError(f"the simulator exited ({proc.returncode}): {log.read_text()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the simulator did not start within {timeout:g} s")
            found = re.search(r"serving at (http://\S+)", log.read_text())
            if found and "Press Ctrl-C" in log.read_text() and kubeconfig.exists():
                url = found.group(1)
            else:
                time.sleep(0.1)
        yield SimProcess(proc, url, kubeconfig, log)
    finally:
        stop_process(proc)


# -- the cockpit ---------------------------------------------------------------------------


def cockpit_env(home: Path, kubeconfig: Path, marks: Path | None = None) -> dict[str, str]:
    """A clean environment: the sim's kubeconfig, local PG/Redis, S3 refused locally."""
    home.mkdir(parents=True, exist_ok=True)
    empty = home / "empty"
    empty.write_text("")
    env = {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "TERM": "xterm-256color",
        "COLORTERM": "truecolor",
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_STATE_HOME": str(home / "state"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "KUBECONFIG": str(kubeconfig),
        "COCKPIT_POSTGRES__DSN": LOCAL_PG_DSN,
        "COCKPIT_REDIS__URL": LOCAL_REDIS_URL,
        # S3: a closed local port and fake credentials, never the real AWS.
        "COCKPIT_BACKUPS__ENDPOINT_URL": f"http://127.0.0.1:{closed_port()}",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(empty),
        "AWS_SHARED_CREDENTIALS_FILE": str(empty),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    if marks is not None:
        env["COCKPIT_BENCH_MARKS"] = str(marks)
    return env


class PtyProcess:
    """A program on a pseudo-terminal of `size` columns x rows, its output drained.

    The cockpit runs with Textual's real Linux driver (not headless): it renders and
    writes every frame, as over SSH.  A thread reads and counts the output so the
    program never blocks on a full terminal buffer.
    """

    def __init__(
        self,
        argv: Sequence[str],
        env: dict[str, str],
        size: tuple[int, int] = TERMINAL,
        cwd: Path = ROOT,
    ) -> None:
        master, slave = pty.openpty()
        cols, rows = size
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.master = master
        self.output_bytes = 0
        self._tail = bytearray()
        self.started_at = time.time()
        self.proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=env,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            start_new_session=True,
        )
        os.close(slave)
        self._reader = threading.Thread(target=self._drain, daemon=True, name="pty-drain")
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            self.output_bytes += len(data)
            self._tail += data
            del self._tail[:-8192]

    def tail_text(self) -> str:
        """The last output without escape sequences (for error messages)."""
        text = self._tail.decode("utf-8", "replace")
        return re.sub(r"\x1b\[[0-9;?<>=]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>]", "", text)[-2000:]

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def stop(self, timeout: float = 10.0) -> None:
        """Quit with `q` (the app's own shutdown), then SIGTERM/SIGKILL the group."""
        if self.alive():
            with contextlib.suppress(OSError):
                self.send(b"q")
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout)
        stop_process(self.proc, 5.0)
        with contextlib.suppress(OSError):
            os.close(self.master)
        self._reader.join(2)


@contextlib.contextmanager
def cockpit_on_pty(
    argv: Sequence[str], env: dict[str, str], size: tuple[int, int] = TERMINAL
) -> Iterator[PtyProcess]:
    proc = PtyProcess(argv, env, size)
    try:
        yield proc
    finally:
        proc.stop()


def cockpit_cli_argv() -> list[str]:
    """The real command line: `python -m cockpit run --context cockpit-sim`."""
    return [PYTHON, "-m", "cockpit", "run", "--context", CONTEXT]


def runner_argv(*extra: str) -> list[str]:
    """bench/run_cockpit.py: the same app, plus in-process counters written as marks."""
    return [PYTHON, "-m", "bench.run_cockpit", "--context", CONTEXT, *extra]


# -- kubectl -------------------------------------------------------------------------------


def kubectl_env(kubeconfig: Path, home: Path) -> dict[str, str]:
    home.mkdir(parents=True, exist_ok=True)
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "KUBECONFIG": str(kubeconfig),
        "KUBECACHEDIR": str(home / "kube-cache"),
    }


def kubectl_available() -> bool:
    return Path(KUBECTL).exists() or shutil.which("kubectl") is not None


def scratch_dir(prefix: str) -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix=f"cockpit-bench-{prefix}-")
