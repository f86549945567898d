"""May I? SelfSubjectAccessReview before an action is offered, cached for a short while."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from actions.base import Permission
from cockpit.sources.kube.raw import raw_post_json

# No AuthorizationV1Api: its generated module and models cost memory for good, and the
# review runs at every start (raw.py).
REVIEWS = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"

TTL_S = 30.0


@dataclass(frozen=True)
class Access:
    allowed: bool
    reason: str  # the server's reason, or what is missing


class AccessChecker:
    def __init__(
        self,
        api: client.ApiClient,
        namespace: str,
        ttl: float = TTL_S,
        request_timeout: float = 10.0,
    ) -> None:
        self._api = api
        self._namespace = namespace
        self._ttl = ttl
        self._timeout = request_timeout
        self._cache: dict[Permission, tuple[float, Access]] = {}

    def cached(self, permission: Permission) -> Access | None:
        hit = self._cache.get(permission)
        if hit is not None and time.monotonic() - hit[0] < self._ttl:
            return hit[1]
        return None

    async def check(self, permission: Permission) -> Access:
        cached = self.cached(permission)
        if cached is not None:
            return cached
        access = await asyncio.to_thread(self._review, permission)
        self._cache[permission] = (time.monotonic(), access)
        return access

    async def check_all(self, permissions: tuple[Permission, ...]) -> Access:
        """Allowed only if every permission is; the reason names the first missing one."""
        for permission in permissions:
            access = await self.check(permission)
            if not access.allowed:
                return access
        return Access(True, "")

    def _review(self, permission: Permission) -> Access:
        attributes = {
            "namespace": self._namespace,
            "verb": permission.verb,
            "group": permission.group,
            "resource": permission.resource,
        }
        if permission.subresource:
            attributes["subresource"] = permission.subresource
        if permission.name:
            attributes["name"] = permission.name
        body = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": attributes},
        }
        try:
            answer = raw_post_json(self._api, REVIEWS, body, timeout=(self._timeout, self._timeout))
            status = answer.get("status") or {}
        except ApiException as exc:
            # A cluster that refuses the review itself: let the action try and report
            # the real 403 rather than guess.
            return Access(True, f"access review unavailable ({exc.status})")
        if status.get("allowed"):
            return Access(True, "")
        where = f" in namespace {self._namespace}"
        reason = status.get("reason") or ""
        text = f"forbidden: you may not {permission}{where}"
        if reason:
            text += f" ({reason})"
        return Access(False, text)
