"""`run_foreground` (what `cockpit sim` runs): prints how to connect, serves until a
signal, stops cleanly."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

SCRIPT = """
import sys
from cockpit.sim.pace import Pace
from cockpit.sim.runner import run_foreground
sys.exit(run_foreground("incident", 0, sys.argv[1], Pace.fast()))
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_run_foreground_until_signal(tmp_path: Path, sig: signal.Signals) -> None:
    kubeconfig = tmp_path / "kc" / "kubeconfig"
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(kubeconfig)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = proc.stdout.readline()  # type: ignore[union-attr]
            if not line:
                break
            lines.append(line)
            if line.startswith("Press Ctrl-C"):
                break
        text = "".join(lines)
        assert f"KUBECONFIG={kubeconfig} kubectl get pods -n excel-unified" in text
        config = json.loads(kubeconfig.read_text())
        assert config["current-context"] == "cockpit-sim"
        assert config["users"][0]["name"] == "cockpit-sim-admin"
        url = config["clusters"][0]["cluster"]["server"]
        assert url.startswith("http://127.0.0.1:") and url in text
        with urllib.request.urlopen(f"{url}/version", timeout=5) as resp:
            assert json.load(resp)["gitVersion"].startswith("v1.32")
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "Simulated cluster stopped." in out
