"""The Backups pane's data: the runbook's backup checks in one snapshot.

Two halves, fetched side by side and failing independently:
  Kubernetes  `kubectl get cronjobs` / `kubectl get jobs | grep backup`
              (KubeSource.backups_snapshot, from the jobs informer)
  S3          the dumps under s3://<bucket>/<prefix> (S3Source, boto3 in a thread)
A failing half becomes a message inside the snapshot (the other half still shows, and
the last good listing is kept); only when both fail does the poll fail as a whole.
`combine()` is pure and takes `now`, so the age rules are tested without a clock.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from cockpit.config import BackupSettings, Settings
from cockpit.errors import SourceError, describe
from cockpit.model import BackupObject, BackupsSnapshot, DumpVerdict, Level, VerifyProgress
from cockpit.sources.backups.s3 import S3Listing, S3Source, s3_error
from cockpit.sources.backups.verify import VerifyCache, verify_object
from cockpit.units import age_words

KubeHalf = Callable[[], Awaitable[BackupsSnapshot]]  # e.g. KubeSource.backups_snapshot

# The schedule is daily (0 2 * * *): 26 h leaves a dump two hours to run and upload;
# past two days a whole daily backup was missed.
WARN_AGE = timedelta(hours=26)
CRIT_AGE = timedelta(days=2)
MAX_OBJECTS = 100  # objects carried in a snapshot (newest first); counts cover all


class BackupsSource:
    def __init__(
        self,
        settings: Settings,
        kube: KubeHalf | None = None,
        s3: S3Source | None = None,
        *,
        deadline: float | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.settings = settings
        self.s3 = s3 or S3Source(settings.backups)
        self._kube = kube
        # Each half must answer inside the poller's own timeout, or a slow S3 would
        # hide the CronJob too.
        self.deadline = deadline if deadline is not None else max(1.0, settings.poll.timeout - 2)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._s3_inflight: asyncio.Future[S3Listing] | None = None
        self._last_listing: tuple[S3Listing, datetime] | None = None
        self._last_kube: BackupsSnapshot | None = None
        # The newest dump is read end to end in the background, once per ETag; a poll
        # never waits for it (a large dump takes minutes), it shows the progress.
        self.verifier = VerifyCache()
        self._verify_task: asyncio.Task[DumpVerdict] | None = None
        self._verifying: VerifyProgress | None = None
        self._last_verdict: DumpVerdict | None = None
        self._stop = threading.Event()  # set by close(): a running read stops

    def attach(self, kube: KubeHalf) -> None:
        """Late binding: the Kubernetes half, once the cluster is connected."""
        self._kube = kube

    async def close(self) -> None:
        if self._s3_inflight is not None and not self._s3_inflight.done():
            self._s3_inflight.cancel()
        self._stop.set()
        if self._verify_task is not None and not self._verify_task.done():
            self._verify_task.cancel()
        self.s3.close()

    async def verdict_now(self, timeout: float) -> DumpVerdict | None:
        """Wait (up to `timeout`) for the newest dump's read started by snapshot(), then
        return the verdict: for one-shot callers such as `cockpit check`."""
        task = self._verify_task
        if task is not None and not task.done():
            await asyncio.wait({task}, timeout=timeout)
        if task is not None and task.done() and not task.cancelled() and not task.exception():
            return task.result()
        return self._last_verdict

    async def snapshot(self) -> BackupsSnapshot:
        now = self._clock()
        (kube, kube_message, kube_stale), (listing, listed_at, s3_problem) = await asyncio.gather(
            self._kube_half(), self._s3_half(now)
        )
        if kube_message and s3_problem is not None and kube is None and listing is None:
            raise SourceError(
                f"Kubernetes: {kube_message} · S3: {s3_problem.message}", s3_problem.hint
            )
        if kube_stale:
            kube_message += " · showing the last known CronJob and Jobs"
        verdict = self._check_newest(listing.objects if listing else ())
        return combine(
            kube,
            listing,
            self.settings.backups,
            now,
            kube_message=kube_message,
            s3_problem=s3_problem,
            listed_at=listed_at,
            verdict=verdict,
            verifying=self._verifying,
        )

    def _check_newest(self, objects: tuple[BackupObject, ...]) -> DumpVerdict | None:
        """The newest dump's verdict when known; else start reading it (in a thread)."""
        if not objects:
            return None
        newest = objects[0]
        previous = objects[1].size if len(objects) > 1 else None
        task = self._verify_task
        if task is not None and task.done():
            self._verify_task = None
            self._verifying = None
            if not task.cancelled() and task.exception() is None:
                self._last_verdict = task.result()
        cached = self.verifier.get(newest.key, newest.etag) if newest.etag else None
        if cached is not None:
            return cached
        last = self._last_verdict
        if self._verify_task is None and not (
            last is not None and last.key == newest.key and last.etag == newest.etag and newest.etag
        ):
            self._verifying = VerifyProgress(newest.key, 0, newest.size)
            self._verify_task = asyncio.ensure_future(self._verify(newest, previous))
        # An unreadable verdict (a network error) stays shown while it is retried.
        return last if last is not None and last.key == newest.key else None

    async def _verify(self, obj: BackupObject, previous: int | None) -> DumpVerdict:
        loop = asyncio.get_running_loop()

        def report(done: int, total: int) -> None:
            progress = VerifyProgress(obj.key, done, total)
            loop.call_soon_threadsafe(setattr, self, "_verifying", progress)

        def read() -> DumpVerdict:
            return verify_object(
                self.s3._get_client(),
                self.settings.backups.bucket,
                obj.key,
                previous_size=previous,
                min_ratio=self.settings.backups.min_size_ratio,
                progress=report,
                cancel=self._stop,
            )

        verdict = await asyncio.to_thread(read)
        self.verifier.put(verdict)
        return verdict

    async def _kube_half(self) -> tuple[BackupsSnapshot | None, str, bool]:
        """(snapshot, message, stale): the last good one, with a message, on failure."""
        if self._kube is None:
            return None, "not connected to Kubernetes yet", False
        task = asyncio.ensure_future(self._kube())
        done, _ = await asyncio.wait({task}, timeout=self.deadline)
        if not done:
            task.cancel()  # it only awaits the informer's sync: safe to abandon
            message = f"no answer within {self.deadline:g} s"
        else:
            try:
                self._last_kube = task.result()
                return self._last_kube, "", False
            except Exception as exc:
                message = describe(exc)[0]
        return self._last_kube, message, self._last_kube is not None

    async def _s3_half(
        self, now: datetime
    ) -> tuple[S3Listing | None, datetime | None, SourceError | None]:
        # A listing that outlived the deadline is not abandoned (a thread cannot be
        # cancelled): the next poll waits for it instead of starting a second one.
        if self._s3_inflight is None or self._s3_inflight.done():
            self._s3_inflight = asyncio.ensure_future(self.s3.listing(now))
            # Read by the next poll, or never (shutdown): mark its error as seen either way.
            self._s3_inflight.add_done_callback(_retrieve)
        inflight = self._s3_inflight
        done, _ = await asyncio.wait({inflight}, timeout=self.deadline)
        problem: SourceError | None = None
        if not done:
            problem = SourceError(
                f"S3 did not answer within {self.deadline:g} s", "the endpoint is slow"
            )
        else:
            self._s3_inflight = None
            try:
                listing = inflight.result()
                self._last_listing = (listing, now)
                return listing, now, None
            except Exception as exc:
                problem = s3_error(exc, self.settings.backups)
        if self._last_listing is not None:
            return self._last_listing[0], self._last_listing[1], problem
        return None, None, problem


