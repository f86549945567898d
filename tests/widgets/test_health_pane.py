"""HealthPane in a small app driven by Pilot: one row per endpoint with code, latency,
sparkline, app status and certificate days, the error and hint in words, levels and the
header summary, hostile text shown literally, focus, and the stale state; plus a real
snapshot from the simulated cluster's service proxy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import Static

from cockpit.config import HealthSettings, Settings
from cockpit.model import EndpointHealth, HealthSnapshot, Level, SourceFailure
from cockpit.sim.pace import Pace
from cockpit.sim.runner import SimCluster
from cockpit.sources.health import HealthSource
from cockpit.sources.kube.client import connect
from widgets.health import HealthBody, HealthPane, spark

NOW = datetime(2026, 1, 31, 3, 0, tzinfo=UTC)
HOSTILE = "[bold]x[@click=app.quit]y\x1b[31m"


class PaneApp(App[None]):
    CSS = "HealthPane { height: 1fr; border: round white; }"

    def compose(self) -> ComposeResult:
        yield HealthPane(id="health", classes="pane")


def endpoint(name: str, **kw: object) -> EndpointHealth:
    values: dict = {
        "name": name,
        "url": f"https://{name}/health",
        "via": "direct",
        "status": 200,
        "ms": 42.0,
        "history": (40.0, 41.0, 42.0),
        "app_status": "ok",
        "cert_days": 60.0,
        "error": "",
        "hint": "",
        "level": Level.OK,
        "checked_at": NOW,
    }
    values.update(kw)
    return EndpointHealth(**values)


def incident_snapshot() -> HealthSnapshot:
    endpoints = (
        endpoint("excel-unified.com", cert_days=2.2, level=Level.CRIT, reason="cert 2 d"),
        endpoint("api.excel-unified.com", history=(40.0, None, 42.0)),
        endpoint(
            "rails-service:3000",
            url="http://127.0.0.1:1/api/v1/namespaces/excel-unified/services/rails-service:3000/proxy/health",
            via="service proxy",
            status=503,
            ms=120.0,
            history=(10.0, 12.0, None),
            app_status="error",
            cert_days=None,
            error="HTTP 503 Service Unavailable",
            hint="the app reports itself unhealthy: see its logs",
            level=Level.WARN,
            failing_since=NOW - timedelta(minutes=3),
            reason="503",
        ),
        endpoint(
            "fastapi-service:8000",
            via="service proxy",
            status=None,
            ms=None,
            history=(2100.0, None),
            app_status=None,
            cert_days=None,
            error="no answer within 5 s",
            hint="the endpoint hangs or is overloaded",
            level=Level.CRIT,
            failing_since=NOW,
            reason="timeout",
        ),
    )
    return HealthSnapshot(endpoints=endpoints, taken_at=NOW, level=Level.CRIT)


def body(pane: HealthPane) -> str:
    content = pane.query_one("#health-body", Static).content
    assert isinstance(content, Text)  # never a markup string
    return content.plain


def test_spark_scales_and_marks_failures() -> None:
    assert spark((10.0, 20.0, None, 400.0), width=4).plain == "▁▁✖█"
    assert spark((3.0, 4.0), width=4).plain == "▁▁  "  # under the floor: flat, not a storm
    assert spark(tuple(float(i) for i in range(30)), width=12).plain.startswith("▃")


async def test_rows_errors_levels_and_summary() -> None:
    app = PaneApp()
    async with app.run_test(size=(130, 20)) as pilot:
        pane = app.query_one(HealthPane)
        pane.show(incident_snapshot())
        await pilot.pause()
        lines = body(pane).splitlines()
        # What a narrow pane keeps comes first; history and path last.
        assert lines[0].startswith("✖ excel-unified.com      200  42.0ms  ok        cert 2 d   ▆▆▆")
        assert lines[0].rstrip().endswith(" direct")
        assert lines[1].startswith("● api.excel-unified.com  200  42.0ms  ok        cert 60 d  ▆✖▆")
        assert lines[2].startswith("▲ rails-service:3000     503   120ms  error                ▂▂✖")
        assert lines[2].rstrip().endswith(" proxy")
        assert lines[3] == (
            "  HTTP 503 Service Unavailable (for 3m) · "
            "the app reports itself unhealthy: see its logs"
        )
        assert lines[4].startswith("✖ fastapi-service:8000   ---       -                       █✖")
        assert lines[5].startswith("  no answer within 5 s (for 0s) · the endpoint hangs")
        assert pane.has_class("level-crit") and pane.level is Level.CRIT
        assert pane.summary == "excel-unified.com cert 2 d, fastapi-service:8000 timeout, +1 more"
        assert pane.border_title is not None
        assert "2/4 answering" in str(pane.border_title) and "2 failing" in str(pane.border_title)
        # The row colours follow the levels.
        content = pane.query_one("#health-body", Static).content
        assert isinstance(content, Text)
        styles = {str(span.style) for span in content.spans}
        assert "bold red" in styles and "bold yellow" in styles


async def test_hostile_text_is_shown_literally_and_focus_works() -> None:
    app = PaneApp()
    async with app.run_test(size=(130, 12)) as pilot:
        pane = app.query_one(HealthPane)
        hostile = endpoint(
            "evil",
            status=500,
            app_status=HOSTILE,
            error=f"HTTP 500 {HOSTILE}",
            hint=HOSTILE,
            level=Level.CRIT,
            reason="500",
        )
        pane.show(HealthSnapshot(endpoints=(hostile,), taken_at=NOW, level=Level.CRIT))
        await pilot.pause()
        text = body(pane)
        assert "[bold]x[@click=app.quit]y␛[31m" in text  # markup and ESC made harmless
        assert "\x1b" not in text
        app.query_one(HealthBody).focus()
        await pilot.pause()
        assert app.focused is app.query_one(HealthBody)
        assert pane.summary == "evil 500"


async def test_pending_services_and_stale_state() -> None:
    app = PaneApp()
    async with app.run_test(size=(110, 12)) as pilot:
        pane = app.query_one(HealthPane)
        waiting = endpoint(
            "rails-service:3000",
            via="service proxy",
            status=None,
            ms=None,
            history=(),
            app_status=None,
            cert_days=None,
            error="not connected to Kubernetes yet",
            checked_at=None,
        )
        pane.show(HealthSnapshot(endpoints=(waiting,), taken_at=NOW))
        await pilot.pause()
        assert body(pane) == "● rails-service:3000  not connected to Kubernetes yet  proxy"
        assert pane.level is Level.OK and pane.summary == ""
        pane.mark_failed(SourceFailure("health", "poll timed out", "slow network", NOW))
        await pilot.pause()
        assert pane.has_class("stale") and "not connected" in body(pane)  # last data kept


async def test_a_real_snapshot_from_the_simulated_cluster() -> None:
    sim = SimCluster("healthy", pace=Pace.fast()).start()
    settings = Settings(health=HealthSettings(urls=()))
    source = HealthSource(settings, connect(settings.kube, sim.client_configuration()))
    try:
        snap = await source.snapshot()
    finally:
        await source.close()
        sim.stop()
    app = PaneApp()
    async with app.run_test(size=(110, 12)) as pilot:
        pane = app.query_one(HealthPane)
        pane.show(snap)
        await pilot.pause()
        lines = body(pane).splitlines()
        assert [line[:28] for line in lines] == [
            "● rails-service:3000    200 ",
            "● fastapi-service:8000  200 ",
        ]
        assert all("ok" in line for line in lines)
        assert pane.level is Level.OK and pane.summary == ""
