"""Backups: the CronJob, the dumps in S3, and the verification of a dump."""

from __future__ import annotations

from datetime import datetime

from cockpit.model import Level, frozen

# -- backups and health ----------------------------------------------------------------


@frozen
class JobRow:
    name: str
    uid: str
    status: str  # Running / Complete / Failed
    started: datetime | None
    finished: datetime | None
    manual: bool
    level: Level

    def duration_s(self, now: datetime) -> float | None:
        """How long it ran (or has been running, measured to `now`)."""
        if self.started is None:
            return None
        end = self.finished or (now if self.status == "Running" else None)
        return None if end is None else max(0.0, (end - self.started).total_seconds())


@frozen
class BackupObject:
    """One object under s3://<bucket>/<prefix>.  `key` is untrusted text."""

    key: str
    size: int
    modified: datetime | None  # S3's LastModified (the upload, not the dump)
    taken: datetime | None = None  # from the name, backup_YYYYMMDD_HHMMSS (UTC), if any
    etag: str = ""  # S3's ETag (unquoted): a verdict is cached per key and ETag

    @property
    def when(self) -> datetime | None:
        """When the dump was taken: the name's timestamp, else the upload time."""
        return self.taken or self.modified


@frozen
class BackupsSnapshot:
    """The runbook's backup checks: the CronJob and its Jobs, then the S3 objects.

    The two halves fail independently: `kube_message` / `s3_message` say, in words, why
    a half is missing, and the other half is still there.  `problems` lists what is
    wrong, worst first, and `level` is the worst of them.
    """

    cronjob: str
    schedule: str
    suspended: bool
    last_schedule: datetime | None
    last_success: datetime | None
    jobs: tuple[JobRow, ...]  # newest first
    objects: tuple[BackupObject, ...] = ()  # S3, newest first, at most a screenful or so
    s3_message: str = ""  # why S3 is not shown, when not
    taken_at: datetime | None = None
    level: Level = Level.OK
    kube_message: str = ""  # why the CronJob/Jobs half is missing or old, when it is
    s3_hint: str = ""  # what to do about s3_message
    s3_checked: bool = False  # False: S3 was not listed at all (e.g. Kubernetes-only)
    s3_listed_at: datetime | None = None  # when `objects` was listed (older on a failure)
    bucket: str = ""
    prefix: str = ""
    object_count: int = 0  # every object listed, not only those in `objects`
    total_bytes: int = 0
    past_retention: int = 0  # objects older than retention_days
    retention_days: int = 30
    truncated: bool = False  # the listing stopped at its key limit: counts are lower bounds
    key_limit: int = 0
    problems: tuple[tuple[Level, str], ...] = ()  # worst first
    verdict: DumpVerdict | None = None  # the newest dump read end to end, once it has been
    verifying: VerifyProgress | None = None  # a read of the newest dump under way

    @property
    def newest(self) -> BackupObject | None:
        return self.objects[0] if self.objects else None

    @property
    def last_job(self) -> JobRow | None:
        return self.jobs[0] if self.jobs else None


# -- backups: verification of a dump (issue 11) ---------------------------------------

VERIFIED = "verified"
TRUNCATED = "truncated"
CORRUPT = "corrupt"
TOO_SMALL = "too small"
UNREADABLE = "unreadable"


@frozen
class VerifyProgress:
    key: str
    done: int  # bytes read so far
    total: int  # the object's size

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 0.0


@frozen
class DumpVerdict:
    """What reading one dump in S3 end to end found.  `key` and `message` are untrusted
    text (the key is the bucket's; the message may quote an S3 error)."""

    key: str
    etag: str
    size: int  # compressed bytes read
    status: str  # VERIFIED, TRUNCATED, CORRUPT, TOO_SMALL or UNREADABLE
    level: Level
    message: str
    sha256: str = ""  # of the object's bytes, as computed
    expected_sha256: str = ""  # from the object's metadata, when it has one
    uncompressed: int = 0  # bytes of SQL the gzip stream held
    checked_at: datetime | None = None

    @property
    def usable(self) -> bool:
        """Safe to restore from: intact to the end (a small dump is still a dump)."""
        return self.status in (VERIFIED, TOO_SMALL)
