"""On the incident scenario every pane shows its problem (issue 3)."""

from __future__ import annotations

from cockpit.model import Level
from tests.pilot import cockpit_running
from widgets.errorlog import ErrorLogPane
from widgets.events import EventsPane
from widgets.header import CockpitHeader
from widgets.pods import PodsPane
from widgets.top import TopPane
from widgets.workloads import WorkloadsPane

from .conftest import wait_for


async def test_incident_shows_in_every_kubernetes_pane(make_sim, make_app) -> None:
    sim = make_sim("incident")
    app = make_app(sim)
    async with cockpit_running(app, size=(160, 45)) as pilot:
        pods = app.query_one(PodsPane)
        await wait_for(pilot, lambda: pods.snapshot is not None, what="pods")
        statuses = {p.status for p in pods.snapshot.pods}
        assert "CrashLoopBackOff" in statuses
        assert "OOMKilled" in statuses or any(
            c.last_reason == "OOMKilled" for p in pods.snapshot.pods for c in p.containers
        )
        # Worst first: the crash-looping pod heads the table.
        first = pods.table.keys_in_order()[0]
        assert pods._by_uid[first].level is Level.CRIT
        assert pods.level is Level.CRIT

        workloads = app.query_one(WorkloadsPane)
        # The first screen's pods come before the workloads are listed (first_pods.py).
        await wait_for(pilot, lambda: workloads.snapshot is not None, what="workloads")
        rails = next(w for w in workloads.snapshot.workloads if w.name == "rails")
        assert rails.ready < rails.desired
        assert workloads.level >= Level.WARN

        top = app.query_one(TopPane)
        await wait_for(pilot, lambda: top.snapshot is not None, what="metrics")
        redis = next(p for p in top.snapshot.pods if p.name == "redis-0")
        assert redis.mem_limit_pct is not None and redis.mem_limit_pct >= 90
        assert top.level is Level.CRIT

        events = app.query_one(EventsPane)
        await wait_for(pilot, lambda: events.snapshot is not None, what="events")
        assert events.snapshot.events[0].type == "Warning"
        assert any(e.reason == "BackOff" for e in events.snapshot.events)

        logs = app.query_one(ErrorLogPane)
        await wait_for(pilot, lambda: len(logs.lines) > 0, what="error lines")
        assert all(line.app in ("rails", "fastapi") for line in logs.lines)
        # The OOMKilled fastapi pod has a previous container too: wait for rails's.
        await wait_for(
            pilot,
            lambda: any(
                "(previous)" in line.container and "could not connect to server" in line.text
                for line in logs.lines
            ),
            what="the crash-looping rails pod's previous container",
        )

        header = app.query_one(CockpitHeader)
        await wait_for(pilot, lambda: header.overall is Level.CRIT, what="overall CRIT")


async def test_healthy_scenario_is_calm(make_sim, make_app) -> None:
    sim = make_sim("healthy")
    app = make_app(sim)
    async with cockpit_running(app, size=(160, 45)) as pilot:
        pods = app.query_one(PodsPane)
        await wait_for(pilot, lambda: pods.snapshot is not None, what="pods")
        await wait_for(
            pilot,
            lambda: all(
                p.level is Level.OK
                for p in pods.snapshot.pods
                if not p.name.startswith("postgres-backup")
            ),
            what="all pods OK",
        )
        assert "CrashLoopBackOff" not in {p.status for p in pods.snapshot.pods}
