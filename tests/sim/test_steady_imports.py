"""Steady state without the kubernetes client's generated API classes (22 MB of RSS for
CoreV1Api alone), and the raw paths that replaced them keeping the errors' words."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import pytest

from actions.base import Permission
from actions.rbac import AccessChecker
from cockpit.config import Settings
from cockpit.errors import SourceError
from cockpit.sim.pace import Pace
from cockpit.sim.runner import SimCluster
from cockpit.sources.kube.client import connect
from cockpit.sources.kube.logs import ErrorLogFollower, PodLogStream
from cockpit.sources.kube.source import KubeSource
from tests.elsewhere import held_by_another_thread

NS = "excel-unified"
ROOT = Path(__file__).resolve().parents[2]


def test_steady_state_imports_no_generated_api_class_or_model() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tests.sim.steady_imports"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    # Every path really ran and read something...
    assert got["pods"] >= 10 and got["error_lines"] > 0 and got["top_pods"] > 0
    assert got["cronjob_schedule"] == "0 2 * * *" and not got["cronjob_missing"]
    assert got["access_lines"] > 0 and got["pod_log_lines"] > 0 and not got["pod_log_error"]
    assert got["df_mounts"] > 0 and got["df_errors"] == []
    assert got["rbac_allowed"] is True
    assert "(rails-" in got["describe_endpoints"]
    # ...without kubernetes.client.api.core_v1_api, models.v1_pod and the like.
    assert got["generated"] == []


@pytest.fixture
async def kube() -> AsyncIterator[Callable[..., tuple[SimCluster, KubeSource]]]:
    made: list[tuple[SimCluster, KubeSource]] = []

    def make(settings: Settings | None = None) -> tuple[SimCluster, KubeSource]:
        settings = settings or Settings()
        sim = SimCluster("incident", pace=Pace.fast()).start()
        source = KubeSource(connect(settings.kube, sim.client_configuration()), settings)
        source.start()
        made.append((sim, source))
        return made[-1]

    yield make
    for sim, source in made:
        await asyncio.to_thread(source.stop)
        sim.stop()


async def test_metrics_404_says_metrics_server_and_a_hang_times_out(kube) -> None:
    sim, source = kube(Settings(kube={"request_timeout": 0.5}))
    await source.kube_snapshot()
    sim.fail_requests(404, "/apis/metrics.k8s.io/")
    top = await source.top_snapshot()
    assert not top.available and "is metrics-server installed?" in top.message
    sim.clear_faults()
    sim.fail_requests(403, "/apis/metrics.k8s.io/")
    with pytest.raises(SourceError, match=r"^forbidden"):
        await source.top_snapshot()
    sim.clear_faults()
    sim.hang_requests("/apis/metrics.k8s.io/")
    with pytest.raises(SourceError, match="not answering"):
        await source.top_snapshot()
    sim.clear_faults()
    assert (await source.top_snapshot()).available


async def test_a_missing_cronjob_is_said_and_a_410_is_an_error(kube) -> None:
    sim, source = kube(Settings(backups={"cronjob": "nightly-nothing"}))
    snap = await source.backups_snapshot()
    assert snap.s3_message == "CronJob nightly-nothing not found"
    sim.fail_requests(410, "/apis/batch/v1/namespaces/excel-unified/cronjobs/")
    with pytest.raises(SourceError, match="HTTP 410"):
        await source.backups_snapshot()


async def test_forbidden_logs_are_a_problem_in_words(kube) -> None:
    sim, source = kube()
    sim.deny("get", "pods", subresource="log")
    pods = (await source.kube_snapshot()).pods
    follower = ErrorLogFollower(source.pod_log, ["rails"], "ERROR", timedelta(minutes=5), 100, 4)
    try:
        follower.sync(pods)
        problems: tuple[str, ...] = ()
        for _ in range(100):
            problems = follower.batch().problems
            if problems:
                break
            await asyncio.sleep(0.05)
        assert problems and all("forbidden" in p for p in problems), problems
    finally:
        await asyncio.to_thread(follower.stop)


async def test_the_log_follower_chooses_its_pods_once_per_pods_version(kube) -> None:
    """Every second the follower is synced; only a new version of the pods (the
    informer's) makes it scan them again, and then it follows what they say."""
    _, source = kube()
    pods = (await source.kube_snapshot()).pods
    follower = ErrorLogFollower(source.pod_log, ["rails"], "ERROR", timedelta(minutes=5), 100, 4)
    read: list[int] = []

    def listed(rows: tuple = pods) -> tuple:
        read.append(len(rows))
        return rows

    try:
        follower.sync(listed, version=7)
        assert follower.batch().followed and len(read) == 1
        # The same version: not read, the choice kept.  (Which streams are open can
        # change meanwhile: the incident's crash-looping rails pod's follow ends at once.)
        follower.sync(lambda: listed(()), version=7)
        assert len(read) == 1 and follower.batch().followed
        follower.sync(lambda: listed(()), version=8)  # a new one: read, and no rails left
        assert read == [len(pods), 0] and follower.batch().followed == ()
    finally:
        await asyncio.to_thread(follower.stop)


async def test_the_log_of_a_missing_pod_says_not_found(kube) -> None:
    _, source = kube()
    await source.kube_snapshot()
    feed = PodLogStream(source.pod_log, "no-such-pod", None, follow=False).start()
    await asyncio.to_thread(feed._stream.thread.join, 10)
    assert feed.ended and feed.error.startswith("not found"), feed.error


async def test_the_access_review_says_what_is_forbidden(kube) -> None:
    sim, source = kube()
    sim.deny("delete", "pods")
    checker = AccessChecker(source.target.api, NS)
    denied = await checker.check(Permission("delete", "pods"))
    assert not denied.allowed
    assert denied.reason.startswith("forbidden: you may not delete pods in namespace")
    assert (await checker.check(Permission("get", "pods"))).allowed


async def test_the_log_poll_waits_for_the_streams_lock_off_the_loop(kube) -> None:
    """The streams take the log lock for every line; while the history pours in, the
    poll waited its turn on the event loop (65 ms).  Now it waits in a thread: the
    loop keeps turning, and the batch comes once the lock is free."""
    _, source = kube()
    await source.kube_snapshot()
    await source.log_batch()  # the streams are started
    with held_by_another_thread(source.logs._lock):
        poll = asyncio.ensure_future(source.log_batch())
        turns = 0
        for _ in range(20):
            await asyncio.sleep(0.01)
            turns += 1
        assert not poll.done()  # still waiting for the lock...
        assert turns == 20  # ...and the loop went on meanwhile
    batch = await asyncio.wait_for(poll, 5.0)
    assert batch.followed
