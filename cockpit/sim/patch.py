"""The three patch flavours the apiserver accepts besides server-side apply."""

from __future__ import annotations

from typing import Any

from cockpit.sim.errors import ApiError, bad_request
from cockpit.sim.objects import clone

MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
APPLY = "application/apply-patch+yaml"

# patchMergeKey of the list fields kubectl patches (k8s.io/api struct tags).
_MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "imagePullSecrets": "name",
    "conditions": "type",
    "ownerReferences": "uid",
    "hostAliases": "ip",
    "resourceClaims": "name",
}
_PRIMITIVE_MERGE = {"finalizers"}


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386."""
    if not isinstance(patch, dict):
        return clone(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def _merge_key(field: str, items: list) -> str | None:
    if field == "ports":
        sample = next((i for i in items if isinstance(i, dict)), {})
        return "containerPort" if "containerPort" in sample else "port"
    return _MERGE_KEYS.get(field)


def _strategic_list(field: str, current: list, patch: list) -> list:
    if field in _PRIMITIVE_MERGE:
        out = list(current)
        out.extend(v for v in patch if v not in out)
        return out
    if any(isinstance(i, dict) and i.get("$patch") == "replace" for i in patch):
        return [clone(i) for i in patch if not (isinstance(i, dict) and "$patch" in i)]
    key = _merge_key(field, patch + current)
    if key is None or not all(isinstance(i, dict) for i in patch):
        return clone(patch)
    out = [clone(i) for i in current]
    for item in patch:
        ident = item.get(key)
        idx = next(
            (n for n, c in enumerate(out) if isinstance(c, dict) and c.get(key) == ident), None
        )
        if item.get("$patch") == "delete":
            if idx is not None:
                out.pop(idx)
        elif idx is None:
            out.append(strategic_merge({}, item))
        else:
            out[idx] = strategic_merge(out[idx], item)
    return out


def strategic_merge(target: Any, patch: Any) -> Any:
    """Strategic merge patch for the fields kubectl touches: lists merged by their
    patchMergeKey, `$patch: replace|delete`, `$retainKeys`, `$deleteFromPrimitiveList`;
    `$setElementOrder` is accepted and ignored."""
    if not isinstance(patch, dict):
        return clone(patch)
    directive = patch.get("$patch")
    if directive == "delete":
        return None
    out = {} if directive == "replace" or not isinstance(target, dict) else dict(target)
    retain = patch.get("$retainKeys")
    for k, v in patch.items():
        if k.startswith("$deleteFromPrimitiveList/"):
            field = k.split("/", 1)[1]
            out[field] = [x for x in out.get(field) or [] if x not in v]
            continue
        if k.startswith("$"):
            continue
        if v is None:
            out.pop(k, None)
        elif isinstance(v, list) and isinstance(out.get(k), list):
            out[k] = _strategic_list(k, out[k], v)
        elif isinstance(v, list):
            out[k] = [
                strategic_merge({}, i) if isinstance(i, dict) else i
                for i in v
                if not (
                    isinstance(i, dict) and i.get("$patch") in ("delete", "replace") and len(i) == 1
                )
            ]
        elif isinstance(v, dict):
            merged = strategic_merge(out.get(k), v)
            if merged is None:
                out.pop(k, None)
            else:
                out[k] = merged
        else:
            out[k] = v
    if isinstance(retain, list):
        out = {k: v for k, v in out.items() if k in retain}
    return out


# ---- RFC 6902 -----------------------------------------------------------------------


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise bad_request(f"invalid JSON pointer: {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _walk(doc: Any, parts: list[str]) -> Any:
    cur = doc
    for p in parts:
        if isinstance(cur, list):
            try:
                cur = cur[int(p)]
            except (ValueError, IndexError) as e:
                raise _missing(parts) from e
        elif isinstance(cur, dict):
            if p not in cur:
                raise _missing(parts)
            cur = cur[p]
        else:
            raise _missing(parts)
    return cur


def _missing(parts: list[str]) -> ApiError:
    return ApiError(
        422,
        "the server rejected our request due to an error in our request: "
        f'doc is missing path: "/{"/".join(parts)}"',
        "Invalid",
    )


def _add(doc: Any, parts: list[str], value: Any, replace: bool) -> Any:
    if not parts:
        return clone(value)
    parent = _walk(doc, parts[:-1])
    last = parts[-1]
    if isinstance(parent, list):
        if last == "-":
            parent.append(clone(value))
            return doc
        try:
            i = int(last)
        except ValueError as e:
            raise _missing(parts) from e
        if replace:
            if not 0 <= i < len(parent):
                raise _missing(parts)
            parent[i] = clone(value)
        else:
            if not 0 <= i <= len(parent):
                raise _missing(parts)
            parent.insert(i, clone(value))
    elif isinstance(parent, dict):
        if replace and last not in parent:
            raise _missing(parts)
        parent[last] = clone(value)
    else:
        raise _missing(parts)
    return doc


def _remove(doc: Any, parts: list[str]) -> Any:
    parent = _walk(doc, parts[:-1])
    last = parts[-1]
    try:
        if isinstance(parent, list):
            return parent.pop(int(last))
        return parent.pop(last)
    except (KeyError, ValueError, IndexError, AttributeError) as e:
        raise _missing(parts) from e


def json_patch(target: Any, ops: Any) -> Any:
    if not isinstance(ops, list):
        raise bad_request("json patch must be a list of operations")
    doc = clone(target)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op:
            raise bad_request(f"invalid json patch operation: {op!r}")
        kind = op["op"]
        parts = _pointer(op.get("path", ""))
        if kind == "add":
            doc = _add(doc, parts, op.get("value"), replace=False)
        elif kind == "replace":
            doc = _add(doc, parts, op.get("value"), replace=True)
        elif kind == "remove":
            _remove(doc, parts)
        elif kind in ("move", "copy"):
            src = _pointer(op.get("from", ""))
            value = _remove(doc, src) if kind == "move" else clone(_walk(doc, src))
            doc = _add(doc, parts, value, replace=False)
        elif kind == "test":
            if _walk(doc, parts) != op.get("value"):
                raise ApiError(
                    422,
                    f"the server rejected our request: testing value {op.get('path')} failed",
                    "Invalid",
                )
        else:
            raise bad_request(f"unexpected json patch operation: {kind}")
    return doc


def apply_patch(content_type: str, target: dict, body: Any) -> dict:
    ctype = content_type.split(";")[0].strip().lower()
    if ctype == MERGE:
        out = merge_patch(target, body)
    elif ctype == STRATEGIC:
        out = strategic_merge(target, body)
    elif ctype == JSON_PATCH:
        out = json_patch(target, body)
    else:
        raise ApiError(
            415,
            f"the body of the request was in an unknown format - accepted media "
            f"types include: {JSON_PATCH}, {MERGE}, {STRATEGIC}",
            "UnsupportedMediaType",
        )
    if not isinstance(out, dict):
        raise bad_request("the patch did not produce an object")
    return out
