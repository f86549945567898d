"""What Redis actions run in: clients of their own, the journal, and errors in words.

The context never shares the polling client: a FLUSHDB or a slow sample must not delay
a poll, and a connection left on another database by SELECT must never serve one.
Clients are opened per database (the URL rewritten to select it), lazily.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from redis import exceptions as rexc
from redis.asyncio import Redis

from actions.base import Refused
from cockpit.audit import Journal
from cockpit.config import Settings
from cockpit.errors import SourceError
from cockpit.sources.redis.client import describe_url, redis_error
from cockpit.sources.redis.deep import open_raw_client, refusal, url_db, url_with_db

JOURNAL_TAIL = 5000  # how far back the revert looks for the last policy change


class RedisActionContext:
    """Owns its clients; `await close()` when the app quits."""

    def __init__(self, settings: Settings, journal: Journal) -> None:
        self.settings = settings
        self.journal = journal
        self.url = settings.effective_redis_url()
        self.target = describe_url(self.url)
        self.default_db = url_db(self.url)
        self.timeout = settings.redis.connect_timeout
        self._clients: dict[int, Redis] = {}

    @property
    def server(self) -> str:
        """host:port (the server, not a database); never the password."""
        return self.target.server.rsplit("/", 1)[0]

    def client(self, db: int | None = None) -> Redis:
        """A pooled client on database `db` (the URL's by default), opened once."""
        db = self.default_db if db is None else db
        if db not in self._clients:
            self._clients[db] = open_raw_client(url_with_db(self.url, db), self.timeout)
        return self._clients[db]

    def open_client(self, db: int, timeout: float) -> Redis:
        """A fresh client on `db` for one long command; the caller closes it."""
        return open_raw_client(url_with_db(self.url, db), timeout)

    def error(self, exc: BaseException) -> SourceError:
        return redis_error(exc, self.target)

    def journal_entries(self) -> list[dict[str, Any]]:
        return self.journal.read(JOURNAL_TAIL)

    async def close(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            try:
                await client.aclose()
            except Exception:
                pass


async def make_context(settings: Settings, journal: Journal) -> RedisActionContext:
    return RedisActionContext(settings, journal)


@asynccontextmanager
async def talking(ctx: RedisActionContext, command: str, hint: str = "") -> AsyncIterator[None]:
    """Redis errors in words: a refused command is Refused, anything else a SourceError."""
    try:
        yield
    except (Refused, SourceError):
        raise
    except (rexc.RedisError, OSError) as exc:
        why = refusal(exc, command)
        if why is not None:
            raise Refused(why + (f": {hint}" if hint else "")) from None
        raise ctx.error(exc) from exc
