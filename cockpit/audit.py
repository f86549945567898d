"""The append-only action journal: one JSON object per line, fsynced before it counts.

Every action lands here — executed, dry-run, cancelled, refused, failed — with who,
where, what, the plan, the outcome and how long it took.  An execution takes two lines
sharing a `run` id: the intent (outcome "started"), on disk before anything is sent, and
the outcome once it is known; an intent without an outcome is an execution that was
interrupted (a crash, a kill, a dropped SSH session).  Secrets never do: every string is
passed through `redact` (DSN passwords, bearer tokens, known secrets).
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

from cockpit.redaction import REDACT_NEEDS, redact
from cockpit.textsafe import clean

_TOKEN = re.compile(r"(?i)(bearer\s+|token[\"'=:\s]+)([A-Za-z0-9._~+/=-]{8,})")
# What a pattern that masks needs to match: config.redact's, and _TOKEN's bearer or
# token.  Most strings (log lines) have none and no known secret: one search instead of
# three substitutions, a quarter of the flight recorder's scrub time.
_MAY_MASK = re.compile("|".join(map(re.escape, (*REDACT_NEEDS, "bearer", "token"))), re.I)


def scrub_text(text: str, secrets: tuple[str, ...] = ()) -> str:
    """`text` with DSN passwords, password=, tokens and known secrets masked."""
    if _MAY_MASK.search(text) is None and not any(s and s in text for s in secrets):
        return text
    return _TOKEN.sub(r"\1****", redact(text, secrets))


def scrub(value: Any, secrets: tuple[str, ...] = ()) -> Any:
    """A copy with every string redacted."""
    if isinstance(value, str):
        return scrub_text(value, secrets)
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


STARTED = "started"  # the outcome of an intent line


class JournalUnwritable(Exception):
    """The journal cannot be written: no action may run (no audit, no action)."""


class Journal:
    """Appends entries durably.  Thread-safe; every append is flushed and fsynced."""

    def __init__(self, path: Path, secrets: tuple[str, ...] = ()) -> None:
        self.path = path
        self.secrets = secrets
        self._lock = threading.Lock()
        # Why the last write or check failed (None: the journal was writable then).
        self.problem: str | None = None

    def check(self) -> str | None:
        """Whether an entry could be appended now, without writing one: None when it
        can, else why not in words.  Cheap enough to call before every action."""
        try:
            os.close(self._open())
        except OSError as exc:
            self.problem = _unwritable(self.path, exc)
        else:
            self.problem = None
        return self.problem

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
            try:
                self._write(line.encode("utf-8"))
            except OSError as exc:
                self.problem = _unwritable(self.path, exc)
                raise JournalUnwritable(self.problem) from exc
            self.problem = None
        return record

    def _open(self) -> int:
        """The journal opened for appending (created 0600, with its directory)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def _write(self, data: bytes) -> None:
        fd = self._open()
        try:
            written = os.write(fd, data)
            if written != len(data):  # a full disk: a torn line must not pass as written
                raise OSError(28, "short write (is the disk full?)")
            os.fsync(fd)
        finally:
            os.close(fd)

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


def _unwritable(path: Path, exc: OSError) -> str:
    reason = exc.strerror or str(exc)
    return (
        f"journal {path} cannot be written ({reason}): mutating actions are refused until "
        "it can; fix its permissions or set journal_path (COCKPIT_JOURNAL_PATH)"
    )


def unfinished(entries: list[dict[str, Any]]) -> set[str]:
    """The run ids of intents that have no outcome line (interrupted executions)."""
    open_runs: set[str] = set()
    for entry in entries:
        run = entry.get("run")
        if not run:
            continue
        if entry.get("outcome") == STARTED:
            open_runs.add(run)
        else:
            open_runs.discard(run)
    return open_runs


INTERRUPTED = "started, NO OUTCOME RECORDED: the cockpit stopped before it finished; check"


def format_entry(entry: dict[str, Any], interrupted: bool = False) -> str:
    """One journal entry as a line a person reads."""
    targets = ", ".join(entry.get("targets") or [])
    outcome = entry.get("outcome", "?")
    if interrupted:
        outcome = f"{INTERRUPTED} {targets or 'the target'}"
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


def print_journal(path: Path, tail: int | None, as_json: bool) -> int:
    """Print the last `tail` entries (None: all).  An intent whose outcome never came is
    marked as interrupted; pairing looks at the whole file, not only at the tail."""
    try:
        entries = Journal(path).read()
    except OSError as exc:
        print(f"cockpit: cannot read the journal {path}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    if not entries:
        print(f"no journal entries yet ({path})", file=sys.stderr)
        return 0
    interrupted = unfinished(entries)
    shown = entries if tail is None else entries[len(entries) - tail :] if tail else []
    for entry in shown:
        if as_json:
            print(json.dumps(entry, ensure_ascii=False))
        else:
            print(
                format_entry(
                    entry,
                    interrupted=entry.get("run") in interrupted and entry.get("outcome") == STARTED,
                )
            )
    return 0
