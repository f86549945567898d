"""Unit tests of the simulator's pieces that need no server: printing, selectors,
patches, cron, protobuf, watch filtering, authorization messages, discovery."""

from __future__ import annotations

import time

import pytest

from cockpit.sim import cron, discovery, tables
from cockpit.sim.errors import ApiError
from cockpit.sim.objects import parse_quantity, ts
from cockpit.sim.patch import apply_patch, json_patch, merge_patch, strategic_merge
from cockpit.sim.protobuf import decode
from cockpit.sim.rbac import Authorizer
from cockpit.sim.selectors import (
    format_selector,
    parse_field_selector,
    parse_label_selector,
    selector_matches,
)
from cockpit.sim.store import Change, Store, Watcher

NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-5, "<invalid>"),
        (-1, "0s"),
        (0, "0s"),
        (119, "119s"),
        (120, "2m"),
        (330, "5m30s"),
        (600, "10m"),
        (179 * 60, "179m"),
        (3 * 3600, "3h"),
        (5 * 3600 + 11 * 60, "5h11m"),
        (8 * 3600, "8h"),
        (47 * 3600, "47h"),
        (48 * 3600, "2d"),
        (7 * 86400 + 23 * 3600, "7d23h"),
        (8 * 86400, "8d"),
        (729 * 86400, "729d"),
        (730 * 86400, "2y"),
        (733 * 86400, "2y3d"),
    ],
)
def test_human_duration(seconds: float, text: str) -> None:
    assert tables.human_duration(seconds) == text


