"""Changes between two plain snapshots, so that a quiet cluster costs almost nothing.

A change lists only the top-level fields that differ.  A list of rows that all carry a
key (a pod's uid, a session's pid, ...) is diffed by row: the rows set or replaced, the
keys removed, and the order only when it changed.  Fields that are news rather than
state (a log batch's new lines) are kept whole: they never repeat.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

ROW_KEYS = ("uid", "pid", "key", "id", "name")
EVENT_FIELDS = frozenset({"lines"})  # LogBatch.lines: the lines since the last batch
ROWS = "~rows"


def key_among(values_of: Callable[[str], list[Any]]) -> str | None:
    """The field rows are keyed by: the first of ROW_KEYS whose values (`values_of(key)`,
    one per row) are all strings or ints, all different; None if there is none."""
    for key in ROW_KEYS:
        values = values_of(key)
        if all(isinstance(v, str | int) for v in values) and len(set(values)) == len(values):
            return key
    return None


def _row_key(rows: list[Any]) -> str | None:
    if not rows or not all(isinstance(row, dict) for row in rows):
        return None
    return key_among(lambda key: [row.get(key) for row in rows])


def _diff_rows(old: list[Any], new: list[Any]) -> Any:
    key = _row_key(new)
    if key is None or _row_key(old) != key:
        return new
    before = {row[key]: row for row in old}
    order = [row[key] for row in new]
    change: dict[str, Any] = {"key": key}
    # The same dict object is the same row (codec.RowCache): skip comparing it.
    changed = [row for row in new if (b := before.get(row[key])) is not row and b != row]
    if changed:
        change["set"] = changed
    if gone := set(before).difference(order):
        change["del"] = [k for k in before if k in gone]
    if implied_order(list(before), change) != order:
        change["order"] = order
    return {ROWS: change} if len(change) > 1 else None


def implied_order(old_keys: list[Any], change: dict[str, Any]) -> list[Any]:
    """The order `apply` gives without an explicit one: the rows kept, in their old
    order, then the new ones."""
    key, gone = change["key"], set(change.get("del", ()))
    kept = [k for k in old_keys if k not in gone]
    known = set(kept)
    return kept + [row[key] for row in change.get("set", ()) if row[key] not in known]


def diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """What `apply(old, ...)` needs to give `new`; {} when nothing changed."""
    change: dict[str, Any] = {}
    for field, value in new.items():
        if field in EVENT_FIELDS:
            if value:
                change[field] = value
            continue
        before = old.get(field)
        if before == value:
            continue
        if isinstance(value, list) and isinstance(before, list):
            rows = _diff_rows(before, value)
            if rows is None:
                continue
            change[field] = rows
        else:
            change[field] = value
    for field in EVENT_FIELDS.intersection(new):
        if not new[field] and old.get(field):
            change[field] = []
    return change


def apply(old: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    new = dict(old)
    for field in EVENT_FIELDS.intersection(new):
        new[field] = []  # news of the last batch is not news of this one
    for field, value in change.items():
        if isinstance(value, dict) and ROWS in value:
            new[field] = _apply_rows(old.get(field) or [], value[ROWS])
        else:
            new[field] = value
    return new


def _apply_rows(old: list[Any], change: dict[str, Any]) -> list[Any]:
    key = change["key"]
    rows = {row[key]: row for row in old}
    order = change.get("order") or implied_order(list(rows), change)
    for k in change.get("del", ()):
        rows.pop(k, None)
    rows.update((row[key], row) for row in change.get("set", ()))
    return [rows[k] for k in order]
