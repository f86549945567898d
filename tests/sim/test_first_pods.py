"""The first screen's pods from one server-side Table: for every pod of the incident
scenario (crash loop, OOMKilled, a failed Job, ...) the provisional row says what the
full object says, in every column the pods pane shows; and the source serves it first,
then the full rows under the same keys."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from cockpit.config import KubeSettings, Settings
from cockpit.sim.runner import SimCluster
from cockpit.sources.kube import prefetch
from cockpit.sources.kube.client import KubeTarget, connect
from cockpit.sources.kube.convert import pod_row
from cockpit.sources.kube.first_pods import fetch_pod_table, fetch_workloads
from cockpit.sources.kube.source import KubeSource
from tests.sim.conftest import api_client_for

NS = "excel-unified"
SHOWN = ("uid", "name", "namespace", "app", "owner_kind", "owner_name", "workload", "status",
         "ready", "total", "restarts", "node", "ip", "deleting", "level", "created")  # fmt: skip


def incident_target(make_sim: Callable[..., SimCluster]) -> tuple[Settings, KubeTarget]:
    sim = make_sim("incident")
    settings = Settings(kube=KubeSettings(context="cockpit-sim"))
    target = connect(settings.kube, sim.client_configuration(), context="cockpit-sim", namespace=NS)
    return settings, target


def test_table_rows_match_the_full_objects(make_sim: Callable[..., SimCluster]) -> None:
    sim = make_sim("incident")
    api = api_client_for(sim)
    provisional = {r.uid: r for r in fetch_pod_table(api, NS, 10.0)}
    full = {}
    for obj in sim.list_objects("pods", NS):
        row = pod_row(json.loads(json.dumps(obj)))
        full[row.uid] = row
    assert provisional.keys() == full.keys() and len(full) > 10
    statuses = {r.status for r in full.values()}
    assert {"CrashLoopBackOff", "Running"} <= statuses, statuses
    for uid, want in full.items():
        got = provisional[uid]
        for field in SHOWN:
            assert getattr(got, field) == getattr(want, field), (want.name, field)
        if want.last_restart is not None:  # "14 (95s ago)": to the second kubectl shows
            assert got.last_restart is not None
            assert abs(got.last_restart - want.last_restart) < timedelta(minutes=2)
    api.close()


def test_the_source_serves_the_table_then_the_full_rows(
    make_sim: Callable[..., SimCluster],
) -> None:
    settings, target = incident_target(make_sim)
    source = KubeSource(target, settings, table_first=True)
    # The Table is in and the workloads are listed; the pods' full list is not (yet).
    source._table = fetch_pod_table(target.api, NS, 10.0)
    source._table_done.set()
    source.deployments.start()
    source.statefulsets.start()
    try:
        first = asyncio.run(source.kube_snapshot())
        assert first.provisional
        assert {p.uid for p in first.pods} == {r.uid for r in source._table}
        assert any(w.name == "rails" for w in first.workloads)
        assert all(p.containers == () for p in first.pods)  # details come with the list

        source.pods.start()
        assert source.pods.synced.wait(10)
        full = asyncio.run(source.kube_snapshot())
        assert not full.provisional
        assert {p.uid for p in full.pods} == {p.uid for p in first.pods}  # the same keys
        assert all(p.containers for p in full.pods if p.status == "Running")
    finally:
        source.stop()


def test_prefetched_workloads_are_what_the_informers_list(
    make_sim: Callable[..., SimCluster],
) -> None:
    settings, target = incident_target(make_sim)
    source = KubeSource(target, settings)
    try:
        prefetched = fetch_workloads(target.api, NS, 10.0)
        source.deployments.start()
        source.statefulsets.start()
        assert source.deployments.synced.wait(10) and source.statefulsets.synced.wait(10)
        assert prefetched == source._workloads()
        kinds = [w.kind for w in prefetched]
        assert {"Deployment", "StatefulSet"} <= set(kinds)
        assert kinds == sorted(kinds, key=lambda k: k != "Deployment")  # Deployments first
    finally:
        source.stop()


def test_a_prefetched_first_snapshot_waits_for_no_informer(
    make_sim: Callable[..., SimCluster],
) -> None:
    settings, target = incident_target(make_sim)
    table = fetch_pod_table(target.api, NS, 10.0)
    workloads = fetch_workloads(target.api, NS, 10.0)
    source = KubeSource(target, settings, table_first=True, table=table, workloads=workloads)
    try:  # no informer started: without the prefetched workloads this waits a second
        started = time.monotonic()
        first = asyncio.run(source.kube_snapshot())
        assert time.monotonic() - started < 0.5
        assert first.provisional and first.workloads == workloads
        assert {p.uid for p in first.pods} == {r.uid for r in table}
    finally:
        source.stop()


def test_prefetch_before_the_ui_connects_and_fetches_both(
    make_sim: Callable[..., SimCluster], tmp_path: Path
) -> None:
    sim = make_sim("incident")
    kube = KubeSettings(kubeconfig=sim.write_kubeconfig(tmp_path / "kubeconfig"))
    prefetch.start(kube, "cockpit-sim", NS)
    deadline = time.monotonic() + 10
    while not prefetch.ready() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert prefetch.ready()
    assert prefetch.take(kube, "other-context", NS) is None  # not this connection's
    prefetch.start(kube, "cockpit-sim", NS)
    pre = prefetch.take(kube, "cockpit-sim", NS)
    assert not prefetch.ready()  # taken
    assert pre is not None and pre.error is None and pre.rows and pre.workloads
    assert any(w.name == "rails" for w in pre.workloads)
    pre.target.close()


def test_the_provisional_rows_are_let_go_once_the_full_list_is_in(
    make_sim: Callable[..., SimCluster],
) -> None:
    settings, target = incident_target(make_sim)
    table = fetch_pod_table(target.api, NS, 10.0)
    uids = {r.uid for r in table}
    source = KubeSource(
        target, settings, table_first=True, table=table,
        workloads=fetch_workloads(target.api, NS, 10.0),
    )  # fmt: skip
    del table  # the source's reference is the only one left
    listed = threading.Event()
    source.on_pods_synced = listed.set
    try:
        source.start()
        assert asyncio.run(source.kube_snapshot()).provisional
        source.list_pods()
        assert listed.wait(10)
        deadline = time.monotonic() + 5
        while source._table and time.monotonic() < deadline:
            time.sleep(0.01)
        # 5,000 rows and the Table's dicts are 4-5 MB held for nothing otherwise.
        assert source._table == [] and source._table_workloads is None
        full = asyncio.run(source.kube_snapshot())
        assert not full.provisional and {p.uid for p in full.pods} == uids
    finally:
        source.stop()
