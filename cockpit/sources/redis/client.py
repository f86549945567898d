"""Connecting `redis.asyncio` from a REDIS_URL, and its exceptions in words.

Shared by the polling source and (later) the Redis actions, which open their own client
with the same options so that a long action never holds up a poll.
"""

from __future__ import annotations

import errno
import os
import re
import socket
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from redis import exceptions as rexc
from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from cockpit.config import redact
from cockpit.errors import SourceError
from cockpit.textsafe import one_line

URL_HINT = "is it running? set REDIS_URL or COCKPIT_REDIS__URL"
AUTH_HINT = "check the user and password in REDIS_URL (redis://user:password@host:port/db)"


@dataclass(frozen=True)
class RedisTarget:
    """Where a URL points, in words that carry no secret."""

    url: str
    server: str  # host:port/db or unix-socket-path/db
    tls: bool
    secrets: tuple[str, ...]  # the password (raw and %-encoded), for redaction


def describe_url(url: str) -> RedisTarget:
    """Parse a redis://, rediss:// or unix:// URL without the client (never raises)."""
    try:
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        db = (query.get("db") or [""])[0]
        if parts.scheme == "unix":
            where = parts.path or "?"
            db = db or "0"
        else:
            host = parts.hostname or "localhost"
            if ":" in host:  # IPv6 literal
                host = f"[{host}]"
            where = f"{host}:{parts.port or 6379}"
            db = parts.path.lstrip("/") or db or "0"
        raw_password = parts.password or ""
        password = (query.get("password") or [""])[0] or raw_password
    except ValueError:
        return RedisTarget(url, "(invalid REDIS_URL)", False, ())
    secrets = tuple(s for s in {raw_password, unquote(raw_password), password} if s)
    return RedisTarget(url, f"{where}/{db}", parts.scheme == "rediss", secrets)


OnConnect = Callable[[AbstractConnection], Awaitable[None]]


def open_client(url: str, timeout: float, on_connect: OnConnect | None = None) -> Redis:
    """One client with a small pool.  Raises SourceError for a URL the client refuses.

    RESP2 unless the URL asks otherwise: redis-py 8 defaults to RESP3 (HELLO), which
    servers before 6.0 and some proxies do not speak.  One immediate retry on a broken
    connection lets a poll survive a server restart between polls; the caller's poller
    does the backing off.  `on_connect(connection)`, when given, replaces the client's
    handshake (AUTH, SELECT) and must call `connection.on_connect()` itself.
    """
    target = describe_url(url)
    try:
        return Redis.from_url(
            url,
            decode_responses=True,
            protocol=2,
            socket_connect_timeout=timeout,
            socket_timeout=timeout,
            retry=Retry(NoBackoff(), 1, supported_errors=(rexc.ConnectionError,)),
            max_connections=4,
            redis_connect_func=on_connect,
        )
    except (ValueError, TypeError) as exc:
        raise SourceError(
            f"Redis: invalid URL: {_said(exc, target.secrets)}",
            "expected redis://[user:password@]host:port/db, rediss://... or unix:///path",
        ) from exc


def _root_cause(exc: BaseException) -> BaseException | None:
    """The OS-level error under a client exception (refused, DNS, TLS), if any."""
    seen: set[int] = set()
    cause: BaseException | None = exc.__cause__ or exc.__context__
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, OSError):
            return cause
        cause = cause.__cause__ or cause.__context__
    # After a retry the chain can be gone; redis-py still says "Error 111 connecting to".
    match = _ERRNO_IN_TEXT.search(str(exc))
    if match:
        code = int(match.group(1))
        if code < 0:
            return socket.gaierror(code, "name resolution failed")
        return OSError(code, os.strerror(code))
    return None


_ERRNO_IN_TEXT = re.compile(r"\bError (-?\d+) connecting to\b")


def _auth_problem(text: str) -> tuple[str, str]:
    lowered = text.lower()
    if "noauth" in lowered or "required" in lowered or "hello must be called" in lowered:
        return (
            "authentication required",
            "the server has a password: put it in REDIS_URL (redis://:password@host:port/db)",
        )
    if "without any password" in lowered or "no password is set" in lowered:
        return "the server has no password, but the URL gives one", "remove it from REDIS_URL"
    return "authentication failed (wrong user or password)", AUTH_HINT


def _said(exc: BaseException, secrets: tuple[str, ...]) -> str:
    """What the server or the client library said: untrusted, so masked and one line."""
    return one_line(redact(str(exc) or type(exc).__name__, secrets), 200)


def _connection_problem(exc: rexc.ConnectionError, secrets: tuple[str, ...]) -> tuple[str, str]:
    root = _root_cause(exc)
    text = _said(exc, secrets)
    if isinstance(root, ssl.SSLError):
        reason = getattr(root, "verify_message", None) or getattr(root, "reason", None) or root
        return (
            f"TLS handshake failed: {one_line(str(reason), 120)}",
            "check rediss:// vs redis:// and the CA (…?ssl_ca_certs=/path/ca.pem)",
        )
    if isinstance(root, socket.gaierror):
        return "cannot resolve the host name", "check the host in REDIS_URL or COCKPIT_REDIS__URL"
    refused = isinstance(root, OSError) and root.errno == errno.ECONNREFUSED
    if refused or "refused" in text.lower():
        return "connection refused", URL_HINT
    if isinstance(root, OSError) and root.errno == errno.ECONNRESET:
        return "connection reset", "restarting? or a TLS port spoken to with redis://"
    if isinstance(root, OSError) and root.strerror:
        return f"cannot connect: {one_line(root.strerror.lower(), 120)}", URL_HINT
    if "closed by server" in text.lower():
        return "connection closed by the server", "restarting? or a TLS port: use rediss://"
    return f"cannot connect: {text}", URL_HINT


def problem(exc: BaseException, secrets: tuple[str, ...] = ()) -> tuple[str, str]:
    """(what went wrong, what to do) for a redis-py exception; `secrets` are masked."""
    if isinstance(exc, rexc.AuthenticationError):
        return _auth_problem(str(exc))
    if isinstance(exc, rexc.BusyLoadingError):
        return "loading its dataset into memory", "it answers once loading has finished"
    if isinstance(exc, rexc.ConnectionError):
        return _connection_problem(exc, secrets)
    if isinstance(exc, rexc.TimeoutError):
        return "timed out", "the server is slow or unreachable (a TLS port needs rediss://)"
    if isinstance(exc, rexc.NoPermissionError):
        return (
            f"not permitted: {_said(exc, secrets)}",
            "the ACL user needs +info and +ping (and +config|get for the policy)",
        )
    if isinstance(exc, rexc.InvalidResponse):
        return (
            "the reply is not Redis protocol",
            "check the port; a TLS port needs rediss://, a plain one redis://",
        )
    if isinstance(exc, rexc.ResponseError):
        text = _said(exc, secrets)
        if text.upper().startswith("NOAUTH"):
            return _auth_problem(text)
        return f"server error: {text}", ""
    if isinstance(exc, ssl.SSLError):
        return f"TLS error: {_said(exc, secrets)}", "check rediss:// vs redis:// and the CA"
    if isinstance(exc, (TimeoutError, OSError)):
        return f"{type(exc).__name__}: {_said(exc, secrets)}", URL_HINT
    return f"{type(exc).__name__}: {_said(exc, secrets)}", ""


def redis_error(exc: BaseException, target: RedisTarget) -> SourceError:
    """A client exception as a SourceError naming the server, never the password."""
    if isinstance(exc, SourceError):
        return exc
    what, hint = problem(exc, target.secrets)
    return SourceError(f"Redis {target.server}: {what}", hint)