def pod(phase: str = "Running", statuses: list[dict] | None = None, **meta: object) -> dict:
    return {
        "metadata": {"name": "p", "creationTimestamp": ts(NOW - 3600), **meta},
        "spec": {"containers": [{"name": "c"}]},
        "status": {
            "phase": phase,
            "containerStatuses": statuses or [],
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }


def cs(state: dict, ready: bool = False, restarts: int = 0, last: dict | None = None) -> dict:
    return {
        "name": "c",
        "state": state,
        "ready": ready,
        "restartCount": restarts,
        "lastState": {"terminated": last} if last else {},
    }


@pytest.mark.parametrize(
    ("p", "status", "ready"),
    [
        (pod("Pending"), "Pending", "0/1"),
        (
            pod("Pending", [cs({"waiting": {"reason": "ContainerCreating"}})]),
            "ContainerCreating",
            "0/1",
        ),
        (pod("Running", [cs({"running": {}}, ready=True)]), "Running", "1/1"),
        (pod("Running", [cs({"running": {}})]), "Running", "0/1"),
        (
            pod("Running", [cs({"waiting": {"reason": "CrashLoopBackOff"}}, restarts=3)]),
            "CrashLoopBackOff",
            "0/1",
        ),
        (
            pod("Running", [cs({"terminated": {"reason": "OOMKilled", "exitCode": 137}})]),
            "OOMKilled",
            "0/1",
        ),
        (
            pod("Succeeded", [cs({"terminated": {"reason": "Completed", "exitCode": 0}})]),
            "Completed",
            "0/1",
        ),
        (pod("Failed", [cs({"terminated": {"reason": "Error", "exitCode": 1}})]), "Error", "0/1"),
        (pod("Failed", [cs({"terminated": {"exitCode": 2}})]), "ExitCode:2", "0/1"),
        (
            pod("Running", [cs({"running": {}}, ready=True)], deletionTimestamp=ts(NOW)),
            "Terminating",
            "1/1",
        ),
    ],
)
def test_pod_status_column(p: dict, status: str, ready: str) -> None:
    row = tables.table("pods", [p], NOW)["rows"][0]["cells"]
    assert row[1] == ready and row[2] == status


def test_pod_restarts_column_says_when() -> None:
    p = pod(
        "Running",
        [
            cs(
                {"waiting": {"reason": "CrashLoopBackOff"}},
                restarts=5,
                last={"reason": "Error", "exitCode": 1, "finishedAt": ts(NOW - 150)},
            )
        ],
    )
    cells = tables.table("pods", [p], NOW)["rows"][0]["cells"]
    assert cells[3] == "5 (2m30s ago)"
    assert cells[4] == "60m"
    assert cells[5:] == ["<none>", "<none>", "<none>", "<none>"]


def test_table_shapes() -> None:
    job = {
        "metadata": {"name": "j", "creationTimestamp": ts(NOW - 100)},
        "spec": {
            "completions": 1,
            "template": {"spec": {"containers": [{"name": "c", "image": "i"}]}},
        },
        "status": {
            "startTime": ts(NOW - 90),
            "completionTime": ts(NOW - 30),
            "succeeded": 1,
            "conditions": [{"type": "Complete", "status": "True"}],
        },
    }
    t = tables.table("jobs.batch", [job], NOW, include_object="Object")
    assert [c["name"] for c in t["columnDefinitions"] if not c.get("priority")] == [
        "Name",
        "Status",
        "Completions",
        "Duration",
        "Age",
    ]
    assert t["rows"][0]["cells"][:5] == ["j", "Complete", "1/1", "60s", "100s"]
    assert t["rows"][0]["object"] is job
    ev = {
        "metadata": {"name": "e"},
        "involvedObject": {"kind": "Pod", "name": "p"},
        "firstTimestamp": ts(NOW - 600),
        "lastTimestamp": ts(NOW - 5),
        "count": 4,
        "type": "Warning",
        "reason": "BackOff",
        "message": "m ",
    }
    cells = tables.table("events", [ev], NOW, include_object="None")["rows"][0]
    assert "object" not in cells
    assert cells["cells"][:4] == ["5s (x4 over 10m)", "Warning", "BackOff", "pod/p"]
    assert (
        tables.format_endpoints(
            {
                "subsets": [
                    {
                        "addresses": [{"ip": f"10.0.0.{i}"} for i in range(5)],
                        "ports": [{"port": 80}],
                    }
                ]
            }
        )
        == "10.0.0.0:80,10.0.0.1:80,10.0.0.2:80 + 2 more..."
    )


def test_label_selector_grammar() -> None:
    obj = {"metadata": {"labels": {"app": "rails", "tier": "web"}}}
    for sel, want in [
        ("app=rails", True),
        ("app==rails", True),
        ("app!=rails", False),
        ("app in (rails,redis)", True),
        ("app notin (rails)", False),
        ("tier", True),
        ("!tier", False),
        ("!canary", True),
        ("app=rails,tier in (web, api),!canary", True),
        ("missing=x", False),
    ]:
        m = parse_label_selector(sel)
        assert m is not None and m(obj) is want, sel
    with pytest.raises(ApiError) as err:
        parse_label_selector("app in (x), =y")
    assert err.value.code == 400
    f = parse_field_selector("metadata.name=a,status.phase!=Failed")
    assert f is not None
    assert f({"metadata": {"name": "a"}, "status": {"phase": "Running"}})
    assert not f({"metadata": {"name": "a"}, "status": {"phase": "Failed"}})
    sel = {
        "matchLabels": {"app": "x"},
        "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["a", "b"]},
            {"key": "canary", "operator": "DoesNotExist"},
        ],
    }
    assert selector_matches(sel, {"app": "x", "tier": "b"})
    assert not selector_matches(sel, {"app": "x", "tier": "b", "canary": "1"})
    assert format_selector(sel) == "app=x,tier in (a,b),!canary"


def test_strategic_merge_patch() -> None:
    spec = {
        "containers": [
            {"name": "a", "image": "a:1", "env": [{"name": "X", "value": "1"}]},
            {"name": "b", "image": "b:1"},
        ],
        "tolerations": [{"key": "t"}],
    }
    out = strategic_merge(
        spec,
        {
            "containers": [
                {"name": "a", "env": [{"name": "Y", "value": "2"}]},
                {"name": "b", "$patch": "delete"},
                {"name": "c", "image": "c:1"},
            ],
            "tolerations": [{"key": "u"}],
        },
    )
    assert [c["name"] for c in out["containers"]] == ["a", "c"]
    assert out["containers"][0]["image"] == "a:1"
    assert [e["name"] for e in out["containers"][0]["env"]] == ["X", "Y"]
    assert out["tolerations"] == [{"key": "u"}]  # no merge key: replaced
    assert spec["containers"][1]["name"] == "b"  # input untouched
    assert strategic_merge({"a": {"b": 1, "c": 2}}, {"a": {"$patch": "replace", "d": 3}}) == {
        "a": {"d": 3}
    }
    assert strategic_merge(
        {"metadata": {"finalizers": ["x"]}}, {"metadata": {"finalizers": ["y"]}}
    ) == {"metadata": {"finalizers": ["x", "y"]}}


