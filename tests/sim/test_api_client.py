"""The simulated cluster through the real `kubernetes` python client."""

from __future__ import annotations

import json
import threading
import time
from collections import deque

import pytest
from kubernetes import client as k8s
from kubernetes import watch
from kubernetes.client.rest import ApiException
from waiting import wait_for

from cockpit.sim.pace import Pace
from cockpit.sim.runner import SimCluster

NS = "excel-unified"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"


def core(api: k8s.ApiClient) -> k8s.CoreV1Api:
    return k8s.CoreV1Api(api)


def apps(api: k8s.ApiClient) -> k8s.AppsV1Api:
    return k8s.AppsV1Api(api)


def status_of(err: ApiException) -> dict:
    body = json.loads(err.body)
    assert body["kind"] == "Status" and body["apiVersion"] == "v1"
    assert body["status"] == "Failure" and body["code"] == err.status
    return body


def pods_of(api: k8s.ApiClient, app: str) -> list[k8s.V1Pod]:
    return core(api).list_namespaced_pod(NS, label_selector=f"app={app}").items


def live(pods: list[k8s.V1Pod]) -> list[k8s.V1Pod]:
    return [p for p in pods if p.metadata.deletion_timestamp is None]


def ready(pod: k8s.V1Pod) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])


def rollout_done(api: k8s.ApiClient, name: str) -> bool:
    d = apps(api).read_namespaced_deployment(name, NS)
    st = d.status
    want = d.spec.replicas
    return (
        d.metadata.generation <= (st.observed_generation or 0)
        and (st.updated_replicas or 0) == want
        and (st.replicas or 0) == want
        and (st.available_replicas or 0) == want
    )


def rs_of(api: k8s.ApiClient, app: str) -> list[k8s.V1ReplicaSet]:
    return apps(api).list_namespaced_replica_set(NS, label_selector=f"app={app}").items


def revision(obj: object) -> int:
    return int(obj.metadata.annotations["deployment.kubernetes.io/revision"])  # type: ignore[attr-defined]


# ---- reading --------------------------------------------------------------------------


def test_topology(api_client: k8s.ApiClient) -> None:
    v1 = core(api_client)
    pods = v1.list_namespaced_pod(NS).items
    by_app: dict[str, int] = {}
    for p in pods:
        if p.status.phase == "Running":
            by_app[p.metadata.labels["app"]] = by_app.get(p.metadata.labels["app"], 0) + 1
        assert p.metadata.uid and p.metadata.resource_version and p.metadata.creation_timestamp
        for c in p.spec.containers:
            assert c.resources.requests and c.resources.limits
    assert by_app == {
        "rails": 3,
        "fastapi": 2,
        "sidekiq": 2,
        "nginx": 2,
        "postgres": 1,
        "redis": 1,
        "backup": 1,
    }
    ages = {p.metadata.creation_timestamp for p in pods}
    assert len(ages) > 5  # varied ages
    assert {p.metadata.name for p in pods} >= {"postgres-0", "redis-0", "backup-pod"}
    deps = {
        d.metadata.name: d.spec.replicas
        for d in apps(api_client).list_namespaced_deployment(NS).items
    }
    assert deps == {"rails": 3, "fastapi": 2, "sidekiq": 2, "nginx": 2}
    sts = {s.metadata.name for s in apps(api_client).list_namespaced_stateful_set(NS).items}
    assert sts == {"postgres", "redis"}
    svcs = {s.metadata.name: s.spec.type for s in v1.list_namespaced_service(NS).items}
    assert svcs["nginx-service"] == "LoadBalancer"
    assert set(svcs) == {
        "rails-service",
        "fastapi-service",
        "nginx-service",
        "postgres-service",
        "redis-service",
    }
    assert len(v1.list_node().items) == 3
    for rs_app in ("rails", "fastapi"):
        images = {rs.spec.template.spec.containers[0].image for rs in rs_of(api_client, rs_app)}
        assert len(images) >= 2  # history to roll back to
    cj = k8s.BatchV1Api(api_client).read_namespaced_cron_job("postgres-backup", NS)
    assert cj.spec.schedule == "0 2 * * *"
    container = cj.spec.job_template.spec.template.spec.containers[0]
    assert container.image == "postgres:15" and "pg_dump" in container.command[-1]
    assert container.env[0].value_from.secret_key_ref.name == "excel-unified-secrets"
    assert cj.status.last_schedule_time and cj.status.last_successful_time
    pod = v1.read_namespaced_pod("postgres-0", NS)
    assert pod.metadata.owner_references[0].kind == "StatefulSet"


