"""Where a dump is read from: an object in the backup bucket, or a file in backup-pod's
`/backups` (the runbook's `ls /backups`).  Both are verified before anything is changed
and then read as a stream of SQL, never whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from actions.backup.context import BackupContext
from actions.backup.restore import s3_sql_chunks, verify_dump
from actions.base import Progress

Chunks = Iterator[tuple[int, bytes]]  # (bytes read so far, SQL bytes)


@dataclass(frozen=True)
class Verified:
    usable: bool
    message: str
    size: int  # bytes to read (0: unknown)


class DumpSource(Protocol):
    @property
    def label(self) -> str: ...

    @property
    def command(self) -> str: ...  # the shell equivalent that yields the SQL

    async def verify(self, ctx: BackupContext, progress: Progress) -> Verified: ...

    def open(self, ctx: BackupContext) -> Any: ...  # a context manager yielding Chunks


@dataclass(frozen=True)
class S3Dump:
    bucket: str
    key: str

    @property
    def label(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @property
    def command(self) -> str:
        return f"aws s3 cp {self.label} - | gunzip"

    async def verify(self, ctx: BackupContext, progress: Progress) -> Verified:
        verdict = await verify_dump(ctx, self.bucket, self.key, progress)
        return Verified(verdict.usable, f"{verdict.status}: {verdict.message}", verdict.size)

    @contextmanager
    def open(self, ctx: BackupContext) -> Iterator[Chunks]:
        body = ctx.client().get_object(Bucket=self.bucket, Key=self.key)["Body"]
        try:
            yield s3_sql_chunks(body)
        finally:
            body.close()
