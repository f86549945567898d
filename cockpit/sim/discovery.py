"""Discovery documents (`/api`, `/apis`, group-version resource lists) and `/version`.

These are the legacy (unaggregated) documents: kubectl asks for the aggregated form
first and falls back when the server answers with plain `application/json`.
"""

from __future__ import annotations

import base64
import hashlib

from cockpit.sim.kinds import KINDS, Kind, group_versions

VERSION = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.4",
    "gitCommit": "59526cd4867447956156ae3a602fcbac10a2c335",
    "gitTreeState": "clean",
    "buildDate": "2025-04-22T16:03:37Z",
    "goVersion": "go1.23.6",
    "compiler": "gc",
    "platform": "linux/amd64",
}


def _hash(k: Kind) -> str:
    digest = hashlib.sha256(f"{k.group}/{k.version}/{k.kind}".encode()).digest()[:8]
    return base64.b64encode(digest).decode()


def _resource(k: Kind) -> dict:
    res = {
        "name": k.plural,
        "singularName": k.singular,
        "namespaced": k.namespaced,
        "kind": k.kind,
        "verbs": list(k.verbs),
    }
    if k.short_names:
        res["shortNames"] = list(k.short_names)
    if k.categories:
        res["categories"] = list(k.categories)
    if k.stored:
        res["storageVersionHash"] = _hash(k)
    return res


def _subresources(k: Kind) -> list[dict]:
    out = []
    for s in k.subresources:
        res = {
            "name": f"{k.plural}/{s.name}",
            "singularName": "",
            "namespaced": k.namespaced,
            "kind": s.kind,
            "verbs": list(s.verbs),
        }
        if s.group is not None:
            res["group"] = s.group
            res["version"] = s.version
        out.append(res)
    return out


def api_versions(server_address: str) -> dict:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    }


def _group(name: str, versions: list[str]) -> dict:
    gvs = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": gvs, "preferredVersion": gvs[0]}


def api_group_list() -> dict:
    groups = [_group(g, vs) for g, vs in group_versions().items() if g]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(name: str) -> dict | None:
    versions = group_versions().get(name)
    if not name or versions is None:
        return None
    return dict(_group(name, versions), kind="APIGroup", apiVersion="v1")


def resource_list(group: str, version: str) -> dict | None:
    kinds = [k for k in KINDS if k.group == group and k.version == version]
    if not kinds:
        return None
    resources: list[dict] = []
    for k in kinds:
        resources.append(_resource(k))
        resources.extend(_subresources(k))
    gv = f"{group}/{version}" if group else version
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": gv,
        "resources": resources,
    }


def resolve(group: str, version: str, plural: str) -> Kind | None:
    for k in KINDS:
        if k.group == group and k.version == version and k.plural == plural:
            return k
    return None


# ---- OpenAPI v3 -------------------------------------------------------------------------
# Only what kubectl reads: for `apply` / `create -f` it checks that PATCH takes the
# `fieldValidation` query parameter (then the server validates, not the client).  No
# schemas: kubectl then computes strategic merge patches from its built-in types.


def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def openapi_root() -> dict:
    paths = {}
    for group, versions in group_versions().items():
        for v in versions:
            path = _gv_path(group, v)
            digest = hashlib.sha256(path.encode()).hexdigest()[:16].upper()
            paths[path] = {"serverRelativeURL": f"/openapi/v3/{path}?hash={digest}"}
    return {"paths": paths}


def openapi_group_version(group: str, version: str) -> dict | None:
    kinds = [
        k
        for k in KINDS
        if k.group == group and k.version == version and k.stored and "patch" in k.verbs
    ]
    if not any(k.group == group and k.version == version for k in KINDS):
        return None
    param = {
        "name": "fieldValidation",
        "in": "query",
        "schema": {"type": "string", "uniqueItems": True},
    }
    paths: dict[str, dict] = {}
    for k in kinds:
        base = "/" + _gv_path(group, version)
        item = (
            f"{base}/namespaces/{{namespace}}/{k.plural}/{{name}}"
            if k.namespaced
            else f"{base}/{k.plural}/{{name}}"
        )
        gvk = {"group": group, "version": version, "kind": k.kind}
        paths[item] = {
            "patch": {
                "operationId": f"patch{k.kind}",
                "parameters": [param],
                "x-kubernetes-action": "patch",
                "x-kubernetes-group-version-kind": gvk,
                "responses": {"200": {"description": "OK"}},
            },
        }
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": VERSION["gitVersion"]},
        "paths": paths,
        "components": {"schemas": {}},
    }
