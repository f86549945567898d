"""A snapshot's list of rows kept as each row's JSON, for the recorder's memory.

The writer keeps the previous snapshot's plain rows to diff the next one against.  As
dicts, 5,000 pods take 17 MB (a dict per row and per container, and a second copy of
every string); as each row's JSON, 4 MB.  Only rows that nothing scrubs are kept this
way (codec.NOTHING_SECRET): their JSON is orjson's encoding of the row object itself.

A change between two of these lists is the one `delta.diff` makes of the same rows as
dicts (the same keys, the same rows set, removed and reordered), so the file and its
readers are unchanged; only the rows that changed are decoded to make it.
"""

from __future__ import annotations

from typing import Any

import orjson

from cockpit.recording import delta
from cockpit.recording.delta import ROWS, implied_order, key_among

_UNSET: Any = object()


class JsonRows:
    """Rows as (row object, its JSON) pairs; the object tells an unchanged row by
    identity (a source keeps the row objects of what did not change)."""

    __slots__ = ("_key", "_keys", "entries")

    def __init__(self, entries: list[tuple[object, bytes]]) -> None:
        self.entries = entries
        self._key: str | None = _UNSET
        self._keys: list[Any] | None = None  # kept for the diff after this one

    def json(self) -> bytes:
        return b"[" + b",".join(data for _, data in self.entries) + b"]"

    def plain(self) -> list[Any]:
        """The rows as dicts (a viewer joining, or a change that is the whole list)."""
        return orjson.loads(self.json())  # type: ignore[no-any-return]

    def key(self) -> str | None:
        """The field `delta` keys these rows by (`delta.key_among`), as it would find it
        in the plain rows."""
        if self._key is _UNSET:
            self._key = _row_key([row for row, _ in self.entries])
        return self._key

    def keys(self) -> list[Any]:
        """Each row's value of key(), as the plain rows have it."""
        if self._keys is None:
            key = self.key()
            self._keys = [_plain_key(getattr(r, key)) for r, _ in self.entries] if key else []
        return self._keys


def _plain_key(value: Any) -> Any:
    # As JSON gives it back: an IntEnum is an int, a str subclass a str (bool stays bool).
    if isinstance(value, bool):
        return value
    return int(value) if isinstance(value, int) else str(value)


def _row_key(rows: list[object]) -> str | None:
    if not rows:
        return None
    # Fields only, as the JSON has them (a property of that name is not in it).
    return key_among(
        lambda key: [
            getattr(row, key) if key in getattr(row, "__dataclass_fields__", ()) else None
            for row in rows
        ]
    )


def diff_rows(old: JsonRows, new: JsonRows) -> Any:
    """What `delta.diff` gives for these rows as dicts: None when nothing changed, a
    keyed change, or the whole new list when the rows have no key."""
    key = new.key()
    if key is None or old.key() != key:
        return None if old.json() == new.json() else new.plain()
    old_keys = old.keys()
    before = dict(zip(old_keys, old.entries, strict=True))
    order = new.keys()
    change: dict[str, Any] = {"key": key}
    changed = [
        data
        for k, (row, data) in zip(order, new.entries, strict=True)
        if (b := before.get(k)) is None or (b[0] is not row and b[1] != data)
    ]
    if changed:
        change["set"] = orjson.loads(b"[" + b",".join(changed) + b"]")
    if gone := set(before).difference(order):
        change["del"] = [k for k in old_keys if k in gone]
    if implied_order(old_keys, change) != order:
        change["order"] = order
    return {ROWS: change} if len(change) > 1 else None


def diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """`delta.diff` of two plain snapshots whose lists of rows may be JsonRows."""
    held = {f for f, v in (*old.items(), *new.items()) if isinstance(v, JsonRows)}
    if not held:
        return delta.diff(old, new)
    rest = delta.diff(
        {f: v for f, v in old.items() if f not in held},
        {f: v for f, v in new.items() if f not in held},
    )
    change: dict[str, Any] = {}
    for field, value in new.items():  # in the snapshot's field order, as delta.diff
        if field not in held:
            if field in rest:
                change[field] = rest[field]
            continue
        before = old.get(field)
        if isinstance(value, JsonRows) and isinstance(before, JsonRows):
            rows = diff_rows(before, value)
            if rows is not None:
                change[field] = rows
            continue
        # One side came as dicts (a whole keyframe, or fewer rows than RowCache keeps):
        # compare as dicts.
        plain_new = value.plain() if isinstance(value, JsonRows) else value
        plain_old = before.plain() if isinstance(before, JsonRows) else before
        change.update(delta.diff({field: plain_old}, {field: plain_new}))
    return change


def decoded(value: Any) -> Any:
    """A plain snapshot with its JsonRows as lists of dicts (else the value itself)."""
    if holds_rows(value):
        return {f: v.plain() if isinstance(v, JsonRows) else v for f, v in value.items()}
    return value


def holds_rows(value: Any) -> bool:
    return isinstance(value, dict) and any(isinstance(v, JsonRows) for v in value.values())


def fragment(value: Any) -> Any:
    """orjson's `default`: JsonRows are written as the JSON list they hold."""
    if isinstance(value, JsonRows):
        return orjson.Fragment(value.json())
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
