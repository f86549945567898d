"""Fixtures for the reports: a started simulated cluster and settings pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cockpit.config import KubeSettings, Settings
from cockpit.sim.pace import Pace
from cockpit.sim.runner import CONTEXT, SimCluster


def settings_for(sim: SimCluster, directory: Path, **update: object) -> Settings:
    kubeconfig = sim.write_kubeconfig(directory / "kubeconfig")
    kube = KubeSettings(kubeconfig=kubeconfig, context=CONTEXT)
    base = Settings(journal_path=directory / "journal.jsonl")
    return base.model_copy(update={"kube": kube, **update})


@pytest.fixture
def incident_sim() -> Iterator[SimCluster]:
    sim = SimCluster("incident", pace=Pace.fast()).start()
    yield sim
    sim.stop()
