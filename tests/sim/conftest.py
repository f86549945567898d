"""Fixtures for the simulated cluster: started clusters, kubeconfigs, clients, kubectl.

sim            a started healthy SimCluster (fresh per test, Pace.fast())
incident_sim   the same, incident scenario
large_sim      the large scenario (5,000 pods), shared by the tests of one module
make_sim       factory: make_sim("incident", pace=..., large_size=...) -> started sim
kubeconfig     a kubeconfig file for `sim`
api_client     a kubernetes.client.ApiClient for `sim`
kubectl        run the real kubectl against `sim`: kubectl("get", "pods") -> result
make_kubectl   factory: make_kubectl(some_sim) -> such a runner
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from kubernetes import client as k8s

from cockpit.sim.pace import Pace
from cockpit.sim.runner import SimCluster

NS = "excel-unified"


@pytest.fixture
def make_sim() -> Iterator[Callable[..., SimCluster]]:
    made: list[SimCluster] = []

    def make(scenario: str = "healthy", **kwargs: object) -> SimCluster:
        kwargs.setdefault("pace", Pace.fast())
        sim = SimCluster(scenario, **kwargs)  # type: ignore[arg-type]
        made.append(sim)
        return sim.start()

    yield make
    for sim in made:
        sim.stop()


@pytest.fixture
def sim(make_sim: Callable[..., SimCluster]) -> SimCluster:
    return make_sim("healthy")


@pytest.fixture
def incident_sim(make_sim: Callable[..., SimCluster]) -> SimCluster:
    return make_sim("incident")


@pytest.fixture(scope="module")
def large_sim() -> Iterator[SimCluster]:
    sim = SimCluster("large", pace=Pace.fast(), large_size=5000)
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture
def kubeconfig(sim: SimCluster, tmp_path: Path) -> Path:
    return sim.write_kubeconfig(tmp_path / "kubeconfig")


def api_client_for(sim: SimCluster) -> k8s.ApiClient:
    return k8s.ApiClient(sim.client_configuration())


@pytest.fixture
def api_client(sim: SimCluster) -> Iterator[k8s.ApiClient]:
    api = api_client_for(sim)
    yield api
    api.close()


@dataclass
class Kubectl:
    sim: SimCluster
    workdir: Path

    def env(self) -> dict[str, str]:
        kubeconfig = self.sim.write_kubeconfig(self.workdir / "kubeconfig")
        env = dict(os.environ)
        env.update(
            {
                "KUBECONFIG": str(kubeconfig),
                "HOME": str(self.workdir),
                "KUBECACHEDIR": str(self.workdir / "cache"),
                "NO_COLOR": "1",
            }
        )
        return env

    def __call__(
        self,
        *args: str,
        check: bool = True,
        timeout: float = 60,
        namespace: str | None = NS,
        stdin: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        binary = shutil.which("kubectl")
        if binary is None:
            pytest.fail("kubectl is not on PATH: these tests need the real kubectl (v1.32)")
        argv = [binary]
        if namespace is not None:
            argv += ["-n", namespace]  # before the args: `exec ... -- cmd` ends the flags
        argv += args
        result = subprocess.run(
            argv,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            input=stdin,
            check=False,
        )
        if check and result.returncode != 0:
            pytest.fail(
                f"kubectl {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout}\n{result.stderr}"
            )
        return result


@pytest.fixture
def make_kubectl(tmp_path: Path) -> Callable[[SimCluster], Kubectl]:
    def make(sim: SimCluster) -> Kubectl:
        workdir = tmp_path / f"kubectl-{sim.port}"
        workdir.mkdir(exist_ok=True)
        return Kubectl(sim, workdir)

    return make


@pytest.fixture
def kubectl(sim: SimCluster, make_kubectl: Callable[[SimCluster], Kubectl]) -> Kubectl:
    return make_kubectl(sim)
