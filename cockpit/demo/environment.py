"""Everything `cockpit demo` runs against, as one context manager: the simulated cluster,
the incident scenario's own PostgreSQL and Redis, and a local S3 bucket of dumps.

`cockpit serve --demo` serves the same demo to browsers; the settings it yields name the
demo's servers, so a process started inside the block (a browser session) reaches them.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cockpit.config import Settings
from cockpit.demo.servers import DemoServers

CONTEXT = "cockpit-sim"


@contextmanager
def demo_environment(
    settings: Settings, scenario: str, size: int, workdir: Path
) -> Iterator[tuple[Settings, str]]:
    """Start the demo's servers; yield the settings that point at them and the header's
    note.  Everything is stopped and removed on exit, however the block ends."""
    from cockpit.sim.pace import Pace
    from cockpit.sim.runner import SimCluster
    from cockpit.sim.s3 import REGION, demo_bucket

    sim = SimCluster(scenario=scenario, pace=Pace.demo(), large_size=size)
    with sim:
        kubeconfig = sim.write_kubeconfig(workdir / "kubeconfig")
        kube = settings.kube.model_copy(
            update={"kubeconfig": Path(kubeconfig), "context": CONTEXT, "namespace": sim.namespace}
        )
        # The runbook's public URLs are not reachable from a demo: nginx's service,
        # through the API server's proxy, stands in for the public site.
        health = settings.health.model_copy(
            update={"urls": (), "services": ("nginx-service:80", *settings.health.services)}
        )
        # The demo's recording is its own: never mixed into a real cluster's.
        recorder = settings.recorder
        if recorder.path is None:
            recorder = recorder.model_copy(
                update={"path": settings.effective_recording_path().with_name("demo-recording.db")}
            )
        demo_settings = settings.model_copy(
            update={"kube": kube, "health": health, "recorder": recorder}
        )
        servers, incident_note = demo_servers(scenario)
        try:
            if servers is not None:  # the demo's own servers only, never configured ones
                demo_settings = servers.settings_for(demo_settings)
            backups = demo_settings.backups
            with demo_bucket(backups.bucket, backups.prefix, scenario, REGION) as endpoint:
                if endpoint is not None:  # the Backups pane reads the local bucket
                    local = backups.model_copy(update={"endpoint_url": endpoint, "region": REGION})
                    demo_settings = demo_settings.model_copy(update={"backups": local})
                note = f"demo: simulated cluster, {scenario}"
                if incident_note:
                    note = f"{note}; {incident_note}"
                yield demo_settings, note
        finally:  # stopped and removed however the block ends (atexit covers a kill)
            if servers is not None:
                servers.close()
                if servers.error:  # the panes showed the refusals; here is why
                    print(f"cockpit: {servers.error}", file=sys.stderr)


def demo_servers(scenario: str) -> tuple[DemoServers | None, str]:
    """The incident scenario's own Redis and PostgreSQL (started in the background)."""
    from cockpit.demo.servers import DEMO_IDLE_MINUTES, HOW_TO_GET_IT, binaries_available

    if scenario != "incident":
        return None, ""
    if not binaries_available():
        return None, HOW_TO_GET_IT
    seconds = round(DEMO_IDLE_MINUTES * 60)
    servers = DemoServers.start()
    exit_on_termination()  # SIGTERM/SIGHUP unwind through the block's finally: no orphans
    return servers, f"idle threshold shortened to {seconds} s"


def exit_on_termination() -> None:
    def leave(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, leave)
