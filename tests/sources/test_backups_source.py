"""BackupsSource end to end: the simulated cluster's CronJob and Jobs (KubeSource) with
the dumps in a moto S3 server, and each half failing while the other keeps working."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cockpit.config import BackupSettings, Settings
from cockpit.errors import SourceError
from cockpit.model import BackupsSnapshot, Level
from cockpit.sim.pace import Pace
from cockpit.sim.runner import SimCluster
from cockpit.sim.s3 import demo_dump
from cockpit.sources.backups.s3 import NO_CREDENTIALS, S3Source
from cockpit.sources.backups.source import BackupsSource
from cockpit.sources.kube.client import connect
from cockpit.sources.kube.source import KubeSource
from tests.fixtures.s3 import MotoServer, SilentEndpoint

Put = Callable[[str, dict[str, int]], None]


def recent_dumps() -> dict[str, int]:
    """Last night's and the night before's dumps, named as the runbook's CronJob names them."""
    now = datetime.now(UTC)
    return {f"backup_{now - timedelta(hours=h):%Y%m%d_%H%M%S}.sql.gz": 4096 for h in (5, 29)}


def settings_for(bucket: str, endpoint: str) -> Settings:
    return Settings(backups=BackupSettings(bucket=bucket, endpoint_url=endpoint))


@pytest.fixture
async def kube_for() -> AsyncIterator[Callable[[str, Settings], KubeSource]]:
    """A KubeSource on a started SimCluster of the given scenario."""
    made: list[tuple[SimCluster, KubeSource]] = []

    def make(scenario: str, settings: Settings) -> KubeSource:
        sim = SimCluster(scenario, pace=Pace.fast()).start()
        kube = KubeSource(connect(settings.kube, sim.client_configuration()), settings)
        kube.start()
        made.append((sim, kube))
        return kube

    yield make
    for sim, kube in made:
        await asyncio.to_thread(kube.stop)
        sim.stop()


async def test_incident_last_backup_failed_is_crit(
    kube_for: Any, moto_server: MotoServer, s3_bucket: str, put_backups: Put
) -> None:
    put_backups(s3_bucket, recent_dumps())
    settings = settings_for(s3_bucket, moto_server.url)
    source = BackupsSource(settings, kube_for("incident", settings).backups_snapshot)
    snap = await source.snapshot()
    assert snap.level is Level.CRIT
    level, words = snap.problems[0]
    assert level is Level.CRIT and words.startswith("last backup Job postgres-backup-")
    assert words.endswith(" failed")
    assert snap.jobs[0].status == "Failed" and not snap.jobs[0].manual
    assert [j.status for j in snap.jobs[1:]] == ["Complete", "Complete"]
    assert snap.s3_message == "" and snap.object_count == 2
    assert snap.newest is not None and snap.newest.size == 4096
    await source.close()


async def test_healthy_cluster_and_fresh_dumps_are_ok(
    kube_for: Any, moto_server: MotoServer, s3_bucket: str, put_backups: Put
) -> None:
    put_backups(s3_bucket, recent_dumps())
    settings = settings_for(s3_bucket, moto_server.url)
    source = BackupsSource(settings, kube_for("healthy", settings).backups_snapshot)
    snap = await source.snapshot()
    assert snap.problems == () and snap.level is Level.OK
    assert snap.schedule == "0 2 * * *" and not snap.suspended
    assert snap.last_success is not None and snap.last_schedule is not None
    assert all(j.status == "Complete" for j in snap.jobs) and len(snap.jobs) == 3
    await source.close()