def test_raw_json_list(api_client: k8s.ApiClient) -> None:
    resp = core(api_client).list_namespaced_pod(NS, _preload_content=False)
    data = json.loads(resp.data)
    assert data["kind"] == "PodList" and data["apiVersion"] == "v1"
    assert int(data["metadata"]["resourceVersion"]) > 0
    assert len(data["items"]) == 15
    resp = core(api_client).list_pod_for_all_namespaces(_preload_content=False)
    assert json.loads(resp.data)["kind"] == "PodList"


def test_label_selectors(api_client: k8s.ApiClient) -> None:
    v1 = core(api_client)

    def names(sel: str) -> set[str]:
        return {
            p.metadata.labels.get("app", "")
            for p in v1.list_namespaced_pod(NS, label_selector=sel).items
        }

    assert names("app=postgres") == {"postgres"}
    assert names("app==redis") == {"redis"}
    assert "rails" not in names("app!=rails")
    assert names("app in (rails, redis)") == {"rails", "redis"}
    assert "rails" not in names("app notin (rails,fastapi)") and "redis" in names(
        "app notin (rails,fastapi)"
    )
    assert names("statefulset.kubernetes.io/pod-name") == {"postgres", "redis"}
    assert "postgres" not in names("!statefulset.kubernetes.io/pod-name")
    assert names("app=rails,pod-template-hash") == {"rails"}
    with pytest.raises(ApiException) as err:
        v1.list_namespaced_pod(NS, label_selector="app in (a")
    assert err.value.status == 400


def test_field_selectors(api_client: k8s.ApiClient) -> None:
    v1 = core(api_client)
    got = v1.list_namespaced_pod(NS, field_selector="metadata.name=postgres-0").items
    assert [p.metadata.name for p in got] == ["postgres-0"]
    done = v1.list_namespaced_pod(NS, field_selector="status.phase=Succeeded").items
    assert len(done) == 3 and all(p.status.phase == "Succeeded" for p in done)
    running = v1.list_namespaced_pod(
        NS, field_selector="status.phase!=Succeeded,status.phase!=Failed"
    ).items
    assert len(running) == 12
    node = running[0].spec.node_name
    on_node = v1.list_pod_for_all_namespaces(field_selector=f"spec.nodeName={node}").items
    assert on_node and all(p.spec.node_name == node for p in on_node)
    pod = v1.list_namespaced_pod(NS, label_selector="app=rails").items[0]
    v1.delete_namespaced_pod(pod.metadata.name, NS)
    events = wait_for(
        lambda: (
            v1.list_namespaced_event(
                NS,
                field_selector=f"involvedObject.kind=Pod,involvedObject.name={pod.metadata.name},"
                f"involvedObject.uid={pod.metadata.uid}",
            ).items
        ),
        what="Killing event",
    )
    assert {e.reason for e in events} >= {"Killing"}
    assert all(e.involved_object.name == pod.metadata.name for e in events)
    warnings = v1.list_namespaced_event(NS, field_selector="type=Warning").items
    assert all(e.type == "Warning" for e in warnings)


def test_pagination(api_client: k8s.ApiClient) -> None:
    v1 = core(api_client)
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        page = v1.list_namespaced_pod(NS, limit=4, _continue=token)
        pages += 1
        seen += [p.metadata.name for p in page.items]
        token = page.metadata._continue
        if not token:
            break
        assert page.metadata.remaining_item_count == 15 - len(seen)
    assert pages == 4
    assert seen == sorted(seen) and len(set(seen)) == 15


def test_status_bodies(api_client: k8s.ApiClient) -> None:
    v1 = core(api_client)
    with pytest.raises(ApiException) as err:
        v1.read_namespaced_pod("nope", NS)
    body = status_of(err.value)
    assert body["reason"] == "NotFound" and body["message"] == 'pods "nope" not found'
    assert body["details"] == {"name": "nope", "kind": "pods"}
    with pytest.raises(ApiException) as err:
        apps(api_client).read_namespaced_deployment("nope", NS)
    assert status_of(err.value)["details"] == {
        "name": "nope",
        "group": "apps",
        "kind": "deployments",
    }
    svc = v1.read_namespaced_service("rails-service", NS)
    svc.metadata.resource_version = None
    svc.metadata.uid = None
    with pytest.raises(ApiException) as err:
        v1.create_namespaced_service(NS, svc)
    body = status_of(err.value)
    assert body["reason"] == "AlreadyExists" and err.value.status == 409
    assert body["message"] == 'services "rails-service" already exists'
    bad = k8s.V1Deployment(
        metadata=k8s.V1ObjectMeta(name="bad"),
        spec=k8s.V1DeploymentSpec(
            selector=k8s.V1LabelSelector(match_labels={"app": "x"}),
            template=k8s.V1PodTemplateSpec(
                metadata=k8s.V1ObjectMeta(labels={"app": "y"}),
                spec=k8s.V1PodSpec(containers=[k8s.V1Container(name="c", image="i")]),
            ),
        ),
    )
    with pytest.raises(ApiException) as err:
        apps(api_client).create_namespaced_deployment(NS, bad)
    body = status_of(err.value)
    assert err.value.status == 422 and body["reason"] == "Invalid"
    assert body["message"].startswith('Deployment.apps "bad" is invalid: ')


