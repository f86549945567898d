"""Snapshots to plain JSON values and back.

Encoding is orjson's own dataclass support (datetimes become RFC 3339 strings, levels
ints, tuples lists); decoding validates the plain value back into the model's frozen
dataclasses with pydantic, by the class name stored beside it.  Only cockpit.model's
classes can be named, so a recording cannot make the reader build anything else.
"""

from __future__ import annotations

import dataclasses
from functools import cache
from typing import Any

import orjson
from pydantic import TypeAdapter

from cockpit import model
from cockpit.audit import scrub

MODEL_TYPES: dict[str, type] = {
    name: cls
    for name, cls in vars(model).items()
    if isinstance(cls, type) and dataclasses.is_dataclass(cls) and cls.__module__ == model.__name__
}

# Sources whose snapshots hold only names, figures and images: nothing there can be a
# secret, and scrubbing 5,000 pod rows would cost more than the rest of the recording.
NOTHING_SECRET = frozenset({"pods", "top", "host", "disk"})


class UnknownType(ValueError):
    """A recording names a class that is not a snapshot of cockpit.model."""


def type_name(obj: object) -> str:
    name = type(obj).__name__
    if MODEL_TYPES.get(name) is not type(obj):
        raise UnknownType(f"{name} is not a cockpit.model snapshot")
    return name


def to_plain(obj: object, source: str = "", secrets: tuple[str, ...] = ()) -> Any:
    """A JSON value for a snapshot; its strings scrubbed of secrets unless the source
    cannot hold any."""
    plain = orjson.loads(orjson.dumps(obj))
    return plain if source in NOTHING_SECRET else scrub(plain, secrets)


@cache
def _adapter(name: str) -> TypeAdapter[Any]:
    try:
        return TypeAdapter(MODEL_TYPES[name])
    except KeyError:
        raise UnknownType(f"a recording names {name!r}, which is not a cockpit snapshot") from None


def from_plain(name: str, plain: Any) -> Any:
    """The snapshot again, as the source made it."""
    return _adapter(name).validate_python(plain)


def dumps(plain: Any) -> bytes:
    return orjson.dumps(plain)


def loads(data: bytes | str) -> Any:
    return orjson.loads(data)