async def test_s3_without_credentials_keeps_the_kubernetes_half(
    kube_for: Any, moto_server: MotoServer, s3_bucket: str, monkeypatch: Any
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    settings = settings_for(s3_bucket, moto_server.url)
    source = BackupsSource(settings, kube_for("incident", settings).backups_snapshot)
    snap = await source.snapshot()
    assert snap.s3_message == NO_CREDENTIALS and snap.objects == ()
    assert snap.jobs and snap.jobs[0].status == "Failed"
    assert snap.level is Level.CRIT
    assert (Level.WARN, f"S3: {NO_CREDENTIALS}") in snap.problems


async def test_a_failed_listing_keeps_the_last_good_one(
    moto_server: MotoServer, s3_bucket: str, put_backups: Put, s3_client: Any
) -> None:
    dumps = recent_dumps()
    put_backups(s3_bucket, dumps)
    clock = [datetime.now(UTC)]
    source = BackupsSource(settings_for(s3_bucket, moto_server.url), clock=lambda: clock[0])
    first = await source.snapshot()
    assert first.object_count == 2 and first.s3_listed_at == clock[0]
    for key in dumps:
        s3_client.delete_object(Bucket=s3_bucket, Key=key)
    s3_client.delete_bucket(Bucket=s3_bucket)
    s3_client.create_bucket(Bucket=s3_bucket)  # for the fixture's teardown
    listed = clock[0]
    clock[0] += timedelta(minutes=1)
    second = await source.snapshot()
    assert second.object_count == 0  # an empty bucket is an answer, not a failure
    assert second.s3_listed_at == clock[0]
    # A missing bucket is a failure: the last good listing stays, dated, with the reason.
    s3_client.delete_bucket(Bucket=s3_bucket)
    try:
        clock[0] += timedelta(minutes=1)
        third = await source.snapshot()
    finally:
        s3_client.create_bucket(Bucket=s3_bucket)
    assert third.s3_message == f"no such bucket: s3://{s3_bucket}"
    assert third.s3_listed_at == listed + timedelta(minutes=1)
    assert third.object_count == 0


async def test_kubernetes_failure_keeps_s3_and_the_last_known_jobs(
    moto_server: MotoServer, s3_bucket: str, s3_client: Any
) -> None:
    # Real gzipped dumps: the source reads the newest one end to end (zeros are corrupt).
    for key in recent_dumps():
        s3_client.put_object(Bucket=s3_bucket, Key=key, Body=demo_dump(1))
    answers: list[BackupsSnapshot | Exception] = []

    async def kube_half() -> BackupsSnapshot:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    good = BackupsSnapshot("postgres-backup", "0 2 * * *", False, None, None, jobs=())
    down = SourceError("https://127.0.0.1:6443: connection refused", "is the API server up?")
    source = BackupsSource(settings_for(s3_bucket, moto_server.url))
    first = await source.snapshot()
    assert first.kube_message == "not connected to Kubernetes yet" and first.object_count == 2
    source.attach(kube_half)
    answers[:] = [down]
    never_seen = await source.snapshot()
    assert never_seen.kube_message == "https://127.0.0.1:6443: connection refused"
    assert never_seen.object_count == 2 and never_seen.level is Level.WARN
    answers[:] = [good, down]
    await source.snapshot()
    stale = await source.snapshot()
    assert stale.kube_message.endswith("showing the last known CronJob and Jobs")
    assert stale.cronjob == "postgres-backup" and stale.object_count == 2


async def test_both_halves_failing_fails_the_poll(aws_env: None) -> None:
    async def kube_half() -> BackupsSnapshot:
        raise SourceError("connection refused")

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"  # closed again: nothing listens
    source = BackupsSource(settings_for("excel-unified-backups", url), kube_half)
    with pytest.raises(SourceError) as caught:
        await source.snapshot()
    assert caught.value.message == (
        f"Kubernetes: connection refused · S3: S3 endpoint unreachable: {url}"
    )


async def test_a_silent_s3_neither_hides_kubernetes_nor_piles_up(
    kube_for: Any, silent_endpoint: SilentEndpoint, aws_env: None
) -> None:
    settings = settings_for("excel-unified-backups", silent_endpoint.url)
    s3 = S3Source(settings.backups, read_timeout=1.0, attempts=1)
    kube = kube_for("incident", settings)
    await kube.backups_snapshot()  # listed: only S3 is slow here, not the first sync
    source = BackupsSource(settings, kube.backups_snapshot, s3, deadline=0.3)
    started = time.monotonic()
    first = await source.snapshot()
    assert time.monotonic() - started < 1.2
    assert first.s3_message == "S3 did not answer within 0.3 s"
    assert first.jobs and first.level is Level.CRIT
    second = await source.snapshot()  # the first listing is still in flight
    assert second.s3_message == "S3 did not answer within 0.3 s"
    # Waited for, not started again (the first may still be building its client on a
    # loaded machine, so "at most one" here, "exactly one" below).
    assert silent_endpoint.accepted <= 1
    deadline = time.monotonic() + 10
    third = second
    while third.s3_message.startswith("S3 did not") and time.monotonic() < deadline:
        third = await source.snapshot()  # until the hung listing's own read timeout
    assert third.s3_message == f"S3 endpoint did not answer in time: {silent_endpoint.url}"
    assert silent_endpoint.accepted == 1
    await source.close()
