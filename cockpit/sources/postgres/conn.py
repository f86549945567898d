"""Opening PostgreSQL connections, naming the server, and wording what went wrong.

Shared by the polling source and (later) the action connection: both connect the same
way (libpq conventions, the settings' timeouts, an application_name that says who they
are) and turn psycopg's errors into a `SourceError` with a message and a hint, with no
password anywhere in either.

Both also read text other sessions wrote (pg_stat_activity, pg_stat_statements), which
the server hands over unchecked: a client of a SQL_ASCII database can leave any bytes
there.  Their connections decode text leniently (U+FFFD), so one such session cannot
fail every read.  And both remember who they are (pid and backend start), so that bulk
actions spare the cockpit's own connections by identity, not by a name anyone can pick.
"""

from __future__ import annotations

import asyncio
import math
import os
import re
import weakref
from datetime import datetime

import psycopg
from psycopg.abc import AdaptContext, Buffer
from psycopg.adapt import Loader
from psycopg.conninfo import conninfo_to_dict
from psycopg.pq import Format

from cockpit.config import Settings, redact
from cockpit.errors import SourceError
from cockpit.textsafe import one_line

DSN_HINT = "set COCKPIT_POSTGRES__DSN or DATABASE_URL"


def normalise_dsn(dsn: str) -> str:
    """SQLAlchemy-style URLs (postgresql+psycopg://) are common in DATABASE_URL."""
    return re.sub(r"^(postgres(?:ql)?)\+[a-z0-9_]+://", r"\1://", dsn, flags=re.IGNORECASE)


def dsn_params(dsn: str) -> dict[str, str]:
    try:
        return {k: str(v) for k, v in conninfo_to_dict(dsn).items() if v is not None}
    except psycopg.Error:
        return {}


def dsn_secrets(dsn: str) -> list[str]:
    """Values that must never be shown: the DSN's password and $PGPASSWORD."""
    found = [dsn_params(dsn).get("password", ""), os.environ.get("PGPASSWORD", "")]
    return [s for s in found if s]


def _host_port(host: str, port: str) -> str:
    if ":" in host and not host.startswith("/") and "," not in host:
        host = f"[{host}]"  # IPv6
    return f"{host}:{port}"


def server_label(dsn: str) -> str:
    """host:port/dbname as libpq would resolve it, never with a password."""
    params = dsn_params(dsn)
    if dsn.strip() and not params:
        return "(invalid DSN)"
    env = os.environ
    host = params.get("host") or params.get("hostaddr") or ""
    service = params.get("service") or env.get("PGSERVICE")
    if service and not host:
        # libpq takes the service file's host before $PGHOST; we don't read that file.
        return one_line(f"service {service}", 200)
    host = host or env.get("PGHOST") or ""
    host = host or env.get("PGHOSTADDR") or "local socket"
    port = params.get("port") or env.get("PGPORT") or "5432"
    user = params.get("user") or env.get("PGUSER") or ""
    dbname = params.get("dbname") or env.get("PGDATABASE") or user
    label = _host_port(host, port)
    return one_line(f"{label}/{dbname}" if dbname else label, 200)


def connected_label(conn: psycopg.AsyncConnection) -> str:
    info = conn.info
    return one_line(f"{_host_port(info.host, str(info.port))}/{info.dbname}", 200)


# -- text other sessions wrote ----------------------------------------------------------

TEXT_TYPES = ("text", "varchar", "name", "bpchar", '"char"')


class LenientTextLoader(Loader):
    """Text in the connection's encoding; bytes that are not valid in it become U+FFFD."""

    def __init__(self, oid: int, context: AdaptContext | None = None) -> None:
        super().__init__(oid, context)
        encoding = self.connection.info.encoding if self.connection else "utf-8"
        # SQL_ASCII means "no encoding" (psycopg's own loader returns bytes then): UTF-8
        # is the best guess, and keeps whatever is valid in it.
        self._encoding = "utf-8" if encoding == "ascii" else encoding

    def load(self, data: Buffer) -> str:
        return str(data, self._encoding, "replace")


