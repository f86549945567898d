"""Run every steady-state Kubernetes path once against an incident sim, in a fresh
interpreter, and print (as JSON) what each read and which of the kubernetes client's
generated API and model modules got imported.  test_steady_imports.py runs it.

`python -m tests.sim.steady_imports`
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from actions.base import Permission
from actions.rbac import AccessChecker
from cockpit.config import Settings
from cockpit.sim.pace import Pace
from cockpit.sim.runner import SimCluster
from cockpit.sources.disk import DiskSource
from cockpit.sources.kube.client import connect
from cockpit.sources.kube.describe import describe_service
from cockpit.sources.kube.logs import PodLogStream
from cockpit.sources.kube.source import KubeSource
from cockpit.sources.traffic.source import TrafficSource

NS = "excel-unified"
GENERATED = ("kubernetes.client.api.", "kubernetes.client.models.")


async def steady(sim: SimCluster, settings: Settings) -> dict[str, object]:
    target = connect(settings.kube, sim.client_configuration())
    kube = KubeSource(target, settings)
    kube.start()
    traffic = TrafficSource(settings, kube)
    disk = DiskSource(settings, sim.client_configuration(), NS)
    got: dict[str, object] = {}
    try:
        pods = (await kube.kube_snapshot()).pods
        got["pods"] = len(pods)
        errors = 0
        deadline = time.monotonic() + 20
        while not errors and time.monotonic() < deadline:
            errors += len((await kube.log_batch()).lines)
            await asyncio.sleep(0.2)
        got["error_lines"] = errors
        got["top_pods"] = len((await kube.top_snapshot()).pods)
        backups = await kube.backups_snapshot()
        got["cronjob_schedule"] = backups.schedule if backups.last_schedule else ""
        got["cronjob_missing"] = bool(backups.s3_message)
        traffic.sync(pods)
        await traffic.wait_caught_up(20)
        got["access_lines"] = traffic.lines
        snap = await disk.snapshot()
        got["df_mounts"] = sum(len(p.mounts) for p in snap.pods)
        got["df_errors"] = [p.error for p in snap.pods if p.error]
        rails = next(p for p in pods if p.app == "rails")
        feed = PodLogStream(kube.pod_log, rails.name, None, follow=False).start()
        feed._stream.thread.join(10)
        got["pod_log_lines"] = len(feed.drain())
        got["pod_log_error"] = feed.error
        checker = AccessChecker(target.api, NS)
        access = await checker.check(Permission("delete", "pods"))
        got["rbac_allowed"] = access.allowed
        lines = await asyncio.to_thread(describe_service, target.api, NS, "rails-service")
        got["describe_lines"] = len(lines)
        got["describe_endpoints"] = next((x for x in lines if x.startswith("Endpoints:")), "")
    finally:
        await traffic.close()
        await disk.close()
        await asyncio.to_thread(kube.stop)
    return got


def main() -> None:
    sim = SimCluster("incident", pace=Pace.fast()).start()
    try:
        got = asyncio.run(steady(sim, Settings()))
    finally:
        sim.stop()
    got["generated"] = sorted(m for m in sys.modules if m.startswith(GENERATED))
    print(json.dumps(got))


if __name__ == "__main__":
    main()
