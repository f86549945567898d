"""A recorder's live feed, as a viewer sees it: for the tests of what viewers get."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

from cockpit.recording.recorder import FeedEvent, Recorder


def record_and_watch(
    path: Path, writes: list[tuple[str, object, datetime]], events: int
) -> tuple[list[FeedEvent], dict[str, FeedEvent]]:
    """A recorder at `path` given `writes` (source, snapshot, time): the events its feed
    sent (once `events` came, 15 s at most), and the present a viewer joining then got,
    by source."""
    recorder = Recorder(path)
    seen: list[FeedEvent] = []
    recorder.subscribe(seen.append)
    recorder.start()
    try:
        for source, snapshot, at in writes:
            recorder.snapshot(source, snapshot, at)
        deadline = time.monotonic() + 15
        while len(seen) < events and time.monotonic() < deadline:
            time.sleep(0.02)
        present = {e.source: e for e in recorder.subscribe(lambda _e: None)}
    finally:
        recorder.stop()
    return seen, present