# ---- watching -------------------------------------------------------------------------


def test_watch_sees_delete_and_replacement(api_client: k8s.ApiClient) -> None:
    v1 = core(api_client)
    listed = v1.list_namespaced_pod(NS, label_selector="app=rails")
    victim = listed.items[0].metadata
    seen: list[tuple[str, str, bool]] = []
    w = watch.Watch()

    def consume() -> None:
        for ev in w.stream(
            v1.list_namespaced_pod,
            NS,
            label_selector="app=rails",
            resource_version=listed.metadata.resource_version,
            timeout_seconds=10,
        ):
            obj = ev["object"]
            seen.append((ev["type"], obj.metadata.name, obj.metadata.deletion_timestamp is None))
            if ev["type"] == "DELETED" and any(t == "ADDED" for t, _, _ in seen):
                w.stop()

    t = threading.Thread(target=consume)
    t.start()
    time.sleep(0.2)
    v1.delete_namespaced_pod(victim.name, NS)
    t.join(10)
    assert not t.is_alive()
    types = [(typ, name) for typ, name, _ in seen]
    assert ("MODIFIED", victim.name) in types and ("DELETED", victim.name) in types
    added = [name for typ, name, _ in seen if typ == "ADDED"]
    assert added and victim.name not in added  # a replacement under a new name


def test_watch_too_old_resource_version_is_410(api_client: k8s.ApiClient) -> None:
    w = watch.Watch()
    with pytest.raises(ApiException) as err:
        for _ in w.stream(
            core(api_client).list_namespaced_pod, NS, resource_version="1", timeout_seconds=5
        ):
            pass
    assert err.value.status == 410


def test_watch_history_is_bounded(sim: SimCluster, api_client: k8s.ApiClient) -> None:
    v1 = core(api_client)
    start = v1.list_namespaced_config_map(NS).metadata.resource_version
    store = sim.store
    assert store is not None
    sim.call(lambda: setattr(store, "_history", deque(store._history, maxlen=3)))
    for i in range(5):  # more changes than the (shrunk) history holds
        v1.create_namespaced_config_map(
            NS, k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name=f"cm-{i}"))
        )
    raw = v1.list_namespaced_config_map(
        NS, watch=True, resource_version=start, timeout_seconds=2, _preload_content=False
    )
    line = json.loads(raw.data.splitlines()[0])
    assert line["type"] == "ERROR"
    assert line["object"]["code"] == 410 and line["object"]["reason"] == "Expired"


def test_watch_from_now_and_bookmarks(sim: SimCluster, api_client: k8s.ApiClient) -> None:
    assert sim.server is not None
    sim.server.bookmark_s = 0.2
    v1 = core(api_client)
    rv = v1.list_namespaced_config_map(NS).metadata.resource_version
    raw = v1.list_namespaced_config_map(
        NS,
        watch=True,
        resource_version=rv,
        allow_watch_bookmarks=True,
        timeout_seconds=1,
        _preload_content=False,
    )
    lines = [json.loads(x) for x in raw.data.splitlines()]
    assert lines and all(x["type"] == "BOOKMARK" for x in lines)
    assert int(lines[0]["object"]["metadata"]["resourceVersion"]) >= int(rv)


# ---- writing --------------------------------------------------------------------------


def test_delete_with_wrong_uid_is_conflict(api_client: k8s.ApiClient) -> None:
    v1 = core(api_client)
    pod = v1.read_namespaced_pod("redis-0", NS)
    wrong = k8s.V1DeleteOptions(preconditions=k8s.V1Preconditions(uid="not-the-uid"))
    with pytest.raises(ApiException) as err:
        v1.delete_namespaced_pod("redis-0", NS, body=wrong)
    body = status_of(err.value)
    assert err.value.status == 409 and body["reason"] == "Conflict"
    assert body["message"] == (
        'Operation cannot be fulfilled on pods "redis-0": Precondition failed: UID in '
        f"precondition: not-the-uid, UID in object meta: {pod.metadata.uid}"
    )
    assert v1.read_namespaced_pod("redis-0", NS).metadata.deletion_timestamp is None
    right = k8s.V1DeleteOptions(preconditions=k8s.V1Preconditions(uid=pod.metadata.uid))
    v1.delete_namespaced_pod("redis-0", NS, body=right)
    # The StatefulSet brings back a pod of the same name with a new uid.
    new = wait_for(
        lambda: next(
            (
                p
                for p in v1.list_namespaced_pod(NS, field_selector="metadata.name=redis-0").items
                if p.metadata.uid != pod.metadata.uid and ready(p)
            ),
            None,
        ),
        what="new redis-0",
    )
    assert new.metadata.owner_references[0].name == "redis"


