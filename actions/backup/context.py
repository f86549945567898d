"""What the backup actions execute with: the settings, one boto3 client for the bucket,
the verdict cache, and how to reach PostgreSQL with the local client binaries."""

from __future__ import annotations

import asyncio
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from psycopg.conninfo import conninfo_to_dict, make_conninfo

from actions.base import Progress
from cockpit.config import Settings
from cockpit.errors import SourceError
from cockpit.sources.backups.s3 import S3Source, s3_error
from cockpit.sources.backups.verify import SHA_KEY, VerifyCache
from cockpit.sources.postgres.conn import normalise_dsn


def quiet(fraction: float | None, text: str) -> None:
    """No one is watching the progress."""


def threadsafe(progress: Progress) -> Progress:
    """The callback for a worker thread: it runs on the event loop (the UI's progress
    bar is not thread-safe).  Call on the loop."""
    loop = asyncio.get_running_loop()

    def report(fraction: float | None, text: str) -> None:
        loop.call_soon_threadsafe(progress, fraction, text)

    return report


class LongRunning:
    """Dumps and restores take minutes: the runner allows them `execute_timeout` (instead
    of its 30 s) and hands them its progress callback for execute(), not only verify()."""

    execute_timeout: ClassVar[float] = 3600.0
    progress: Progress = quiet

    def bind_progress(self, progress: Progress) -> None:
        if self.progress is quiet:  # one given to the constructor (headless) wins
            self.progress = progress


class BackupContext:
    def __init__(self, settings: Settings, journal: Any = None) -> None:
        self.settings = settings
        self.journal = journal
        self.s3 = S3Source(settings.backups, read_timeout=60.0, attempts=3)
        self.cache = VerifyCache()

    @property
    def bucket(self) -> str:
        return self.settings.backups.bucket

    def client(self) -> Any:
        try:
            return self.s3._get_client()
        except Exception as exc:
            raise s3_error(exc, self.settings.backups) from None

    def binary(self, name: str) -> str:
        """The path of pg_dump / psql: the configured bindir, PATH, then the newest
        /usr/lib/postgresql/*/bin."""
        bindir = self.settings.backups.pg_bindir
        candidates = [bindir / name] if bindir else []
        found = shutil.which(name)
        if found:
            candidates.append(Path(found))
        versions = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True)
        candidates += versions
        for path in candidates:
            if path.exists() and os.access(path, os.X_OK):
                return str(path)
        raise SourceError(
            f"{name} not found",
            "install the PostgreSQL client (postgresql-client) or set backups.pg_bindir",
        )

    def libpq(self, database: str) -> tuple[str, dict[str, str]]:
        """A conninfo for `database` without its password, and the environment carrying
        it (PGPASSWORD): a password on a command line is visible to every user in ps."""
        dsn = normalise_dsn(self.settings.effective_pg_dsn())
        params = {k: str(v) for k, v in conninfo_to_dict(dsn).items() if v is not None}
        env = dict(os.environ)
        password = params.pop("password", None)
        if password:
            env["PGPASSWORD"] = password
        params["dbname"] = database
        params.setdefault("application_name", "cockpit-backup")
        return make_conninfo(**params), env

    def dsn(self, database: str) -> str:
        """A conninfo for psycopg (in this process: the password may stay in it)."""
        dsn = normalise_dsn(self.settings.effective_pg_dsn())
        params = {k: str(v) for k, v in conninfo_to_dict(dsn).items() if v is not None}
        params["dbname"] = database
        params.setdefault("application_name", "cockpit-restore")
        params.setdefault("connect_timeout", "10")
        return make_conninfo(**params)

    async def close(self) -> None:
        self.s3.close()


async def make_context(settings: Settings, journal: Any = None) -> BackupContext:
    return BackupContext(settings, journal)


@dataclass(frozen=True)
class DumpEntry:
    key: str
    size: int
    when: Any  # datetime | None
    sha256: str  # from the metadata (x-amz-meta-sha256), "" when unknown


async def list_dumps(ctx: BackupContext, *, heads: int = 20) -> list[DumpEntry]:
    """Restore step (b): the dumps, newest first, with the SHA-256 of the newest `heads`."""
    listing = await ctx.s3.listing()

    def head(key: str) -> str:
        try:
            meta = ctx.client().head_object(Bucket=ctx.bucket, Key=key).get("Metadata") or {}
        except Exception:
            return ""
        return str(meta.get(SHA_KEY) or "")

    shas = await asyncio.gather(*(asyncio.to_thread(head, o.key) for o in listing.objects[:heads]))
    return [
        DumpEntry(o.key, o.size, o.when, shas[i] if i < len(shas) else "")
        for i, o in enumerate(listing.objects)
    ]