def test_merge_and_json_patch() -> None:
    assert merge_patch({"a": 1, "b": {"c": 2}}, {"a": None, "b": {"d": 3}}) == {
        "b": {"c": 2, "d": 3}
    }
    doc = {"spec": {"replicas": 3, "list": [1, 2]}}
    out = json_patch(
        doc,
        [
            {"op": "replace", "path": "/spec/replicas", "value": 0},
            {"op": "add", "path": "/spec/list/-", "value": 3},
            {"op": "remove", "path": "/spec/list/0"},
            {"op": "add", "path": "/metadata", "value": {"a~b": 1}},
            {"op": "test", "path": "/metadata/a~0b", "value": 1},
        ],
    )
    assert out == {"spec": {"replicas": 0, "list": [2, 3]}, "metadata": {"a~b": 1}}
    with pytest.raises(ApiError) as err:
        json_patch(doc, [{"op": "replace", "path": "/nope/x", "value": 1}])
    assert err.value.code == 422
    with pytest.raises(ApiError) as err:
        apply_patch("application/apply-patch+yaml", doc, {})
    assert err.value.code == 415


def test_cron() -> None:
    now = time.mktime((2026, 11, 28, 10, 30, 0, 0, 0, 0)) - time.timezone
    last = cron.last_fire("0 2 * * *", now)
    assert last is not None and time.gmtime(last)[:5] == (2026, 11, 28, 2, 0)
    assert cron.last_fire("*/15 * * * *", now) == now
    assert len(cron.fires_between("@daily", now - 3 * 86400, now)) == 3
    with pytest.raises(ValueError):
        cron.parse("0 2 * *")


def test_quantities() -> None:
    assert parse_quantity("500m") == 0.5
    assert parse_quantity("2Gi") == 2 * 2**30
    assert parse_quantity("1.5") == 1.5
    assert parse_quantity("123456789n") == pytest.approx(0.123456789)


# What kubectl 1.32 sent for `kubectl auth can-i delete pods -n excel-unified` (-v=9).
SSAR = bytes.fromhex(
    "6b3873000a320a17617574686f72697a6174696f6e2e6b38732e696f2f7631121753656c66537562"
    "6a6563744163636573735265766965771245"
    "0a100a00120"
    "01a00220"
    "02a003200380042001227"
    "0a250a0d657863656c2d756e6966696564120664656c6574651a0022002a04706f647332003a001a"
    "080800120"
    "01a0020001a002200"
)


def test_protobuf_access_review_from_kubectl() -> None:
    obj = decode(SSAR)
    assert obj["kind"] == "SelfSubjectAccessReview"
    assert obj["apiVersion"] == "authorization.k8s.io/v1"
    attrs = obj["spec"]["resourceAttributes"]
    assert attrs == {"namespace": "excel-unified", "verb": "delete", "resource": "pods"}
    assert obj["metadata"] == {}


def test_watch_translates_selector_transitions() -> None:
    w = Watcher("pods", "ns", parse_label_selector("app=a"))

    def obj(app: str) -> dict:
        return {"metadata": {"name": "p", "namespace": "ns", "labels": {"app": app}}}

    assert w.translate(Change(1, "ADDED", "pods", None, obj("a"))) == ("ADDED", obj("a"))
    assert w.translate(Change(2, "MODIFIED", "pods", obj("a"), obj("b")))[0] == "DELETED"
    assert w.translate(Change(3, "MODIFIED", "pods", obj("b"), obj("a")))[0] == "ADDED"
    assert w.translate(Change(4, "MODIFIED", "pods", obj("b"), obj("b"))) is None
    assert w.translate(Change(5, "ADDED", "services", None, obj("a"))) is None


