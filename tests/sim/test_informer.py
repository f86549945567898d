"""The pods informer against the simulated cluster: paged lists, then the watch."""

from __future__ import annotations

import json
from typing import Any

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException
from waiting import wait_for

from cockpit.model import PodRow
from cockpit.sim.runner import SimCluster
from cockpit.sources.kube.convert import pod_row
from cockpit.sources.kube.raw import raw_getter
from cockpit.sources.kube.watch import Informer

NS = "excel-unified"


def all_pod_uids(api: k8s.ApiClient) -> set[str]:
    return {p.metadata.uid for p in k8s.CoreV1Api(api).list_namespaced_pod(NS).items}


def test_a_paged_list_is_read_whole_and_the_watch_starts_at_its_first_page(
    sim: SimCluster, api_client: k8s.ApiClient
) -> None:
    """Pages of 3 pods.  After the first page, a pod of that page is deleted before the
    rest are read: only a watch from the first page's resourceVersion sees it go (no
    resync comes to the rescue within the test)."""
    core = k8s.CoreV1Api(api_client)
    getter = raw_getter(api_client, f"/api/v1/namespaces/{NS}/pods")
    pages: list[dict[str, Any]] = []
    victim: dict[str, str] = {}

    def paged_get(**kwargs: Any) -> Any:
        pages.append(kwargs)
        response = getter(**kwargs)
        if len(pages) == 1:
            body = response.data  # read it now, then change the cluster under the list
            first = json.loads(body)["items"][0]["metadata"]
            victim.update(name=first["name"], uid=first["uid"])
            core.delete_namespaced_pod(first["name"], NS, grace_period_seconds=0)

            def gone() -> bool:
                try:
                    core.read_namespaced_pod(first["name"], NS)
                except ApiException as exc:
                    return exc.status == 404
                return False

            wait_for(gone, what="the deleted pod gone")
        return response

    informer: Informer[PodRow] = Informer(
        "pods", paged_get, pod_row, list_chunk=3, whole_first_list=False
    )
    informer.start()
    try:
        assert informer.synced.wait(10)
        listings = [p for p in pages if not p.get("watch")]
        assert len(listings) > 3 and all(p["limit"] == 3 for p in listings)
        assert "_continue" not in listings[0] and all("_continue" in p for p in listings[1:])
        # Every pod of the cluster is there, and the deleted one goes once the watch runs.
        wait_for(
            lambda: {r.uid for r in informer.rows()} == all_pod_uids(api_client),
            what="the informer to match the cluster",
        )
        assert victim["uid"] not in {r.uid for r in informer.rows()}
        assert informer.lists == 1 and informer.error is None
    finally:
        informer.stop()


def test_the_first_list_is_whole_and_resyncs_are_paged(
    sim: SimCluster, api_client: k8s.ApiClient
) -> None:
    getter = raw_getter(api_client, f"/api/v1/namespaces/{NS}/pods")
    listings: list[dict[str, Any]] = []

    def recorded_get(**kwargs: Any) -> Any:
        if not kwargs.get("watch"):
            listings.append(kwargs)
        return getter(**kwargs)

    informer: Informer[PodRow] = Informer(
        "pods", recorded_get, pod_row, list_chunk=4, resync_s=0.5, watch_timeout_s=1
    )
    informer.start()
    try:
        wait_for(lambda: informer.lists >= 2, what="a resync")
        assert "limit" not in listings[0]  # what the first screen waits for: one request
        assert listings[1]["limit"] == 4 and "_continue" not in listings[1]
        assert listings[2]["limit"] == 4 and "_continue" in listings[2]
        assert {r.uid for r in informer.rows()} == all_pod_uids(api_client)
    finally:
        informer.stop()