class LenientTextBinaryLoader(LenientTextLoader):
    format = Format.BINARY


def lenient_text(conn: psycopg.AsyncConnection) -> None:
    """Decode every text type leniently on this connection, in both result formats."""
    for name in TEXT_TYPES:
        conn.adapters.register_loader(name, LenientTextLoader)
        conn.adapters.register_loader(name, LenientTextBinaryLoader)


# -- the cockpit's own connections --------------------------------------------------------

# (pid, backend_start) of this process's connections, by connection; a connection that
# is garbage-collected drops out by itself, a closed one is skipped.
_OWN: weakref.WeakKeyDictionary[psycopg.AsyncConnection, tuple[int, datetime]] = (
    weakref.WeakKeyDictionary()
)


def remember_own(conn: psycopg.AsyncConnection, pid: object, backend_start: object) -> None:
    """Record a connection's identity, read by its setup statement when it opened."""
    if isinstance(pid, int) and isinstance(backend_start, datetime):
        _OWN[conn] = (pid, backend_start)


def own_identities() -> list[tuple[int, datetime]]:
    """(pid, backend_start) of the cockpit's open connections (polling and actions)."""
    return sorted(ident for conn, ident in _OWN.items() if not conn.closed)


def own_params() -> dict[str, list]:
    """The identities as the parameters %(own_pids)s and %(own_starts)s."""
    found = own_identities()
    return {"own_pids": [p for p, _ in found], "own_starts": [s for _, s in found]}


async def open_connection(
    settings: Settings, application_name: str = "cockpit"
) -> psycopg.AsyncConnection:
    """An autocommit connection as the settings say, or a worded SourceError."""
    pg = settings.postgres
    dsn = normalise_dsn(settings.effective_pg_dsn())
    timeout = max(1, math.ceil(pg.connect_timeout))
    try:
        # libpq enforces connect_timeout per host; the outer guard covers name lookups.
        async with asyncio.timeout(timeout * 2 + 1):
            conn = await psycopg.AsyncConnection.connect(
                dsn,
                autocommit=True,
                application_name=application_name,
                connect_timeout=timeout,
            )
    except (psycopg.Error, TimeoutError, OSError) as exc:
        raise pg_error(exc, server_label(dsn), settings, connecting=True) from None
    lenient_text(conn)
    return conn


# -- errors -----------------------------------------------------------------------------

_LIBPQ_PREFIX = re.compile(r"^(connection failed|connection is bad):\s*", re.IGNORECASE)
_ATTEMPT = re.compile(r"connection to server (?:at|on) .*? failed:\s*(.*)$", re.IGNORECASE)
_SEVERITY = re.compile(r"^(FATAL|ERROR|PANIC):\s+")

_LOST = (
    "terminating connection",
    "server closed the connection",
    "consuming input failed",
    "sending query failed",
    "connection is closed",
    "connection is lost",
    "connection to server was lost",
    "no connection to the server",
    "could not receive data",
    "could not send data",
    "ssl syscall error",
    "eof detected",
)
_STARTING = (
    "the database system is starting up",
    "the database system is shutting down",
    "the database system is in recovery mode",
    "not yet accepting connections",
    "the database system is not accepting connections",
)
_RESTARTING_HINT = "the server is (re)starting; the cockpit reconnects by itself"
_PASSWORD_HINT = (
    "check the password (PGPASSWORD, ~/.pgpass or the DSN's password); it is never shown here"
)


async def close_quietly(conn: psycopg.AsyncConnection | None) -> None:
    """Close a connection that may already be dead; a failure to close changes nothing."""
    if conn is not None and not conn.closed:
        try:
            await conn.close()
        except Exception:
            pass