def test_stale_update_is_conflict(api_client: k8s.ApiClient) -> None:
    a = apps(api_client)
    dep = a.read_namespaced_deployment("nginx", NS)
    dep.metadata.labels["touched"] = "1"
    a.replace_namespaced_deployment("nginx", NS, dep)
    dep.metadata.labels["touched"] = "2"
    with pytest.raises(ApiException) as err:
        a.replace_namespaced_deployment("nginx", NS, dep)  # still the old resourceVersion
    body = status_of(err.value)
    assert err.value.status == 409 and body["reason"] == "Conflict"
    assert "the object has been modified" in body["message"]


def test_dry_run_changes_nothing(api_client: k8s.ApiClient) -> None:
    v1, a = core(api_client), apps(api_client)
    before = v1.list_namespaced_pod(NS).metadata.resource_version
    pod = v1.read_namespaced_pod("postgres-0", NS)
    out = v1.delete_namespaced_pod("postgres-0", NS, dry_run="All")
    assert out.metadata.name == "postgres-0"
    patched = a.patch_namespaced_deployment(
        "rails",
        NS,
        {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: "x"}}}}},
        dry_run="All",
    )
    assert patched.spec.template.metadata.annotations[RESTARTED_AT] == "x"
    a.patch_namespaced_deployment_scale("rails", NS, {"spec": {"replicas": 0}}, dry_run="All")
    cm = k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name="dry"), data={"a": "b"})
    assert v1.create_namespaced_config_map(NS, cm, dry_run="All").metadata.name == "dry"
    time.sleep(0.2)
    assert v1.list_namespaced_pod(NS).metadata.resource_version == before
    assert (
        v1.read_namespaced_pod("postgres-0", NS).metadata.resource_version
        == pod.metadata.resource_version
    )
    assert a.read_namespaced_deployment("rails", NS).spec.replicas == 3
    with pytest.raises(ApiException):
        v1.read_namespaced_config_map("dry", NS)


def test_scale_adds_and_removes_pods(api_client: k8s.ApiClient) -> None:
    a = apps(api_client)
    scale = a.read_namespaced_deployment_scale("sidekiq", NS)
    assert scale.spec.replicas == 2 and scale.status.selector == "app=sidekiq"
    a.patch_namespaced_deployment_scale("sidekiq", NS, {"spec": {"replicas": 4}})
    wait_for(
        lambda: len([p for p in live(pods_of(api_client, "sidekiq")) if ready(p)]) == 4,
        what="4 sidekiq pods",
    )
    a.patch_namespaced_deployment_scale("sidekiq", NS, {"spec": {"replicas": 0}})
    wait_for(lambda: not pods_of(api_client, "sidekiq"), what="no sidekiq pods")
    wait_for(lambda: rollout_done(api_client, "sidekiq"), what="status at 0")
    dep = a.read_namespaced_deployment("sidekiq", NS)
    assert dep.status.ready_replicas is None and dep.spec.replicas == 0
    sts_scale = a.read_namespaced_stateful_set_scale("redis", NS)
    assert sts_scale.spec.replicas == 1


def test_rollout_restart_rolls_a_new_revision(api_client: k8s.ApiClient) -> None:
    a = apps(api_client)
    old_pods = {p.metadata.name for p in pods_of(api_client, "rails")}
    old_rev = revision(a.read_namespaced_deployment("rails", NS))
    gen = a.read_namespaced_deployment("rails", NS).metadata.generation
    a.patch_namespaced_deployment(
        "rails",
        NS,
        {
            "spec": {
                "template": {"metadata": {"annotations": {RESTARTED_AT: "2026-01-01T00:00:00Z"}}}
            }
        },
    )
    dep = a.read_namespaced_deployment("rails", NS)
    assert dep.metadata.generation == gen + 1
    wait_for(lambda: rollout_done(api_client, "rails"), what="rollout")
    dep = a.read_namespaced_deployment("rails", NS)
    assert revision(dep) == old_rev + 1
    assert dep.status.observed_generation == dep.metadata.generation
    conds = {c.type: c for c in dep.status.conditions}
    assert conds["Available"].status == "True"
    assert conds["Progressing"].reason == "NewReplicaSetAvailable"
    wait_for(lambda: len(pods_of(api_client, "rails")) == 3, what="old pods gone")
    new_pods = {p.metadata.name for p in pods_of(api_client, "rails")}
    assert not new_pods & old_pods
    current = [rs for rs in rs_of(api_client, "rails") if rs.spec.replicas]
    assert len(current) == 1 and revision(current[0]) == old_rev + 1
    assert current[0].metadata.owner_references[0].name == "rails"
    h = current[0].metadata.labels["pod-template-hash"]
    assert all(p.metadata.name.startswith(f"rails-{h}-") for p in pods_of(api_client, "rails"))
    reasons = [
        e.reason
        for e in core(api_client)
        .list_namespaced_event(
            NS, field_selector="involvedObject.kind=Deployment,involvedObject.name=rails"
        )
        .items
    ]
    assert "ScalingReplicaSet" in reasons


