"""Fixtures of the fire drills: the incident scenario's cluster and the demo's servers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cockpit.demo.servers import DemoServers, binaries_available
from cockpit.sim.pace import Pace
from cockpit.sim.runner import SimCluster
from tests.drills.helpers import Cluster
from tests.fixtures.demo import staged_demo


@pytest.fixture
def incident_sim() -> Iterator[SimCluster]:
    """`cockpit demo --scenario incident`'s cluster at the tests' pace (half an hour of
    log history instead of 26 h: the drills are about the remedies, not the history)."""
    sim = SimCluster("incident", pace=Pace.fast().with_(history_hours=0.5)).start()
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture
def cluster(incident_sim: SimCluster) -> Iterator[Cluster]:
    kube = Cluster(incident_sim)
    yield kube
    kube.close()


@pytest.fixture
def demo_servers() -> Iterator[DemoServers]:
    """The incident demo's own Redis and PostgreSQL, started and staged as the demo does
    (in the foreground here: the drill starts once the incident is in place)."""
    if not binaries_available():
        pytest.skip("needs redis-server and PostgreSQL's initdb/pg_ctl (as the demo does)")
    with staged_demo() as servers:
        yield servers