def test_store_versions_and_history() -> None:
    store = Store(history_size=3)
    a = store.create("configmaps", {"metadata": {"name": "a", "namespace": "n"}})
    store.start_history()
    rv = int(a["metadata"]["resourceVersion"])
    b = store.update("configmaps", {"metadata": {"name": "a", "namespace": "n"}, "data": {}})
    assert int(b["metadata"]["resourceVersion"]) == rv + 1
    assert b["metadata"]["uid"] == a["metadata"]["uid"]
    assert [c.type for c in store.changes_since(rv)] == ["MODIFIED"]
    for i in range(4):
        store.create("configmaps", {"metadata": {"name": f"x{i}", "namespace": "n"}})
    with pytest.raises(Exception, match="too old resource version"):
        store.changes_since(rv)
    gone = store.delete("configmaps", "n", "a")
    assert int(gone["metadata"]["resourceVersion"]) == store.rv
    assert [k for k in store.keys("configmaps", "n")] == [("n", f"x{i}") for i in range(4)]


def test_forbidden_messages() -> None:
    authz = Authorizer()
    authz.deny("*", "nodes")
    authz.deny("create", "pods", "excel-unified", "exec")
    assert not authz.allowed("list", "", "nodes", None)
    assert authz.allowed("create", "", "pods", "excel-unified")
    assert not authz.allowed("create", "", "pods", "excel-unified", "exec")
    with pytest.raises(ApiError) as err:
        authz.check("list", "", "nodes", None)
    assert err.value.body["message"] == (
        'nodes is forbidden: User "cockpit-sim-admin" cannot '
        'list resource "nodes" in API group "" at the cluster '
        "scope"
    )
    with pytest.raises(ApiError) as err:
        authz.check("create", "", "pods", "excel-unified", "exec", "postgres-0")
    assert 'cannot create resource "pods/exec"' in err.value.body["message"]


def test_discovery_documents() -> None:
    core = {r["name"]: r for r in discovery.resource_list("", "v1")["resources"]}
    assert core["pods"]["shortNames"] == ["po"] and core["pods"]["categories"] == ["all"]
    assert core["pods/log"]["verbs"] == ["get"]
    assert core["namespaces"]["namespaced"] is False
    apps = {r["name"]: r for r in discovery.resource_list("apps", "v1")["resources"]}
    assert apps["deployments/scale"]["group"] == "autoscaling"
    assert {"deploy", "rs", "sts", "ds"} <= {
        s for r in apps.values() for s in r.get("shortNames", [])
    }
    groups = {g["name"] for g in discovery.api_group_list()["groups"]}
    assert {"apps", "batch", "metrics.k8s.io", "authorization.k8s.io", "discovery.k8s.io"} <= groups


def test_cronjob_controller_fires_on_schedule() -> None:
    from cockpit.sim.controller import Controller
    from cockpit.sim.pace import Pace
    from cockpit.sim.scenarios import seed

    now = [time.mktime((2026, 11, 28, 1, 59, 30, 0, 0, 0)) - time.timezone]
    store = Store()
    store.clock = lambda: now[0]
    ctl = Controller(store, Pace.fast(), "healthy", clock=lambda: now[0])
    seed(ctl, "healthy")
    ctl.step()
    before = {n for _, n in store.keys("jobs.batch")}
    now[0] += 45  # 02:00:15
    ctl.step()
    after = {n for _, n in store.keys("jobs.batch")}
    new = after - before
    assert len(new) == 1
    name = new.pop()
    assert name == f"postgres-backup-{int((now[0] - 15) // 60)}"
    job = store.get("jobs.batch", "excel-unified", name)
    assert job["metadata"]["ownerReferences"][0]["kind"] == "CronJob"
    cj = store.get("cronjobs.batch", "excel-unified", "postgres-backup")
    assert cj["status"]["lastScheduleTime"] == ts(now[0] - 15)
    assert [a["name"] for a in cj["status"]["active"]] == [name]
