"""What every Kubernetes action runs with: the client context, and the raw-JSON call
that turns the API server's 403, 404 and 409 into refusals worded for the screen."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from actions.base import Refused
from cockpit.sources.kube.client import status_message

POLL_S = 0.25  # how often verification looks at the cluster


@dataclass(frozen=True)
class KubeContext:
    """What Kubernetes actions need: a configured client and where to act."""

    api: client.ApiClient
    namespace: str
    request_timeout: float = 10.0

    @property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.api)

    @property
    def apps(self) -> client.AppsV1Api:
        return client.AppsV1Api(self.api)

    @property
    def batch(self) -> client.BatchV1Api:
        return client.BatchV1Api(self.api)

    def timeout(self) -> tuple[float, float]:
        return (self.request_timeout, self.request_timeout * 3)


def dry(dry_run: bool) -> dict[str, Any]:
    return {"dry_run": "All"} if dry_run else {}


def _json(response: Any) -> dict[str, Any]:
    try:
        return json.loads(response.data)
    finally:
        response.release_conn()


def api_refusal(exc: ApiException, what: str) -> Refused | None:
    """403 and 409 are refusals with the server's own words; others stay errors."""
    if exc.status == 403:
        return Refused(f"forbidden: {status_message(exc)}")
    if exc.status == 409:
        return Refused(f"{what} changed since it was shown: {status_message(exc)}")
    if exc.status == 404:
        return Refused(f"{what} no longer exists: {status_message(exc)}")
    return None


async def call(fn: Any, *args: Any, what: str, **kwargs: Any) -> dict[str, Any]:
    """Run one raw-JSON client call in a thread; API refusals become Refused."""
    try:
        response = await asyncio.to_thread(fn, *args, _preload_content=False, **kwargs)
    except ApiException as exc:
        refusal = api_refusal(exc, what)
        if refusal is not None:
            raise refusal from None
        raise
    return await asyncio.to_thread(_json, response)
