"""Where a guided restore stands, on disk, so that a cockpit that dies mid-way can say at
its next start which steps are done and what comes next.

One JSON file beside the journal (`restore.json`), replaced atomically (write, fsync,
rename) after every step.  The journal remains the record of what was done; this file
is only the bookmark.  A finished or abandoned procedure is moved aside to
`restore.<id>.json`, so the next start finds nothing unfinished.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# The runbook's restore, in order.  "rehearse" is optional (it may be skipped).
STEPS = ("stop", "choose", "rehearse", "restore", "start")
STEP_TITLES = {
    "stop": "Stop the writers",
    "choose": "Choose a dump",
    "rehearse": "Rehearse into a scratch database (optional)",
    "restore": "Restore into the database",
    "start": "Start the writers, wait for Ready and health",
}
PENDING, RUNNING, DONE, SKIPPED, FAILED = "pending", "running", "done", "skipped", "failed"
FINISHED = (DONE, SKIPPED)


def now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class StepState:
    status: str = PENDING
    detail: str = ""  # the outcome in words, or why it failed
    at: str = ""  # when it last changed (UTC)


@dataclass
class DumpChoice:
    """The dump chosen in step 2: an S3 object or a file in the backup pod."""

    source: str  # "s3" or "pod"
    key: str  # the object key, or the file's path in the pod
    size: int = 0
    when: str = ""  # its time, as shown
    sha256: str = ""

    @property
    def where(self) -> str:
        return self.key if self.source == "s3" else f"pod:{self.key}"


@dataclass
class RestoreState:
    database: str
    context: str
    namespace: str
    writers: dict[str, int]  # deployment -> the replicas to start again (the runbook's)
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    started_at: str = field(default_factory=now_text)
    stopped_from: dict[str, int] = field(default_factory=dict)  # replicas before the stop
    dump: DumpChoice | None = None
    steps: dict[str, StepState] = field(default_factory=lambda: {s: StepState() for s in STEPS})
    abandoned: bool = False

    def mark(self, step: str, status: str, detail: str = "") -> None:
        self.steps[step] = StepState(status, detail, now_text())

    def finish_step(self, step: str, ok: bool, message: str, data: dict[str, Any]) -> None:
        """A step's outcome; the stop also records the replicas the writers had."""
        self.mark(step, DONE if ok else FAILED, message)
        if ok and step == "stop":
            self.stopped_from = dict(data.get("stopped_from") or {})

    @property
    def next_step(self) -> str | None:
        """The first step not done or skipped (None: the procedure is complete)."""
        return next((s for s in STEPS if self.steps[s].status not in FINISHED), None)

    @property
    def finished(self) -> bool:
        return self.abandoned or self.next_step is None

    def summary(self) -> str:
        done = [s for s in STEPS if self.steps[s].status in FINISHED]
        nxt = self.next_step
        return (
            f"restore of {self.database} started {self.started_at}: "
            f"{len(done)}/{len(STEPS)} steps done"
            + (f"; next: {STEP_TITLES[nxt]}" if nxt else "; complete")
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RestoreState:
        steps = {s: StepState(**(data.get("steps") or {}).get(s, {})) for s in STEPS}
        dump = data.get("dump")
        return cls(
            database=str(data["database"]),
            context=str(data.get("context", "")),
            namespace=str(data.get("namespace", "")),
            writers={str(k): int(v) for k, v in (data.get("writers") or {}).items()},
            id=str(data.get("id") or uuid.uuid4().hex[:12]),
            started_at=str(data.get("started_at", "")),
            stopped_from={str(k): int(v) for k, v in (data.get("stopped_from") or {}).items()},
            dump=DumpChoice(**dump) if dump else None,
            steps=steps,
            abandoned=bool(data.get("abandoned", False)),
        )


class StateFileError(Exception):
    """The bookmark file exists but cannot be read (the message says what to do)."""


class StateFile:
    """The bookmark: `restore.json` in the journal's directory."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "restore.json"

    def load(self) -> RestoreState | None:
        """The unfinished procedure, if there is one."""
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StateFileError(f"cannot read {self.path}: {exc.strerror}") from exc
        try:
            state = RestoreState.from_json(json.loads(raw))
        except (ValueError, KeyError, TypeError) as exc:
            raise StateFileError(
                f"{self.path} is damaged ({exc}); the journal has the steps that ran — "
                "move the file aside to start a new restore"
            ) from exc
        return None if state.finished else state

    def save(self, state: RestoreState) -> None:
        """Atomically: a crash leaves the previous bookmark or this one, never half."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".json.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(state.to_json(), f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
        if state.finished:  # keep it for the record, out of the next start's way
            os.replace(self.path, self.path.with_name(f"restore.{state.id}.json"))
