"""Reading a dump in S3 end to end, to know it can be restored.

The object is streamed (boto3 get_object body, in a thread) through a zlib
decompressor: the gzip stream must be intact to its last byte, the SHA-256 of the
object's bytes must match the one in its metadata when it has one, and a plain-SQL
pg_dump must end with its "dump complete" line (pg_dump killed mid-way still leaves a
well-formed gzip stream when the compressor is closed cleanly).  Nothing larger than
one chunk is held in memory.  Verdicts are cached per (key, ETag): an object that has
not changed is not read twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from cockpit.model import (
    CORRUPT,
    TOO_SMALL,
    TRUNCATED,
    UNREADABLE,
    VERIFIED,
    DumpVerdict,
    Level,
)
from cockpit.units import size_words

CHUNK = 1 << 20
SHA_KEY = "sha256"  # x-amz-meta-sha256
PG_DUMP_HEAD = b"--\n-- PostgreSQL database dump"
PG_DUMP_TAIL = b"-- PostgreSQL database dump complete"
TAIL_KEEP = 256

BytesProgress = Callable[[int, int], None]  # (bytes read, total bytes)


class _Gunzip:
    """A streaming gunzip that accepts concatenated members (as `cat a.gz b.gz` makes)."""

    def __init__(self) -> None:
        self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self.out = 0
        self.head = b""
        self.tail = b""

    def feed(self, data: bytes) -> bytes:
        produced = []
        while data:
            chunk = self._d.decompress(data)
            produced.append(chunk)
            data = self._d.unused_data if self._d.eof else b""
            if self._d.eof and data:
                self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = b"".join(produced)
        self._note(out)
        return out

    def _note(self, out: bytes) -> None:
        if not out:
            return
        self.out += len(out)
        if len(self.head) < len(PG_DUMP_HEAD):
            self.head = (self.head + out)[: len(PG_DUMP_HEAD)]
        self.tail = (self.tail + out)[-TAIL_KEEP:]

    @property
    def complete(self) -> bool:
        return self._d.eof


def check_stream(
    chunks: Any,
    *,
    key: str,
    etag: str,
    size: int,
    expected_sha256: str = "",
    previous_size: int | None = None,
    min_ratio: float = 0.5,
    progress: BytesProgress | None = None,
    cancel: threading.Event | None = None,
) -> DumpVerdict:
    """Blocking: consume an iterable of byte chunks and judge them.  Setting `cancel`
    stops the read at the next chunk (a thread cannot be cancelled otherwise, and an
    exiting event loop waits for its threads)."""
    digest = hashlib.sha256()
    gunzip = _Gunzip()
    read = 0

    def verdict(status: str, level: Level, message: str) -> DumpVerdict:
        return DumpVerdict(
            key=key,
            etag=etag,
            size=read,
            status=status,
            level=level,
            message=message,
            sha256=digest.hexdigest() if status != UNREADABLE else "",
            expected_sha256=expected_sha256,
            uncompressed=gunzip.out,
            checked_at=datetime.now(UTC),
        )

    try:
        for chunk in chunks:
            if cancel is not None and cancel.is_set():
                return verdict(UNREADABLE, Level.WARN, f"check stopped at byte {read:,}")
            read += len(chunk)
            digest.update(chunk)
            gunzip.feed(chunk)
            if progress is not None:
                progress(read, size)
    except zlib.error as exc:
        return verdict(CORRUPT, Level.CRIT, f"not a valid gzip stream at byte {read:,}: {exc}")
    if read == 0:
        return verdict(TRUNCATED, Level.CRIT, "the object is empty (0 bytes)")
    if size and read < size:
        return verdict(TRUNCATED, Level.CRIT, f"read {read:,} of {size:,} bytes")
    if not gunzip.complete:
        return verdict(TRUNCATED, Level.CRIT, "the gzip stream ends early: the dump is cut off")
    if expected_sha256 and digest.hexdigest() != expected_sha256.lower():
        return verdict(CORRUPT, Level.CRIT, "SHA-256 differs from the one in its metadata")
    if gunzip.head.startswith(PG_DUMP_HEAD) and PG_DUMP_TAIL not in gunzip.tail:
        return verdict(TRUNCATED, Level.CRIT, "pg_dump's output stops before 'dump complete'")
    sha = "SHA-256 matches" if expected_sha256 else "no SHA-256 in metadata"
    what = f"{size_words(read)} → {size_words(gunzip.out)} SQL, gzip intact, {sha}"
    if previous_size and read < previous_size * min_ratio:
        return verdict(
            TOO_SMALL,
            Level.WARN,
            f"{what}; under {min_ratio:.0%} of the previous dump ({size_words(previous_size)})",
        )
    return verdict(VERIFIED, Level.OK, what)


def verify_object(
    client: Any,
    bucket: str,
    key: str,
    *,
    previous_size: int | None = None,
    min_ratio: float = 0.5,
    progress: BytesProgress | None = None,
    chunk: int = CHUNK,
    cancel: threading.Event | None = None,
) -> DumpVerdict:
    """Blocking: stream s3://bucket/key through check_stream.  S3 errors become an
    UNREADABLE verdict (the caller words them with s3_error when it has settings)."""
    try:
        response = client.get_object(Bucket=bucket, Key=key)
    except Exception as exc:
        return _unreadable(key, exc)
    body = response["Body"]
    try:
        return check_stream(
            body.iter_chunks(chunk),
            key=key,
            etag=str(response.get("ETag") or "").strip('"'),
            size=int(response.get("ContentLength") or 0),
            expected_sha256=str((response.get("Metadata") or {}).get(SHA_KEY) or ""),
            previous_size=previous_size,
            min_ratio=min_ratio,
            progress=progress,
            cancel=cancel,
        )
    except Exception as exc:  # the connection dropped mid-read
        return _unreadable(key, exc)
    finally:
        body.close()


def _unreadable(key: str, exc: BaseException) -> DumpVerdict:
    from cockpit.config import redact

    return DumpVerdict(
        key=key,
        etag="",
        size=0,
        status=UNREADABLE,
        level=Level.CRIT,
        message=f"could not read it: {type(exc).__name__}: {redact(str(exc))[:200]}",
        checked_at=datetime.now(UTC),
    )


class VerifyCache:
    """Verdicts per (key, ETag), bounded; one read of an object at a time."""

    def __init__(self, limit: int = 64) -> None:
        self.limit = limit
        self._verdicts: dict[tuple[str, str], DumpVerdict] = {}
        self._lock = threading.Lock()

    def get(self, key: str, etag: str) -> DumpVerdict | None:
        with self._lock:
            return self._verdicts.get((key, etag))

    def put(self, verdict: DumpVerdict) -> None:
        if verdict.status == UNREADABLE or not verdict.etag:
            return  # a network failure says nothing about the object: try again next time
        with self._lock:
            self._verdicts[(verdict.key, verdict.etag)] = verdict
            while len(self._verdicts) > self.limit:
                self._verdicts.pop(next(iter(self._verdicts)))

    async def verify(
        self,
        client: Any,
        bucket: str,
        key: str,
        etag: str = "",
        **kwargs: Any,
    ) -> DumpVerdict:
        """The cached verdict for this ETag, else a fresh read in a thread."""
        if etag:
            cached = self.get(key, etag.strip('"'))
            if cached is not None:
                return cached
        verdict = await asyncio.to_thread(verify_object, client, bucket, key, **kwargs)
        self.put(verdict)
        return verdict
