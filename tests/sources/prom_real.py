"""A real Prometheus for the tests: Debian's `prometheus` binary on a free loopback port,
scraping a small exposition server of the tests' own, with the shipped rules.

    traffic = Traffic()                       # the requests, as an access log would have them
    with Exposition(traffic) as exp, RealPrometheus(config_text(exp.url, rules)) as prom:
        prom.wait_for_alert("HighErrorRate", "firing", deadline_s=30)

Missing binaries fail the test (CI installs them: .ci/run); they are never a skip.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "excel-unified.rules.yml"
RULES_TEST = ROOT / "deploy" / "prometheus" / "excel-unified.rules.test.yml"
# Prometheus' default histogram buckets (client_golang / prometheus_client), in seconds.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def binary(name: str) -> str:
    """The path of `prometheus` or `promtool`; the test fails (not skips) without it."""
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: `apt-get install prometheus` (.ci/run does)")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def short_rules(target: Path, for_: str = "5s") -> Path:
    """The shipped rules with `for: 5m` shortened for a test; expressions unchanged."""
    text = RULES.read_text()
    shortened, n = re.subn(r"(?m)^(\s+for:) 5m$", rf"\1 {for_}", text)
    assert n == 2, "both shipped rules wait 5m"
    target.write_text(shortened)
    return target


def config_text(targets: list[str], rule_file: Path, interval: str = "1s") -> str:
    return json.dumps(
        {
            "global": {"scrape_interval": interval, "evaluation_interval": interval},
            "rule_files": [str(rule_file)],
            "scrape_configs": [
                {
                    "job_name": "excel-unified",
                    "scrape_interval": interval,
                    "static_configs": [{"targets": targets}],
                }
            ],
        }
    )


# -- traffic: one list of requests, the "access log", and the counters made from it ---------


@dataclass(frozen=True)
class Request:
    t: float
    app: str
    status: int
    seconds: float


class Traffic:
    """Steady requests per app, generated up to `now` whenever asked (each scrape asks).

    fastapi: every 5th request is a 500 (20 %), 1 in 10 slow (1-3 s), the rest 50-400 ms
    (the incident scenario's shape); rails: all 200, 20-300 ms.  The error mix is
    periodic, so any stretch of the log has the same error share within one request."""

    RATES = {"fastapi": 40.0, "rails": 60.0}

    def __init__(self, seed: int = 7) -> None:
        self.random = random.Random(seed)
        self.start = time.time()
        self.log: list[Request] = []
        self._next = dict.fromkeys(self.RATES, self.start)
        self._count = dict.fromkeys(self.RATES, 0)
        self._lock = threading.Lock()

    def _one(self, app: str, t: float) -> Request:
        n = self._count[app] = self._count[app] + 1
        if app == "fastapi":
            status = 500 if n % 5 == 0 else 200
            slow = self.random.random() < 0.1
            seconds = self.random.uniform(1.0, 3.0) if slow else self.random.uniform(0.05, 0.4)
        else:
            status, seconds = 200, self.random.uniform(0.02, 0.3)
        return Request(t, app, status, seconds)

    def advance(self, now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self._lock:
            for app, rate in self.RATES.items():
                while self._next[app] <= now:
                    self.log.append(self._one(app, self._next[app]))
                    self._next[app] += 1.0 / rate

    def requests(self) -> list[Request]:
        with self._lock:
            return list(self.log)

    def exposition(self) -> str:
        """The Prometheus text format of every request so far."""
        self.advance()
        counts: dict[tuple[str, int], int] = {}
        buckets: dict[str, list[int]] = {app: [0] * len(BUCKETS) for app in self.RATES}
        sums = dict.fromkeys(self.RATES, 0.0)
        totals = dict.fromkeys(self.RATES, 0)
        for r in self.requests():
            counts[(r.app, r.status)] = counts.get((r.app, r.status), 0) + 1
            for i, le in enumerate(BUCKETS):
                if r.seconds <= le:
                    buckets[r.app][i] += 1
            sums[r.app] += r.seconds
            totals[r.app] += 1
        lines = [
            "# HELP http_requests_total Requests answered.",
            "# TYPE http_requests_total counter",
        ]
        for (app, status), n in sorted(counts.items()):
            lines.append(f'http_requests_total{{app="{app}",status="{status}"}} {n}')
        lines += [
            "# HELP http_request_duration_seconds Request latency.",
            "# TYPE http_request_duration_seconds histogram",
        ]
        for app in self.RATES:
            for le, n in zip(BUCKETS, buckets[app], strict=True):
                lines.append(f'http_request_duration_seconds_bucket{{app="{app}",le="{le}"}} {n}')
            lines.append(
                f'http_request_duration_seconds_bucket{{app="{app}",le="+Inf"}} {totals[app]}'
            )
            lines.append(f'http_request_duration_seconds_sum{{app="{app}"}} {sums[app]}')
            lines.append(f'http_request_duration_seconds_count{{app="{app}"}} {totals[app]}')
        return "\n".join(lines) + "\n"


class Exposition:
    """An HTTP server on 127.0.0.1 serving `traffic` at /metrics."""

    def __init__(self, traffic: Traffic) -> None:
        self.traffic = traffic
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = outer.traffic.exposition().encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.target = f"127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Exposition:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


# -- Prometheus itself ----------------------------------------------------------------------


class RealPrometheus:
    """`prometheus` on a free port with `config` (a prometheus.yml's text), in a temp
    dir removed at exit; the process is killed at exit whatever happened."""

    def __init__(self, config: str) -> None:
        self.binary = binary("prometheus")
        self.dir = Path(tempfile.mkdtemp(prefix="cockpit-prom-"))
        (self.dir / "prometheus.yml").write_text(config)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> RealPrometheus:
        self.process = subprocess.Popen(
            [
                self.binary,
                f"--config.file={self.dir / 'prometheus.yml'}",
                f"--storage.tsdb.path={self.dir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--log.level=warn",
            ],
            stdout=subprocess.DEVNULL,
            stderr=(self.dir / "prometheus.log").open("wb"),
        )
        try:
            self._wait_ready(30.0)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None
        shutil.rmtree(self.dir, ignore_errors=True)

    def log(self) -> str:
        try:
            return (self.dir / "prometheus.log").read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def _wait_ready(self, deadline_s: float) -> None:
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"prometheus exited: {self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"prometheus not ready within {deadline_s} s: {self.log()}")

    def api(self, path: str) -> Any:
        with urllib.request.urlopen(f"{self.url}{path}", timeout=5) as r:
            return json.loads(r.read())["data"]

    def alert_states(self, name: str) -> set[str]:
        return {
            a["state"]
            for a in self.api("/api/v1/alerts")["alerts"]
            if a["labels"].get("alertname") == name
        }

    def wait_for_alert(self, name: str, state: str, deadline_s: float) -> float:
        """Poll until `name` is in `state`; the seconds it took."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < deadline_s:
            if state in self.alert_states(name):
                return time.monotonic() - t0
            time.sleep(0.2)
        raise AssertionError(f"{name} not {state} within {deadline_s} s: {self.log()}")
