"""The recorder: a thread that writes what the sources report to a recording.

Sources hand it snapshots and failures without waiting (a queue); the thread compares,
encodes, compresses and writes them, and follows the action journal for the entries any
cockpit on this machine appends.  It also keeps each source's latest state, so that a
live feed (feed.py) can give a new viewer the present before the changes that follow.
"""

from __future__ import annotations

import fcntl
import json
import os
import queue
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from cockpit import uipriority
from cockpit.model import SourceFailure
from cockpit.recording import codec
from cockpit.recording.store import DEFAULT_MAX_BYTES, RecordingWriter, Written
from cockpit.redaction import known_secrets

if TYPE_CHECKING:
    from cockpit.config import Settings

COMMIT_EVERY = 1.0  # seconds: what a crash can lose
LOG_TAIL = 500  # error lines a viewer that joins is given


@dataclass(frozen=True)
class FeedEvent:
    """One change, as a live viewer needs it (see feed.py)."""

    kind: str  # "key" / "delta" / "same" / "failure" / "action"
    source: str
    at: float  # epoch seconds
    type: str = ""
    body: Any = None  # the plain snapshot, change, failure or journal entry


Listener = Callable[[FeedEvent], None]


class JournalFollower:
    """New lines of the action journal, from where it ended when we started."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.offset = path.stat().st_size if path is not None and path.exists() else 0
        self._partial = b""

    def new_entries(self) -> list[dict[str, Any]]:
        if self.path is None:
            return []
        try:
            with self.path.open("rb") as file:
                size = file.seek(0, 2)
                if size < self.offset:  # rotated or truncated: start again
                    self.offset, self._partial = 0, b""
                file.seek(self.offset)
                data = file.read()
        except OSError:
            return []
        self.offset += len(data)
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        entries = []
        for line in lines:
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a damaged line: the journal tool says so, not the recorder
            if isinstance(entry, dict):
                entries.append(entry)
        return entries


def _decoded(event: FeedEvent) -> FeedEvent:
    return replace(event, body=codec.decoded(event.body))


def _entry_time(entry: dict[str, Any]) -> datetime:
    try:
        return datetime.fromisoformat(str(entry["time"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return datetime.now(UTC)


class Recorder:
    """Records in a thread of its own; `snapshot` and `failure` never block."""

    def __init__(
        self,
        path: Path,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        secrets: tuple[str, ...] = (),
        journal: Path | None = None,
    ) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.secrets = secrets
        self.journal = JournalFollower(journal)
        self.problem: str | None = None  # why recording stopped, in words
        self._queue: queue.SimpleQueue[tuple[str, Any, datetime] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []
        self._present: dict[str, FeedEvent] = {}  # each source's last keyframe-like state
        self._failures: dict[str, FeedEvent] = {}
        self._log_tail: deque[Any] = deque(maxlen=LOG_TAIL)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="recorder", daemon=True)
        self._thread.start()

    def snapshot(self, source: str, snapshot: object, at: datetime | None = None) -> None:
        self._queue.put(("snapshot", (source, snapshot), at or datetime.now(UTC)))

    def failure(self, failure: SourceFailure, at: datetime | None = None) -> None:
        self._queue.put(("failure", failure, at or datetime.now(UTC)))

    def stop(self, timeout: float = 5.0) -> None:
        """Write what is queued and close the file."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None

    # -- the live feed ------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> list[FeedEvent]:
        """Calls `listener` (on the recorder's thread) with every change from now on, and
        returns the present: each source's whole state and standing failure."""
        with self._lock:
            self._listeners.append(listener)
            for source, event in self._present.items():
                if codec.kept_encoded(event.body):  # decoded once, for the viewers
                    self._present[source] = _decoded(event)
            return [*self._present.values(), *self._failures.values()]

    def unsubscribe(self, listener: Listener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def _publish(self, event: FeedEvent) -> None:
        with self._lock:
            listeners = list(self._listeners)
        if listeners and codec.kept_encoded(event.body):
            event = _decoded(event)
        for listener in listeners:
            listener(event)

    # -- the thread ---------------------------------------------------------------------

    def _run(self) -> None:
        try:
            lock = self._lock_file()
            writer = RecordingWriter(self.path, self.max_bytes, self.secrets)
        except Exception as exc:  # the app records nothing but keeps running
            self.problem = f"not recording: {exc}"
            self._drain_without_writer()
            return
        last_commit = datetime.now(UTC)
        try:
            while True:
                try:
                    item = self._queue.get(timeout=COMMIT_EVERY)
                except queue.Empty:
                    item = ("tick", None, datetime.now(UTC))
                if item is None:
                    break
                # A whole snapshot is encoded in one call that keeps the GIL (orjson):
                # not while the event loop draws or shows one (cockpit/uipriority.py).
                uipriority.courtesy()
                try:
                    self._handle(writer, *item)
                except Exception as exc:  # one snapshot that cannot be stored
                    self.problem = f"recording skipped a {item[0]}: {exc}"
                now = datetime.now(UTC)
                if (now - last_commit).total_seconds() >= COMMIT_EVERY:
                    for entry in self.journal.new_entries():
                        self._action(writer, entry)
                    writer.commit()
                    last_commit = now
            for entry in self.journal.new_entries():
                self._action(writer, entry)
        except Exception as exc:
            self.problem = f"recording to {self.path} stopped: {exc}"
            self._drain_without_writer()
        finally:
            try:
                writer.close()
            except Exception:
                pass
            lock.close()

    def _lock_file(self) -> IO[bytes]:
        """One writer per file: two cockpits interleaving their changes would make a
        recording that neither could read back."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        lock = os.fdopen(os.open(lock_path, os.O_WRONLY | os.O_CREAT, 0o600), "wb")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.close()
            raise RuntimeError(f"another cockpit is recording to {self.path}") from None
        return lock

    def _drain_without_writer(self) -> None:
        while self._queue.get() is not None:
            pass

    def _handle(self, writer: RecordingWriter, what: str, payload: Any, at: datetime) -> None:
        epoch = at.timestamp()
        if what == "snapshot":
            source, snapshot = payload
            written = writer.snapshot(source, snapshot, at)
            self._note(source, epoch, written)
        elif what == "failure":
            written = writer.failure(payload, at)
            event = FeedEvent("failure", payload.source, epoch, written.type, written.body)
            with self._lock:
                self._failures[payload.source] = event
            self._publish(event)

    def _note(self, source: str, epoch: float, written: Written) -> None:
        kind = written.kind
        event = FeedEvent(kind, source, epoch, written.type, written.body)
        with self._lock:
            self._failures.pop(source, None)
            state = written.state
            if source == "logs" and state is not None and kind != "same":
                # A viewer that joins sees the lines of the last minutes, not of one batch.
                self._log_tail.extend(state.get("lines") or ())
                state = {**state, "lines": list(self._log_tail)}
            if state is not None:
                self._present[source] = FeedEvent("key", source, epoch, written.type, state)
        self._publish(event)

    def _action(self, writer: RecordingWriter, entry: dict[str, Any]) -> None:
        at = _entry_time(entry)
        writer.action(entry, at)
        self._publish(FeedEvent("action", "journal", at.timestamp(), "journal", entry))


def recorder_for(settings: Settings) -> Recorder | None:
    """The recorder the settings ask for, not yet started (None: recording is off)."""
    if not settings.recorder.enabled:
        return None
    return Recorder(
        settings.effective_recording_path(),
        max_bytes=settings.recorder.max_mb * 1024 * 1024,
        secrets=known_secrets(settings),
        journal=settings.effective_journal_path(),
    )
