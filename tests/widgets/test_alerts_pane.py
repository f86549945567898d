"""AlertsPane in a small app driven by Pilot: rows per alert (firing first), ages against a
fixed now, hostile alert text shown literally, "no alerts firing", no Prometheus
configured with its hint, and the stale state when Prometheus is unreachable.  The
snapshots come from the real parser (`parse_alerts`) fed /api/v1/alerts-shaped JSON."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import Static

from cockpit.model import Level, PrometheusSnapshot, SourceFailure
from cockpit.sources.prometheus.alerts import parse_alerts
from cockpit.sources.prometheus.check import check_lines
from widgets.alerts import AlertsPane
from widgets.table import KeyedTable

NOW = datetime(2026, 1, 31, 3, 0, tzinfo=UTC)
HOSTILE = "[bold red]pwn[/] [@click=app.quit]x[/]\x1b[31m"


def alert(name: str, state: str, severity: str, minutes: int, **annotations: str) -> dict:
    active = NOW - timedelta(minutes=minutes)
    return {
        "labels": {"alertname": name, "severity": severity, "app": "fastapi"},
        "annotations": annotations,
        "state": state,
        "activeAt": active.strftime("%Y-%m-%dT%H:%M:%S.000000999Z"),
        "value": "1.2e-01",
    }


def snapshot(items: list[dict], configured: bool = True, **kw: object) -> PrometheusSnapshot:
    alerts = parse_alerts({"alerts": items})
    levels = [a.level for a in alerts]
    return PrometheusSnapshot(
        url="http://127.0.0.1:9999" if configured else "",
        configured=configured,
        alerts=alerts,
        figures=(),
        taken_at=NOW,
        level=max(levels, default=Level.OK),
        **kw,  # type: ignore[arg-type]
    )


class PaneApp(App[None]):
    CSS = "AlertsPane { height: 1fr; border: round white; }"

    def compose(self) -> ComposeResult:
        yield AlertsPane(id="alerts", classes="pane")


def rows(pane: AlertsPane) -> list[list[str]]:
    table = pane.query_one(KeyedTable)
    found = []
    for key in table.keys_in_order():
        cells = table.row_cells(key)
        assert cells is not None and all(isinstance(c, Text) for c in cells)
        found.append([c.plain for c in cells])
    return found


def status(pane: AlertsPane) -> str:
    content = pane.query_one("#alerts-status", Static).content
    assert isinstance(content, Text)  # never a markup string
    return content.plain


async def test_firing_first_with_age_severity_summary_and_runbook() -> None:
    snap = snapshot(
        [
            alert("HighMemoryUsage", "pending", "warning", 2, summary="High memory usage detected"),
            alert("HighErrorRate", "firing", "critical", 7, summary="High error rate detected"),
            alert("DiskFull", "firing", "warning", 30, summary="disk"),
        ]
    )
    app = PaneApp()
    async with app.run_test(size=(160, 20)) as pilot:
        pane = app.query_one(AlertsPane)
        pane.show(snap, now=NOW)
        await pilot.pause()
        shown = rows(pane)
        assert [r[0] for r in shown] == ["FIRING", "FIRING", "pending"]
        # Worst first among the firing: critical before warning, whatever the age.
        assert shown[0][1] == "HighErrorRate app=fastapi"
        assert shown[0][2:5] == ["critical", "7m", "High error rate detected"]
        assert shown[0][5].startswith("4.1 서비스 응답 없음")  # the built-in map
        assert shown[1][1].startswith("DiskFull") and shown[1][5] == "-"
        assert shown[2][1].startswith("HighMemoryUsage") and shown[2][5].startswith("6 성능")
        assert pane.level is Level.CRIT
        assert pane.summary == "HighErrorRate firing (+2)"
        assert status(pane).startswith("✖ 2 firing · 1 pending")
        assert pane.title_shown.plain == "Alerts · 2 firing"
        assert pane.query_one(KeyedTable).can_focus


async def test_hostile_alert_text_is_shown_literally() -> None:
    snap = snapshot([alert(HOSTILE, "firing", "critical", 1, summary=HOSTILE, runbook=HOSTILE)])
    app = PaneApp()
    async with app.run_test(size=(200, 20)) as pilot:
        pane = app.query_one(AlertsPane)
        pane.show(snap, now=NOW)
        await pilot.pause()
        first = rows(pane)[0]
        assert first[1].startswith("[bold red]pwn[/] [@click=app.quit]x[/]")
        assert "\x1b" not in first[1] and "␛" in first[1]
        assert first[4].startswith("[bold red]pwn[/]") and first[5].startswith("[bold red]")
        assert app.is_running  # the [@click=app.quit] was not an action


async def test_no_alerts_and_not_configured_say_so() -> None:
    app = PaneApp()
    async with app.run_test(size=(160, 20)) as pilot:
        pane = app.query_one(AlertsPane)
        pane.show(snapshot([]), now=NOW)
        await pilot.pause()
        assert status(pane).startswith("● no alerts firing · http://127.0.0.1:9999")
        assert rows(pane) == [] and pane.level is Level.OK and pane.summary == ""

        none = snapshot(
            [],
            configured=False,
            message="no Prometheus configured",
            hint="set prometheus.url (or COCKPIT_PROMETHEUS__URL), "
            "or deploy a `prometheus` service",
        )
        pane.show(none, now=NOW)
        await pilot.pause()
        assert status(pane) == (
            "no Prometheus configured — set prometheus.url (or COCKPIT_PROMETHEUS__URL), "
            "or deploy a `prometheus` service"
        )
        assert pane.level is Level.OK


async def test_unreachable_goes_stale_and_keeps_the_last_alerts() -> None:
    snap = snapshot([alert("HighErrorRate", "firing", "critical", 7, summary="s")])
    app = PaneApp()
    async with app.run_test(size=(160, 20)) as pilot:
        pane = app.query_one(AlertsPane)
        pane.show(snap, now=NOW)
        failure = SourceFailure(
            "prometheus",
            "Prometheus at http://127.0.0.1:9999: connection refused",
            "is it running? set prometheus.url (or COCKPIT_PROMETHEUS__URL)",
        )
        pane.mark_failed(failure)
        await pilot.pause()
        assert pane.has_class("stale")
        line = pane.failure_text(failure).plain
        assert "connection refused" in line and "COCKPIT_PROMETHEUS__URL" in line
        assert rows(pane)[0][1].startswith("HighErrorRate")


def test_check_lines_and_levels() -> None:
    snap = snapshot(
        [
            alert("A", "pending", "critical", 1, summary="a"),
            alert("B", "firing", "info", 3, summary="b"),
            alert("C", "firing", "critical", 2, summary="c", runbook="§ 9"),
        ]
    )
    lines = check_lines(snap, now=NOW)
    assert lines == [
        (Level.CRIT, "alert C firing (critical) for 2m: c · runbook § 9"),
        (Level.WARN, "alert B firing (info) for 3m: b"),
        (Level.WARN, "alert A pending (critical) for 60s: a"),
    ]
    # Prometheus' zero time is "never", and 9-digit fractions parse.
    zero = parse_alerts(
        {
            "alerts": [
                {
                    "labels": {"alertname": "Z"},
                    "state": "firing",
                    "activeAt": "0001-01-01T00:00:00Z",
                }
            ]
        }
    )
    assert zero[0].since is None and zero[0].level is Level.WARN
    assert parse_alerts({"alerts": [{"state": "inactive"}, "junk"]}) == ()
