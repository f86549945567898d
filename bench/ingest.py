"""Access-log ingest into the SLO windows: lines per second on one core with a UI running,
and reading the nginx pods' streams against `kubectl logs -f` of the same pods.

    python -m bench.ingest [--seconds 10] [--lines 200000]

1. Capacity: this process pinned to one core runs a Textual app (the SLO pane, headless,
   refreshed from `TrafficSource.snapshot()` every second, as the poller does) while a
   thread feeds pre-generated access lines (kubelet prefix included) through the real
   path: split_kubelet -> AccessParser -> SloWindows under the source's lock.  Reported:
   sustained lines/s, lines dropped, CPU of the process over the run, RSS.
2. The stream, against the baseline: the simulated cluster (`cockpit sim --fast`, its own
   process) serves the nginx pods' logs; TrafficSource follows them from 300 s back
   until it has caught up, then `kubectl logs -f --since=300s` reads the same pods.
   Reported: lines, wall time and CPU seconds for each (what reading the stream alone
   costs, and what parsing and counting add).  The sim generates the lines as they are
   asked for, so both wait on the same producer.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402
from bench.common import Figure  # noqa: E402
from cockpit.config import Settings  # noqa: E402
from cockpit.slo.parse import split_kubelet  # noqa: E402
from cockpit.slo.sample import access_line, kubelet_prefix  # noqa: E402

TARGET_LPS = 20_000


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident set size in MB."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def sample_lines(count: int, now: float) -> list[str]:
    """`count` lines spread over the last 5 minutes: 80 % rails, 1 % errors, probes."""
    lines = []
    for n in range(count):
        t = now - 300 + 300 * n / count
        upstream = None if n % 331 == 0 else ("fastapi" if n % 5 == 0 else "rails")
        status = 503 if n % 97 == 0 else 200
        latency = 0.02 + (n % 53) * 0.011
        lines.append(kubelet_prefix(t) + " " + access_line(t, upstream, status, latency))
    return lines


class _NoKube:
    """The capacity run follows no pod: lines come from memory."""

    def pod_log(self, pod: str, **options: object) -> object:
        raise RuntimeError("not used")


def capacity(seconds: float, pool: int, rate: float | None = None) -> dict[str, float]:
    """Feed as fast as the pipeline takes lines (rate None) or at `rate` lines/s."""
    from textual.app import App, ComposeResult

    from cockpit.sources.traffic.source import TrafficSource
    from widgets.slo import SloPane

    source = TrafficSource(Settings(), _NoKube())  # type: ignore[arg-type]
    lines = sample_lines(pool, time.time())
    fed = 0
    done = threading.Event()

    def feed() -> None:
        nonlocal fed
        ingest = source.ingest
        started = time.perf_counter()
        while not done.is_set():
            for start in range(0, len(lines), 500):
                if done.is_set():
                    return
                for raw in lines[start : start + 500]:
                    t, text = split_kubelet(raw)
                    ingest(t, text)
                fed += 500
                if rate is not None:  # keep to the schedule, as a real stream would
                    ahead = fed / rate - (time.perf_counter() - started)
                    if ahead > 0:
                        time.sleep(ahead)

    class Ui(App[None]):
        def compose(self) -> ComposeResult:
            yield SloPane(id="slo")

    result: dict[str, float] = {}

    async def run() -> None:
        app = Ui()
        async with app.run_test(size=(120, 45)) as pilot:
            pane = app.query_one(SloPane)
            frames = 0
            refresh_ms: list[float] = []
            snap_ms: list[float] = []
            thread = threading.Thread(target=feed, daemon=True)
            cpu0, wall0 = cpu_s(), time.perf_counter()
            thread.start()
            while time.perf_counter() - wall0 < seconds:
                began = time.perf_counter()
                snap = await source.snapshot()
                snap_ms.append(1000 * (time.perf_counter() - began))
                pane.show(snap)
                await pilot.pause()
                refresh_ms.append(1000 * (time.perf_counter() - began))
                frames += 1
                await asyncio.sleep(max(0.0, 1.0 - (time.perf_counter() - wall0) % 1.0))
            result["refresh_p50_ms"] = common.percentile(refresh_ms, 50)
            result["refresh_max_ms"] = max(refresh_ms)
            result["snapshot_p50_ms"] = common.percentile(snap_ms, 50)
            lines_read = source.lines
            wall, cpu = time.perf_counter() - wall0, cpu_s() - cpu0
            done.set()
            thread.join(30)
            snap = await source.snapshot()
            result.update(
                lps=lines_read / wall,
                lines=float(lines_read),
                dropped=float(snap.dropped),
                cpu_pct=100 * cpu / wall,
                frames=float(frames),
                requests_5m=float(snap.upstreams[0].five_minutes.requests),
            )

    asyncio.run(run())
    result["rss_mb"], result["peak_mb"] = rss_mb()
    return result


def start_sim(workdir: Path) -> tuple[subprocess.Popen[bytes], Path]:
    kubeconfig = workdir / "kubeconfig"
    log = workdir / "sim.log"
    argv = [common.PYTHON, "-m", "cockpit", "sim", "--scenario", "healthy", "--fast"]
    argv += ["--port", "0", "--kubeconfig", str(kubeconfig)]
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            argv, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the simulator exited: {log.read_text()}")
        if kubeconfig.exists() and re.search(r"serving at http://\S+", log.read_text()):
            return proc, kubeconfig
        time.sleep(0.1)
    common.stop_process(proc)
    raise TimeoutError("the simulator did not start within 60 s")


def stream_vs_kubectl(workdir: Path) -> dict[str, float]:
    from kubernetes import client as kclient
    from kubernetes import config as kconfig

    from cockpit.sources.kube.client import connect
    from cockpit.sources.kube.source import KubeSource
    from cockpit.sources.traffic.source import TrafficSource

    proc, kubeconfig = start_sim(workdir)
    out: dict[str, float] = {}
    try:
        settings = Settings()
        configuration = kclient.Configuration()
        kconfig.load_kube_config(str(kubeconfig), client_configuration=configuration)
        kube = KubeSource(connect(settings.kube, configuration), settings)
        kube.start()

        async def ours() -> None:
            pods = (await kube.kube_snapshot()).pods
            nginx = [p.name for p in pods if p.app == "nginx"]
            source = TrafficSource(settings, kube)
            cpu0, wall0 = cpu_s(), time.perf_counter()
            source.sync(pods)
            await source.wait_caught_up(60)
            out["ours_s"] = time.perf_counter() - wall0 - 0.5  # minus the idle proof
            out["ours_cpu_s"] = cpu_s() - cpu0
            out["ours_lines"] = float(source.lines)
            out["pods"] = float(len(nginx))
            await source.close()
            out["_names"] = nginx  # type: ignore[assignment]

        asyncio.run(ours())
        kube.stop()
        names: list[str] = out.pop("_names")  # type: ignore[assignment]
        env = common.kubectl_env(kubeconfig, workdir / "kubectl-home")
        per_pod = int(out["ours_lines"] / max(1, len(names)))
        wall0 = time.perf_counter()
        procs = []
        for name in names:
            argv = [common.KUBECTL, "-n", common.NAMESPACE, "logs", "-f", "--since=300s"]
            argv += ["--timestamps", name]
            procs.append(subprocess.Popen(argv, env=env, stdout=subprocess.PIPE))
        read = 0
        cpu = 0.0
        for p in procs:
            assert p.stdout is not None
            for n, _ in enumerate(p.stdout, 1):
                if n >= per_pod:
                    break
            read += n
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = Path(f"/proc/{p.pid}/stat").read_text().rsplit(")", 1)[1].split()
                cpu += (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
            p.kill()
            p.wait(5)
        out["kubectl_s"] = time.perf_counter() - wall0
        out["kubectl_cpu_s"] = cpu
        out["kubectl_lines"] = float(read)
    finally:
        common.stop_process(proc)
    return out


def run(argv: list[str]) -> list[Figure]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--lines", type=int, default=200_000, help="pre-generated line pool")
    parser.add_argument("--no-stream", action="store_true", help="skip the kubectl part")
    args = parser.parse_args(argv)
    print(f"ingest benchmark, {common.now_text()}\n{common.machine()}\n{common.wait_quiet()}")
    cpus = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpus[0]})  # one core for the UI and the ingest alike
    print(f"pinned to CPU {cpus[0]}; capacity run {args.seconds:g} s")
    cap = capacity(args.seconds, args.lines)
    print(
        f"as fast as it takes them, with the UI running: {cap['lps']:,.0f} lines/s "
        f"({cap['lines']:,.0f} lines in {args.seconds:g} s), dropped {cap['dropped']:.0f}, "
        f"CPU {cap['cpu_pct']:.0f} % of one core, RSS {cap['rss_mb']:.0f} MB "
        f"(peak {cap['peak_mb']:.0f} MB); {cap['frames']:.0f} pane refreshes, "
        f"snapshot+refresh p50 {cap['refresh_p50_ms']:.0f} ms, max {cap['refresh_max_ms']:.0f} ms"
    )
    paced = capacity(args.seconds, args.lines, rate=TARGET_LPS)
    print(
        f"at the target, {TARGET_LPS:,} lines/s: {paced['lps']:,.0f} lines/s kept, dropped "
        f"{paced['dropped']:.0f}, CPU {paced['cpu_pct']:.0f} % of one core, RSS "
        f"{paced['rss_mb']:.0f} MB; {paced['frames']:.0f} pane refreshes, snapshot+refresh "
        f"p50 {paced['refresh_p50_ms']:.0f} ms, max {paced['refresh_max_ms']:.0f} ms "
        f"(snapshot alone p50 {paced['snapshot_p50_ms']:.0f} ms)"
    )
    figures = [
        Figure(
            "SLO ingest, lines/s (UI running, 1 core)",
            f"{cap['lps']:,.0f} (dropped {cap['dropped']:.0f})",
            f">= {TARGET_LPS:,}",
            f"{cap['lps'] / TARGET_LPS:.2f}x",
            cap["lps"] >= TARGET_LPS and cap["dropped"] == 0,
        ),
        Figure(
            f"  at {TARGET_LPS:,} lines/s: CPU, RSS, UI refresh",
            f"{paced['cpu_pct']:.0f} % of a core, {paced['rss_mb']:.0f} MB, "
            f"{paced['frames']:.0f} refreshes (max {paced['refresh_max_ms']:.0f} ms)",
            "-",
            "-",
            None,
        ),
    ]
    os.sched_setaffinity(0, set(cpus))
    if not args.no_stream:
        if not common.kubectl_available():
            print("kubectl not found: the stream baseline is skipped")
        else:
            with common.scratch_dir("ingest") as tmp:
                s = stream_vs_kubectl(Path(tmp))
            ours_lps = s["ours_lines"] / max(s["ours_s"], 1e-3)
            print(
                f"stream of {s['pods']:.0f} nginx pods, 300 s back: cockpit read and counted "
                f"{s['ours_lines']:,.0f} lines in {s['ours_s']:.2f} s ({ours_lps:,.0f} lines/s), "
                f"CPU {s['ours_cpu_s']:.2f} s; kubectl logs -f read {s['kubectl_lines']:,.0f} "
                f"in {s['kubectl_s']:.2f} s, CPU {s['kubectl_cpu_s']:.2f} s"
            )
            figures.append(
                Figure(
                    "  stream: cockpit vs kubectl logs -f",
                    f"{s['ours_s']:.2f} s / {s['ours_cpu_s']:.2f} s CPU "
                    f"(kubectl {s['kubectl_s']:.2f} s / {s['kubectl_cpu_s']:.2f} s)",
                    "-",
                    f"{s['ours_s'] / max(s['kubectl_s'], 1e-3):.2f}x",
                    None,
                )
            )
    return figures


if __name__ == "__main__":
    sys.exit(common.bench_main(run))
