"""API paths (stdlib only: early.py builds them before the kubernetes client loads)."""

from __future__ import annotations

from urllib.parse import quote


def namespaced_path(prefix: str, namespace: str, *parts: str) -> str:
    """`PREFIX/namespaces/NAMESPACE/PARTS...`, each name one path segment (names are
    DNS labels; quoted all the same): `namespaced_path("/api/v1", ns, "pods", name)`."""
    names = (quote(part, safe="") for part in (namespace, *parts))
    return "/".join([prefix, "namespaces", *names])
