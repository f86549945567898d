"""The backup rules with a fixed "now": name timestamps, ages, retention, levels, wording."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
)

from cockpit.config import BackupSettings
from cockpit.errors import SourceError
from cockpit.model import BackupObject, BackupsSnapshot, JobRow, Level
from cockpit.sources.backups.s3 import NO_CREDENTIALS, S3Listing, name_time, s3_error
from cockpit.sources.backups.source import combine

NOW = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)
SETTINGS = BackupSettings()


def job(
    name: str, status: str, started: datetime, took: float | None = 150, **kw: object
) -> JobRow:
    finished = started + timedelta(seconds=took) if took is not None else None
    level = {"Failed": Level.CRIT}.get(status, Level.OK)
    return JobRow(name, f"uid-{name}", status, started, finished, bool(kw.get("manual")), level)


def kube_half(
    jobs: tuple[JobRow, ...], last_success: datetime | None, **kw: object
) -> BackupsSnapshot:
    return BackupsSnapshot(
        cronjob="postgres-backup",
        schedule="0 2 * * *",
        suspended=bool(kw.get("suspended")),
        last_schedule=jobs[0].started if jobs else None,
        last_success=last_success,
        jobs=jobs,
        taken_at=NOW,
    )


def dump(day: datetime, size: int = 1000, key: str | None = None) -> BackupObject:
    name = key or f"backup_{day:%Y%m%d_%H%M%S}.sql.gz"
    return BackupObject(name, size, NOW, name_time(name))


def listing(*objects: BackupObject, truncated: bool = False) -> S3Listing:
    ordered = sorted(objects, key=lambda o: o.when or NOW, reverse=True)
    return S3Listing(tuple(ordered), truncated, 5000)


def at(days_ago: float) -> datetime:
    return NOW - timedelta(days=days_ago)


DAY2 = datetime(2026, 1, 31, 2, 0, tzinfo=UTC)  # this morning's 02:00 run


def test_name_time_parses_the_runbook_names_and_ignores_others() -> None:
    assert name_time("backup_20240126_020000.sql.gz") == datetime(2024, 1, 26, 2, 0, tzinfo=UTC)
    assert name_time("db/2024/backup_20240126_021530.sql") == datetime(
        2024, 1, 26, 2, 15, 30, tzinfo=UTC
    )
    assert name_time("excel_files_backup.sql") is None
    assert name_time("backup_20241399_020000.sql") is None  # not a date
    assert name_time("backup_20240126_020000/notes.txt") is None  # the folder, not the file


def test_name_time_is_preferred_over_last_modified() -> None:
    copied = BackupObject(
        "backup_20260101_020000.sql", 5, NOW, name_time("backup_20260101_020000.sql")
    )
    assert copied.when == datetime(2026, 1, 1, 2, 0, tzinfo=UTC)
    unnamed = BackupObject("manual.sql", 5, NOW)
    assert unnamed.when == NOW


def test_job_duration_running_and_finished() -> None:
    done = job("a", "Complete", at(1), took=200)
    assert done.duration_s(NOW) == 200
    running = job("b", "Running", NOW - timedelta(minutes=3), took=None)
    assert running.duration_s(NOW) == 180
    failed_unknown_end = job("c", "Failed", at(1), took=None)
    assert failed_unknown_end.duration_s(NOW) is None


def test_healthy_everything_fresh_is_ok() -> None:
    jobs = (
        job("postgres-backup-3", "Complete", DAY2),
        job("postgres-backup-2", "Complete", at(1.3)),
    )
    snap = combine(
        kube_half(jobs, DAY2 + timedelta(minutes=3)),
        listing(dump(DAY2), dump(DAY2 - timedelta(days=1))),
        SETTINGS,
        NOW,
    )
    assert snap.level is Level.OK and snap.problems == ()
    assert snap.newest is not None and snap.newest.key == "backup_20260131_020000.sql.gz"
    assert snap.object_count == 2 and snap.total_bytes == 2000 and snap.s3_checked


def test_last_job_failed_is_crit_and_first() -> None:
    jobs = (job("postgres-backup-3", "Failed", DAY2), job("postgres-backup-2", "Complete", at(1.3)))
    snap = combine(kube_half(jobs, at(1.3)), listing(dump(at(1.3))), SETTINGS, NOW)
    assert snap.level is Level.CRIT
    assert snap.problems[0] == (Level.CRIT, "last backup Job postgres-backup-3 failed")


def test_newest_backup_age_warn_after_26h_crit_after_2_days() -> None:
    kube = kube_half((job("postgres-backup-3", "Complete", DAY2),), DAY2)
    fresh = combine(kube, listing(dump(NOW - timedelta(hours=25))), SETTINGS, NOW)
    assert fresh.level is Level.OK
    late = combine(kube, listing(dump(NOW - timedelta(hours=27))), SETTINGS, NOW)
    assert late.level is Level.WARN
    assert late.problems == ((Level.WARN, "newest backup in S3 is 27h old (daily schedule)"),)
    missed = combine(kube, listing(dump(at(3))), SETTINGS, NOW)
    assert missed.level is Level.CRIT
    assert "3d" in missed.problems[0][1]


def test_retention_counts_objects_older_than_retention_days() -> None:
    kube = kube_half((job("postgres-backup-3", "Complete", DAY2),), DAY2)
    objects = [dump(DAY2 - timedelta(days=n)) for n in range(0, 40)]
    snap = combine(kube, listing(*objects), SETTINGS, NOW)
    # Days 31..39 ago are past 30 days (day 30 is 30 days and 7 hours: past too).
    assert snap.past_retention == 10
    assert snap.object_count == 40 and snap.retention_days == 30
    assert snap.level is Level.OK  # informational: the runbook deletes them


def test_no_objects_and_empty_newest_are_crit() -> None:
    kube = kube_half((job("postgres-backup-3", "Complete", DAY2),), DAY2)
    empty = combine(kube, listing(), SETTINGS, NOW)
    assert empty.level is Level.CRIT
    assert empty.problems[0][1] == "no backups in s3://excel-unified-backups/"
    zero = combine(kube, listing(dump(DAY2, size=0)), SETTINGS, NOW)
    assert (Level.CRIT, "newest backup in S3 is empty (0 bytes)") in zero.problems


def test_s3_problem_keeps_the_kubernetes_half() -> None:
    jobs = (job("postgres-backup-3", "Failed", DAY2),)
    problem = SourceError(NO_CREDENTIALS, "the standard AWS credential chain found nothing")
    snap = combine(kube_half(jobs, at(1.3)), None, SETTINGS, NOW, s3_problem=problem)
    assert snap.jobs == jobs and snap.cronjob == "postgres-backup"
    assert snap.s3_message == NO_CREDENTIALS and snap.s3_checked and snap.objects == ()
    assert snap.level is Level.CRIT  # the failed Job still counts
    assert (Level.WARN, f"S3: {NO_CREDENTIALS}") in snap.problems


def test_kubernetes_problem_keeps_the_s3_half() -> None:
    snap = combine(None, listing(dump(DAY2)), SETTINGS, NOW, kube_message="connection refused")
    assert snap.kube_message == "connection refused" and snap.jobs == ()
    assert snap.cronjob == "postgres-backup" and snap.schedule == "0 2 * * *"
    assert snap.problems == ((Level.WARN, "Kubernetes: connection refused"),)
    assert snap.newest is not None


def test_missing_cronjob_from_kube_source_is_crit() -> None:
    # KubeSource.backups_from says so in s3_message (its only text field).
    missing = BackupsSnapshot(
        cronjob="postgres-backup",
        schedule="0 2 * * *",
        suspended=False,
        last_schedule=None,
        last_success=None,
        jobs=(),
        level=Level.CRIT,
        s3_message="CronJob postgres-backup not found",
    )
    snap = combine(missing, listing(dump(DAY2)), SETTINGS, NOW)
    assert snap.level is Level.CRIT
    assert snap.kube_message == "CronJob postgres-backup not found"
    assert snap.s3_message == ""
    assert snap.problems == ((Level.CRIT, "CronJob postgres-backup not found"),)


def test_suspended_and_stale_success_and_manual_success_counts() -> None:
    old = (job("postgres-backup-1", "Complete", at(3)),)
    snap = combine(kube_half(old, at(3), suspended=True), listing(dump(at(3))), SETTINGS, NOW)
    words = [p[1] for p in snap.problems]
    assert "CronJob postgres-backup is suspended: no backups run" in words
    assert "last successful backup Job 2d 23h ago" in words  # its Job ended 150 s later
    # A manual run (the B key) that completed is a success, whatever the CronJob status says.
    manual = job("postgres-backup-manual-1", "Complete", NOW - timedelta(hours=1), manual=True)
    snap = combine(kube_half((manual, *old), at(3)), listing(dump(NOW)), SETTINGS, NOW)
    assert snap.last_success == manual.finished
    assert snap.level is Level.OK


def test_s3_error_wording() -> None:
    settings = BackupSettings(bucket="excel-unified-backups", endpoint_url="http://127.0.0.1:9")
    assert s3_error(NoCredentialsError(), settings).message == NO_CREDENTIALS
    partial = s3_error(
        PartialCredentialsError(provider="env", cred_var="AWS_SECRET_ACCESS_KEY"), settings
    )
    assert "AWS_SECRET_ACCESS_KEY is missing" in partial.message
    down = s3_error(EndpointConnectionError(endpoint_url="http://127.0.0.1:9/x"), settings)
    assert down.message == "S3 endpoint unreachable: http://127.0.0.1:9"

    def client_error(code: str, status: int = 400) -> ClientError:
        return ClientError(
            {
                "Error": {"Code": code, "Message": "m"},
                "ResponseMetadata": {"HTTPStatusCode": status},
            },
            "ListObjectsV2",
        )

    assert s3_error(client_error("NoSuchBucket"), settings).message == (
        "no such bucket: s3://excel-unified-backups"
    )
    assert s3_error(client_error("AccessDenied", 403), settings).message == (
        "access denied listing s3://excel-unified-backups/"
    )
    assert "expired" in s3_error(client_error("ExpiredToken"), settings).message
    assert "another region" in s3_error(client_error("PermanentRedirect", 301), settings).message
    assert s3_error(client_error("SlowDown", 503), settings).message == "S3 error SlowDown: m"


def test_s3_error_masks_secrets_in_endpoint() -> None:
    settings = BackupSettings(endpoint_url="http://user:hunter2@127.0.0.1:9")
    message = s3_error(EndpointConnectionError(endpoint_url="x"), settings).message
    assert "hunter2" not in message


def test_a_newer_verified_dump_lowers_the_failed_job_to_a_warning() -> None:
    """After `U` (dump now) the data is safe; the broken CronJob is still to be fixed."""
    from cockpit.model import VERIFIED, DumpVerdict

    jobs = (job("postgres-backup-3", "Failed", DAY2), job("postgres-backup-2", "Complete", at(2.5)))
    fresh = dump(NOW - timedelta(minutes=5))
    ok = DumpVerdict(fresh.key, "etag", 1000, VERIFIED, Level.OK, "intact")
    snap = combine(kube_half(jobs, at(2.5)), listing(fresh, dump(at(2.5))), SETTINGS, NOW,
                   verdict=ok)  # fmt: skip
    assert snap.level is Level.WARN
    assert snap.problems[0] == (
        Level.WARN,
        "last backup Job postgres-backup-3 failed (a newer dump, verified, covers it)",
    )
    # Not verified (yet, or damaged): the failure stays critical.
    unverified = combine(kube_half(jobs, at(2.5)), listing(fresh), SETTINGS, NOW)
    assert unverified.level is Level.CRIT