def test_undo_restores_previous_template(api_client: k8s.ApiClient) -> None:
    a = apps(api_client)
    dep = a.read_namespaced_deployment("fastapi", NS)
    rss = sorted(rs_of(api_client, "fastapi"), key=revision)
    previous = rss[-2]
    assert (
        previous.spec.template.spec.containers[0].image
        != dep.spec.template.spec.containers[0].image
    )
    # What `kubectl rollout undo` sends: a JSON patch replacing the template.
    template = api_client.sanitize_for_serialization(previous.spec.template)
    del template["metadata"]["labels"]["pod-template-hash"]
    a.patch_namespaced_deployment(
        "fastapi", NS, [{"op": "replace", "path": "/spec/template", "value": template}]
    )
    wait_for(lambda: rollout_done(api_client, "fastapi"), what="rollback")
    dep = a.read_namespaced_deployment("fastapi", NS)
    assert (
        dep.spec.template.spec.containers[0].image
        == previous.spec.template.spec.containers[0].image
    )
    restored = a.read_namespaced_replica_set(previous.metadata.name, NS)
    assert revision(restored) == revision(rss[-1]) + 1 == revision(dep)
    assert restored.spec.replicas == 2
    assert len(rs_of(api_client, "fastapi")) == len(rss)  # no new ReplicaSet


def test_strategic_merge_patch_merges_containers_by_name(api_client: k8s.ApiClient) -> None:
    a = apps(api_client)
    a.patch_namespaced_deployment(
        "nginx",
        NS,
        {
            "spec": {
                "template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]}}
            }
        },
    )
    dep = a.read_namespaced_deployment("nginx", NS)
    c = dep.spec.template.spec.containers
    assert len(c) == 1 and c[0].image == "nginx:1.27" and c[0].resources.limits
    a.patch_namespaced_deployment(
        "nginx",
        NS,
        {"metadata": {"labels": {"tier": "edge"}}},
        _content_type="application/merge-patch+json",
    )
    assert a.read_namespaced_deployment("nginx", NS).metadata.labels["tier"] == "edge"


def test_job_from_cronjob(make_sim: object) -> None:
    for scenario, outcome in (("healthy", "Complete"), ("incident", "Failed")):
        sim: SimCluster = make_sim(scenario)  # type: ignore[operator]
        api = k8s.ApiClient(sim.client_configuration())
        batch = k8s.BatchV1Api(api)
        cj = batch.read_namespaced_cron_job("postgres-backup", NS)
        job = k8s.V1Job(
            metadata=k8s.V1ObjectMeta(
                name="manual-backup",
                annotations={"cronjob.kubernetes.io/instantiate": "manual"},
                owner_references=[
                    k8s.V1OwnerReference(
                        api_version="batch/v1",
                        kind="CronJob",
                        name=cj.metadata.name,
                        uid=cj.metadata.uid,
                        controller=True,
                    )
                ],
            ),
            spec=cj.spec.job_template.spec,
        )
        batch.create_namespaced_job(NS, job)
        done = wait_for(
            lambda b=batch: next(
                (
                    c
                    for c in b.read_namespaced_job("manual-backup", NS).status.conditions or []
                    if c.type in ("Complete", "Failed")
                ),
                None,
            ),
            what=f"job {outcome}",
        )
        assert done.type == outcome
        got = batch.read_namespaced_job("manual-backup", NS)
        pods = core(api).list_namespaced_pod(NS, label_selector="job-name=manual-backup").items
        assert pods
        if outcome == "Complete":
            assert got.status.succeeded == 1 and got.status.completion_time
            assert [p.status.phase for p in pods] == ["Succeeded"]
        else:
            assert done.reason == "BackoffLimitExceeded" and got.status.failed == 2
            assert {p.status.phase for p in pods} == {"Failed"}
        api.close()


# ---- authorization and faults ---------------------------------------------------------


