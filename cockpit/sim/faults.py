"""Faults a test can switch on from any thread: fail or hang requests by path prefix."""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Fault:
    kind: str  # "fail" or "hang"
    path_prefix: str | None
    status: int = 500

    def applies(self, path: str) -> bool:
        return self.path_prefix is None or path.startswith(self.path_prefix)


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: tuple[Fault, ...] = ()
        self.generation = 0  # bumped on clear, so held requests notice

    def fail(self, status: int = 500, path_prefix: str | None = None) -> None:
        with self._lock:
            self._faults = (*self._faults, Fault("fail", path_prefix, status))

    def hang(self, path_prefix: str | None = None) -> None:
        with self._lock:
            self._faults = (*self._faults, Fault("hang", path_prefix))

    def clear(self) -> None:
        with self._lock:
            self._faults = ()
            self.generation += 1

    def match(self, path: str) -> Fault | None:
        # Hangs first: a test that hangs a path wants silence, not an error.
        faults = self._faults
        for f in faults:
            if f.kind == "hang" and f.applies(path):
                return f
        for f in faults:
            if f.applies(path):
                return f
        return None

    def active(self, fault: Fault) -> bool:
        return fault in self._faults
