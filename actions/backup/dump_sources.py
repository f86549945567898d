"""Where a dump is read from: an object in the backup bucket, or a file in backup-pod's
`/backups` (the runbook's `ls /backups`).  Both are verified before anything is changed
and then read as a stream of SQL, never whole.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from actions.backup.context import BackupContext, threadsafe
from actions.base import Progress
from cockpit.errors import SourceError
from cockpit.sources.backups.verify import CHUNK, PG_DUMP_TAIL, TAIL_KEEP
from cockpit.sources.disk.podexec import ExecClient
from cockpit.textsafe import one_line
from cockpit.units import size_words

Chunks = Iterator[tuple[int, bytes]]  # (bytes read so far, SQL bytes)


async def verify_dump(ctx: BackupContext, bucket: str, key: str, progress: Progress) -> Any:
    progress = threadsafe(progress)

    def report(done: int, total: int) -> None:
        progress(done / total if total else None, f"verifying: {size_words(done)}")

    return await ctx.cache.verify(
        ctx.client(),
        bucket,
        key,
        min_ratio=ctx.settings.backups.min_size_ratio,
        progress=report,
    )


def s3_sql_chunks(body: Any) -> Iterator[tuple[int, bytes]]:
    """(compressed bytes read so far, SQL bytes) from an S3 object's gzip stream."""
    gunzip = zlib.decompressobj(16 + zlib.MAX_WBITS)
    read = 0
    for chunk in body.iter_chunks(CHUNK):
        read += len(chunk)
        yield read, gunzip.decompress(chunk)
    yield read, gunzip.flush()


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


class _Tail:
    """The last bytes of the SQL that went by: pg_dump's closing line must be there."""

    def __init__(self) -> None:
        self.tail = b""

    def see(self, chunks: Chunks) -> Chunks:
        for read, data in chunks:
            self.tail = (self.tail + data)[-TAIL_KEEP:]
            yield read, data

    @property
    def complete(self) -> bool:
        return PG_DUMP_TAIL in self.tail


@dataclass(frozen=True)
class PodDump:
    """A file in backup-pod's /backups, read with `gzip -dc` (or `cat` for .sql) over
    exec.  Verified with `gzip -t` before anything changes; the closing line is checked
    as the SQL goes by, and a dump without it is never committed (stream_sql)."""

    configuration: Any = field(compare=False, repr=False)  # kubernetes Configuration
    namespace: str
    pod: str
    path: str
    size: int = 0

    @property
    def label(self) -> str:
        return f"{self.pod}:{self.path}"

    @property
    def gzipped(self) -> bool:
        return self.path.endswith(".gz")

    def argv(self) -> list[str]:
        return ["gzip", "-dc", self.path] if self.gzipped else ["cat", self.path]

    @property
    def command(self) -> str:
        return f"kubectl exec -n {self.namespace} {self.pod} -- {' '.join(self.argv())}"

    def _client(self) -> ExecClient:
        return ExecClient(self.configuration, self.namespace)

    async def verify(self, ctx: BackupContext, progress: Progress) -> Verified:
        if not self.gzipped:
            return Verified(True, "plain SQL: checked for pg_dump's closing line as it loads", 0)
        progress(None, f"gzip -t {self.path} in {self.pod}")
        client = self._client()
        try:
            result = await client.run(self.pod, ["gzip", "-t", self.path], timeout=600.0)
        except SourceError as exc:
            return Verified(False, f"unreadable: {exc.message}", self.size)
        finally:
            client.close()
        if result.code != 0:
            words = one_line(result.err or result.out, 300) or f"exit {result.code}"
            return Verified(False, f"corrupt or unreadable: {words}", self.size)
        return Verified(True, "gzip -t: intact", 0)  # 0: progress counts SQL bytes

    @contextmanager
    def open(self, ctx: BackupContext) -> Iterator[Chunks]:
        client = self._client()
        tail = _Tail()

        def chunks() -> Chunks:
            read = 0
            for data in client.stream(self.pod, self.argv()):
                read += len(data)
                yield read, data

        try:
            yield CheckedChunks(tail.see(chunks()), lambda: tail.complete)
        finally:
            client.close()


class CheckedChunks:
    """Chunks plus a last check before the SQL is committed (stream_sql asks it)."""

    def __init__(self, chunks: Chunks, complete: Callable[[], bool]) -> None:
        self._chunks = chunks
        self.complete = complete

    def __iter__(self) -> Chunks:
        return self._chunks


@dataclass(frozen=True)
class PodFile:
    path: str
    size: int
    when: datetime | None


async def list_pod_dumps(
    configuration: Any, namespace: str, pod: str, directory: str
) -> list[PodFile]:
    """The dumps in the pod's directory (`*.sql`, `*.sql.gz`), newest first."""
    client = ExecClient(configuration, namespace)
    try:
        result = await client.run(
            pod,
            ["find", directory, "-maxdepth", "1", "-type", "f", "-printf", "%s\\t%T@\\t%p\\0"],
        )
    finally:
        client.close()
    if result.code != 0:
        raise SourceError(
            f"cannot list {directory} in {pod}: {one_line(result.err, 200)}",
            "check that the pod runs and mounts the backups volume",
        )
    files = []
    for record in result.out.split("\0"):
        parts = record.split("\t", 2)
        if len(parts) != 3 or not parts[2].endswith((".sql", ".sql.gz")):
            continue
        try:
            size, when = int(parts[0]), datetime.fromtimestamp(float(parts[1]), UTC)
        except ValueError:
            continue
        files.append(PodFile(parts[2], size, when))
    files.sort(key=lambda f: f.when or datetime.min.replace(tzinfo=UTC), reverse=True)
    return files