def test_forbidden_and_access_review(sim: SimCluster, api_client: k8s.ApiClient) -> None:
    v1 = core(api_client)
    authz = k8s.AuthorizationV1Api(api_client)

    def can(verb: str, resource: str, group: str = "", sub: str | None = None) -> bool:
        review = k8s.V1SelfSubjectAccessReview(
            spec=k8s.V1SelfSubjectAccessReviewSpec(
                resource_attributes=k8s.V1ResourceAttributes(
                    namespace=NS, verb=verb, resource=resource, group=group, subresource=sub
                )
            )
        )
        return authz.create_self_subject_access_review(review).status.allowed

    assert can("delete", "pods")
    sim.deny("delete", "pods")
    sim.deny("patch", "deployments", subresource="scale")
    assert not can("delete", "pods") and can("get", "pods")
    assert not can("patch", "deployments", "apps", "scale")
    assert can("patch", "deployments", "apps")
    with pytest.raises(ApiException) as err:
        v1.delete_namespaced_pod("redis-0", NS)
    body = status_of(err.value)
    assert err.value.status == 403 and body["reason"] == "Forbidden"
    assert body["message"] == (
        'pods "redis-0" is forbidden: User "cockpit-sim-admin" cannot delete resource "pods" '
        'in API group "" in the namespace "excel-unified"'
    )
    with pytest.raises(ApiException) as err:
        apps(api_client).patch_namespaced_deployment_scale("rails", NS, {"spec": {"replicas": 1}})
    assert (
        'cannot patch resource "deployments/scale" in API group "apps"'
        in status_of(err.value)["message"]
    )
    sim.allow_all()
    assert can("delete", "pods")
    who = k8s.AuthenticationV1Api(api_client).create_self_subject_review(k8s.V1SelfSubjectReview())
    assert who.status.user_info.username == "cockpit-sim-admin"


def test_bad_token_is_unauthorized(sim: SimCluster) -> None:
    cfg = sim.client_configuration()
    cfg.api_key = {"authorization": "Bearer wrong"}
    with k8s.ApiClient(cfg) as api, pytest.raises(ApiException) as err:
        core(api).list_namespaced_pod(NS)
    assert err.value.status == 401


def test_fail_and_hang_requests(sim: SimCluster, api_client: k8s.ApiClient) -> None:
    v1 = core(api_client)
    sim.fail_requests(503, path_prefix="/api/v1/namespaces/excel-unified/pods")
    with pytest.raises(ApiException) as err:
        v1.list_namespaced_pod(NS)
    assert err.value.status == 503
    assert v1.list_namespaced_service(NS).items  # other paths still work
    sim.clear_faults()
    sim.hang_requests("/api/v1/namespaces/excel-unified/services")
    cfg = sim.client_configuration()
    cfg.retries = False
    t0 = time.monotonic()
    with k8s.ApiClient(cfg) as impatient, pytest.raises(Exception):  # noqa: B017 - a timeout
        core(impatient).list_namespaced_service(NS, _request_timeout=0.5)
    assert time.monotonic() - t0 < 3
    sim.clear_faults()
    assert v1.list_namespaced_service(NS).items


