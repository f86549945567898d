"""The `large` scenario: thousands of pods, started and listed fast.

The bounds are generous (a loaded CI machine); measured on a quiet 2-core machine:
~0.9 s to start, ~0.6 s for `kubectl get pods`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from kubernetes import client as k8s

from cockpit.sim.runner import SimCluster

NS = "excel-unified"
SIZE = 5000


@pytest.fixture(scope="module")
def large(large_sim: SimCluster) -> SimCluster:
    return large_sim


def test_starts_in_a_few_seconds(large: SimCluster) -> None:
    assert large.started_in_s < 10


def test_raw_list_of_all_pods(large: SimCluster) -> None:
    with k8s.ApiClient(large.client_configuration()) as api:
        v1 = k8s.CoreV1Api(api)
        t0 = time.perf_counter()
        resp = v1.list_namespaced_pod(NS, _preload_content=False)
        data = json.loads(resp.data)
        elapsed = time.perf_counter() - t0
    assert len(data["items"]) == SIZE
    running = sum(1 for p in data["items"] if p["status"]["phase"] == "Running")
    assert running > SIZE - 20  # all but the finished backup job pods
    assert elapsed < 5


def test_kubectl_get_pods_pages_through_all(large: SimCluster, tmp_path: Path) -> None:
    binary = shutil.which("kubectl")
    if binary is None:
        pytest.fail("kubectl is not on PATH: these tests need the real kubectl (v1.32)")
    kubeconfig = large.write_kubeconfig(tmp_path / "kubeconfig")
    env = {
        "KUBECONFIG": str(kubeconfig),
        "HOME": str(tmp_path),
        "KUBECACHEDIR": str(tmp_path / "cache"),
        "PATH": "/usr/bin:/bin",
    }
    t0 = time.perf_counter()
    out = subprocess.run(
        [binary, "get", "pods", "-n", NS],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    elapsed = time.perf_counter() - t0
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert len(lines) == SIZE + 1
    assert elapsed < 10


def test_changes_still_show_in_lists(large: SimCluster) -> None:
    """The serialised-object cache must never serve a stale object."""
    with k8s.ApiClient(large.client_configuration()) as api:
        v1 = k8s.CoreV1Api(api)
        v1.patch_namespaced_pod("postgres-0", NS, {"metadata": {"labels": {"probe": "1"}}})
        data = json.loads(
            v1.list_namespaced_pod(NS, _preload_content=False, label_selector="app=postgres").data
        )
        assert data["items"][0]["metadata"]["labels"]["probe"] == "1"
        data = json.loads(v1.list_namespaced_pod(NS, _preload_content=False).data)
        pg = next(p for p in data["items"] if p["metadata"]["name"] == "postgres-0")
        assert pg["metadata"]["labels"]["probe"] == "1"
