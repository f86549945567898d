"""The append-only action journal: one JSON object per line, fsynced before it counts.

Every action lands here — executed, dry-run, cancelled, refused, failed — with who,
where, what, the plan, the outcome and how long it took.  Secrets never do: every
string is passed through `redact` (DSN passwords, bearer tokens, known secrets).
"""

from __future__ import annotations

import getpass
import json
import os
import re
import socket
import sys
import threading
from collections import deque
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cockpit.config import redact
from cockpit.textsafe import clean

_TOKEN = re.compile(r"(?i)(bearer\s+|token[\"'=:\s]+)([A-Za-z0-9._~+/=-]{8,})")


def scrub(value: Any, secrets: tuple[str, ...] = ()) -> Any:
    """A copy with every string redacted."""
    if isinstance(value, str):
        return _TOKEN.sub(r"\1****", redact(value, secrets))
    if isinstance(value, dict):
        return {str(k): scrub(v, secrets) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(v, secrets) for v in value]
    return value


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid()) if hasattr(os, "getuid") else "unknown"


class Journal:
    """Appends entries durably.  Thread-safe; every append is flushed and fsynced."""

    def __init__(self, path: Path, secrets: tuple[str, ...] = ()) -> None:
        self.path = path
        self.secrets = secrets
        self._lock = threading.Lock()

    def append(self, entry: dict[str, Any]) -> dict[str, Any]:
        record = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "os_user": os_user(),
            "host": socket.gethostname(),
            **entry,
        }
        record = scrub(record, self.secrets)
        line = json.dumps(record, ensure_ascii=False, default=str, sort_keys=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line.encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)
        return record

    def read(self, tail: int = 0) -> list[dict[str, Any]]:
        """The last `tail` entries (all when 0); unreadable lines are skipped."""
        if not self.path.exists():
            return []
        keep: deque[dict[str, Any]] | list[dict[str, Any]]
        keep = deque(maxlen=tail) if tail > 0 else []
        with open(self.path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                try:
                    keep.append(json.loads(line))
                except ValueError:
                    continue
        return list(keep)


def format_entry(entry: dict[str, Any]) -> str:
    """One journal entry as a line a person reads."""
    targets = ", ".join(entry.get("targets") or [])
    outcome = entry.get("outcome", "?")
    mode = entry.get("mode", "")
    line = (
        f"{entry.get('time', '?')}  {entry.get('os_user', '?')}@{entry.get('context', '-')}"
        f"  {entry.get('action', '?')}  {targets}  [{mode}] {outcome}"
    )
    if entry.get("duration_s") is not None:
        line += f" in {entry['duration_s']:.1f}s"
    if entry.get("message"):
        line += f" — {entry['message']}"
    if entry.get("error"):
        line += f" — error: {entry['error']}"
    return clean(line, 2000)


def print_journal(path: Path, tail: int, as_json: bool) -> int:
    entries = Journal(path).read(tail)
    if not entries:
        print(f"no journal entries yet ({path})", file=sys.stderr)
        return 0
    for entry in entries:
        print(json.dumps(entry, ensure_ascii=False) if as_json else format_entry(entry))
    return 0
