"""The live feed: a recorder's changes, as they are written, to viewers on a local socket.

One recorder polls; any number of viewers (the browser sessions of `cockpit serve`)
connect to its Unix socket.  A viewer first gets the present (each source's whole state
and standing failure), then every change: a live view is a replay that keeps up.  The
wire is one JSON object per line.  A viewer that cannot keep up is dropped rather than
slowing the recorder down; it reconnects and starts again from the present.

The socket lives in a directory only its owner can enter: whoever can connect sees
everything the cockpit sees.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cockpit.recording import codec
from cockpit.recording.delta import apply
from cockpit.recording.recorder import FeedEvent, Recorder

QUEUE_LIMIT = 2000  # events a viewer may fall behind before it is dropped
LINE_LIMIT = 256 * 1024 * 1024  # one whole snapshot of a very large cluster


def _line(event: FeedEvent) -> bytes:
    wire = {"k": event.kind, "s": event.source, "at": event.at, "t": event.type, "b": event.body}
    return codec.dumps(wire) + b"\n"


class FeedServer:
    """Serves a recorder's changes on a Unix socket."""

    def __init__(self, recorder: Recorder, path: Path) -> None:
        self.recorder = recorder
        self.path = path
        self.viewers = 0
        self._queues: set[asyncio.Queue[FeedEvent | None]] = set()
        self._server: asyncio.AbstractServer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        self._server = await asyncio.start_unix_server(self._serve, path=str(self.path))
        os.chmod(self.path, 0o600)

    async def close(self) -> None:
        """Stop listening and end every viewer's stream (they see the feed end)."""
        if self._server is not None:
            self._server.close()
        for queue in list(self._queues):
            _end(queue)
        for _ in range(100):  # the viewers' handlers write their last and close
            if not self._queues:
                break
            await asyncio.sleep(0.02)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[FeedEvent | None] = asyncio.Queue(QUEUE_LIMIT)

        def listener(event: FeedEvent) -> None:  # on the recorder's thread
            loop.call_soon_threadsafe(_offer, queue, event)

        present = self.recorder.subscribe(listener)
        self.viewers += 1
        self._queues.add(queue)
        try:
            for event in present:
                writer.write(_line(event))
            await writer.drain()
            while (event := await queue.get()) is not None:
                writer.write(_line(event))
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self.recorder.unsubscribe(listener)
            self.viewers -= 1
            self._queues.discard(queue)
            writer.close()


def _offer(queue: asyncio.Queue[FeedEvent | None], event: FeedEvent) -> None:
    try:
        queue.put_nowait(event)
    except asyncio.QueueFull:  # too slow: end this viewer; it starts again from the present
        _end(queue)


def _end(queue: asyncio.Queue[FeedEvent | None]) -> None:
    with contextlib.suppress(asyncio.QueueEmpty):
        while True:
            queue.get_nowait()
    queue.put_nowait(None)


@dataclasses.dataclass
class FeedItem:
    """What a viewer shows next: a snapshot, a failure or a journal entry."""

    source: str
    at: float
    snapshot: Any = None
    failure: Any = None
    entry: dict[str, Any] | None = None


class FeedState:
    """A viewer's copy of each source's state, kept up by the feed's changes."""

    def __init__(self) -> None:
        self.plain: dict[str, dict[str, Any]] = {}
        self.snapshots: dict[str, Any] = {}

    def take(self, wire: dict[str, Any]) -> FeedItem | None:
        kind, source, at = wire["k"], wire["s"], wire["at"]
        if kind == "key":
            self.plain[source] = wire["b"]
        elif kind == "delta":
            if source not in self.plain:
                return None  # joined mid-change: the next keyframe brings it
            self.plain[source] = apply(self.plain[source], wire["b"])
        elif kind == "same":
            last = self.snapshots.get(source)
            if last is None or not hasattr(last, "taken_at"):
                return None
            again = dataclasses.replace(last, taken_at=datetime.fromtimestamp(at, UTC))
            self.snapshots[source] = again
            return FeedItem(source, at, snapshot=again)
        elif kind == "failure":
            return FeedItem(source, at, failure=codec.from_plain("SourceFailure", wire["b"]))
        elif kind == "action":
            return FeedItem(source, at, entry=wire["b"])
        else:
            return None
        snapshot = codec.from_plain(wire["t"], self.plain[source])
        self.snapshots[source] = snapshot
        return FeedItem(source, at, snapshot=snapshot)


async def follow(path: Path) -> AsyncIterator[dict[str, Any]]:
    """The feed's lines as they come, parsed (ends when the recorder goes away)."""
    reader, writer = await asyncio.open_unix_connection(str(path), limit=LINE_LIMIT)
    try:
        while line := await reader.readline():
            yield codec.loads(line)
    finally:
        writer.close()
