"""Errors worded for the person at the screen."""

from __future__ import annotations

import asyncio
import errno
import re
import socket
import ssl
from collections.abc import Iterator

from cockpit.redaction import redact


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


# OpenSSL's verify codes that need another hint than "trust the CA that signed it".
_EXPIRED, _HOSTNAME_MISMATCH = 10, 62
_VERIFY_TEXT = re.compile(r"certificate verify failed: ([^(\n]+)")

# At most 160 characters each: the panes cut hints there.
_KUBE_CA_HINT = (
    "trust the cluster's CA: set certificate-authority or certificate-authority-data in "
    "the kubeconfig (insecure-skip-tls-verify only if you accept the risk)"
)
_CA_HINT = (
    "give the client the CA that signed the server's certificate "
    "(skip the check only if you accept the risk)"
)
_KUBE_NAME_HINT = (
    "the certificate is for another name: connect by a name it is issued for, "
    "or set tls-server-name in the kubeconfig"
)
_NAME_HINT = "the certificate is for another name: connect by a name it is issued for"
_EXPIRED_HINT = "the server's certificate has expired (or this machine's clock is wrong)"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """`exc` and every exception it wraps: causes, contexts, urllib3's `reason`, args."""
    todo: list[object] = [exc]
    seen: set[int] = set()
    while todo:
        item = todo.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        todo += [item.__cause__, item.__context__, getattr(item, "reason", None), *item.args]


def _certificate_failure(exc: BaseException) -> tuple[int | None, str] | None:
    """(OpenSSL verify code, its words) when `exc` is a failed certificate check.

    urllib3 wraps ssl's error in SSLError inside MaxRetryError; the kubernetes client
    turns that into ApiException(status=0) whose reason is only the text.
    """
    for item in _chain(exc):
        if isinstance(item, ssl.SSLCertVerificationError):
            return item.verify_code, str(item.verify_message or "certificate verify failed")
    for item in _chain(exc):
        text = f"{item} {getattr(item, 'reason', '')}"
        if "CERTIFICATE_VERIFY_FAILED" in text:
            found = _VERIFY_TEXT.search(text)
            return None, (found.group(1).strip() if found else "certificate verify failed")
    return None


def certificate_problem(exc: BaseException, kube: bool = False) -> tuple[str, str] | None:
    """(message, hint) for a TLS certificate the client refused, else None.

    Not "is it reachable?": the server answered, and what to change is the trust (the
    kubeconfig's CA for Kubernetes), the name, or the certificate.
    """
    failure = _certificate_failure(exc)
    if failure is None:
        return None
    code, words = failure
    words = redact(words)[:200]
    message = f"TLS certificate not accepted ({words})"
    if code == _HOSTNAME_MISMATCH or words.lower().startswith("hostname mismatch"):
        return message, _KUBE_NAME_HINT if kube else _NAME_HINT
    if code == _EXPIRED or "expired" in words:
        return message, _EXPIRED_HINT
    return message, _KUBE_CA_HINT if kube else _CA_HINT


def _from_kubernetes(exc: BaseException) -> bool:
    return type(exc).__module__.startswith("kubernetes.")


def describe(exc: BaseException) -> tuple[str, str]:
    """(message, hint) for any exception, with secrets masked."""
    if isinstance(exc, SourceError):
        return redact(exc.message), exc.hint
    if (problem := certificate_problem(exc, kube=_from_kubernetes(exc))) is not None:
        return problem
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return "timed out", "the backend is slow or unreachable"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve host: {exc.strerror}", "check the host name in the settings"
    if isinstance(exc, OSError) and exc.errno in _ERRNO_WORDS:
        return _ERRNO_WORDS[exc.errno], "is the server running and reachable?"
    text = str(exc) or type(exc).__name__
    first_line = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return redact(f"{type(exc).__name__}: {first_line}"[:300]), ""
