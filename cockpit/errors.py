"""Errors worded for the person at the screen."""

from __future__ import annotations

import asyncio
import errno
import socket

from cockpit.config import redact


class SourceError(Exception):
    """A backend problem: `message` says what failed, `hint` what to do about it."""

    def __init__(self, message: str, hint: str = "", retry_in: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.retry_in = retry_in  # when the backend itself retries on its own schedule

    def __str__(self) -> str:
        return self.message


_ERRNO_WORDS = {
    errno.ECONNREFUSED: "connection refused",
    errno.ECONNRESET: "connection reset",
    errno.EHOSTUNREACH: "host unreachable",
    errno.ENETUNREACH: "network unreachable",
    errno.ETIMEDOUT: "timed out",
}


def describe(exc: BaseException) -> tuple[str, str]:
    """(message, hint) for any exception, with secrets masked."""
    if isinstance(exc, SourceError):
        return redact(exc.message), exc.hint
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return "timed out", "the backend is slow or unreachable"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve host: {exc.strerror}", "check the host name in the settings"
    if isinstance(exc, OSError) and exc.errno in _ERRNO_WORDS:
        return _ERRNO_WORDS[exc.errno], "is the server running and reachable?"
    text = str(exc) or type(exc).__name__
    first_line = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return redact(f"{type(exc).__name__}: {first_line}"[:300]), ""
