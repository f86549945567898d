"""Small helpers shared by the simulator: timestamps, copies, names, quantities."""

from __future__ import annotations

import hashlib
import json
import random
import time
import uuid
from datetime import UTC, datetime
from typing import Any

# Kubernetes' rand.SafeEncodeString alphabet: no vowels, no look-alike digits.
_SAFE = "bcdfghjklmnpqrstvwxz2456789"


def ts(t: float | None = None) -> str:
    """RFC 3339 with second precision, as metav1.Time serialises."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if t is None else t))


def micro_ts(t: float | None = None) -> str:
    """RFC 3339 with microseconds, as metav1.MicroTime serialises."""
    moment = datetime.fromtimestamp(time.time() if t is None else t, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_ts(value: str | None) -> float | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def clone(obj: Any) -> Any:
    """A deep copy of JSON-shaped data; several times faster than copy.deepcopy."""
    if isinstance(obj, dict):
        return {k: clone(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [clone(v) for v in obj]
    return obj


def new_uid() -> str:
    return str(uuid.uuid4())


def suffix(n: int = 5, rng: random.Random | None = None) -> str:
    r = rng or random
    return "".join(r.choice(_SAFE) for _ in range(n))


def template_hash(template: Any) -> str:
    """A stable pod-template-hash (the real one is an FNV hash, also safe-encoded)."""
    digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).digest()
    return "".join(_SAFE[b % len(_SAFE)] for b in digest[:10])


def event_name(involved: str, t: float | None = None) -> str:
    # The recorder names events "<object>.<hex nanoseconds>".
    nanos = int((time.time() if t is None else t) * 1e9) + random.randrange(1 << 16)
    return f"{involved}.{nanos:x}"


def meta(obj: dict) -> dict:
    return obj.setdefault("metadata", {})


def labels(obj: dict) -> dict:
    return obj.get("metadata", {}).get("labels") or {}


def annotations(obj: dict) -> dict:
    return obj.get("metadata", {}).get("annotations") or {}


def controller_ref(obj: dict) -> dict | None:
    for ref in obj.get("metadata", {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref
    return None


def owner_ref(owner: dict, *, block: bool = True) -> dict:
    ref = {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
    }
    if block:
        ref["blockOwnerDeletion"] = True
    return ref


# ---- quantities -------------------------------------------------------------------

_BIN = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DEC = {
    "n": 1e-9,
    "u": 1e-6,
    "m": 1e-3,
    "": 1,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "E": 1e18,
}


def parse_quantity(value: str | int | float | None) -> float:
    """'500m' -> 0.5, '512Mi' -> 536870912.0, '1e3' -> 1000.0."""
    if value is None:
        return 0.0
    if isinstance(value, int | float):
        return float(value)
    s = value.strip()
    for unit, mult in _BIN.items():
        if s.endswith(unit):
            return float(s[: -len(unit)]) * mult
    if s and s[-1] in _DEC and not s[-1].isdigit():
        return float(s[:-1]) * _DEC[s[-1]]
    return float(s)


def cpu_nanos(cores: float) -> str:
    return f"{max(0, int(cores * 1e9))}n"


def cpu_milli(cores: float) -> str:
    return f"{max(0, round(cores * 1000))}m"


def mem_ki(nbytes: float) -> str:
    return f"{max(0, int(nbytes // 1024))}Ki"


def mem_mi(nbytes: float) -> str:
    return f"{max(0, int(nbytes // 2**20))}Mi"
