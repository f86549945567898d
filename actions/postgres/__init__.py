"""The runbook's PostgreSQL remedies as actions, and the context they run in.

The app builds actions by id (actions.catalog scans this module), and calls
`make_context` the first time a PostgreSQL action runs; the context owns its own
connection ('cockpit-action'), never the polling one.

    postgres.terminate-idle   the runbook's pg_terminate_backend of idle sessions
    postgres.cancel           pg_cancel_backend of one session (pid + start time)
    postgres.terminate        pg_terminate_backend of one session (pid + start time)
    postgres.connectivity     the runbook's SELECT 1, timed, with the connection count
    postgres.apply-settings   the runbook's ALTER SYSTEM ...; SELECT pg_reload_conf()

They live in context.py (the action connection), idle.py (terminate-idle),
sessions.py (cancel, terminate, connectivity) and settings.py (apply-settings); the
classes are re-exported here, and only here, because actions.catalog scans
`vars(actions.postgres)` for them.
"""

from __future__ import annotations

from actions.postgres.context import PgActionContext
from actions.postgres.idle import IdleSession, TerminateIdle
from actions.postgres.sessions import CancelSession, ConnectivityTest, TerminateSession
from actions.postgres.settings import ApplySettings
from cockpit.audit import Journal
from cockpit.config import Settings
from cockpit.sources.postgres.conn import dsn_secrets, normalise_dsn

__all__ = [
    "ApplySettings",
    "CancelSession",
    "ConnectivityTest",
    "IdleSession",
    "PgActionContext",
    "TerminateIdle",
    "TerminateSession",
    "make_context",
]


async def make_context(settings: Settings, journal: Journal) -> PgActionContext:
    """The action context; it connects on first use.  The DSN's password (and
    $PGPASSWORD) join the journal's secrets, so no entry can ever carry them."""
    secrets = dsn_secrets(normalise_dsn(settings.effective_pg_dsn()))
    journal.secrets = tuple(dict.fromkeys((*journal.secrets, *secrets)))
    return PgActionContext(settings)
