"""The recording file: SQLite, one row per change, bounded in size.

Rows are keyframes (a whole snapshot), deltas (what changed since the source's previous
row), failures and journal entries; a snapshot whose rows mostly changed is stored
whole, as a keyframe (smaller than the change, and no diff to compute).  A snapshot equal
to the previous one but for its `taken_at` adds no row: it moves the previous row's
`until` (when it was last seen), so a quiet cluster costs an UPDATE, not a row.  Every
source gets a keyframe at least every KEYFRAME_EVERY seconds, so reading a moment never
replays more than that.  When the file outgrows its bound, the oldest quarter is dropped,
after the first row kept of each source has been rewritten as a keyframe.
"""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cockpit.model import SourceFailure
from cockpit.recording import codec, jsonrows
from cockpit.recording.delta import apply

KEY, DELTA, FAILURE, ACTION = 0, 1, 2, 3
JOURNAL = "journal"  # the source name of journal entries
KEYFRAME_EVERY = 300.0  # seconds
DEFAULT_MAX_BYTES = 256 * 1024 * 1024
FORMAT = "cockpit-recording/1"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sources (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL);
CREATE TABLE IF NOT EXISTS frames (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,      -- epoch seconds, when the source produced it
    until REAL NOT NULL,   -- when the same snapshot was last seen
    source INTEGER NOT NULL REFERENCES sources(id),
    kind INTEGER NOT NULL, -- 0 keyframe, 1 delta, 2 failure, 3 journal entry
    type TEXT NOT NULL,    -- the cockpit.model class of the snapshot
    level INTEGER,         -- the snapshot's Level (NULL: none, or not a snapshot)
    body BLOB NOT NULL     -- zlib-compressed JSON
);
CREATE INDEX IF NOT EXISTS frames_source_at ON frames (source, at);
CREATE INDEX IF NOT EXISTS frames_at ON frames (at);
"""


class RecordingError(Exception):
    """The file is not a recording, or cannot be read or written; worded for a person."""


class RecordingEmpty(RecordingError):
    """The file is there but empty: a recorder has only just created it."""


def _epoch(at: datetime) -> float:
    return at.timestamp()


def _time(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


BIG_BODY = 256 * 1024  # bytes of JSON from which zlib's fastest level is used


def _pack(plain: Any) -> bytes:
    return _compress(codec.dumps(plain))


def _compress(data: bytes) -> bytes:
    # Level 1 takes a third of level 6's time for a fifth more bytes: the right trade for
    # the big bodies written every poll (5,000 pods' usage: 1.5 MB of JSON every 15 s).
    return zlib.compress(data, 1 if len(data) >= BIG_BODY else 6)


def _unpack(body: bytes) -> Any:
    return codec.loads(zlib.decompress(body))


def _connect(path: Path, *, create: bool) -> sqlite3.Connection:
    if not create and not path.is_file():
        raise RecordingError(f"{path}: no such recording")
    if not create and path.stat().st_size == 0:  # its recorder is creating it
        raise RecordingEmpty(f"{path}: holds nothing yet (its recorder is just starting)")
    try:
        db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        if create:
            db.execute("PRAGMA auto_vacuum = INCREMENTAL")  # only takes on a new file
            db.execute("PRAGMA journal_mode = WAL")
            db.executescript(SCHEMA)
            db.execute("INSERT OR IGNORE INTO meta VALUES ('format', ?)", (FORMAT,))
        found = db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
    except sqlite3.DatabaseError as exc:
        raise RecordingError(f"{path}: not a cockpit recording ({exc})") from exc
    if found is None or found[0] != FORMAT:
        raise RecordingError(f"{path}: not a cockpit recording (format {found})")
    return db


# -- writing ------------------------------------------------------------------------------


@dataclass
class _Last:
    """What the writer knows of a source's previous row."""

    row: int
    state: Any  # the plain snapshot (its rows maybe JsonRows), or codec.Encoded
    snapshot: Any
    type: str
    keyframe_at: float

    @property
    def plain(self) -> dict[str, Any]:
        if isinstance(self.state, codec.Encoded):
            self.state = codec.decoded(self.state)
        return self.state  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Written:
    """What a write did, for the live feed: the row's kind, the snapshot's class, what
    was stored (a whole snapshot, a change, None for "the same again") and the state.
    A whole snapshot may come `codec.Encoded` (see RecordingWriter._whole), or with
    its rows as `jsonrows.JsonRows` (codec.RowCache): `codec.decoded` gives the dicts."""

    kind: str  # "key" / "delta" / "same" / "failure"
    type: str
    body: Any
    state: Any


