"""GET a Kubernetes collection through the client's transport, without its API classes.

The generated API classes (CoreV1Api, ...) build pydantic models for every type they
mention the first time they are imported: most of a second of CPU, on the path to the
first screen.  Lists and watches read raw JSON anyway, so they only need the client's
authentication and connection pool, which ApiClient provides directly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException


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
    method, url, headers, _, _ = api.param_serialize(
        "GET", path, query_params=query, header_params={"Accept": accept},
        auth_settings=["BearerToken"],
    )  # fmt: skip
    response = api.call_api(method, url, header_params=headers, _request_timeout=timeout)
    if not 200 <= response.status <= 299:
        response.read()
        raise ApiException.from_response(http_resp=response, body=None, data=None)
    return response
