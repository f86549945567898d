"""The dump verifier against a moto S3 server over real HTTP: intact, truncated,
corrupt, wrong SHA-256, too small against the previous dump, pg_dump cut short, a
missing object; and verdicts cached per ETag."""

from __future__ import annotations

import gzip
import hashlib
import os
from typing import Any

from cockpit.model import CORRUPT, TOO_SMALL, TRUNCATED, UNREADABLE, VERIFIED, Level
from cockpit.sources.backups.verify import VerifyCache, check_stream, verify_object

DUMP = (
    b"--\n-- PostgreSQL database dump\n--\n"
    + b"".join(
        b"INSERT INTO t VALUES ('\xec\x97\x91', '%s');\n" % os.urandom(24).hex().encode()
        for _ in range(5000)
    )
    + b"--\n-- PostgreSQL database dump complete\n--\n"
)
KEY = "backup_20260101_020000.sql.gz"


def put(client: Any, bucket: str, body: bytes, **meta: str) -> None:
    client.put_object(Bucket=bucket, Key=KEY, Body=body, Metadata=meta)


def test_an_intact_dump_with_its_sha256_is_verified(s3_client: Any, s3_bucket: str) -> None:
    blob = gzip.compress(DUMP)
    put(s3_client, s3_bucket, blob, sha256=hashlib.sha256(blob).hexdigest())
    seen: list[int] = []
    verdict = verify_object(
        s3_client, s3_bucket, KEY, chunk=4096, progress=lambda done, total: seen.append(done)
    )
    assert verdict.status == VERIFIED and verdict.level is Level.OK, verdict.message
    assert verdict.uncompressed == len(DUMP) and verdict.size == len(blob)
    assert "SHA-256 matches" in verdict.message
    assert len(seen) > 1 and seen[-1] == len(blob)  # read in chunks, streaming


def test_truncated_corrupt_and_wrong_sha(s3_client: Any, s3_bucket: str) -> None:
    blob = gzip.compress(DUMP)
    put(s3_client, s3_bucket, blob[:-100])
    assert verify_object(s3_client, s3_bucket, KEY).status == TRUNCATED
    flipped = blob[:200] + bytes(b ^ 0x5A for b in blob[200:260]) + blob[260:]
    put(s3_client, s3_bucket, flipped)
    assert verify_object(s3_client, s3_bucket, KEY).status == CORRUPT
    put(s3_client, s3_bucket, blob, sha256="0" * 64)
    verdict = verify_object(s3_client, s3_bucket, KEY)
    assert verdict.status == CORRUPT and "SHA-256" in verdict.message
    assert not verdict.usable


def test_pg_dump_cut_short_inside_a_clean_gzip_is_truncated() -> None:
    cut = gzip.compress(DUMP[: len(DUMP) // 2])
    verdict = check_stream([cut], key=KEY, etag="e", size=len(cut))
    assert verdict.status == TRUNCATED and "dump complete" in verdict.message


def test_smaller_than_half_the_previous_dump_warns() -> None:
    blob = gzip.compress(DUMP)
    verdict = check_stream([blob], key=KEY, etag="e", size=len(blob), previous_size=len(blob) * 3)
    assert verdict.status == TOO_SMALL and verdict.level is Level.WARN
    assert verdict.usable  # still restorable: the pane warns, restore may use it
    fine = check_stream([blob], key=KEY, etag="e", size=len(blob), previous_size=len(blob) + 10)
    assert fine.status == VERIFIED


def test_concatenated_gzip_members_and_garbage() -> None:
    half = len(DUMP) // 2
    blob = gzip.compress(DUMP[:half]) + gzip.compress(DUMP[half:])
    assert check_stream([blob], key=KEY, etag="e", size=len(blob)).status == VERIFIED
    noise = os.urandom(5000)
    assert check_stream([noise], key=KEY, etag="e", size=5000).status == CORRUPT
    assert check_stream([], key=KEY, etag="e", size=0).status == TRUNCATED


def test_a_missing_object_is_unreadable(s3_client: Any, s3_bucket: str) -> None:
    verdict = verify_object(s3_client, s3_bucket, "nope.sql.gz")
    assert verdict.status == UNREADABLE and verdict.level is Level.CRIT
    assert "NoSuchKey" in verdict.message


async def test_verdicts_are_cached_per_etag(s3_client: Any, s3_bucket: str) -> None:
    put(s3_client, s3_bucket, gzip.compress(DUMP))
    etag = s3_client.head_object(Bucket=s3_bucket, Key=KEY)["ETag"]
    cache = VerifyCache()
    reads: list[int] = []
    first = await cache.verify(
        s3_client, s3_bucket, KEY, etag, progress=lambda d, t: reads.append(d)
    )
    assert first.status == VERIFIED and reads
    reads.clear()
    again = await cache.verify(
        s3_client, s3_bucket, KEY, etag, progress=lambda d, t: reads.append(d)
    )
    assert again is first and reads == []  # not read a second time
    put(s3_client, s3_bucket, gzip.compress(DUMP)[:-50])  # a new object: a new ETag
    etag2 = s3_client.head_object(Bucket=s3_bucket, Key=KEY)["ETag"]
    assert etag2 != etag
    assert (await cache.verify(s3_client, s3_bucket, KEY, etag2)).status == TRUNCATED
