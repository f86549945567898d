"""The simulated API server's service proxy, through the real kubernetes client's
transport and the real kubectl: the apps' /health answers, the API server's own Status
errors (404, 503 no endpoints, 403 RBAC), and the incident scenario's flaky rails and
slow fastapi."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from conftest import NS, Kubectl, api_client_for
from kubernetes import client as k8s
from waiting import wait_for

from cockpit.sim.runner import SimCluster
from cockpit.sim.service_proxy import FAIL_EVERY, rails_failing, split_id

RAILS = f"/api/v1/namespaces/{NS}/services/rails-service:3000/proxy/health"
FASTAPI = f"/api/v1/namespaces/{NS}/services/fastapi-service:8000/proxy/health"


def get(api: k8s.ApiClient, path: str) -> tuple[int, dict, float]:
    """GET through the kubernetes client's own transport and authentication."""
    method, url, headers, _, _ = api.param_serialize(
        "GET", path, header_params={"Accept": "application/json"}, auth_settings=["BearerToken"]
    )
    started = time.perf_counter()
    response = api.call_api(method, url, header_params=headers, _request_timeout=10)
    body = response.read()
    return response.status, json.loads(body), time.perf_counter() - started


def test_split_id_takes_the_api_servers_forms() -> None:
    assert split_id("rails-service") == ("", "rails-service", "")
    assert split_id("rails-service:3000") == ("", "rails-service", "3000")
    assert split_id("https:nginx-service:443") == ("https", "nginx-service", "443")
    assert split_id("a:b:c:d") is None
    assert split_id("ftp:x:1") is None


def test_health_through_the_proxy_with_the_kubernetes_client(sim: SimCluster) -> None:
    api = api_client_for(sim)
    try:
        status, body, seconds = get(api, RAILS)
        assert status == 200
        assert body["status"] == "ok" and body["database"] == "ok" and body["redis"] == "ok"
        assert body["pod"].startswith("rails-")
        assert seconds < 0.5
        status, body, _ = get(api, FASTAPI)
        assert status == 200 and body["status"] == "ok" and body["pod"].startswith("fastapi-")
        # The port's name works too, and the scheme:name:port form.
        status, body, _ = get(api, RAILS.replace("rails-service:3000", "http:rails-service:http"))
        assert status == 200 and body["status"] == "ok"
        status, body, _ = get(api, RAILS.replace("/health", "/nope"))
        assert status == 404 and "kind" not in body  # the app's 404, not the API server's
    finally:
        api.close()


def test_kubectl_get_raw_reaches_the_service(kubectl: Kubectl) -> None:
    out = kubectl("get", "--raw", RAILS, namespace=None).stdout
    assert json.loads(out)["status"] == "ok"
    out = kubectl("get", "--raw", FASTAPI, namespace=None).stdout
    assert json.loads(out)["checks"] == {"database": "ok", "redis": "ok"}


def test_api_server_errors_are_status_objects(sim: SimCluster) -> None:
    api = api_client_for(sim)
    try:
        status, body, _ = get(api, RAILS.replace("rails-service", "nope-service"))
        assert (status, body["kind"], body["reason"]) == (404, "Status", "NotFound")
        assert body["message"] == 'services "nope-service" not found'
        status, body, _ = get(api, RAILS.replace(":3000", ":3001"))
        assert status == 503 and body["reason"] == "ServiceUnavailable"
        assert body["message"] == 'no service port 3001 found for service "rails-service"'
        status, body, _ = get(api, RAILS.replace("rails-service:3000", "postgres-service:5432"))
        assert status == 503 and "error trying to reach service" in body["message"]
        # A service that selects no pod has no endpoints.
        sim.authz.allow_all()
        core = {"apiVersion": "v1", "kind": "Service"}
        svc = {
            **core,
            "metadata": {"name": "lonely", "namespace": NS},
            "spec": {"selector": {"app": "nobody"}, "ports": [{"name": "http", "port": 80}]},
        }
        method, url, headers, body_out, _ = api.param_serialize(
            "POST", f"/api/v1/namespaces/{NS}/services", body=svc, auth_settings=["BearerToken"]
        )
        assert api.call_api(method, url, headers, body_out).status == 201

        def no_endpoints() -> dict | None:
            code, answer, _ = get(api, f"/api/v1/namespaces/{NS}/services/lonely:80/proxy/health")
            return answer if code == 503 else None

        answer = wait_for(no_endpoints, what="503 from the lonely service")
        assert answer["message"] == 'no endpoints available for service "lonely"'
    finally:
        api.close()


def test_rbac_denial_is_the_api_servers_403(
    sim: SimCluster, make_kubectl: Callable[[SimCluster], Kubectl]
) -> None:
    sim.authz.deny_service_proxy(NS)
    api = api_client_for(sim)
    try:
        status, body, _ = get(api, RAILS)
        assert (status, body["reason"]) == (403, "Forbidden")
        assert body["message"] == (
            'services "rails-service:3000" is forbidden: User "cockpit-sim-admin" cannot get '
            'resource "services/proxy" in API group "" in the namespace "excel-unified"'
        )
        # The same verb and subresource answer `kubectl auth can-i`.
        out = make_kubectl(sim)(
            "auth", "can-i", "get", "services", "--subresource=proxy", check=False
        )
        assert out.stdout.strip() == "no"
        result = make_kubectl(sim)("get", "--raw", RAILS, namespace=None, check=False)
        assert result.returncode != 0 and "Forbidden" in result.stderr
    finally:
        api.close()


def test_rails_fails_in_its_time_slots() -> None:
    slots = [rails_failing("incident", t * 10.0 + 1) for t in range(2 * FAIL_EVERY)]
    assert slots.count(True) == 2 and slots.count(False) == 2 * FAIL_EVERY - 2
    assert not any(rails_failing("healthy", t * 10.0) for t in range(10))


def test_incident_rails_fails_now_and_then_and_fastapi_is_slow(
    incident_sim: SimCluster,
) -> None:
    assert incident_sim.server is not None
    incident_sim.server.service_proxy.slot_s = 0.25  # both states within a second
    api = api_client_for(incident_sim)
    try:
        seen: dict[int, dict] = {}
        deadline = time.monotonic() + 3 * 0.25 * FAIL_EVERY
        while time.monotonic() < deadline and len(seen) < 2:
            status, body, _ = get(api, RAILS)
            seen.setdefault(status, body)
            time.sleep(0.05)
        assert set(seen) == {200, 503}
        assert seen[503] == {"status": "error", "database": "timeout", "redis": "ok"}
        # fastapi is slow, and its wait does not block the sim's loop: the API answers
        # other requests meanwhile.
        with ThreadPoolExecutor(1) as pool:
            slow = pool.submit(get, api, FASTAPI)
            time.sleep(0.3)
            started = time.perf_counter()
            assert get(api, f"/api/v1/namespaces/{NS}/services/rails-service")[0] == 200
            assert time.perf_counter() - started < 0.5
            assert not slow.done()
            status, body, seconds = slow.result(timeout=10)
        assert status == 200 and body["status"] == "ok"
        assert 1.4 < seconds < 3.5
    finally:
        api.close()


def test_the_proxy_needs_a_token_when_one_is_sent(sim: SimCluster) -> None:
    cfg = sim.client_configuration()
    cfg.api_key = {"authorization": "Bearer wrong"}
    api = k8s.ApiClient(cfg)
    try:
        assert get(api, RAILS)[0] == 401
    finally:
        api.close()
