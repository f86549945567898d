"""DiskSource against the simulated cluster: `df` over exec in postgres-0 and the other
pods with a persistent volume, the incident's 90 %, RBAC and parsing failures."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from cockpit.config import Settings
from cockpit.model import Level
from cockpit.sim.pace import Pace
from cockpit.sim.runner import SimCluster
from cockpit.sources.disk import DiskSource, check_lines
from cockpit.sources.disk.df import DfError, parse_df

NS = "excel-unified"


@pytest.fixture(scope="module")
def incident() -> Iterator[SimCluster]:
    sim = SimCluster("incident", pace=Pace.fast())
    sim.start()
    yield sim
    sim.stop()


def snap_of(sim: SimCluster, settings: Settings | None = None):
    return paged_snap(sim, settings)[0]


def paged_snap(sim: SimCluster, settings: Settings | None = None, **chunk: int):
    """The snapshot, and how many pages the pod list took."""

    async def go():
        src = DiskSource(settings or Settings(), sim.client_configuration(), NS, **chunk)
        try:
            return await src.snapshot(), src.list_pages
        finally:
            await src.close()

    return asyncio.run(go())


def test_postgres_data_volume_is_at_90_percent_in_the_incident(incident: SimCluster) -> None:
    snap = snap_of(incident)
    names = [p.pod for p in snap.pods]
    assert names[0] == "postgres-0" and "redis-0" in names  # redis-0 has a PVC too
    assert all(not n.startswith("rails") for n in names)  # emptyDir pods are not data pods
    pg = snap.pods[0]
    assert pg.error == ""
    data = pg.mounts[0]
    assert data.mount == "/var/lib/postgresql/data" and data.persistent
    assert data.percent == 90 and data.level is Level.WARN
    assert data.size == 50 * 1024**3 and data.used + data.avail == data.size
    assert [m.mount for m in pg.mounts] == ["/var/lib/postgresql/data", "/"]
    assert snap.level is Level.WARN
    lines = check_lines(snap)
    assert (Level.WARN, lines[0][1]) == lines[0]
    assert lines[0][1].startswith("disk postgres-0 /var/lib/postgresql/data: 90% used")
    # A lower threshold makes the same figure critical.
    strict = Settings(thresholds={"disk_pct": {"warn": 50, "crit": 89}})
    assert snap_of(incident, strict).pods[0].mounts[0].level is Level.CRIT


def test_forbidden_exec_is_a_clear_state_with_rbac_words(make_incident: SimCluster) -> None:
    make_incident.deny("create", "pods", subresource="exec")
    snap = snap_of(make_incident)
    pg = snap.pods[0]
    assert pg.mounts == () and pg.level is Level.WARN
    assert "forbidden" in pg.error
    assert "pods/exec" in pg.hint and "kubectl auth can-i create pods/exec" in pg.hint
    level, words = check_lines(snap)[0]
    assert level is Level.WARN and "forbidden" in words and "pods/exec" in words


@pytest.fixture
def make_incident() -> Iterator[SimCluster]:
    sim = SimCluster("incident", pace=Pace.fast())
    sim.start()
    yield sim
    sim.stop()


def test_configured_pods_only_and_a_missing_one_is_said(incident: SimCluster) -> None:
    settings = Settings(disk={"pods": ("postgres-0", "ghost-0"), "persistent_pods": False})
    snap = snap_of(incident, settings)
    assert [p.pod for p in snap.pods] == ["postgres-0", "ghost-0"]
    ghost = snap.pods[1]
    assert ghost.level is Level.WARN and ghost.error == "pod ghost-0 not found in namespace " + NS
    assert "disk.pods" in ghost.hint
    assert check_lines(snap)[-1] == (Level.WARN, f"disk ghost-0: {ghost.error} ({ghost.hint})")


def test_the_healthy_cluster_is_ok(make_healthy: SimCluster) -> None:
    snap = snap_of(make_healthy)
    pg = snap.pods[0]
    assert pg.mounts[0].percent == 40 and pg.level is Level.OK and snap.level is Level.OK
    assert all(level is Level.OK for level, _ in check_lines(snap))
    # The pods are listed a page at a time (a 5,000-pod list in one piece was 60 MB of
    # dicts each minute): three pods a page finds the same data pods.
    paged, pages = paged_snap(make_healthy, list_chunk=3)
    assert pages > 2
    assert [p.pod for p in paged.pods] == [p.pod for p in snap.pods]
    assert [m.mount for m in paged.pods[0].mounts] == [m.mount for m in pg.mounts]


@pytest.fixture
def make_healthy() -> Iterator[SimCluster]:
    sim = SimCluster("healthy", pace=Pace.fast())
    sim.start()
    yield sim
    sim.stop()


def test_parse_df_is_strict() -> None:
    good = (
        "Filesystem         1-blocks        Used   Available Capacity Mounted on\n"
        "/dev/vda       270553174016 25285074944 83659218944      24% /\n"
        "/dev/x 10 5 5 50% /mnt/with space\n"
    )
    rows = parse_df(good)
    assert [r.mount for r in rows] == ["/", "/mnt/with space"] and rows[0].percent == 24
    for bad in (
        "",
        "Filesystem 1K-blocks Used Available Use% Mounted on\n/dev/x 1 1 0 100% /\n",
        "Filesystem 1-blocks Used Available Capacity Mounted on\n/dev/x 1G 1 0 100% /\n",
        "Filesystem 1-blocks Used Available Capacity Mounted on\n/dev/x 1 1 0 lots /\n",
        "Filesystem 1-blocks Used Available Capacity Mounted on\n/dev/x 1 1\n",
    ):
        with pytest.raises(DfError):
            parse_df(bad)


def test_the_watched_pods_give_the_same_data_pods_without_a_list(incident: SimCluster) -> None:
    """In the cockpit the disk source takes the pods from the pods watch (their PVC
    mounts come with each row): the same pods and mounts as a list would give, and not
    one page of the 5,000-pod list every minute."""
    from cockpit.sources.kube.client import connect
    from cockpit.sources.kube.source import KubeSource

    settings = Settings()
    listed, pages = paged_snap(incident)
    assert pages >= 1

    async def go():
        kube = KubeSource(connect(settings.kube, incident.client_configuration()), settings)
        kube.start()
        src = DiskSource(settings, incident.client_configuration(), NS, pod_rows=kube.pod_rows)
        try:
            return await src.snapshot(), src.list_pages
        finally:
            await src.close()
            await asyncio.to_thread(kube.stop)

    watched, pages = asyncio.run(go())
    assert pages == 0
    shown = [(p.pod, [(m.mount, m.persistent) for m in p.mounts]) for p in watched.pods]
    assert shown == [(p.pod, [(m.mount, m.persistent) for m in p.mounts]) for p in listed.pods]
    assert ("postgres-0", [("/var/lib/postgresql/data", True), ("/", False)]) in shown
