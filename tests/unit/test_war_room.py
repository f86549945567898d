"""The war room's figures and the events' level: pure functions of the snapshots,
tested without Textual (the import contracts keep cockpit.war_room free of it)."""

from __future__ import annotations

from datetime import UTC, datetime

from cockpit.model import Level
from cockpit.war_room import figures
from tests.app import scenes


def test_no_data_is_a_warning_on_every_figure() -> None:
    shown = figures({})
    assert [f.key for f in shown] == [
        "p99", "error-rate", "alerts", "pods", "errors", "pg", "redis"
    ]  # fmt: skip
    assert all(f.value == "-" and f.level is Level.WARN for f in shown)


def test_the_incident_figures() -> None:
    kube = scenes.kube()
    latest = {
        "pods": kube,
        "logs": scenes.logs(),
        "postgres": scenes.postgres(),
        "redis": scenes.redis(),
        "slo": scenes.slo(),
        "prometheus": scenes.prometheus(),
    }
    p99, error_rate, alerts, pods, errors, pg, redis = figures(latest)
    assert p99.value == "2870" and p99.level is Level.CRIT
    assert error_rate.value == f"{100 * 412 / 9120:.1f}" and error_rate.level is Level.CRIT
    assert alerts.value == "1" and alerts.level is Level.CRIT
    assert "HighErrorRate" in alerts.detail and "1 pending" in alerts.detail
    assert pods.value == str(kube.not_ready) and pods.level is Level.CRIT
    assert errors.value == str(scenes.logs().rate)
    assert errors.level is scenes.logs().level is Level.CRIT  # the source's level, once
    assert pg.value == str(scenes.postgres().connections)
    assert redis.value == f"{scenes.redis().memory_pct:.0f}" and redis.level is Level.CRIT


def test_recent_warnings_colour_the_events_and_old_ones_do_not() -> None:
    events = scenes.events()
    assert events.level is Level.WARN and events.recent
    assert all(e.type == "Warning" for e in events.recent)
    later = datetime(2030, 1, 1, tzinfo=UTC)
    from cockpit.sources.kube.convert import events_snapshot

    old = events_snapshot(list(events.events), later, limit=200)
    assert old.level is Level.OK and old.recent == ()


def test_an_error_rate_near_the_runbook_limit_shows_which_side_of_it() -> None:
    from dataclasses import replace

    slo = scenes.slo()
    quiet = replace(slo.upstreams[0].one_minute, requests=20_000, errors=12, error_pct=0.06)
    latest = {"slo": replace(slo, upstreams=(replace(slo.upstreams[0], one_minute=quiet),))}
    assert figures(latest)[1].value == "0.06"  # not "0.1", which would read as the limit


def test_no_prometheus_is_not_a_warning_but_says_so() -> None:
    from dataclasses import replace

    none = replace(scenes.prometheus(), configured=False, alerts=(), figures=(), level=Level.OK)
    alerts = figures({"prometheus": none})[2]
    assert alerts.level is Level.OK and alerts.detail == "no Prometheus configured"
