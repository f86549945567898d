"""What pollers post to the main screen: a source's snapshot, or why there is none.

A module of its own, so that the pollers (cockpit/startup.py), which also run without a
screen (cockpit/headless.py), need no widget to name them."""

from __future__ import annotations

from typing import Any

from textual.message import Message

from cockpit.model import SourceFailure


class SnapshotReady(Message):
    def __init__(self, source: str, snapshot: Any) -> None:
        super().__init__()
        self.source = source
        self.snapshot = snapshot


class SourceFailed(Message):
    def __init__(self, failure: SourceFailure) -> None:
        super().__init__()
        self.failure = failure

    @property
    def source(self) -> str:
        return self.failure.source
