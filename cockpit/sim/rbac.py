"""Authorization for the simulated cluster: allow everything except the deny rules a
test sets, and answer the self-review APIs (`kubectl auth can-i`, `auth whoami`).

Subresources are authorised as the real API server does: `pods/log`, `pods/exec`, and
`services/proxy` (verb `get` for a GET through the service proxy, whose name is the
whole `name:port` id)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from cockpit.sim.errors import ApiError

USER = "cockpit-sim-admin"
GROUPS = ("system:masters", "system:authenticated")
PROXY = "proxy"  # the services/proxy subresource


@dataclass(frozen=True, slots=True)
class DenyRule:
    verb: str  # "*" for every verb
    resource: str  # "pods", "deployments" or "deployments.apps"; "*" for all
    namespace: str | None  # None: every namespace
    subresource: str | None  # None: the resource and all its subresources

    def matches(
        self, verb: str, group: str, resource: str, namespace: str | None, subresource: str | None
    ) -> bool:
        if self.verb not in ("*", verb):
            return False
        qualified = f"{resource}.{group}" if group else resource
        if self.resource not in ("*", resource, qualified):
            return False
        if self.namespace is not None and self.namespace != (namespace or ""):
            return False
        return self.subresource is None or self.subresource == (subresource or "")


class Authorizer:
    def __init__(self) -> None:
        self._rules: tuple[DenyRule, ...] = ()
        self._lock = threading.Lock()

    def deny(
        self, verb: str, resource: str, namespace: str | None = None, subresource: str | None = None
    ) -> None:
        with self._lock:
            self._rules = (*self._rules, DenyRule(verb, resource, namespace, subresource))

    def deny_service_proxy(self, namespace: str | None = None) -> None:
        """No `get` on services/proxy: the health checks through the proxy get a 403."""
        self.deny("get", "services", namespace, PROXY)

    def allow_all(self) -> None:
        with self._lock:
            self._rules = ()

    def allowed(
        self,
        verb: str,
        group: str,
        resource: str,
        namespace: str | None,
        subresource: str | None = None,
    ) -> bool:
        return not any(
            r.matches(verb, group, resource, namespace, subresource) for r in self._rules
        )

    def check(
        self,
        verb: str,
        group: str,
        resource: str,
        namespace: str | None,
        subresource: str | None = None,
        name: str | None = None,
    ) -> None:
        if not self.allowed(verb, group, resource, namespace, subresource):
            raise forbidden(verb, group, resource, namespace, subresource, name)

    # ---- review APIs ------------------------------------------------------------------

    def access_review(self, body: dict) -> dict:
        spec = body.get("spec") or {}
        attrs = spec.get("resourceAttributes")
        allowed = True
        if attrs:
            allowed = self.allowed(
                attrs.get("verb", ""),
                attrs.get("group", ""),
                attrs.get("resource", ""),
                attrs.get("namespace"),
                attrs.get("subresource"),
            )
        status: dict = {"allowed": allowed}
        if not allowed:
            status["reason"] = ""
        return {
            "kind": "SelfSubjectAccessReview",
            "apiVersion": "authorization.k8s.io/v1",
            "metadata": {"creationTimestamp": None},
            "spec": spec,
            "status": status,
        }

    def rules_review(self, body: dict) -> dict:
        spec = body.get("spec") or {}
        # RBAC rules are additive and cannot express our denies: say so via `incomplete`.
        return {
            "kind": "SelfSubjectRulesReview",
            "apiVersion": "authorization.k8s.io/v1",
            "metadata": {"creationTimestamp": None},
            "spec": spec,
            "status": {
                "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
                "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
                "incomplete": bool(self._rules),
            },
        }

    @staticmethod
    def self_review() -> dict:
        return {
            "kind": "SelfSubjectReview",
            "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"creationTimestamp": None},
            "status": {"userInfo": {"username": USER, "groups": list(GROUPS)}},
        }


def forbidden(
    verb: str,
    group: str,
    resource: str,
    namespace: str | None,
    subresource: str | None,
    name: str | None,
) -> ApiError:
    res = f"{resource}/{subresource}" if subresource else resource
    who = f'{resource} "{name}"' if name else resource
    if group:
        who = f'{resource}.{group} "{name}"' if name else f"{resource}.{group}"
    scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    msg = (
        f'{who} is forbidden: User "{USER}" cannot {verb} resource "{res}" '
        f'in API group "{group}" {scope}'
    )
    return ApiError(403, msg, "Forbidden", name=name, group=group, kind=resource)
