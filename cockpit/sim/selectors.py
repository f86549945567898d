"""Label and field selectors: the query-string grammar and the LabelSelector objects."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from cockpit.sim.errors import bad_request

Matcher = Callable[[dict], bool]

_KEY = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")


def _split_top(text: str) -> list[str]:
    """Split on commas that are not inside parentheses."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


def _check_key(key: str, raw: str) -> str:
    if not _KEY.match(key):
        raise bad_request(f'unable to parse requirement: invalid label key "{key}" in "{raw}"')
    return key


_SET = re.compile(r"^(\S+)\s+(in|notin)\s*\((.*)\)$")


def parse_label_selector(text: str | None) -> Matcher | None:
    """Compile `app=rails,tier!=db,env in (a,b),!canary` into a matcher on labels."""
    if not text or not text.strip():
        return None
    reqs: list[Callable[[dict], bool]] = []
    for part in _split_top(text):
        m = _SET.match(part)
        if m:
            key = _check_key(m.group(1), part)
            values = {v.strip() for v in m.group(3).split(",") if v.strip()}
            if m.group(2) == "in":
                reqs.append(lambda lb, k=key, vs=values: lb.get(k) in vs)
            else:
                reqs.append(lambda lb, k=key, vs=values: lb.get(k) not in vs)
            continue
        if "!=" in part:
            key, value = (s.strip() for s in part.split("!=", 1))
            _check_key(key, part)
            reqs.append(lambda lb, k=key, v=value: lb.get(k) != v)
        elif "==" in part or "=" in part:
            key, value = (s.strip() for s in re.split(r"==?", part, maxsplit=1))
            _check_key(key, part)
            reqs.append(lambda lb, k=key, v=value: lb.get(k) == v)
        elif part.startswith("!"):
            key = _check_key(part[1:].strip(), part)
            reqs.append(lambda lb, k=key: k not in lb)
        else:
            key = _check_key(part, part)
            reqs.append(lambda lb, k=key: k in lb)

    def match(obj: dict) -> bool:
        lb = obj.get("metadata", {}).get("labels") or {}
        return all(r(lb) for r in reqs)

    return match


def field_value(obj: dict, path: str) -> str:
    cur: Any = obj
    for part in path.split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(part)
    if cur is None:
        return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


def parse_field_selector(text: str | None) -> Matcher | None:
    """Compile `metadata.name=x,status.phase!=Running` into a matcher on objects."""
    if not text or not text.strip():
        return None
    reqs: list[Callable[[dict], bool]] = []
    for part in re.split(r"(?<!\\),", text):
        part = part.strip()
        if not part:
            continue
        m = re.match(r"^([A-Za-z0-9_.\-/]+)\s*(!=|==|=)\s*(.*)$", part)
        if not m:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{part}'")
        path, op, value = m.group(1), m.group(2), _unescape(m.group(3))
        if op == "!=":
            reqs.append(lambda o, p=path, v=value: field_value(o, p) != v)
        else:
            reqs.append(lambda o, p=path, v=value: field_value(o, p) == v)
    return lambda o: all(r(o) for r in reqs)


def selector_matches(selector: dict | None, lbls: dict | None) -> bool:
    """A metav1.LabelSelector object against a label map (empty selector: everything)."""
    if selector is None:
        return False
    lbls = lbls or {}
    for k, v in (selector.get("matchLabels") or {}).items():
        if lbls.get(k) != v:
            return False
    for expr in selector.get("matchExpressions") or []:
        k, op, vals = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In" and lbls.get(k) not in vals:
            return False
        if op == "NotIn" and k in lbls and lbls[k] in vals:
            return False
        if op == "Exists" and k not in lbls:
            return False
        if op == "DoesNotExist" and k in lbls:
            return False
    return True


def format_selector(selector: dict | None) -> str:
    """metav1.FormatLabelSelector: `app=rails,tier in (a,b)`; `<none>` when empty."""
    if not selector:
        return "<none>"
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        k, op, vals = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In":
            parts.append(f"{k} in ({','.join(sorted(vals))})")
        elif op == "NotIn":
            parts.append(f"{k} notin ({','.join(sorted(vals))})")
        elif op == "Exists":
            parts.append(k)
        elif op == "DoesNotExist":
            parts.append(f"!{k}")
    return ",".join(parts) if parts else "<none>"


def selector_string(selector: dict | None) -> str:
    """LabelSelectorAsSelector(...).String(): like format_selector but empty -> ''."""
    text = format_selector(selector)
    return "" if text == "<none>" else text
