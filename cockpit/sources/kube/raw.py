"""GET from Kubernetes through the client's transport, without its API classes.

The generated API classes (CoreV1Api, ...) build pydantic models for every type they
mention the first time they are imported: most of a second of CPU, on the path to the
first screen, and CoreV1Api alone holds 22 MB of RSS for as long as the process runs
(its module imports 251 model modules).  Lists, watches, log streams, metrics and single
objects read raw bytes anyway, so they only need the client's authentication and
connection pool, which ApiClient provides directly.  Errors are the ApiException the
generated methods raise, so callers' handling (403, 404, 410 Gone) is unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from cockpit.sources.kube.paths import namespaced_path


def raw_getter(api: client.ApiClient, path: str) -> Callable[..., Any]:
    """A function with the keyword arguments of a generated list method, for `path`."""

    def get(
        *,
        _preload_content: bool = False,
        _request_timeout: Any = None,
        watch: bool | None = None,
        resource_version: str | None = None,
        allow_watch_bookmarks: bool | None = None,
        timeout_seconds: int | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int | None = None,
        _continue: str | None = None,
    ) -> Any:
        query = [
            (name, value)
            for name, value in (
                ("watch", "true" if watch else None),
                ("resourceVersion", resource_version),
                ("allowWatchBookmarks", "true" if allow_watch_bookmarks else None),
                ("timeoutSeconds", timeout_seconds),
                ("labelSelector", label_selector),
                ("fieldSelector", field_selector),
                ("limit", limit),
                ("continue", _continue),
            )
            if value is not None
        ]
        return raw_get(api, path, query, timeout=_request_timeout).response

    return get


def raw_get(
    api: client.ApiClient,
    path: str,
    query: list[tuple[str, Any]],
    *,
    accept: str = "application/json",
    timeout: Any = None,
) -> Any:
    """GET `path` with the client's authentication; ApiException unless 2xx.  The
    response is not read (a watch streams it)."""
    return _call(api, "GET", path, {"Accept": accept}, timeout, query=query)


def _call(
    api: client.ApiClient,
    method: str,
    path: str,
    header_params: dict[str, str],
    timeout: Any,
    *,
    query: list[tuple[str, Any]] | None = None,
    body: Any = None,
) -> Any:
    """One request with the client's authentication; ApiException unless 2xx."""
    method, url, headers, data, _ = api.param_serialize(
        method, path, query_params=query, header_params=header_params, body=body,
        auth_settings=["BearerToken"],
    )  # fmt: skip
    response = api.call_api(method, url, header_params=headers, body=data, _request_timeout=timeout)
    if not 200 <= response.status <= 299:
        response.read()
        raise ApiException.from_response(http_resp=response, body=None, data=None)
    return response


def raw_json(
    api: client.ApiClient,
    path: str,
    query: list[tuple[str, Any]] | None = None,
    *,
    timeout: Any = None,
    missing_ok: bool = False,
) -> Any:
    """GET `path` and parse its JSON body; None for a 404 when `missing_ok`."""
    try:
        response = raw_get(api, path, query or [], timeout=timeout)
    except ApiException as exc:
        if missing_ok and exc.status == 404:
            return None
        raise
    try:
        return orjson.loads(response.read())
    finally:
        response.response.release_conn()


def pod_log(
    api: client.ApiClient,
    namespace: str,
    pod: str,
    *,
    container: str | None = None,
    follow: bool = False,
    previous: bool = False,
    timestamps: bool = False,
    since_seconds: int | None = None,
    tail_lines: int | None = None,
    timeout: Any = None,
) -> Any:
    """A pod's log as an unread urllib3 response (`.stream()` it; `release_conn()` after),
    as CoreV1Api.read_namespaced_pod_log(..., _preload_content=False) returns it."""
    query = [
        (name, value)
        for name, value in (
            ("container", container),
            ("follow", follow or None),
            ("previous", previous or None),
            ("timestamps", timestamps or None),
            ("sinceSeconds", since_seconds),
            ("tailLines", tail_lines),
        )
        if value is not None
    ]
    path = namespaced_path("/api/v1", namespace, "pods", pod, "log")
    return raw_get(api, path, query, accept="text/plain, */*", timeout=timeout).response


def raw_post_json(api: client.ApiClient, path: str, body: Any, *, timeout: Any = None) -> Any:
    """POST `body` as JSON to `path` and parse the JSON answer; ApiException unless 2xx."""
    json_headers = {"Accept": "application/json", "Content-Type": "application/json"}
    response = _call(api, "POST", path, json_headers, timeout, body=body)
    try:
        return orjson.loads(response.read())
    finally:
        response.response.release_conn()
