"""Dump now: the path for when the backup CronJob is broken.

pg_dump --format=plain (the runbook restores with `psql < backup.sql`, and the CronJob
writes plain SQL too, so one restore path serves both; plain text also lets the
verifier check pg_dump's closing line) → gzip (zlib, streaming) → a temporary file,
hashed on the way → a multipart upload with x-amz-meta-sha256.  The file is spooled
because S3 fixes an object's metadata when the upload starts, and the hash is only
known at the end; it also keeps a slow S3 from holding pg_dump's snapshot open.
verify() reads the object back (size and SHA-256) through the same verifier the pane
uses.
"""

from __future__ import annotations

import asyncio
import hashlib
import subprocess
import tempfile
import zlib
from datetime import UTC, datetime
from typing import Any, ClassVar

from actions.backup.context import BackupContext, LongRunning, quiet, threadsafe
from actions.base import Action, Plan, Progress, Result, Risk
from cockpit.sources.backups.verify import SHA_KEY, verify_object
from cockpit.units import size_words

CHUNK = 1 << 20


class DumpNow(LongRunning, Action):
    id = "backup.dump-now"
    label = "Dump now"
    context_kind: ClassVar[str] = "backup"

    def __init__(
        self,
        database: str,
        bucket: str,
        prefix: str = "",
        *,
        key: str = "",
        progress: Progress | None = None,
    ) -> None:
        self.database = database
        self.bucket = bucket
        self.prefix = prefix
        stamp = datetime.now(UTC).strftime("%Y%m%d_%H%M%S")
        self.key = key or f"{prefix}backup_{stamp}.sql.gz"  # the runbook's naming
        self.progress = progress or quiet

    def plan(self) -> Plan:
        return Plan(
            action=self.id,
            title=f"Dump database {self.database} now to s3://{self.bucket}/{self.key}",
            changes=(
                f"adds one object s3://{self.bucket}/{self.key} (nothing is overwritten "
                "or deleted)",
                "reads the whole database in one snapshot (pg_dump): extra load while it runs",
            ),
            command=(
                f"pg_dump --format=plain {self.database} | gzip | aws s3 cp - "
                f"s3://{self.bucket}/{self.key} --metadata sha256=…"
            ),
            targets=(f"s3://{self.bucket}/{self.key}",),
            blast_radius="only adds a backup object; the database is read, not changed",
            risk=Risk.MEDIUM,
            dry_run_supported=True,
            lock_key=f"backup.dump:{self.database}",
        )

    async def execute(self, ctx: BackupContext, dry_run: bool) -> Result:
        pg_dump = ctx.binary("pg_dump")
        client = ctx.client()
        if dry_run:
            return Result(True, f"would run {pg_dump} and upload to s3://{self.bucket}/{self.key}")
        report = threadsafe(self.progress)
        return await asyncio.to_thread(self._dump_and_upload, ctx, pg_dump, client, report)

    def _dump_and_upload(
        self, ctx: BackupContext, pg_dump: str, client: Any, report: Progress
    ) -> Result:
        conninfo, env = ctx.libpq(self.database)
        digest = hashlib.sha256()
        compressor = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # gzip
        dumped = 0
        with tempfile.TemporaryFile(prefix="cockpit-dump-") as spool:
            proc = subprocess.Popen(
                [pg_dump, "--format=plain", f"--dbname={conninfo}"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
            )
            assert proc.stdout is not None and proc.stderr is not None
            while chunk := proc.stdout.read(CHUNK):
                dumped += len(chunk)
                out = compressor.compress(chunk)
                digest.update(out)
                spool.write(out)
                report(None, f"pg_dump: {size_words(dumped)} read")
            tail = compressor.flush()
            digest.update(tail)
            spool.write(tail)
            error = proc.stderr.read().decode("utf-8", "replace")
            if proc.wait() != 0:
                line = next((x for x in error.splitlines() if x.strip()), "no message")
                return Result(False, f"pg_dump failed (exit {proc.returncode}): {line[:300]}")
            size = spool.tell()
            sha = digest.hexdigest()
            spool.seek(0)
            self._upload(ctx, client, spool, size, sha, report)
        return Result(
            True,
            f"dumped {self.database}: {size_words(dumped)} SQL → {size_words(size)} gzip, "
            f"uploaded to s3://{self.bucket}/{self.key}",
            {"key": self.key, "size": size, "sha256": sha, "sql_bytes": dumped},
        )

    def _upload(
        self, ctx: BackupContext, client: Any, spool: Any, size: int, sha: str, report: Progress
    ) -> None:
        part_size = ctx.settings.backups.part_size_mb << 20
        upload = client.create_multipart_upload(
            Bucket=self.bucket,
            Key=self.key,
            ContentType="application/gzip",
            Metadata={SHA_KEY: sha},
        )
        upload_id = upload["UploadId"]
        parts = []
        sent = 0
        try:
            number = 1
            while True:
                body = spool.read(part_size)
                if not body and number > 1:
                    break
                reply = client.upload_part(
                    Bucket=self.bucket,
                    Key=self.key,
                    UploadId=upload_id,
                    PartNumber=number,
                    Body=body,
                )
                parts.append({"ETag": reply["ETag"], "PartNumber": number})
                sent += len(body)
                report(sent / size if size else 1.0, f"upload: {size_words(sent)}")
                number += 1
                if len(body) < part_size:
                    break
            client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=self.key,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
            )
        except BaseException:
            # Never leave invisible half-uploads billing in the bucket.
            try:
                client.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=upload_id)
            except Exception:
                pass
            raise

    async def verify(self, ctx: BackupContext, result: Result, progress: Progress) -> Result:
        report = threadsafe(progress if self.progress is quiet else self.progress)

        def read_back(done: int, total: int) -> None:
            report(done / total if total else None, f"verifying: {size_words(done)}")

        verdict = await asyncio.to_thread(
            verify_object, ctx.client(), self.bucket, self.key, progress=read_back
        )
        ctx.cache.put(verdict)
        data = {**result.data, "verdict": verdict.status}
        if not verdict.usable:
            return Result(False, f"uploaded, but the read-back failed: {verdict.message}", data)
        if verdict.size != result.data["size"] or verdict.sha256 != result.data["sha256"]:
            return Result(False, "uploaded, but the read-back differs in size or SHA-256", data)
        return Result(True, f"{result.message}; read back and verified ({verdict.message})", data)