def _retrieve(future: asyncio.Future[S3Listing]) -> None:
    if not future.cancelled():
        future.exception()


def combine(
    kube: BackupsSnapshot | None,
    listing: S3Listing | None,
    settings: BackupSettings,
    now: datetime,
    *,
    kube_message: str = "",
    s3_problem: SourceError | None = None,
    listed_at: datetime | None = None,
    verdict: DumpVerdict | None = None,
    verifying: VerifyProgress | None = None,
) -> BackupsSnapshot:
    """One snapshot from the two halves, with its problems (worst first) and level."""
    problems: list[tuple[Level, str]] = []
    last_success = _last_success(kube)
    if kube is not None:
        # KubeSource reports a missing CronJob in s3_message (its only text field then).
        missing = kube.kube_message or kube.s3_message
        if missing:
            problems.append((Level.CRIT, missing))
        else:
            problems += _kube_problems(kube, last_success, now)
        kube_message = kube_message or missing
    if kube_message and not _mentions(problems, kube_message):
        problems.append((Level.WARN, f"Kubernetes: {kube_message}"))

    objects = listing.objects if listing else ()
    cutoff = now - timedelta(days=settings.retention_days)
    past = sum(1 for o in objects if o.when is not None and o.when < cutoff)
    if s3_problem is not None:
        problems.append((Level.WARN, f"S3: {s3_problem.message}"))
    if listing is not None:
        problems += _s3_problems(listing, settings, now)
    newest = objects[0] if objects else None
    if verdict is not None and (newest is None or verdict.key != newest.key):
        verdict = None  # a verdict on an older dump says nothing about the newest
    if verdict is not None and verdict.level > Level.OK:
        problems.append((verdict.level, f"newest dump {verdict.status}: {verdict.message}"))
    if _covered(newest, verdict, last_success, now):
        # The data is safe (a dump now, say): what is left is a broken CronJob to fix.
        problems = [
            (min(level, Level.WARN), f"{words} (a newer dump, verified, covers it)")
            if level > Level.WARN and kube is not None and _is_job_problem(words)
            else (level, words)
            for level, words in problems
        ]

    problems.sort(key=lambda p: -p[0])  # stable: worst first, in the order found
    return BackupsSnapshot(
        cronjob=kube.cronjob if kube else settings.cronjob,
        schedule=kube.schedule if kube else settings.schedule,
        suspended=kube.suspended if kube else False,
        last_schedule=kube.last_schedule if kube else None,
        last_success=last_success,
        jobs=kube.jobs if kube else (),
        objects=objects[:MAX_OBJECTS],
        s3_message=s3_problem.message if s3_problem else "",
        s3_hint=s3_problem.hint if s3_problem else "",
        s3_checked=listing is not None or s3_problem is not None,
        s3_listed_at=listed_at,
        taken_at=now,
        level=max((p[0] for p in problems), default=Level.OK),
        kube_message=kube_message,
        bucket=settings.bucket,
        prefix=settings.prefix,
        object_count=len(objects),
        total_bytes=sum(o.size for o in objects),
        past_retention=past,
        retention_days=settings.retention_days,
        truncated=listing.truncated if listing else False,
        key_limit=listing.key_limit if listing else 0,
        problems=tuple(problems),
        verdict=verdict,
        verifying=verifying if verdict is None else None,
    )