def test_stop_ends_streams_and_threads(make_sim: object) -> None:
    before = set(threading.enumerate())
    sim: SimCluster = make_sim("healthy")  # type: ignore[operator]
    api = k8s.ApiClient(sim.client_configuration())
    v1 = core(api)
    sim.hang_requests("/api/v1/namespaces/excel-unified/services")
    ended: list[str] = []

    def watch_pods() -> None:
        for _ in watch.Watch().stream(v1.list_namespaced_pod, NS, timeout_seconds=60):
            pass
        ended.append("watch")

    def hung() -> None:
        try:
            v1.list_namespaced_service(NS)
        except Exception:
            pass
        ended.append("hang")

    threads = [threading.Thread(target=watch_pods), threading.Thread(target=hung)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    t0 = time.monotonic()
    sim.stop()
    for t in threads:
        t.join(5)
    assert time.monotonic() - t0 < 5
    assert sorted(ended) == ["hang", "watch"]
    api.close()
    leftover = [t for t in set(threading.enumerate()) - before if t.is_alive()]
    assert not [t.name for t in leftover if t.name.startswith("sim-cluster")]
    assert not sim.running


# ---- cluster behaviour ----------------------------------------------------------------


def test_pod_lifecycle_and_events(api_client: k8s.ApiClient) -> None:
    v1 = core(api_client)
    rails = pods_of(api_client, "rails")
    v1.delete_namespaced_pod(rails[0].metadata.name, NS)
    fresh = wait_for(
        lambda: [
            p
            for p in pods_of(api_client, "rails")
            if p.metadata.name not in {r.metadata.name for r in rails}
        ],
        what="replacement pod",
    )
    new = fresh[0]
    assert new.metadata.owner_references[0].kind == "ReplicaSet"
    assert (
        new.metadata.annotations is None
        or "sim.cockpit.dev/behaviour" not in new.metadata.annotations
    )
    wait_for(lambda: ready(v1.read_namespaced_pod(new.metadata.name, NS)), what="ready")
    pod = v1.read_namespaced_pod(new.metadata.name, NS)
    assert pod.status.pod_ip and pod.spec.node_name and pod.status.phase == "Running"
    cs = pod.status.container_statuses[0]
    assert cs.ready and cs.state.running and cs.restart_count == 0
    reasons = [
        e.reason
        for e in v1.list_namespaced_event(
            NS, field_selector=f"involvedObject.name={new.metadata.name}"
        ).items
    ]
    for r in ("Scheduled", "Pulling", "Pulled", "Created", "Started"):
        assert r in reasons
    rs_events = [
        e.message
        for e in v1.list_namespaced_event(
            NS, field_selector="involvedObject.kind=ReplicaSet,reason=SuccessfulCreate"
        ).items
    ]
    assert f"Created pod: {new.metadata.name}" in rs_events


def test_endpoints_follow_ready_pods(api_client: k8s.ApiClient) -> None:
    v1 = core(api_client)

    def addresses() -> list[str]:
        ep = v1.read_namespaced_endpoints("nginx-service", NS)
        return [a.ip for s in ep.subsets or [] for a in s.addresses or []]

    assert len(addresses()) == 2
    apps(api_client).patch_namespaced_deployment_scale("nginx", NS, {"spec": {"replicas": 3}})
    wait_for(lambda: len(addresses()) == 3, what="3 endpoints")
    slices = (
        k8s.DiscoveryV1Api(api_client)
        .list_namespaced_endpoint_slice(
            NS, label_selector="kubernetes.io/service-name=nginx-service"
        )
        .items
    )
    assert len(slices) == 1
    assert len([e for e in slices[0].endpoints if e.conditions.ready]) == 3


def test_incident_pods(incident_sim: SimCluster) -> None:
    api = k8s.ApiClient(incident_sim.client_configuration())
    v1 = core(api)
    crash = v1.read_namespaced_pod(incident_sim.broken["crashloop"], NS)
    assert crash.metadata.annotations["sim.cockpit.dev/behaviour"] == "crashloop"
    cs = crash.status.container_statuses[0]
    assert cs.state.waiting.reason == "CrashLoopBackOff"
    assert cs.last_state.terminated.reason == "Error" and cs.last_state.terminated.exit_code == 1
    first = cs.restart_count
    assert first > 0
    oom = v1.read_namespaced_pod(incident_sim.broken["oomkill"], NS)
    assert oom.metadata.labels["app"] == "fastapi"
    ocs = oom.status.container_statuses[0]
    assert ocs.last_state.terminated.reason == "OOMKilled"
    assert ocs.last_state.terminated.exit_code == 137
    wait_for(
        lambda: (
            v1.read_namespaced_pod(crash.metadata.name, NS)
            .status.container_statuses[0]
            .restart_count
            > first
        ),
        timeout=5,
        what="another restart",
    )
    reasons = {e.reason for e in v1.list_namespaced_event(NS, field_selector="type=Warning").items}
    assert {"BackOff", "Unhealthy", "BackoffLimitExceeded"} <= reasons
    # The kernel's OOM kill is a Node event, and node events live in "default".
    node_events = v1.list_event_for_all_namespaces(field_selector="involvedObject.kind=Node")
    assert "OOMKilling" in {e.reason for e in node_events.items}
    jobs = k8s.BatchV1Api(api).list_namespaced_job(NS).items
    latest = max(jobs, key=lambda j: j.metadata.creation_timestamp)
    assert any(c.type == "Failed" for c in latest.status.conditions)
    api.close()


def test_metrics(make_sim: object) -> None:
    sim: SimCluster = make_sim("incident")  # type: ignore[operator]
    api = k8s.ApiClient(sim.client_configuration())
    custom = k8s.CustomObjectsApi(api)
    pods = custom.list_namespaced_custom_object("metrics.k8s.io", "v1beta1", NS, "pods")
    assert pods["kind"] == "PodMetricsList"
    by_name = {i["metadata"]["name"]: i for i in pods["items"]}
    redis = by_name["redis-0"]
    assert redis["window"] and redis["timestamp"]
    usage = redis["containers"][0]["usage"]
    mem = usage["memory"]
    value = int(mem[:-2]) * (1024 if mem.endswith("Ki") else 1024 * 1024)
    assert 0.9 * 2**30 < value < 2**30  # ~95 % of its 1Gi limit
    assert usage["cpu"].endswith(("n", "m"))
    assert sim.broken["crashloop"] not in by_name  # no running container, no metrics
    nodes = custom.list_cluster_custom_object("metrics.k8s.io", "v1beta1", "nodes")
    assert len(nodes["items"]) == 3 and nodes["items"][0]["usage"]["cpu"]
    one = custom.get_namespaced_custom_object("metrics.k8s.io", "v1beta1", NS, "pods", "postgres-0")
    assert one["containers"][0]["name"] == "postgres"
    api.close()


def test_scale_with_put_and_conflict(api_client: k8s.ApiClient) -> None:
    a = apps(api_client)
    scale = a.read_namespaced_deployment_scale("nginx", NS)
    scale.spec.replicas = 1
    out = a.replace_namespaced_deployment_scale("nginx", NS, scale)
    assert out.spec.replicas == 1
    with pytest.raises(ApiException) as err:  # the same (now stale) resourceVersion again
        a.replace_namespaced_deployment_scale("nginx", NS, scale)
    assert err.value.status == 409
    wait_for(lambda: len(live(pods_of(api_client, "nginx"))) == 1, what="1 nginx pod")
    with pytest.raises(ApiException) as err:
        a.patch_namespaced_deployment_scale("nginx", NS, {"spec": {"replicas": -1}})
    assert err.value.status == 422


def test_set_behaviour_breaks_and_heals_a_pod(sim: SimCluster, api_client: k8s.ApiClient) -> None:
    v1 = core(api_client)
    sim.set_pace(Pace.fast().with_(crashloop_restart_s=0.2))
    sim.set_behaviour("redis-0", "crashloop")

    def state() -> k8s.V1ContainerStatus:
        return v1.read_namespaced_pod("redis-0", NS).status.container_statuses[0]

    wait_for(
        lambda: (
            state().state.waiting is not None and state().state.waiting.reason == "CrashLoopBackOff"
        ),
        what="CrashLoopBackOff",
    )
    assert state().restart_count >= 1
    sim.set_behaviour("redis-0", "oomkill")
    wait_for(
        lambda: (
            state().last_state.terminated is not None
            and state().last_state.terminated.reason == "OOMKilled"
        ),
        what="OOMKilled",
    )
    sim.set_behaviour("redis-0", None)
    wait_for(lambda: state().ready and state().state.running is not None, what="healed")


def test_log_follow_ends_when_the_cluster_stops(make_sim: object) -> None:
    sim: SimCluster = make_sim("healthy")  # type: ignore[operator]
    api = k8s.ApiClient(sim.client_configuration())
    v1 = core(api)
    pod = pods_of(api, "rails")[0].metadata.name
    sim.inject_log_line(pod, "rails", "marker-line-from-the-test")
    got: list[bytes] = []

    def follow() -> None:
        resp = v1.read_namespaced_pod_log(
            pod, NS, follow=True, tail_lines=5, _preload_content=False
        )
        for chunk in resp.stream(1024):
            got.append(chunk)

    t = threading.Thread(target=follow)
    t.start()
    wait_for(lambda: b"marker-line-from-the-test" in b"".join(got), what="injected line")
    sim.stop()
    t.join(5)
    assert not t.is_alive()
    api.close()


def test_events_k8s_io_view(incident_sim: SimCluster) -> None:
    with k8s.ApiClient(incident_sim.client_configuration()) as api:
        ev = k8s.EventsV1Api(api)
        warnings = ev.list_namespaced_event(NS, field_selector="type=Warning").items
        assert {e.reason for e in warnings} >= {"BackOff", "Unhealthy"}
        backoff = next(e for e in warnings if e.reason == "BackOff")
        assert backoff.regarding.kind == "Pod" and backoff.note.startswith("Back-off")
        assert backoff.event_time and backoff.deprecated_count > 1
        one = ev.read_namespaced_event(backoff.metadata.name, NS)
        assert one.metadata.uid == backoff.metadata.uid
        with pytest.raises(ApiException) as err:
            ev.delete_namespaced_event(backoff.metadata.name, NS)
        assert err.value.status == 405


def test_deleting_a_deployment_collects_its_replicasets_and_pods(api_client: k8s.ApiClient) -> None:
    apps(api_client).delete_namespaced_deployment("sidekiq", NS)
    wait_for(
        lambda: not rs_of(api_client, "sidekiq") and not pods_of(api_client, "sidekiq"),
        what="garbage collection",
    )
    # A job deleted without a propagation policy leaves its pods (batch/v1's default).
    batch = k8s.BatchV1Api(api_client)
    job = batch.list_namespaced_job(NS).items[0].metadata.name
    batch.delete_namespaced_job(job, NS)
    time.sleep(0.3)
    assert core(api_client).list_namespaced_pod(NS, label_selector=f"job-name={job}").items


def test_abandoned_watch_is_dropped(sim: SimCluster) -> None:
    import socket
    from urllib.parse import urlsplit

    assert sim.server is not None
    sim.server.disconnect_check_s = 0.1
    url = urlsplit(sim.url)
    s = socket.create_connection((url.hostname, url.port))
    s.sendall(
        b"GET /apis/batch/v1/namespaces/excel-unified/cronjobs?watch=true HTTP/1.1\r\n"
        b"Host: sim\r\n\r\n"
    )
    server = sim.server
    wait_for(lambda: sim.call(lambda: len(server._watchers)) == 1, what="watch registered")
    s.close()
    wait_for(lambda: sim.call(lambda: len(server._watchers)) == 0, timeout=5, what="watch dropped")
