"""The backups of a period: the dumps that reached S3 (with sizes) and the backup
CronJob's Jobs (with failures), from the same code the Backups pane uses.  A recorded
BackupsSnapshot stands in for a half that cannot be read live."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import pairwise

from kubernetes import client

from cockpit.config import BackupSettings
from cockpit.model import BackupObject, BackupsSnapshot, JobRow
from cockpit.sources.backups.s3 import S3Source
from cockpit.sources.kube.client import kube_error
from cockpit.sources.kube.convert import job_row, sort_time


@dataclass(frozen=True, slots=True)
class WeekBackups:
    where: str  # s3://bucket/prefix
    cronjob: str
    start: datetime
    end: datetime
    dumps: tuple[BackupObject, ...]  # taken in the period, newest first
    jobs: tuple[JobRow, ...]  # the CronJob's Jobs started in the period, newest first
    problems: tuple[str, ...] = ()  # what could not be read, or is wrong, in words
    s3_read: bool = False
    jobs_read: bool = False
    origin: str = "live"  # "live", or where the recorded halves came from

    @property
    def failed_jobs(self) -> tuple[JobRow, ...]:
        return tuple(j for j in self.jobs if j.status == "Failed")

    @property
    def total_bytes(self) -> int:
        return sum(d.size for d in self.dumps)

    @property
    def days_without_dump(self) -> list[date]:
        """Whole days of the period with no dump taken (the schedule is daily); none
        when S3 could not be read (not knowing is not missing)."""
        if not self.s3_read:
            return []
        have = {d.when.date() for d in self.dumps if d.when is not None}
        first = (self.start + timedelta(days=1)).date()  # the first whole day
        days = []
        day = first
        while day < self.end.date():
            if day not in have:
                days.append(day)
            day += timedelta(days=1)
        return days

    def shrunk(self, min_ratio: float) -> list[tuple[BackupObject, BackupObject]]:
        """(dump, the one before it) where a dump is under min_ratio of the previous."""
        ordered = sorted(self.dumps, key=lambda d: d.when or self.start)
        return [(b, a) for a, b in pairwise(ordered) if a.size and b.size < a.size * min_ratio]


def in_period(when: datetime | None, start: datetime, end: datetime) -> bool:
    return when is not None and start <= when <= end


def backup_jobs(api: client.ApiClient, namespace: str, cronjob: str) -> list[JobRow]:
    """The CronJob's Jobs (by the `<cronjob>-` name prefix, as `get jobs | grep`)."""
    response = client.BatchV1Api(api).list_namespaced_job(
        namespace, _preload_content=False, _request_timeout=20
    )
    try:
        raw = json.loads(response.data)
    finally:
        response.release_conn()
    rows = [job_row(item) for item in raw.get("items") or []]
    mine = [j for j in rows if j.name.startswith(cronjob + "-") or j.name == cronjob]
    return sorted(mine, key=lambda j: sort_time(j.started), reverse=True)


def week_backups(
    settings: BackupSettings,
    api: client.ApiClient | None,
    namespace: str,
    start: datetime,
    end: datetime,
    recorded: BackupsSnapshot | None = None,
    kube_problem: str = "",
) -> WeekBackups:
    """Blocking: list S3 and the Jobs; each half falls back to `recorded` on failure."""
    problems: list[str] = []
    origins: list[str] = []
    dumps: tuple[BackupObject, ...] = ()
    s3_read = jobs_read = False
    s3 = S3Source(settings)
    try:
        listing = s3.list_backups(end)
        dumps = tuple(o for o in listing.objects if in_period(o.when, start, end))
        s3_read = True
        if listing.truncated:
            problems.append(f"S3 listing stopped at {listing.key_limit} keys: counts are low")
    except Exception as exc:
        problems.append(f"S3: {getattr(exc, 'message', str(exc))}")
        if recorded is not None and recorded.s3_checked and not recorded.s3_message:
            dumps = tuple(o for o in recorded.objects if in_period(o.when, start, end))
            s3_read = True
            origins.append("S3 listing from the recording")
    finally:
        s3.close()
    jobs: tuple[JobRow, ...] = ()
    if api is not None:
        try:
            jobs = tuple(
                j
                for j in backup_jobs(api, namespace, settings.cronjob)
                if in_period(j.started, start, end)
            )
            jobs_read = True
        except Exception as exc:
            problems.append(f"Jobs: {kube_error(exc).message}")
    elif kube_problem:
        problems.append(f"Jobs: {kube_problem}")
    if not jobs_read and recorded is not None and not recorded.kube_message:
        jobs = tuple(j for j in recorded.jobs if in_period(j.started, start, end))
        jobs_read = True
        origins.append("Jobs from the recording")
    return WeekBackups(
        where=f"s3://{settings.bucket}/{settings.prefix}",
        cronjob=settings.cronjob,
        start=start,
        end=end,
        dumps=dumps,
        jobs=jobs,
        problems=tuple(problems),
        s3_read=s3_read,
        jobs_read=jobs_read,
        origin="; ".join(origins) or "live",
    )