class RecordingWriter:
    """Appends to a recording.  Not thread-safe: one thread writes (see recorder.py)."""

    def __init__(
        self, path: Path, max_bytes: int = DEFAULT_MAX_BYTES, secrets: tuple[str, ...] = ()
    ) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.secrets = secrets
        path.parent.mkdir(parents=True, exist_ok=True)
        # Readable by its owner only, like the journal: log lines and queries are in it.
        # (SQLite gives its -wal and -shm files the database file's permissions.)
        path.touch(mode=0o600, exist_ok=True)
        path.chmod(0o600)  # a file from before this rule, too
        self.db = _connect(path, create=True)
        self._source_ids: dict[str, int] = dict(
            (name, id_) for id_, name in self.db.execute("SELECT id, name FROM sources")
        )
        self._last: dict[str, _Last] = {}
        self._caches: dict[str, codec.RowCache] = {}
        self.db.execute("BEGIN")

    # Each returns quickly; commit() makes them durable (the recorder calls it every second).

    def snapshot(self, source: str, snapshot: object, at: datetime) -> Written:
        when = _epoch(at)
        last = self._last.get(source)
        if last is not None and _same_but_time(last.snapshot, snapshot):
            self.db.execute("UPDATE frames SET until = ? WHERE id = ?", (when, last.row))
            last.snapshot = snapshot
            return Written("same", last.type, None, last.state)
        name = codec.type_name(snapshot)
        if (
            last is not None
            and last.type == name
            and source in codec.NOTHING_SECRET
            and codec.mostly_changed(last.snapshot, snapshot)
        ):
            return self._whole(when, source, name, snapshot)
        if (rows := self._caches.get(source)) is None:
            rows = self._caches[source] = codec.RowCache(source, self.secrets)
        plain = rows.to_plain(snapshot)
        if last is None or last.type != name or when - last.keyframe_at >= KEYFRAME_EVERY:
            row = self._insert(when, source, KEY, name, plain, _level(snapshot))
            self._last[source] = _Last(row, plain, snapshot, name, when)
            return Written("key", name, plain, plain)
        change = jsonrows.diff(last.plain, plain)  # its rows may be JsonRows
        row = self._insert(when, source, DELTA, name, change, _level(snapshot))
        self._last[source] = _Last(row, plain, snapshot, name, last.keyframe_at)
        return Written("delta", name, change, plain)

    def _whole(self, when: float, source: str, name: str, snapshot: object) -> Written:
        """A keyframe encoded straight from the snapshot: no plain rows built, no diff.
        (orjson's encoding of the dataclasses is the very JSON of codec.to_plain, which
        scrubs nothing for these sources.)"""
        data = codec.dumps(snapshot)
        row = self._insert_body(when, source, KEY, name, _compress(data), _level(snapshot))
        state = codec.Encoded(codec.kept(data))
        self._caches.pop(source, None)  # none of its rows are in this snapshot
        self._last[source] = _Last(row, state, snapshot, name, when)
        return Written("key", name, state, state)

    def failure(self, failure: SourceFailure, at: datetime) -> Written:
        plain = codec.to_plain(failure, "", self.secrets)
        self._insert(_epoch(at), failure.source, FAILURE, "SourceFailure", plain)
        if (last := self._last.get(failure.source)) is not None:
            last.snapshot = None  # the same snapshot after this is a recovery: a row of its own
        return Written("failure", "SourceFailure", plain, plain)

    def action(self, entry: dict[str, Any], at: datetime) -> None:
        plain = codec.to_plain(entry, "", self.secrets)
        self._insert(_epoch(at), JOURNAL, ACTION, "journal", plain)

    def commit(self) -> None:
        self.db.execute("COMMIT")
        self._bound()
        self.db.execute("BEGIN")

    def close(self) -> None:
        try:
            self.db.execute("COMMIT")
        finally:
            self.db.close()

    def size(self) -> int:
        page_size, pages, free = (
            self.db.execute(f"PRAGMA {p}").fetchone()[0]
            for p in ("page_size", "page_count", "freelist_count")
        )
        return page_size * (pages - free)

    def _source_id(self, source: str) -> int:
        if (id_ := self._source_ids.get(source)) is None:
            id_ = self.db.execute("INSERT INTO sources (name) VALUES (?)", (source,)).lastrowid
            self._source_ids[source] = id_ = int(id_ or 0)
        return id_

    def _insert(
        self, when: float, source: str, kind: int, name: str, plain: Any, level: int | None = None
    ) -> int:
        return self._insert_body(when, source, kind, name, _pack(plain), level)

    def _insert_body(
        self, when: float, source: str, kind: int, name: str, body: bytes, level: int | None
    ) -> int:
        cursor = self.db.execute(
            "INSERT INTO frames (at, until, source, kind, type, level, body)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (when, when, self._source_id(source), kind, name, level, body),
        )
        return int(cursor.lastrowid or 0)

    def _bound(self) -> None:
        """Drop the oldest quarter while the file is over its bound."""
        while self.size() > self.max_bytes:
            rows = self.db.execute("SELECT count(*) FROM frames").fetchone()[0]
            if rows < 8:
                return
            cutoff = self.db.execute(
                "SELECT at FROM frames ORDER BY at LIMIT 1 OFFSET ?", (rows // 4,)
            ).fetchone()[0]
            self.db.execute("BEGIN")
            _keyframe_first_rows_from(self.db, cutoff)
            self.db.execute("DELETE FROM frames WHERE at < ?", (cutoff,))
            self.db.execute("COMMIT")
            self.db.execute("PRAGMA incremental_vacuum")
            for last in self._last.values():
                last.keyframe_at = min(last.keyframe_at, cutoff)


def _level(snapshot: object) -> int | None:
    level = getattr(snapshot, "level", None)
    return int(level) if isinstance(level, int) else None


def _same_but_time(old: object, new: object) -> bool:
    if old is None or type(old) is not type(new) or not hasattr(new, "taken_at"):
        return False
    if type(new).__name__ == "LogBatch" and new.lines:  # type: ignore[attr-defined]
        return False
    return dataclasses.replace(new, taken_at=old.taken_at) == old  # type: ignore[type-var,attr-defined]


def _keyframe_first_rows_from(db: sqlite3.Connection, cutoff: float) -> None:
    """Before the rows older than `cutoff` go, each source's first younger delta becomes
    the keyframe it would otherwise need those rows for."""
    for (source,) in db.execute("SELECT id FROM sources").fetchall():
        first = db.execute(
            "SELECT id, kind FROM frames WHERE source = ? AND at >= ? AND kind IN (0, 1)"
            " ORDER BY at, id LIMIT 1",
            (source, cutoff),
        ).fetchone()
        if first is None or first[1] == KEY:
            continue
        plain = _state_of_row(db, source, first[0])
        if plain is not None:
            keyframe = (_pack(plain), first[0])
            db.execute("UPDATE frames SET kind = 0, body = ? WHERE id = ?", keyframe)


def _state_of_row(db: sqlite3.Connection, source: int, row: int) -> dict[str, Any] | None:
    key = db.execute(
        "SELECT id, body FROM frames WHERE source = ? AND kind = 0 AND id <= ?"
        " ORDER BY id DESC LIMIT 1",
        (source, row),
    ).fetchone()
    if key is None:
        return None
    plain = _unpack(key[1])
    for (body,) in db.execute(
        "SELECT body FROM frames WHERE source = ? AND kind = 1 AND id > ? AND id <= ? ORDER BY id",
        (source, key[0], row),
    ):
        plain = apply(plain, _unpack(body))
    return plain


# -- reading ------------------------------------------------------------------------------


class Frame:
    """One row of a recording; the snapshot is decoded on first access."""

    __slots__ = ("_decoded", "at", "kind", "plain", "source", "type", "until")

    def __init__(
        self, at: datetime, until: datetime, source: str, kind: int, type_: str, plain: Any
    ) -> None:
        self.at, self.until, self.source = at, until, source
        self.kind, self.type, self.plain = kind, type_, plain
        self._decoded: Any = None

    def _decode(self) -> Any:
        if self._decoded is None:
            self._decoded = codec.from_plain(self.type, self.plain)
        return self._decoded

    @property
    def snapshot(self) -> Any:
        return self._decode() if self.kind in (KEY, DELTA) else None

    @property
    def failure(self) -> SourceFailure | None:
        return self._decode() if self.kind == FAILURE else None

    @property
    def entry(self) -> dict[str, Any] | None:
        return self.plain if self.kind == ACTION else None

    def __repr__(self) -> str:
        return f"Frame({self.at.isoformat()}, {self.source}, kind={self.kind}, {self.type})"


@dataclass(frozen=True)
class SourceState:
    """What a pane showed at a moment: the last snapshot, and the failure after it."""

    snapshot: Any
    snapshot_at: datetime | None
    failure: SourceFailure | None
    failure_at: datetime | None


class RecordingReader:
    """Reads a recording, also while it is being written."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = _connect(path, create=False)
        self._lock = threading.Lock()
        self._levels = _LevelIndex()

    def close(self) -> None:
        self.db.close()

    def _names(self) -> dict[int, str]:
        return dict(self.db.execute("SELECT id, name FROM sources"))

    def span(self) -> tuple[datetime, datetime] | None:
        with self._lock:
            first, last = self.db.execute("SELECT min(at), max(until) FROM frames").fetchone()
        return None if first is None else (_time(first), _time(last))

    def sources(self) -> list[str]:
        with self._lock:
            used = self.db.execute(
                "SELECT DISTINCT name FROM frames JOIN sources ON sources.id = frames.source"
                " WHERE kind != 3 ORDER BY name"
            )
            return [name for (name,) in used]

    def frames(
        self,
        start: datetime | None = None,
        end: datetime | None = None,
        sources: Iterable[str] | None = None,
    ) -> Iterator[Frame]:
        """Every row from `start` to `end` in time order, snapshots whole."""
        names = self._names()
        wanted = None if sources is None else {i for i, n in names.items() if n in set(sources)}
        low = _epoch(start) if start else float("-inf")
        high = _epoch(end) if end else float("inf")
        states: dict[int, dict[str, Any]] = {}
        with self._lock:
            if start is not None:  # each source's state at `start`
                for id_ in names:
                    if wanted is None or id_ in wanted:
                        last = self.db.execute(
                            "SELECT id FROM frames WHERE source = ? AND at < ? AND kind IN (0, 1)"
                            " ORDER BY at DESC, id DESC LIMIT 1",
                            (id_, low),
                        ).fetchone()
                        if last and (plain := _state_of_row(self.db, id_, last[0])) is not None:
                            states[id_] = plain
            rows = self.db.execute(
                "SELECT at, until, source, kind, type, body FROM frames"
                " WHERE at >= ? AND at <= ? ORDER BY at, id",
                (low, high),
            ).fetchall()
        for at, until, source, kind, type_, body in rows:
            if wanted is not None and source not in wanted:
                continue
            plain = _unpack(body)
            if kind == DELTA:
                if source not in states:
                    continue  # its keyframe was dropped with the oldest data
                plain = states[source] = apply(states[source], plain)
            elif kind == KEY:
                states[source] = plain
            yield Frame(_time(at), _time(until), names[source], kind, type_, plain)

    def actions(
        self, start: datetime | None = None, end: datetime | None = None
    ) -> list[tuple[datetime, dict[str, Any]]]:
        return [(frame.at, frame.plain) for frame in self.frames(start, end, sources=(JOURNAL,))]

    def state_at(self, at: datetime) -> dict[str, SourceState]:
        """Every source as it stood at `at`."""
        when = _epoch(at)
        states: dict[str, SourceState] = {}
        with self._lock:
            for id_, name in self._names().items():
                if name == JOURNAL:
                    continue
                snap = self.db.execute(
                    "SELECT id, at, until, type FROM frames WHERE source = ? AND at <= ?"
                    " AND kind IN (0, 1) ORDER BY at DESC, id DESC LIMIT 1",
                    (id_, when),
                ).fetchone()
                fail = self.db.execute(
                    "SELECT at, body FROM frames WHERE source = ? AND at <= ? AND kind = 2"
                    " ORDER BY at DESC, id DESC LIMIT 1",
                    (id_, when),
                ).fetchone()
                snapshot = snapshot_at = None
                if snap is not None and (plain := _state_of_row(self.db, id_, snap[0])):
                    snapshot = codec.from_plain(snap[3], plain)
                    # Seen again, unchanged, until `until`: as fresh as the moment asked.
                    seen = min(snap[2], when)
                    snapshot_at = _time(seen)
                    if hasattr(snapshot, "taken_at"):
                        snapshot = dataclasses.replace(snapshot, taken_at=snapshot_at)
                failure = failure_at = None
                if fail is not None and (snap is None or fail[0] > min(snap[2], when)):
                    failure = codec.from_plain("SourceFailure", _unpack(fail[1]))
                    failure_at = _time(fail[0])
                if snapshot is not None or failure is not None:
                    states[name] = SourceState(snapshot, snapshot_at, failure, failure_at)
        return states

    def change_times(self, start: datetime | None = None) -> list[datetime]:
        """When each row was written (what stepping moves between)."""
        low = _epoch(start) if start else float("-inf")
        with self._lock:
            return [
                _time(at)
                for (at,) in self.db.execute(
                    "SELECT DISTINCT at FROM frames WHERE at >= ? ORDER BY at", (low,)
                )
            ]

    def level_changes(
        self, start: datetime | None = None, end: datetime | None = None
    ) -> list[LevelChange]:
        """Each time a source's level changed, or it went stale (a failure) or came back."""
        low = _epoch(start) if start else float("-inf")
        high = _epoch(end) if end else float("inf")
        with self._lock:
            self._levels.read_new(self.db)
            changes = self._levels.changes
        return [c for c in changes if low <= c.at.timestamp() <= high]

    def log_lines(self, end: datetime, limit: int = 500) -> list[dict[str, Any]]:
        """The last `limit` log lines recorded up to `end`, oldest first (plain rows)."""
        found: list[dict[str, Any]] = []
        with self._lock:
            rows = self.db.execute(
                "SELECT body FROM frames JOIN sources ON sources.id = frames.source"
                " WHERE name = 'logs' AND kind IN (0, 1) AND at <= ?"
                " ORDER BY at DESC, frames.id DESC",
                (_epoch(end),),
            )
            for (body,) in rows:
                lines = _unpack(body).get("lines") or []
                found[:0] = lines
                if len(found) >= limit:
                    break
        return found[-limit:]


STALE = -1  # a level change to a failure
UNKNOWN = -2  # before the source's first row


class _LevelIndex:
    """The level changes read so far.  Replay asks for them on every `<` and `>`, and a
    file still being written grows: only the rows written since the last call are read,
    unless the bound deleted old rows (then the first ones kept are keyframes: all again)."""

    def __init__(self) -> None:
        self._start_over(None)

    def _start_over(self, first_id: int | None) -> None:
        self.changes: list[LevelChange] = []
        self._current: dict[int, int | None] = {}
        self._first_id = first_id
        self._last_id = 0

    def read_new(self, db: sqlite3.Connection) -> None:
        first = db.execute("SELECT min(id) FROM frames").fetchone()[0]
        if first != self._first_id:  # the oldest rows are gone (or the first came)
            self._start_over(first)
        rows = db.execute(
            "SELECT id, at, source, kind, level FROM frames WHERE kind != 3 AND id > ?"
            " ORDER BY at, id",
            (self._last_id,),
        ).fetchall()
        if not rows:
            return
        names = dict(db.execute("SELECT id, name FROM sources"))
        added = False
        for row_id, at, source, kind, level in rows:
            self._last_id = max(self._last_id, row_id)
            now = STALE if kind == FAILURE else level
            if now is None and kind != FAILURE:
                continue
            before = self._current.get(source, UNKNOWN)
            self._current[source] = now
            if now != before:
                self.changes.append(LevelChange(_time(at), names[source], before, now))
                added = True
        if added:  # a source's rows come in time order; sources may interleave
            self.changes.sort(key=lambda c: c.at)


@dataclass(frozen=True)
class LevelChange:
    at: datetime
    source: str
    old: int | None  # a Level, STALE or UNKNOWN
    new: int | None
