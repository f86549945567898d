"""`cockpit serve` as a real subprocess against the simulated cluster, with test-owned
PostgreSQL and Redis, and headless Debian chromium driven by Playwright."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from cockpit.sim.pace import Pace
from cockpit.sim.runner import CONTEXT, SimCluster

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")  # Debian's package; .ci/run installs it
BANNER = re.compile(r"open (http://\S+)/\?token=(\S+)")


@dataclass
class Served:
    process: subprocess.Popen[str]
    env: dict[str, str] = field(default_factory=dict)  # the server's, for a second command
    base: str = ""  # http://127.0.0.1:PORT
    token: str = ""
    lines: list[str] = field(default_factory=list)  # stdout and stderr, as they come
    _reader: threading.Thread | None = None

    @property
    def entry_url(self) -> str:
        return f"{self.base}/?token={self.token}"

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    def wait_banner(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if match := BANNER.search(self.output):
                self.base, self.token = match.group(1), match.group(2)
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"`cockpit serve` printed no URL:\n{self.output}")

    def stop(self) -> int:
        """SIGTERM, as a service manager stops it; the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if self._reader is not None:
            self._reader.join(10)
        return self.process.returncode


def _toml(data: dict[str, Any]) -> str:
    """Enough TOML for a settings file: scalars, then one level of tables."""
    top = [f"{k} = {json.dumps(v)}" for k, v in data.items() if not isinstance(v, dict)]
    tables = [
        f"[{name}]\n" + "\n".join(f"{k} = {json.dumps(v)}" for k, v in table.items())
        for name, table in data.items()
        if isinstance(table, dict)
    ]
    return "\n".join(top) + "\n\n" + "\n\n".join(tables) + "\n"


@pytest.fixture
def sim() -> Iterator[SimCluster]:
    cluster = SimCluster("incident", pace=Pace.fast().with_(history_hours=0.5)).start()
    yield cluster
    cluster.stop()


@pytest.fixture
def serve(
    sim: SimCluster, tmp_path: Path, pg_server: Any, redis_server: Any
) -> Iterator[Callable[..., Served]]:
    """Start `cockpit serve --port 0 FLAGS...`; wait for the URL it prints."""
    config = tmp_path / "config.toml"
    config.write_text(
        _toml(
            {
                "journal_path": str(tmp_path / "state" / "journal.jsonl"),
                "kube": {"context": CONTEXT},
                "postgres": {"dsn": pg_server.dsn(), "idle_minutes": 10},
                "redis": {"url": redis_server.url},
                "poll": {"pods": 0.3, "metrics": 0.5, "events": 0.5, "logs": 0.3},
            }
        )
    )
    kubeconfig = sim.write_kubeconfig(tmp_path / "kubeconfig")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    started: list[Served] = []

    def start(*flags: str) -> Served:
        command = [sys.executable, "-m", "cockpit", "serve", "--port", "0", "--config", str(config)]
        command += ["--kubeconfig", str(kubeconfig), *flags]
        process = subprocess.Popen(
            command,
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        served = Served(process, env)
        served._reader = threading.Thread(target=served.read, daemon=True)
        served._reader.start()
        started.append(served)
        served.wait_banner()
        return served

    yield start
    for served in started:
        served.stop()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Headless Debian chromium: a failure, not a skip, when it or Playwright is missing."""
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield browser
        browser.close()
