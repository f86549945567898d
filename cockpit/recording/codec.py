"""Snapshots to plain JSON values and back.

Encoding is orjson's own dataclass support (datetimes become RFC 3339 strings, levels
ints, tuples lists); decoding validates the plain value back into the model's frozen
dataclasses with pydantic, by the class name stored beside it.  Only the classes of
cockpit.model and its submodules can be named, so a recording cannot make the reader
build anything else.
"""

from __future__ import annotations

import dataclasses
from functools import cache
from importlib import import_module
from typing import TYPE_CHECKING, Any

import orjson

from cockpit import model
from cockpit.audit import scrub
from cockpit.recording import jsonrows
from cockpit.recording.delta import ROW_KEYS

if TYPE_CHECKING:
    from pydantic import TypeAdapter


@cache
def model_types() -> dict[str, type]:
    """Every snapshot class by name (importing all of cockpit.model's submodules: once,
    when the first snapshot is recorded or read, not when the app starts)."""
    modules = (model, *(import_module(f"{model.__name__}.{s}") for s in model.SUBMODULES))
    return {
        name: cls
        for module in modules
        for name, cls in vars(module).items()
        if isinstance(cls, type)
        and dataclasses.is_dataclass(cls)
        and cls.__module__ == module.__name__
    }


# Sources whose snapshots hold only names, figures and images: nothing there can be a
# secret, and scrubbing 5,000 pod rows would cost more than the rest of the recording.
NOTHING_SECRET = frozenset({"pods", "top", "host", "disk"})


class UnknownType(ValueError):
    """A recording names a class that is not a snapshot of cockpit.model."""


def type_name(obj: object) -> str:
    name = type(obj).__name__
    if model_types().get(name) is not type(obj):
        raise UnknownType(f"{name} is not a cockpit.model snapshot")
    return name


def to_plain(obj: object, source: str = "", secrets: tuple[str, ...] = ()) -> Any:
    """A JSON value for a snapshot; its strings scrubbed of secrets unless the source
    cannot hold any."""
    plain = orjson.loads(orjson.dumps(obj))
    return plain if source in NOTHING_SECRET else scrub(plain, secrets)


class Encoded:
    """A plain value kept as its JSON until something needs the value itself: 5,000 rows
    of usage are a quarter of the memory as bytes, and mostly nothing reads them again."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data


def decoded(value: Any) -> Any:
    """The plain value, whether kept as such, `Encoded`, or with `JsonRows` in it."""
    return loads(value.data) if isinstance(value, Encoded) else jsonrows.decoded(value)


def kept_encoded(value: Any) -> bool:
    """Whether `decoded` has work to do: decode once before handing it to viewers."""
    return isinstance(value, Encoded) or jsonrows.holds_rows(value)


SAMPLE_ROWS = 64  # rows compared to judge whether most changed


def mostly_changed(old: object, new: object) -> bool:
    """Whether most rows of `new`'s lists of rows differ from `old`'s, judged on a sample.

    Then storing the whole snapshot is cheaper than diffing it, and no bigger: the usage
    of 5,000 pods moves every poll, and a change naming every row is a snapshot plus the
    order.  Only an estimate: either way the recording reads back the same.
    """
    if old is None or type(old) is not type(new) or not dataclasses.is_dataclass(new):
        return False
    compared = changed = 0
    for field in dataclasses.fields(new):
        rows = getattr(new, field.name)
        if not _is_rows(rows):
            continue
        key = next((k for k in ROW_KEYS if hasattr(rows[0], k)), None)
        if key is None:
            continue
        before = {getattr(row, key, None): row for row in getattr(old, field.name) or ()}
        for row in rows[:: max(1, len(rows) // SAMPLE_ROWS)]:
            compared += 1
            changed += before.get(getattr(row, key)) != row
    return compared > 0 and 2 * changed > compared


def _is_rows(value: object) -> bool:
    return (
        isinstance(value, tuple)
        and len(value) >= RowCache.MIN_ROWS
        and dataclasses.is_dataclass(value[0])
    )


class RowCache:
    """Encodes a source's snapshots reusing the plain rows of row objects it has seen.

    Sources keep the row objects of what did not change (a pod's PodRow survives until
    the pod changes), so of 5,000 pods only the changed ones are encoded again; the
    others' plain rows are the very same dicts as last time, which `delta.diff` skips
    by identity.
    """

    MIN_ROWS = 32  # below this, encoding everything is as cheap

    def __init__(self, source: str, secrets: tuple[str, ...]) -> None:
        self.source = source
        self.secrets = secrets
        self._rows: dict[str, dict[int, tuple[object, Any]]] = {}

    def to_plain(self, obj: object) -> Any:
        if not dataclasses.is_dataclass(obj):
            return to_plain(obj, self.source, self.secrets)
        plain: dict[str, Any] = {}
        rest: dict[str, Any] = {}
        for field in dataclasses.fields(obj):
            value = getattr(obj, field.name)
            if _is_rows(value):
                plain[field.name] = self._rows_of(field.name, value)
            else:
                rest[field.name] = value
        encoded = to_plain(rest, self.source, self.secrets)
        return {f.name: plain[f.name] if f.name in plain else encoded[f.name]
                for f in dataclasses.fields(obj)}  # fmt: skip

    def _rows_of(self, field: str, rows: tuple[Any, ...]) -> Any:
        """The rows' plain values; only the rows not seen last time are encoded.  Rows
        nothing scrubs are kept as their JSON (JsonRows, see jsonrows.py)."""
        as_json = self.source in NOTHING_SECRET
        seen = self._rows.get(field, {})
        missing = [row for row in rows if seen.get(id(row), (None,))[0] is not row]
        if as_json:
            fresh = iter([kept(orjson.dumps(row)) for row in missing])
        else:
            fresh = iter(to_plain(missing, self.source, self.secrets) if missing else ())
        now: dict[int, tuple[object, Any]] = {}
        entries = []
        for row in rows:
            hit = seen.get(id(row))
            entry = hit if hit is not None and hit[0] is row else (row, next(fresh))
            now[id(row)] = entry
            entries.append(entry)
        self._rows[field] = now  # only the rows of this snapshot are kept (and alive)
        return jsonrows.JsonRows(entries) if as_json else [plain for _, plain in entries]


@cache
def _adapter(name: str) -> TypeAdapter[Any]:
    from pydantic import TypeAdapter  # for replaying only: not at the cockpit's start

    try:
        return TypeAdapter(model_types()[name])
    except KeyError:
        raise UnknownType(f"a recording names {name!r}, which is not a cockpit snapshot") from None


def from_plain(name: str, plain: Any) -> Any:
    """The snapshot again, as the source made it."""
    return _adapter(name).validate_python(plain)


def kept(data: bytes) -> bytes:
    """A copy of orjson's output to keep: orjson's bytes object keeps the whole buffer
    it wrote into (8 KB for a pod's 700 bytes), the copy only the bytes."""
    return bytes(memoryview(data))


def dumps(plain: Any) -> bytes:
    return orjson.dumps(plain, default=jsonrows.fragment)


def loads(data: bytes | str) -> Any:
    return orjson.loads(data)