def libpq_reason(text: str) -> str:
    """The useful part of a libpq message, e.g. 'connection refused'."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return ""
    first = _LIBPQ_PREFIX.sub("", lines[0])
    match = _ATTEMPT.search(first)
    if match:
        first = match.group(1)
    first = _SEVERITY.sub("", first.strip())
    if len(first) > 1 and first[0].isupper() and first[1].islower():
        first = first[0].lower() + first[1:]
    return first


def _hide_dsn_tokens(text: str) -> str:
    # libpq quotes pieces of a malformed DSN back; after 'missing "=" after' that
    # piece can be the password itself.
    return re.sub(r'(missing "=" after )"[^"]*"', r'\1"…"', text)


def pg_error(
    exc: BaseException, server: str, settings: Settings, *, connecting: bool = False
) -> SourceError:
    """A SourceError worded for the person at the screen, secrets removed."""
    dsn = normalise_dsn(settings.effective_pg_dsn())
    secrets = dsn_secrets(dsn)
    pg = settings.postgres
    prefix = f"PostgreSQL {server}"

    def made(reason: str, hint: str) -> SourceError:
        message = redact(one_line(f"{prefix}: {reason}", 400), secrets)
        return SourceError(message, redact(hint, secrets))

    if isinstance(exc, SourceError):
        return exc
    if isinstance(exc, TimeoutError):
        if connecting:
            return made(
                f"no answer within {math.ceil(pg.connect_timeout)} s (connect_timeout)",
                "is the host reachable? a firewall, a wrong port or a hung server",
            )
        return made(
            "no answer to a monitoring query",
            "the network or the server hangs; reconnecting on the next poll",
        )
    raw = str(exc)
    reason = libpq_reason(_hide_dsn_tokens(raw)) or type(exc).__name__
    low = raw.lower()
    if isinstance(exc, psycopg.ProgrammingError) and (
        "connection info string" in low or "connection option" in low or "uri" in low
    ):
        return made(f"invalid connection string: {reason}", f"fix the DSN: {DSN_HINT}")
    if isinstance(exc, psycopg.errors.QueryCanceled):
        return made(
            f"a monitoring query ran past statement_timeout ({pg.statement_timeout_ms} ms)",
            "the server is overloaded or its catalogs are locked",
        )
    if isinstance(exc, psycopg.errors.InsufficientPrivilege):
        return made(reason, "grant the cockpit's role pg_monitor")
    if "password authentication failed" in low:
        return made(reason, _PASSWORD_HINT)
    if "no password supplied" in low or "password is required" in low:
        return made("the server wants a password and none was given", _PASSWORD_HINT)
    if "connection refused" in low:
        return made("connection refused", f"is the server running? {DSN_HINT}")
    if "no such file or directory" in low and "socket" in low:
        return made("no server on the local socket", f"is the server running? {DSN_HINT}")
    if "timeout expired" in low or "timed out" in low:
        return made(
            f"no answer within {math.ceil(pg.connect_timeout)} s (connect_timeout)",
            "is the host reachable? a firewall, a wrong port or a hung server",
        )
    if "translate host name" in low or "resolve host" in low:
        return made("cannot resolve the host name", f"check the host: {DSN_HINT}")
    if "too many clients" in low or "connection slots are reserved" in low:
        return made(
            "too many connections (max_connections is exhausted)",
            "the runbook's remedy: terminate sessions idle > 10 min from a superuser "
            'session (psql -c "SELECT pg_terminate_backend(pid) ...")',
        )
    if any(marker in low for marker in _STARTING):
        return made(reason, _RESTARTING_HINT)
    if "database" in low and "does not exist" in low:
        return made(reason, f"check dbname: {DSN_HINT}")
    if "role" in low and "does not exist" in low:
        return made(reason, f"check the user: {DSN_HINT}")
    if "pg_hba.conf" in low:
        return made(reason, "the server's pg_hba.conf refuses this host/user/database")
    if "not permitted to log in" in low or "permission denied for database" in low:
        return made(reason, "the role needs LOGIN and CONNECT on the database")
    if any(marker in low for marker in _LOST):
        return made(
            "connection lost (server restarted, or the session was terminated)",
            "reconnecting on the next poll",
        )
    if "ssl" in low:
        return made(reason, "check sslmode and the server's certificate")
    if isinstance(exc, OSError) and not isinstance(exc, psycopg.Error):
        return made(
            one_line(raw or type(exc).__name__, 200), f"is the server reachable? {DSN_HINT}"
        )
    return made(reason, "")
