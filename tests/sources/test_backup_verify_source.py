"""BackupsSource reads the newest dump in the background (moto over real HTTP): the
first poll shows it under way, a later poll shows the verdict, a new damaged dump turns
the pane critical, and a verdict is not recomputed for an unchanged ETag."""

from __future__ import annotations

import asyncio
import gzip
import os
from typing import Any

from cockpit.config import BackupSettings, Settings
from cockpit.model import TOO_SMALL, TRUNCATED, VERIFIED, BackupsSnapshot, Level
from cockpit.sources.backups.source import BackupsSource
from tests.fixtures.s3 import MotoServer


def dump(lines: int) -> bytes:
    body = b"".join(
        b"INSERT INTO t VALUES ('%s');\n" % os.urandom(16).hex().encode() for _ in range(lines)
    )
    return gzip.compress(
        b"--\n-- PostgreSQL database dump\n--\n" + body + b"-- PostgreSQL database dump complete\n"
    )


async def settled(source: BackupsSource) -> BackupsSnapshot:
    for _ in range(100):
        snap = await source.snapshot()
        if snap.verdict is not None:
            return snap
        await asyncio.sleep(0.05)
    raise AssertionError("no verdict")


async def test_newest_dump_verdicts(
    moto_server: MotoServer, s3_bucket: str, s3_client: Any
) -> None:
    settings = Settings(backups=BackupSettings(bucket=s3_bucket, endpoint_url=moto_server.url))
    source = BackupsSource(settings)
    try:
        s3_client.put_object(Bucket=s3_bucket, Key="backup_20260101_020000.sql.gz", Body=dump(4000))
        s3_client.put_object(Bucket=s3_bucket, Key="backup_20260102_020000.sql.gz", Body=dump(4000))
        first = await source.snapshot()
        assert first.verdict is None and first.verifying is not None
        assert first.verifying.key == "backup_20260102_020000.sql.gz"
        snap = await settled(source)
        assert snap.verdict is not None and snap.verdict.status == VERIFIED
        assert snap.verifying is None
        assert not any("newest dump" in words for _, words in snap.problems)
        again = await source.snapshot()
        assert again.verdict is snap.verdict  # cached per ETag, not read again
        assert source._verify_task is None

        s3_client.put_object(
            Bucket=s3_bucket, Key="backup_20260103_020000.sql.gz", Body=dump(4000)[:-40]
        )
        bad = await settled(source)
        assert bad.verdict is not None and bad.verdict.status == TRUNCATED
        assert bad.level is Level.CRIT
        assert any("newest dump truncated" in words for _, words in bad.problems)

        s3_client.put_object(Bucket=s3_bucket, Key="backup_20260104_020000.sql.gz", Body=dump(300))
        small = await settled(source)
        assert small.verdict is not None and small.verdict.status == TOO_SMALL
        assert any(level is Level.WARN and "too small" in words for level, words in small.problems)
    finally:
        await source.close()


async def test_close_stops_a_running_read_and_check_can_wait(
    moto_server: MotoServer, s3_bucket: str, s3_client: Any
) -> None:
    settings = Settings(backups=BackupSettings(bucket=s3_bucket, endpoint_url=moto_server.url))
    s3_client.put_object(Bucket=s3_bucket, Key="backup_20260101_020000.sql.gz", Body=dump(2000))
    waiting = BackupsSource(settings)
    await waiting.snapshot()
    verdict = await waiting.verdict_now(timeout=10)
    assert verdict is not None and verdict.status == VERIFIED  # what `cockpit check` uses
    await waiting.close()

    stopped = BackupsSource(settings)
    stopped._stop.set()  # as close() does: the read ends at its next chunk
    await stopped.snapshot()
    early = await stopped.verdict_now(timeout=10)
    assert early is not None and early.status == "unreadable" and "stopped" in early.message
    await stopped.close()
