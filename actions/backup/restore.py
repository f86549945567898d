"""Restore steps (c) and (d): verify the chosen dump before anything changes, then
stream it S3 → gunzip → `psql -v ON_ERROR_STOP=1 --single-transaction` in a thread.

A dump that is not intact is refused (journaled as refused, nothing sent to the
database).  psql runs the whole dump as one transaction, so the first error rolls
everything back; its error line (psql:<stdin>:LINE: ERROR: ...) is what the result says.
The guided restore's other steps are in writers.py and guided.py; dump_sources.py reads dumps.
"""

from __future__ import annotations

import asyncio
import subprocess
import threading
import time
from collections.abc import Iterable, Iterator
from typing import ClassVar

from actions.backup.context import BackupContext, LongRunning, quiet, threadsafe
from actions.backup.dump_sources import S3Dump, verify_dump
from actions.base import Action, Plan, Progress, Refused, Result, Risk
from cockpit.units import size_words


class VerifyDump(LongRunning, Action):
    """Step (c) on its own: read the dump end to end.  Changes nothing."""

    id = "backup.verify"
    label = "Verify dump"
    mutating = False
    context_kind: ClassVar[str] = "backup"

    def __init__(self, key: str, bucket: str, *, progress: Progress | None = None) -> None:
        self.key = key
        self.bucket = bucket
        self.progress = progress or quiet

    def plan(self) -> Plan:
        return Plan(
            action=self.id,
            title=f"Verify s3://{self.bucket}/{self.key}",
            changes=("nothing: reads the object end to end",),
            command=f"aws s3 cp s3://{self.bucket}/{self.key} - | gunzip -t",
            targets=(f"s3://{self.bucket}/{self.key}",),
            blast_radius="none",
            risk=Risk.LOW,
        )

    async def execute(self, ctx: BackupContext, dry_run: bool) -> Result:
        verdict = await verify_dump(ctx, self.bucket, self.key, self.progress)
        data = {"key": self.key, "verdict": verdict.status, "sha256": verdict.sha256}
        return Result(verdict.usable, f"{verdict.status}: {verdict.message}", data)


class RestoreDump(LongRunning, Action):
    """Step (d): restore a verified dump into `database` (typed confirmation)."""

    id = "backup.restore"
    label = "Restore dump"
    context_kind: ClassVar[str] = "backup"

    def __init__(
        self, key: str, database: str, bucket: str, *, progress: Progress | None = None
    ) -> None:
        self.key = key
        self.database = database
        self.bucket = bucket
        self.progress = progress or quiet

    def plan(self) -> Plan:
        return Plan(
            action=self.id,
            title=f"Restore s3://{self.bucket}/{self.key} into database {self.database}",
            changes=(
                f"runs the dump's SQL in database {self.database}, in one transaction",
                "the dump is verified first; a corrupt or truncated one is refused",
            ),
            command=(
                f"aws s3 cp s3://{self.bucket}/{self.key} - | gunzip | "
                f"psql -v ON_ERROR_STOP=1 --single-transaction {self.database}"
            ),
            targets=(f"database/{self.database}",),
            blast_radius=f"database {self.database}: its tables are created and filled",
            risk=Risk.HIGH,
            confirm_phrase=self.database,
            dry_run_supported=True,
            lock_key=f"backup.restore:{self.database}",
        )

    async def execute(self, ctx: BackupContext, dry_run: bool) -> Result:
        psql = ctx.binary("psql")
        verdict = await verify_dump(ctx, self.bucket, self.key, self.progress)
        if not verdict.usable:
            raise Refused(
                f"dump refused before anything was changed: {verdict.status}: {verdict.message}"
            )
        if dry_run:
            return Result(True, f"dump verified ({verdict.message}); would restore it")
        report = threadsafe(self.progress)
        return await asyncio.to_thread(self._stream, ctx, psql, verdict.size, report)

    def _stream(self, ctx: BackupContext, psql: str, size: int, report: Progress) -> Result:
        with S3Dump(self.bucket, self.key).open(ctx) as chunks:
            outcome = stream_sql(ctx, psql, self.database, chunks, size, report)
        data = {"key": self.key, "database": self.database, **outcome.data}
        if not outcome.ok:
            return Result(False, outcome.message, data)
        return Result(True, f"restored {self.key} into {self.database}: {outcome.message}", data)


def stream_sql(
    ctx: BackupContext,
    psql: str,
    database: str,
    chunks: Iterable[tuple[int, bytes]],
    size: int,
    report: Progress,
) -> Result:
    """Pipe a dump's SQL into `psql -v ON_ERROR_STOP=1 --single-transaction` (in a
    thread).  The first error rolls everything back; its line is what the result says."""
    conninfo, env = ctx.libpq(database)
    proc = subprocess.Popen(
        # -f - (not plain stdin) makes psql prefix errors with the line: psql:<stdin>:N:
        [
            psql,
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "--single-transaction",
            "-f",
            "-",
            f"--dbname={conninfo}",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdin is not None and proc.stderr is not None
    errors: list[bytes] = []
    drain = threading.Thread(target=lambda: errors.append(proc.stderr.read()), daemon=True)
    drain.start()
    read = rows = 0
    started = time.monotonic()
    try:
        for read, data in _or_kill(chunks, proc):
            rows += data.count(b"\n")  # COPY rows are lines: a fair rows/s
            try:
                proc.stdin.write(data)
            except BrokenPipeError:
                break  # psql stopped at an error: its message says where
            elapsed = max(time.monotonic() - started, 1e-3)
            report(
                read / size if size else None,
                f"restore: {size_words(read)} ({size_words(read / elapsed)}/s), "
                f"{rows / elapsed:,.0f} lines/s",
            )
        complete = getattr(chunks, "complete", None)
        if complete is not None and proc.poll() is None and not complete():
            # No closing line: a cut dump must not be committed.  psql still holds the
            # transaction open (stdin is not closed): killing it rolls it back.
            proc.kill()
            proc.wait()
            return Result(
                False,
                "the dump ends before pg_dump's closing line (truncated); nothing was committed",
                {"error": "truncated"},
            )
    finally:
        if not proc.stdin.closed:
            try:
                proc.stdin.close()
            except BrokenPipeError:
                pass
    code = proc.wait()
    drain.join(5)
    stderr = b"".join(errors).decode("utf-8", "replace")
    if code != 0:
        line = next(
            (x for x in stderr.splitlines() if "ERROR" in x or "FATAL" in x),
            stderr.strip().splitlines()[0] if stderr.strip() else "no message",
        )
        return Result(
            False,
            f"psql stopped (exit {code}); nothing was committed: {line[:400]}",
            {"error": line[:400]},
        )
    elapsed = time.monotonic() - started
    return Result(True, f"{size_words(read)} in {elapsed:.1f} s", {"bytes": read, "lines": rows})


def _or_kill(
    chunks: Iterable[tuple[int, bytes]], proc: subprocess.Popen
) -> Iterator[tuple[int, bytes]]:
    """The chunks; if reading them fails (S3 or the pod went away mid-dump), psql is
    killed before its stdin closes: at EOF it would commit what it had."""
    try:
        yield from chunks
    except BaseException:
        proc.kill()
        proc.wait()
        raise