def _covered(
    newest: BackupObject | None,
    verdict: DumpVerdict | None,
    last_success: datetime | None,
    now: datetime,
) -> bool:
    """A dump newer than the last successful Job, fresh, and read back intact."""
    return (
        newest is not None
        and newest.when is not None
        and now - newest.when <= WARN_AGE
        and (last_success is None or newest.when > last_success)
        and verdict is not None
        and verdict.level == Level.OK
    )


def _is_job_problem(words: str) -> bool:
    return words.startswith(("last backup Job", "last successful backup Job", "no successful"))


def _mentions(problems: list[tuple[Level, str]], text: str) -> bool:
    return any(text in p[1] for p in problems)


def _last_success(kube: BackupsSnapshot | None) -> datetime | None:
    """The CronJob's lastSuccessfulTime, or a later completed Job (a manual run counts)."""
    if kube is None:
        return None
    times = [j.finished for j in kube.jobs if j.status == "Complete" and j.finished]
    if kube.last_success is not None:
        times.append(kube.last_success)
    return max(times, default=None)


def _kube_problems(
    kube: BackupsSnapshot, last_success: datetime | None, now: datetime
) -> list[tuple[Level, str]]:
    problems: list[tuple[Level, str]] = []
    last = kube.last_job
    if last is not None and last.status == "Failed":
        problems.append((Level.CRIT, f"last backup Job {last.name} failed"))
    if kube.suspended:
        problems.append((Level.WARN, f"CronJob {kube.cronjob} is suspended: no backups run"))
    if last_success is None:
        problems.append((Level.WARN, "no successful backup Job on record"))
    else:
        age = now - last_success
        if age > WARN_AGE:
            level = Level.CRIT if age > CRIT_AGE else Level.WARN
            problems.append((level, f"last successful backup Job {age_words(age)} ago"))
    return problems


def _s3_problems(
    listing: S3Listing, settings: BackupSettings, now: datetime
) -> list[tuple[Level, str]]:
    where = f"s3://{settings.bucket}/{settings.prefix}"
    newest = listing.objects[0] if listing.objects else None
    if newest is None:
        return [(Level.CRIT, f"no backups in {where}")]
    problems: list[tuple[Level, str]] = []
    if newest.when is not None and now - newest.when > WARN_AGE:
        age = now - newest.when
        level = Level.CRIT if age > CRIT_AGE else Level.WARN
        problems.append((level, f"newest backup in S3 is {age_words(age)} old (daily schedule)"))
    if newest.size == 0:
        problems.append((Level.CRIT, "newest backup in S3 is empty (0 bytes)"))
    return problems
